import Foundation
import Testing
@testable import LoupeModel

@Suite("Tokenizer: word level")
struct WordTokenizerTests {
    let tokens = ["<|endoftext|>", "<unk>", "the", "cat", ",", "17", "é", "\"\"\""]

    @Test func encodesWordsAndUnknowns() throws {
        let tokenizer = try WordTokenizer(tokens: tokens, unknown: "<unk>")
        #expect(tokenizer.vocabularySize == 8)
        #expect(tokenizer.encode("the cat , 17") == [2, 3, 4, 5])
        #expect(tokenizer.encode("  the\n\tcat\u{00A0}dog  ") == [2, 3, 1])
        #expect(tokenizer.encode("") == [])
        #expect(tokenizer.encode("cat,") == [1])
        // Tokens are compared byte for byte: the decomposed "é" is not the token "é".
        #expect(tokenizer.encode("é e\u{301}") == [6, 1])
        #expect(tokenizer.encode("\"\"\" the") == [7, 2])
        #expect(tokenizer.decode([2, 3, 99, -1, 1]) == "the cat <unk>")
        #expect(tokenizer.token(for: 5) == "17")
        #expect(tokenizer.token(for: 8) == nil)
        #expect(tokenizer.id(for: "cat") == 3)
        #expect(tokenizer.id(for: "dog") == nil)
        #expect(tokenizer.displayString(for: 7) == " \"\"\"")
        #expect(tokenizer.displayString(for: 0) == "<|endoftext|>")
        #expect(tokenizer.endOfTextID == 0)
        #expect(tokenizer.unknownID == 1)
    }

    @Test func splitsOutEndOfTextGluedToText() throws {
        let tokenizer = try WordTokenizer(tokens: tokens, unknown: "<unk>")
        #expect(tokenizer.encode("cat<|endoftext|>the") == [3, 0, 2])
        #expect(tokenizer.encode("<|endoftext|><|endoftext|>the cat") == [0, 0, 2, 3])
        #expect(tokenizer.encode("dog<|endoftext|>") == [1, 0])
        #expect(tokenizer.encode("<|endoftext") == [1])
        // Without the token in the vocabulary the marker is an ordinary (unknown) piece.
        let plain = try WordTokenizer(tokens: ["<unk>", "the"], unknown: "<unk>")
        #expect(plain.endOfTextID == nil)
        #expect(plain.encode("the<|endoftext|>the") == [0])
    }

    @Test func withoutUnknownTokenSkipsUnknownWords() throws {
        let tokenizer = try WordTokenizer(tokens: ["a", "b"])
        #expect(tokenizer.encode("a x b y") == [0, 1])
        #expect(tokenizer.unknownID == nil)
    }

    @Test func joinedTokensRoundTrip() throws {
        let tokenizer = try WordTokenizer(tokens: tokens, unknown: "<unk>")
        let ids = [0, 2, 3, 4, 5, 6, 7, 1, 0, 3]
        let text = tokenizer.decode(ids)
        #expect(text == "<|endoftext|> the cat , 17 é \"\"\" <unk> <|endoftext|> cat")
        #expect(tokenizer.encode(text) == ids)
        #expect(tokenizer.decode(tokenizer.encode(text)) == text)
    }

    @Test func roundTripsThroughFileAndLoader() throws {
        let tokenizer = try WordTokenizer(tokens: tokens, unknown: "<unk>")
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tokenizer.write(to: directory.appendingPathComponent(WordTokenizer.fileName))
        let loaded = try TokenizerLoader.load(directory: directory)
        let words = try #require(loaded as? WordTokenizer)
        #expect(words.tokens.map { Array($0.utf8) } == tokens.map { Array($0.utf8) })
        #expect(words.unknownToken == "<unk>")
        #expect(loaded.encode("the cat<|endoftext|>dog") == [2, 3, 0, 1])

        let noUnknown = try WordTokenizer(tokens: ["x", "y"])
        let file = directory.appendingPathComponent("other.json")
        try noUnknown.write(to: file)
        let reloaded = try WordTokenizer(contentsOf: file)
        #expect(reloaded.tokens == ["x", "y"])
        #expect(reloaded.unknownToken == nil)
    }

