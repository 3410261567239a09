import Foundation

/// A character-level tokenizer for toy models: every Unicode scalar of the text is one token.
///
/// Stored as `loupe_tokenizer.json`:
/// `{"type": "characters", "tokens": ["<unk>", "a", "b", …], "unknown": "<unk>"}`.
/// A token's id is its index in `tokens`. Every token is one Unicode scalar, except the unknown token,
/// which may be any non-empty string. A scalar that is not in the list encodes as the unknown token;
/// without an unknown token (`"unknown"` absent or null) such scalars are skipped.
public struct CharacterTokenizer: Tokenizer {
    /// The file name the tokenizer is stored under in a model directory.
    public static let fileName = ModelFiles.loupeTokenizer

    /// The tokens, indexed by id.
    public let tokens: [String]
    /// The token that stands for scalars not in the list, if any.
    public let unknownToken: String?
    /// The id of `unknownToken`.
    public let unknownID: Int?
    private let idsByScalar: [UInt32: Int]

    public var vocabularySize: Int { tokens.count }

    /// A tokenizer with the given tokens (id = index) and unknown token, which must be one of them.
    public init(tokens: [String], unknown: String? = nil) throws {
        try self.init(TokenList(tokens: tokens, unknown: unknown, path: "<character tokenizer>"))
    }

    /// A tokenizer with one token per distinct scalar of `text`, in scalar order, preceded by the
    /// unknown token if one is given.
    public init(coveringScalarsOf text: String, unknown: String? = "<unk>") throws {
        let scalars = Set(text.unicodeScalars.map(\.value)).sorted()
        var tokens = unknown.map { [$0] } ?? []
        for value in scalars {
            if let scalar = Unicode.Scalar(value), String(scalar) != unknown { tokens.append(String(scalar)) }
        }
        try self.init(tokens: tokens, unknown: unknown)
    }

    /// Loads a `loupe_tokenizer.json` file.
    public init(contentsOf url: URL) throws {
        try self.init(TokenList(contentsOf: url, expectedType: "characters"))
    }

    private init(_ list: TokenList) throws {
        let (tokens, unknown, fail) = (list.tokens, list.unknown, list.error)
        var unknownID: Int?
        var idsByScalar: [UInt32: Int] = [:]
        for (id, token) in tokens.enumerated() {
            let scalars = Array(token.unicodeScalars)
            if scalars.isEmpty { throw fail("tokens[\(id)] is an empty string") }
            if let unknown, token.utf8.elementsEqual(unknown.utf8) {
                if let first = unknownID {
                    throw fail("tokens[\(id)] \(TokenizerFile.quote(token)) repeats tokens[\(first)]")
                }
                unknownID = id
                if scalars.count > 1 { continue }
            } else if scalars.count > 1 {
                throw fail("tokens[\(id)] \(TokenizerFile.quote(token)) is \(scalars.count) Unicode scalars; every token except the unknown token must be exactly one")
            }
            if let first = idsByScalar[scalars[0].value] {
                throw fail("tokens[\(id)] \(TokenizerFile.quote(token)) repeats tokens[\(first)]")
            }
            idsByScalar[scalars[0].value] = id
        }
        if let unknown, unknownID == nil {
            throw fail("unknown token \(TokenizerFile.quote(unknown)) is not in \"tokens\"")
        }
        if unknown?.isEmpty == true { throw fail("\"unknown\" is an empty string") }
        self.tokens = tokens
        self.unknownToken = unknown
        self.unknownID = unknownID
        self.idsByScalar = idsByScalar
    }

    /// Writes the tokenizer as JSON to the file `url` (for a model directory, `directory/loupe_tokenizer.json`).
    public func write(to url: URL) throws {
        try TokenizerFile.writeTokenList(url, type: "characters", tokens: tokens, unknown: unknownToken)
    }

    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let id = idsByScalar[scalar.value] {
                ids.append(id)
            } else if let unknownID {
                ids.append(unknownID)
            }
        }
        return ids
    }

    public func decode(_ ids: [Int]) -> String {
        var text = ""
        for id in ids where id >= 0 && id < tokens.count {
            text += tokens[id]
        }
        return text
    }

    public func token(for id: Int) -> String? {
        guard id >= 0 && id < tokens.count else { return nil }
        return tokens[id]
    }

    public func id(for token: String) -> Int? {
        tokens.firstIndex { $0.utf8.elementsEqual(token.utf8) }
    }

    /// The token with whitespace made visible; the unknown token as it is.
    public func displayString(for id: Int) -> String {
        guard let token = token(for: id) else { return "<no token \(id)>" }
        if id == unknownID { return token }
        return TokenDisplay.visible(token)
    }
}
