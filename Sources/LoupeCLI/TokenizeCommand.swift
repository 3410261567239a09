import ArgumentParser
import Foundation
import LoupeModel

/// `loupe tokenize`: prints the token ids of a text file as one JSON array.
public struct TokenizeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text file as a JSON array.")

    @Option(help: "A model or tokenizer directory (tokenizer.json, vocab.json + merges.txt, or loupe_tokenizer.json).")
    var tokenizer: String

    @Option(help: "The UTF-8 text file to tokenize.")
    var textFile: String

    public init() {}

    public func run() throws {
        print(try Self.tokenIDs(tokenizerDirectory: tokenizer, textFile: textFile))
    }

    /// The JSON array of ids for the file's text, exactly as printed.
    static func tokenIDs(tokenizerDirectory: String, textFile: String) throws -> String {
        let tokenizer = try TokenizerLoader.load(directory: URL(fileURLWithPath: tokenizerDirectory))
        let ids = tokenizer.encode(try TextInput.read(path: textFile))
        return "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