    @Test func loaderDispatchesOnType() throws {
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(WordTokenizer.fileName)
        try Data(#"{"type": "characters", "tokens": ["a", "b"]}"#.utf8).write(to: file)
        #expect(try TokenizerLoader.load(directory: directory) is CharacterTokenizer)
        try Data(#"{"type": "words", "tokens": ["ab", "cd"]}"#.utf8).write(to: file)
        let words = try TokenizerLoader.load(directory: directory)
        #expect(words is WordTokenizer)
        #expect(words.encode("cd ab") == [1, 0])
    }

    @Test func reportsBadFiles() throws {
        let cases: [(String, [String])] = [
            (#"{"type": "words", "tokens": ["a", "b", "a"]}"#, ["tokens[2]", "repeats tokens[0]"]),
            (#"{"type": "words", "tokens": ["a", ""]}"#, ["tokens[1]", "empty"]),
            (#"{"type": "words", "tokens": ["a", "b c"]}"#, ["tokens[1]", "\"b c\"", "whitespace"]),
            (#"{"type": "words", "tokens": ["a", "b\n"]}"#, ["tokens[1]", "\"b\\n\"", "whitespace"]),
            (#"{"type": "words", "tokens": ["a"], "unknown": "<unk>"}"#, ["\"<unk>\"", "not in"]),
            (#"{"type": "words", "tokens": ["a"], "unknown": ""}"#, ["\"unknown\"", "empty"]),
            (#"{"type": "words", "tokens": ["a"], "unknown": 3}"#, ["\"unknown\"", "a number"]),
            (#"{"type": "words", "tokens": ["a", 3]}"#, ["tokens[1]", "a number"]),
            (#"{"type": "words", "tokens": []}"#, ["empty"]),
            (#"{"type": "words", "tokens": {"a": 0}}"#, ["\"tokens\"", "an object"]),
            (#"{"type": "sentences", "tokens": ["a"]}"#, ["\"sentences\"", "not supported", "\"words\"", "\"characters\""]),
            (#"{"type": 2, "tokens": ["a"]}"#, ["\"type\"", "a number"]),
            (#"{"tokens": ["a"]}"#, ["\"type\"", "missing"]),
            (#"["a", "b"]"#, ["a list"]),
            ("words: a b c", ["not valid JSON"]),
        ]
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(WordTokenizer.fileName)
        for (json, words) in cases {
            try Data(json.utf8).write(to: file)
            do {
                _ = try TokenizerLoader.load(directory: directory)
                Issue.record("\(json) loaded")
            } catch let ModelError.invalidTokenizer(path, reason) {
                #expect(path == file.path)
                for word in words {
                    #expect(reason.contains(word), "\(json): reason \(String(reflecting: reason)) lacks \(word)")
                }
            } catch {
                Issue.record("\(json): unexpected error \(error)")
            }
        }
        // The type-specific initialiser rejects the other type with the file named.
        try Data(#"{"type": "characters", "tokens": ["a"]}"#.utf8).write(to: file)
        #expect(throws: ModelError.invalidTokenizer(
            path: file.path, reason: "type \"characters\" is not supported (expected \"words\")")) {
            try WordTokenizer(contentsOf: file)
        }
    }

    @Test func rejectsBadTokenListsInCode() {
        #expect(throws: ModelError.self) { try WordTokenizer(tokens: ["a", "a"]) }
        #expect(throws: ModelError.self) { try WordTokenizer(tokens: ["a"], unknown: "?") }
        #expect(throws: ModelError.self) { try WordTokenizer(tokens: []) }
        #expect(throws: ModelError.self) { try WordTokenizer(tokens: ["a b"]) }
        #expect(throws: ModelError.self) { try WordTokenizer(tokens: ["a\u{3000}"]) }
    }
}
