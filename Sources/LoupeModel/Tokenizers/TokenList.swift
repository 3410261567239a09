import Foundation

/// The tokens (id = index) and optional unknown token of a token-list tokenizer (`CharacterTokenizer`,
/// `WordTokenizer`), with where they come from — a `loupe_tokenizer.json` file, or a description such
/// as `<word tokenizer>` for a list given in code — so that errors can name it. Never empty.
struct TokenList {
    let tokens: [String]
    let unknown: String?
    let path: String

    /// Throws when `tokens` is empty.
    init(tokens: [String], unknown: String?, path: String) throws {
        self.tokens = tokens
        self.unknown = unknown
        self.path = path
        guard !tokens.isEmpty else { throw error("\"tokens\" is empty") }
    }

    /// The list of a `loupe_tokenizer.json` whose `type` must be `expectedType`, with an error naming
    /// the file and the field for anything else.
    init(contentsOf url: URL, expectedType: String) throws {
        let root = try TokenizerFile.reader(url)
        guard let type = try root.string("type") else {
            throw root.error("type", "missing, expected \"\(expectedType)\"")
        }
        guard type == expectedType else {
            throw ModelError.invalidTokenizer(
                path: url.path, reason: "type \(TokenizerFile.quote(type)) is not supported (expected \"\(expectedType)\")")
        }
        try self.init(tokens: try root.required("tokens", root.strings), unknown: try root.string("unknown"), path: url.path)
    }

    /// The `invalidTokenizer` error for a problem with this list.
    func error(_ reason: String) -> ModelError {
        .invalidTokenizer(path: path, reason: reason)
    }
}
