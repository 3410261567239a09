import Foundation

/// A word-level tokenizer for toy languages: every whitespace-separated piece of the text is one token.
///
/// Stored as `loupe_tokenizer.json`:
/// `{"type": "words", "tokens": ["<|endoftext|>", "<unk>", "the", ",", "17", …], "unknown": "<unk>"}`.
/// A token's id is its index in `tokens`. Tokens are non-empty and contain no whitespace, so text made by
/// joining tokens with single spaces encodes back to the same ids and decodes to the same text.
///
/// `encode` splits the text on runs of whitespace. When `<|endoftext|>` is a token it is recognised even
/// when glued to other text (`"cat .<|endoftext|>the"` is `cat`, `.`, `<|endoftext|>`, `the`). A piece that
/// is not a token encodes as the unknown token; without an unknown token (`"unknown"` absent or null) it is
/// skipped. Tokens are compared byte for byte (no Unicode normalisation).
public struct WordTokenizer: Tokenizer {
    /// The file name the tokenizer is stored under in a model directory (shared with `CharacterTokenizer`).
    public static let fileName = CharacterTokenizer.fileName
    /// The end-of-text token, split out of the text wherever it appears when it is in the vocabulary.
    public static let endOfText = "<|endoftext|>"

    /// The tokens, indexed by id.
    public let tokens: [String]
    /// The token that stands for pieces not in the list, if any.
    public let unknownToken: String?
    /// The id of `unknownToken`.
    public let unknownID: Int?
    /// The id of `<|endoftext|>`, if it is a token.
    public let endOfTextID: Int?
    private let idsByBytes: [[UInt8]: Int]

    public var vocabularySize: Int { tokens.count }

    /// A tokenizer with the given tokens (id = index) and unknown token, which must be one of them.
    public init(tokens: [String], unknown: String? = nil) throws {
        try self.init(TokenList(tokens: tokens, unknown: unknown, path: "<word tokenizer>"))
    }

    /// Loads a `loupe_tokenizer.json` file whose type is `"words"`.
    public init(contentsOf url: URL) throws {
        try self.init(TokenList(contentsOf: url, expectedType: "words"))
    }

    private init(_ list: TokenList) throws {
        let (tokens, unknown, fail) = (list.tokens, list.unknown, list.error)
        var idsByBytes: [[UInt8]: Int] = [:]
        idsByBytes.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if token.isEmpty { throw fail("tokens[\(id)] is an empty string") }
            if token.unicodeScalars.contains(where: Self.isWhitespace) {
                throw fail("tokens[\(id)] \(TokenizerFile.quote(token)) contains whitespace")
            }
            let bytes = Array(token.utf8)
            if let first = idsByBytes[bytes] {
                throw fail("tokens[\(id)] \(TokenizerFile.quote(token)) repeats tokens[\(first)]")
            }
            idsByBytes[bytes] = id
        }
        var unknownID: Int?
        if let unknown {
            if unknown.isEmpty { throw fail("\"unknown\" is an empty string") }
            guard let id = idsByBytes[Array(unknown.utf8)] else {
                throw fail("unknown token \(TokenizerFile.quote(unknown)) is not in \"tokens\"")
            }
            unknownID = id
        }
        self.tokens = tokens
        self.unknownToken = unknown
        self.unknownID = unknownID
        self.endOfTextID = idsByBytes[Array(Self.endOfText.utf8)]
        self.idsByBytes = idsByBytes
    }

    /// Writes the tokenizer as JSON to the file `url` (for a model directory, `directory/loupe_tokenizer.json`).
    public func write(to url: URL) throws {
        try TokenizerFile.writeTokenList(url, type: "words", tokens: tokens, unknown: unknownToken)
    }

    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        var piece = String.UnicodeScalarView()
        func flush() {
            guard !piece.isEmpty else { return }
            appendPiece(String(piece), to: &ids)
            piece = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if Self.isWhitespace(scalar) {
                flush()
            } else {
                piece.append(scalar)
            }
        }
        flush()
        return ids
    }

    /// Appends the ids of one whitespace-free piece, splitting out `<|endoftext|>` first.
    private func appendPiece(_ piece: String, to ids: inout [Int]) {
        guard let endOfTextID else {
            appendWord(piece, to: &ids)
            return
        }
        var rest = Substring(piece)
        while let range = rest.range(of: Self.endOfText, options: .literal) {
            appendWord(rest[rest.startIndex..<range.lowerBound], to: &ids)
            ids.append(endOfTextID)
            rest = rest[range.upperBound...]
        }
        appendWord(rest, to: &ids)
    }

    private func appendWord<S: StringProtocol>(_ word: S, to ids: inout [Int]) {
        guard !word.isEmpty else { return }
        if let id = idsByBytes[Array(word.utf8)] {
            ids.append(id)
        } else if let unknownID {
            ids.append(unknownID)
        }
    }

    /// The tokens of `ids` joined with single spaces; ids without a token are skipped.
    public func decode(_ ids: [Int]) -> String {
        ids.compactMap { token(for: $0) }.joined(separator: " ")
    }

    public func token(for id: Int) -> String? {
        guard id >= 0 && id < tokens.count else { return nil }
        return tokens[id]
    }

    public func id(for token: String) -> Int? {
        idsByBytes[Array(token.utf8)]
    }

    /// The word with the space that separates it from the previous one in text (`" year"`), so
    /// display strings of consecutive tokens read as the text does; special tokens (`<…>`) as they are.
    public func displayString(for id: Int) -> String {
        guard let token = token(for: id) else { return "<no token \(id)>" }
        return token.hasPrefix("<") && token.hasSuffix(">") && token.count > 2 ? token : " " + token
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }
}
