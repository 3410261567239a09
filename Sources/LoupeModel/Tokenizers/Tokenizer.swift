import Foundation

/// Turns text into token ids and back.
public protocol Tokenizer: Sendable {
    /// Number of ids the tokenizer can produce: one more than its largest id.
    var vocabularySize: Int { get }
    /// The token ids of `text`.
    func encode(_ text: String) -> [Int]
    /// The text of `ids`; ids without a token are skipped, and bytes that are not valid UTF-8
    /// become U+FFFD (the same lossy decoding as Hugging Face `tokenizers`).
    func decode(_ ids: [Int]) -> String
    /// The raw vocabulary string of `id` (for GPT-2, e.g. `"Ġthe"`), or nil if `id` has no token.
    func token(for id: Int) -> String?
    /// The id of the raw vocabulary string `token`, or nil if it is not in the vocabulary.
    func id(for token: String) -> Int?
    /// A readable form of one token for display: its text with whitespace made visible
    /// (`␣`, `↵`, `⇥`) and bytes that are not valid UTF-8 on their own shown as `<0xE2>`.
    func displayString(for id: Int) -> String
}

extension Tokenizer {
    /// Throws `ModelError.tokenOutOfRange` for the first id that has no token.
    public func validate(_ ids: [Int]) throws {
        for id in ids where token(for: id) == nil {
            throw ModelError.tokenOutOfRange(id: id, vocabularySize: vocabularySize)
        }
    }

    /// The display strings of `ids`, one per id.
    public func displayStrings(for ids: [Int]) -> [String] {
        ids.map { displayString(for: $0) }
    }
}

/// Finds and loads the tokenizer stored in a model directory.
public enum TokenizerLoader {
    /// Loads the tokenizer of a model directory: tokenizer.json if present, else vocab.json + merges.txt,
    /// else loupe_tokenizer.json (character- or word-level, by its `"type"`); else ModelError.missingTokenizer.
    ///
    /// With vocab.json + merges.txt, a `tokenizer_config.json` beside them is read too when present
    /// (its `added_tokens_decoder` and `add_prefix_space`).
    public static func load(directory: URL) throws -> any Tokenizer {
        let tokenizerJSON = directory.appendingPathComponent(ModelFiles.tokenizerJSON)
        if isFile(tokenizerJSON) {
            return try ByteLevelBPETokenizer(tokenizerJSON: tokenizerJSON)
        }
        let vocab = directory.appendingPathComponent(ModelFiles.vocabulary)
        let merges = directory.appendingPathComponent(ModelFiles.merges)
        switch (isFile(vocab), isFile(merges)) {
        case (true, true):
            let config = directory.appendingPathComponent(ModelFiles.tokenizerConfig)
            return try ByteLevelBPETokenizer(
                vocabulary: vocab, merges: merges, config: isFile(config) ? config : nil)
        case (true, false):
            throw ModelError.invalidTokenizer(
                path: merges.path, reason: "file is missing (vocab.json is present; a BPE tokenizer needs both)")
        case (false, true):
            throw ModelError.invalidTokenizer(
                path: vocab.path, reason: "file is missing (merges.txt is present; a BPE tokenizer needs both)")
        case (false, false):
            break
        }
        let loupe = directory.appendingPathComponent(ModelFiles.loupeTokenizer)
        if isFile(loupe) {
            return try loadLoupeTokenizer(loupe)
        }
        throw ModelError.missingTokenizer(directory: directory.path)
    }

    /// Loads a `loupe_tokenizer.json` file: `"type": "characters"` gives a `CharacterTokenizer`,
    /// `"type": "words"` a `WordTokenizer`; any other type is `ModelError.invalidTokenizer`.
    public static func loadLoupeTokenizer(_ url: URL) throws -> any Tokenizer {
        let root = try TokenizerFile.jsonObject(url)
        let expected = "expected \"characters\" or \"words\""
        switch root["type"] {
        case let type as String where type == "characters":
            return try CharacterTokenizer(contentsOf: url)
        case let type as String where type == "words":
            return try WordTokenizer(contentsOf: url)
        case let type as String:
            throw ModelError.invalidTokenizer(
                path: url.path, reason: "type \(TokenizerFile.quote(type)) is not supported (\(expected))")
        case let value:
            throw ModelError.invalidTokenizer(
                path: url.path, reason: "\"type\" is \(TokenizerFile.describe(value)), \(expected)")
        }
    }

    private static func isFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
