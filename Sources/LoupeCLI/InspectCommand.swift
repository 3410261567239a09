import ArgumentParser
import Foundation
import LoupeCore

/// `loupe inspect`: lists the tensors of a safetensors file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "List the tensor names, dtypes and shapes of a safetensors file.")

    @Argument(help: "The safetensors file.")
    var file: String

    func run() throws {
        print(try Self.listing(path: file), terminator: "")
    }

    /// One line per tensor, `name  DTYPE  [shape]`, sorted by name, then metadata entries.
    static func listing(path: String) throws -> String {
        let file = try SafetensorsFile(url: URL(fileURLWithPath: path))
        let width = file.names.map(\.count).max() ?? 0
        var lines = file.names.map { name -> String in
            let entry = file.entries[name]!
            let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
            return "\(padded)  \(entry.dtype.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  [\(entry.shape.map(String.init).joined(separator: ", "))]"
        }
        for key in file.metadata.keys.sorted() {
            lines.append("metadata \(key): \(file.metadata[key]!)")
        }
        lines.append("\(file.entries.count) tensors")
        return lines.joined(separator: "\n") + "\n"
    }
}
