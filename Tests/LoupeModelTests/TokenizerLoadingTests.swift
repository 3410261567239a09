import Foundation
import Testing
@testable import LoupeModel

/// The error `body` throws, if it is a `ModelError`.
private func modelError(_ body: () throws -> Any) -> ModelError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? ModelError
    }
}

/// Expects `.invalidTokenizer` for a file named `fileName` whose reason contains every one of `words`.
private func expectInvalid(
    _ error: ModelError?, file fileName: String, mentioning words: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard case let .invalidTokenizer(path, reason)? = error else {
        Issue.record("expected invalidTokenizer for \(fileName), got \(String(describing: error))", sourceLocation: sourceLocation)
        return
    }
    #expect(URL(fileURLWithPath: path).lastPathComponent == fileName, "path \(path)", sourceLocation: sourceLocation)
    for word in words {
        #expect(reason.contains(word), "reason \(String(reflecting: reason)) lacks \(String(reflecting: word))",
                sourceLocation: sourceLocation)
    }
    #expect(error?.description.contains(path) == true, sourceLocation: sourceLocation)
}

/// A tokenizer.json for a tiny byte-level BPE; `model` and `root` entries override the defaults.
private func tinyTokenizerJSON(
    vocab: [String: Int], merges: [Any], model: [String: Any] = [:], root: [String: Any] = [:]
) throws -> Data {
    var modelObject: [String: Any] = [
        "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
        "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
        "vocab": vocab, "merges": merges,
    ]
    modelObject.merge(model) { $1 }
    var rootObject: [String: Any] = [
        "version": "1.0", "added_tokens": [Any](), "normalizer": NSNull(),
        "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
        "post_processor": NSNull(),
        "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
        "model": modelObject,
    ]
    rootObject.merge(root) { $1 }
    return try JSONSerialization.data(withJSONObject: rootObject)
}

/// Writes `data` as `name` in a fresh directory and returns the file.
private func write(_ data: Data, as name: String) throws -> URL {
    let url = try TokenizerFixtures.temporaryDirectory().appendingPathComponent(name)
    try data.write(to: url)
    return url
}

private func removeDirectory(of file: URL) {
    try? FileManager.default.removeItem(at: file.deletingLastPathComponent())
}

private func write(_ text: String, as name: String) throws -> URL {
    try write(Data(text.utf8), as: name)
}

private func tiny(
    vocab: [String: Int], merges: [Any], model: [String: Any] = [:], root: [String: Any] = [:]
) throws -> ByteLevelBPETokenizer {
    let url = try write(try tinyTokenizerJSON(vocab: vocab, merges: merges, model: model, root: root), as: "tokenizer.json")
    defer { removeDirectory(of: url) }
    defer { removeDirectory(of: url) }
    return try ByteLevelBPETokenizer(tokenizerJSON: url)
}

private func tokens(_ tokenizer: ByteLevelBPETokenizer, _ text: String) -> [String] {
    tokenizer.encode(text).map { tokenizer.token(for: $0) ?? "?" }
}

