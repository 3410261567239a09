import ArgumentParser
import Foundation
import LoupeModel

/// `loupe tokenize`: prints the token ids of a text file as one JSON array.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text file as a JSON array.")

    @Option(help: "A model or tokenizer directory (tokenizer.json, vocab.json + merges.txt, or loupe_tokenizer.json).")
    var tokenizer: String

    @OptionGroup var text: TextFileOption

    func run() throws {
        print(try Self.tokenIDs(tokenizerDirectory: tokenizer, textFile: text.textFile))
    }

    /// The JSON array of ids for the file's text, exactly as printed.
    static func tokenIDs(tokenizerDirectory: String, textFile: String) throws -> String {
        let tokenizer = try TokenizerLoader.load(directory: URL(fileURLWithPath: tokenizerDirectory))
        let ids = tokenizer.encode(try TextInput.read(path: textFile))
        return "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
