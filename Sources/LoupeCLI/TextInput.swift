import Foundation

/// Reads a UTF-8 text file given on the command line (invalid bytes become U+FFFD).
enum TextInput {
    static func read(path: String) throws -> String {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw CLIError.unreadableInput(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