@Suite("Tokenizer: BPE details matching Hugging Face")
struct TokenizerBPEBehaviourTests {
    static let vocab = ["a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "d": 6]

    // Expected tokens below come from `tokenizers` 0.23.3 given the same tokenizer.json.

    @Test func lowestRankMergesFirst() throws {
        let tokenizer = try tiny(vocab: Self.vocab, merges: [["a", "b"], ["b", "c"]])
        #expect(tokens(tokenizer, "abc abcab") == ["ab", "c", "ab", "c", "ab"])
        let reversed = try tiny(vocab: Self.vocab, merges: ["b c", "a b"])
        #expect(tokens(reversed, "abc") == ["a", "bc"])
    }

    @Test func repeatedMergeKeepsItsLastRank() throws {
        let tokenizer = try tiny(vocab: Self.vocab, merges: [["a", "b"], ["b", "c"], ["a", "b"]])
        #expect(tokens(tokenizer, "abc abcab") == ["a", "bc", "a", "bc", "ab"])
    }

    @Test func ignoreMergesUsesWholeWords() throws {
        let tokenizer = try tiny(vocab: Self.vocab, merges: [["a", "b"]], model: ["ignore_merges": true])
        #expect(tokens(tokenizer, "abc abcab") == ["abc", "ab", "c", "ab"])
    }

    @Test func bytesWithoutTokens() throws {
        let vocab = ["a": 0, "b": 1, "ab": 2, "<unk>": 3]
        let skipping = try tiny(vocab: vocab, merges: [["a", "b"]])
        #expect(skipping.encode("axb axxb") == [2, 2])
        let unknown = try tiny(vocab: vocab, merges: [["a", "b"]], model: ["unk_token": "<unk>"])
        #expect(unknown.encode("axb axxb") == [0, 3, 1, 3, 0, 3, 3, 1])
        let fused = try tiny(vocab: vocab, merges: [["a", "b"]], model: ["unk_token": "<unk>", "fuse_unk": true])
        #expect(fused.encode("axb axxb") == [0, 3, 1, 3, 0, 3, 1])
    }

    @Test func sequencePreTokenizerAndNoRegex() throws {
        let vocab = ["a": 0, "b": 1, "Ġ": 2, "Ġa": 3]
        let sequence = try tiny(vocab: vocab, merges: [["Ġ", "a"]], root: [
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            ]],
        ])
        #expect(tokens(sequence, "ab a") == ["Ġa", "b", "Ġa"])
        let noRegex = try tiny(vocab: vocab, merges: [["Ġ", "a"]], root: [
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
        ])
        #expect(noRegex.usesRegex == false)
        #expect(tokens(noRegex, "b a") == ["b", "Ġa"])
    }

    /// Hugging Face matches added tokens with `normalized: false` first, so a longer token with
    /// `normalized: true` loses to them; leftmost-longest within each pass.
    @Test func addedTokensMatchInTwoPasses() throws {
        let vocab = ["a": 0, "b": 1, "x": 2, "Ġ": 3]
        let added: [[String: Any]] = [
            ["id": 4, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true],
            ["id": 5, "content": "<s>x", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false],
            ["id": 6, "content": "ab", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false],
            ["id": 7, "content": "abab", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false],
        ]
        let tokenizer = try tiny(vocab: vocab, merges: [], root: ["added_tokens": added])
        #expect(tokenizer.encode("a<s>xb") == [0, 4, 2, 1])
        #expect(tokenizer.encode("x<s>x") == [2, 4, 2])
        #expect(tokenizer.encode("ababab b") == [7, 6, 3, 1])
        #expect(tokenizer.specialTokenIDs == [4])
        #expect(tokenizer.displayString(for: 6) == "ab")
    }

    /// Hugging Face's ByteLevel decoder maps a token's scalars back to bytes when all of them stand
    /// for bytes, and uses the token's own UTF-8 otherwise.
    @Test func addedTokensDecodeLikeHuggingFace() throws {
        func added(_ id: Int, _ content: String) -> [String: Any] {
            ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        let tokenizer = try tiny(
            vocab: ["Ġ": 0, "Ã": 1, "©": 2, "Ã©": 3], merges: [["Ã", "©"]],
            root: [
                "added_tokens": [added(4, "<|my token|>"), added(5, "Ġx")],
                "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            ])
        #expect(tokenizer.encode("<|my token|>é") == [4, 0, 3])
        #expect(tokenizer.decode([4, 0, 3]) == "<|my token|> é")
        #expect(tokenizer.decode([5, 4, 5]) == " x<|my token|> x")
        #expect(tokenizer.displayString(for: 5) == "Ġx")
        #expect(tokenizer.displayString(for: 4) == "<|my token|>")
    }

    @Test func vocabAndMergesWithTokenizerConfig() throws {
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(
                at: Fixtures.url("tokenizer/\(name)"), to: directory.appendingPathComponent(name))
        }
        let config = """
            {"add_prefix_space": true, "added_tokens_decoder": {
              "0": {"content": "<|endoftext|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
              "400": {"content": "<|sep|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}}}
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let tokenizer = try TokenizerLoader.load(directory: directory)
        let plain = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
        #expect(tokenizer.vocabularySize == 401)
        #expect(tokenizer.encode("hello<|sep|>world") == plain.encode(" hello") + [400] + plain.encode(" world"))
        #expect(tokenizer.decode([400]) == "<|sep|>")
    }
}

@Suite("Tokenizer: bad files")
struct TokenizerLoadingErrorTests {
    static let vocab = ["a": 0, "b": 1, "ab": 2]

    @Test func tokenizerJSONThatIsNotJSON() throws {
        let fixture = Fixtures.url("corrupt/not_json_tokenizer")
        expectInvalid(modelError { try TokenizerLoader.load(directory: fixture) },
                      file: "tokenizer.json", mentioning: ["not valid JSON"])
        let url = try write("{\"model\": ", as: "tokenizer.json")
        defer { removeDirectory(of: url) }
        expectInvalid(modelError { try ByteLevelBPETokenizer(tokenizerJSON: url) },
                      file: "tokenizer.json", mentioning: ["not valid JSON"])
        let list = try write("[1, 2]", as: "tokenizer.json")
        defer { removeDirectory(of: list) }
        expectInvalid(modelError { try ByteLevelBPETokenizer(tokenizerJSON: list) },
                      file: "tokenizer.json", mentioning: ["a list", "object"])
    }

    @Test func missingFiles() throws {
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(modelError { try TokenizerLoader.load(directory: directory) }
            == .missingTokenizer(directory: directory.path))
        try Data("{}".utf8).write(to: directory.appendingPathComponent("vocab.json"))
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "merges.txt", mentioning: ["missing"])
        expectInvalid(modelError { try ByteLevelBPETokenizer(tokenizerJSON: directory.appendingPathComponent("tokenizer.json")) },
                      file: "tokenizer.json", mentioning: ["does not exist"])
    }

    @Test func mergesWithMalformedLine() throws {
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try JSONSerialization.data(withJSONObject: Self.vocab).write(to: directory.appendingPathComponent("vocab.json"))
        try Data("#version: 0.2\na b\n\na b c\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "merges.txt", mentioning: ["line 4", "\"a b c\""])
        try Data("#version: 0.2\r\na b\r\n\r\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        let tokenizer = try TokenizerLoader.load(directory: directory)
        #expect(tokenizer.encode("ab") == [2])
    }

    @Test func vocabThatIsAList() throws {
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(#"["a", "b"]"#.utf8).write(to: directory.appendingPathComponent("vocab.json"))
        try Data("a b\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "vocab.json", mentioning: ["a list", "expected an object"])
    }

    /// Hugging Face refuses these too ("Token `x` out of vocabulary").
    @Test func mergeOutsideTheVocabulary() throws {
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [["a", "x"]]) },
                      file: "tokenizer.json", mentioning: ["merges[0]", "\"x\" is not in the vocabulary"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: ["a b", "b a"]) },
                      file: "tokenizer.json", mentioning: ["merges[1]", "\"ba\" is not in the vocabulary"])
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try JSONSerialization.data(withJSONObject: Self.vocab).write(to: directory.appendingPathComponent("vocab.json"))
        try Data("a b\nb b\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "merges.txt", mentioning: ["line 2", "\"bb\" is not in the vocabulary"])
    }

    @Test func malformedMergeEntries() throws {
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: ["a b c"]) },
                      file: "tokenizer.json", mentioning: ["merges[0]", "one space"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [["a"]]) },
                      file: "tokenizer.json", mentioning: ["merges[0]", "a list"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], model: ["merges": 3]) },
                      file: "tokenizer.json", mentioning: ["merges", "a number"])
    }

    @Test func inconsistentVocabulary() throws {
        expectInvalid(modelError { try tiny(vocab: ["a": 0, "b": 0], merges: []) },
                      file: "tokenizer.json", mentioning: ["\"a\"", "\"b\"", "both have id 0"])
        expectInvalid(modelError { try tiny(vocab: ["a": -1], merges: []) },
                      file: "tokenizer.json", mentioning: ["\"a\"", "-1"])
        let url = try write(#"{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}}"#, as: "tokenizer.json")
        defer { removeDirectory(of: url) }
        expectInvalid(modelError { try ByteLevelBPETokenizer(tokenizerJSON: url) },
                      file: "tokenizer.json", mentioning: ["\"a\"", "a string", "integer"])
        let boolean = try write(#"{"model": {"type": "BPE", "vocab": {"a": true}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}}"#, as: "tokenizer.json")
        defer { removeDirectory(of: boolean) }
        expectInvalid(modelError { try ByteLevelBPETokenizer(tokenizerJSON: boolean) },
                      file: "tokenizer.json", mentioning: ["a boolean", "integer"])
    }

    @Test func inconsistentAddedTokens() throws {
        func added(_ id: Int, _ content: String) -> [String: Any] {
            ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["added_tokens": [added(1, "a")]]) },
                      file: "tokenizer.json", mentioning: ["\"a\"", "id 1", "id 0"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["added_tokens": [added(2, "<s>")]]) },
                      file: "tokenizer.json", mentioning: ["\"<s>\"", "\"ab\""])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["added_tokens": [added(3, "")]]) },
                      file: "tokenizer.json", mentioning: ["empty"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["added_tokens": [added(3, "<s>"), added(4, "<s>")]]) },
                      file: "tokenizer.json", mentioning: ["\"<s>\"", "twice"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["added_tokens": [["content": "<s>"]]]) },
                      file: "tokenizer.json", mentioning: ["added_tokens[0]", "id"])
    }

    @Test func unsupportedParts() throws {
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], model: ["type": "WordPiece"]) },
                      file: "tokenizer.json", mentioning: ["\"WordPiece\"", "not supported"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], model: ["dropout": 0.1]) },
                      file: "tokenizer.json", mentioning: ["dropout"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], model: ["continuing_subword_prefix": "##"]) },
                      file: "tokenizer.json", mentioning: ["continuing_subword_prefix"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], model: ["byte_fallback": true]) },
                      file: "tokenizer.json", mentioning: ["byte_fallback"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["pre_tokenizer": ["type": "Metaspace", "replacement": "▁"]]) },
                      file: "tokenizer.json", mentioning: ["\"Metaspace\"", "not supported"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["pre_tokenizer": NSNull()]) },
                      file: "tokenizer.json", mentioning: ["pre_tokenizer", "null"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["pre_tokenizer": ["type": "Sequence", "pretokenizers": [
            ["type": "Digits", "individual_digits": true],
            ["type": "ByteLevel", "add_prefix_space": false],
        ]]]) }, file: "tokenizer.json", mentioning: ["Digits, ByteLevel", "not supported"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["pre_tokenizer": ["type": "ByteLevel"]]) },
                      file: "tokenizer.json", mentioning: ["add_prefix_space"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["normalizer": ["type": "NFC"]]) },
                      file: "tokenizer.json", mentioning: ["normalizer \"NFC\"", "not supported"])
        expectInvalid(modelError { try tiny(vocab: Self.vocab, merges: [], root: ["decoder": ["type": "WordPiece"]]) },
                      file: "tokenizer.json", mentioning: ["decoder \"WordPiece\"", "not supported"])
    }

    @Test func loupeTokenizerWithANumericType() throws {
        let url = try write(#"{"type": 1, "tokens": ["a"]}"#, as: CharacterTokenizer.fileName)
        defer { removeDirectory(of: url) }
        for load in [{ _ = try CharacterTokenizer(contentsOf: url) }, { _ = try WordTokenizer(contentsOf: url) }] {
            expectInvalid(modelError(load), file: CharacterTokenizer.fileName, mentioning: ["\"type\"", "a number (1)"])
        }
        expectInvalid(modelError { try TokenizerLoader.load(directory: url.deletingLastPathComponent()) },
                      file: CharacterTokenizer.fileName, mentioning: ["\"type\"", "a number"])
    }

    @Test func badTokenizerConfig() throws {
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try JSONSerialization.data(withJSONObject: Self.vocab).write(to: directory.appendingPathComponent("vocab.json"))
        try Data("a b\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        let config = directory.appendingPathComponent("tokenizer_config.json")
        try Data("{oops".utf8).write(to: config)
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "tokenizer_config.json", mentioning: ["not valid JSON"])
        try Data(#"{"add_prefix_space": "yes"}"#.utf8).write(to: config)
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "tokenizer_config.json", mentioning: ["add_prefix_space", "a string"])
        try Data(#"{"added_tokens_decoder": {"x": {"content": "<s>"}}}"#.utf8).write(to: config)
        expectInvalid(modelError { try TokenizerLoader.load(directory: directory) },
                      file: "tokenizer_config.json", mentioning: ["\"x\"", "not an integer"])
    }
}
