import Foundation
import LoupeFindings

/// The JSON file a command writes: pretty, keys sorted, a final newline, written atomically.
enum JSONOutput {
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        do {
            try (try JSONWriter.encode(value, layout: .pretty) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError.unwritableOutput(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
