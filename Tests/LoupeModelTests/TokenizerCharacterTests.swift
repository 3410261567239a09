import Foundation
import Testing
@testable import LoupeModel

@Suite("Tokenizer: character level")
struct TokenizerCharacterTests {
    @Test func encodesScalarsAndUnknowns() throws {
        let tokenizer = try CharacterTokenizer(tokens: ["<unk>", "a", "b", " ", "\n", "é"], unknown: "<unk>")
        #expect(tokenizer.vocabularySize == 6)
        #expect(tokenizer.encode("ab a\nc") == [1, 2, 3, 1, 4, 0])
        // "e\u{301}" is two scalars, neither of which is the token "é".
        #expect(tokenizer.encode("é e\u{301}") == [5, 3, 0, 0])
        #expect(tokenizer.decode([1, 0, 2, 9, -1]) == "a<unk>b")
        #expect(tokenizer.id(for: "é") == 5)
        #expect(tokenizer.id(for: "e\u{301}") == nil)
        #expect(tokenizer.token(for: 3) == " ")
        #expect(tokenizer.displayString(for: 3) == "␣")
        #expect(tokenizer.displayString(for: 4) == "↵")
        #expect(tokenizer.displayString(for: 0) == "<unk>")
        #expect(tokenizer.token(for: 6) == nil)
    }

    @Test func withoutUnknownTokenSkipsUnknownScalars() throws {
        let tokenizer = try CharacterTokenizer(tokens: ["a", "b"], unknown: nil)
        #expect(tokenizer.encode("axxb") == [0, 1])
        #expect(tokenizer.unknownID == nil)
    }

    @Test func roundTripsThroughFile() throws {
        let text = "Hello, wörld! 🙂\n\t\"quoted\" / back\\slash"
        let tokenizer = try CharacterTokenizer(coveringScalarsOf: text)
        #expect(tokenizer.tokens.first == "<unk>")
        #expect(tokenizer.decode(tokenizer.encode(text)) == text)
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tokenizer.write(to: directory.appendingPathComponent(CharacterTokenizer.fileName))
        let loaded = try TokenizerLoader.load(directory: directory)
        let characters = try #require(loaded as? CharacterTokenizer)
        #expect(characters.tokens.map { Array($0.unicodeScalars) } == tokenizer.tokens.map { Array($0.unicodeScalars) })
        #expect(characters.unknownToken == "<unk>")
        #expect(loaded.encode(text) == tokenizer.encode(text))
        #expect(loaded.decode(loaded.encode(text + "Z")) == text + "<unk>")

        let noUnknown = try CharacterTokenizer(coveringScalarsOf: "abc", unknown: nil)
        let file = directory.appendingPathComponent("other.json")
        try noUnknown.write(to: file)
        let reloaded = try CharacterTokenizer(contentsOf: file)
        #expect(reloaded.tokens == ["a", "b", "c"])
        #expect(reloaded.unknownToken == nil)
    }

    @Test func reportsBadFiles() throws {
        let cases: [(String, [String])] = [
            (#"{"type": "characters", "tokens": ["a", "b", "a"]}"#, ["tokens[2]", "repeats tokens[0]"]),
            (#"{"type": "characters", "tokens": ["a", ""]}"#, ["tokens[1]", "empty"]),
            (#"{"type": "characters", "tokens": ["a", "bc"]}"#, ["tokens[1]", "\"bc\"", "2 Unicode scalars"]),
            (#"{"type": "characters", "tokens": ["a"], "unknown": "<unk>"}"#, ["\"<unk>\"", "not in"]),
            (#"{"type": "characters", "tokens": ["a", 3]}"#, ["tokens[1]", "a number"]),
            (#"{"type": "characters", "tokens": []}"#, ["empty"]),
            (#"{"type": "characters", "tokens": {"a": 0}}"#, ["\"tokens\"", "an object"]),
            (#"{"type": "bytes", "tokens": ["a"]}"#, ["\"bytes\"", "not supported"]),
            (#"{"tokens": ["a"]}"#, ["\"type\"", "missing"]),
            (#"["a", "b"]"#, ["a list"]),
            ("characters: a b c", ["not valid JSON"]),
        ]
        let directory = try TokenizerFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(CharacterTokenizer.fileName)
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
    }

    @Test func rejectsBadTokenListsInCode() {
        #expect(throws: ModelError.self) { try CharacterTokenizer(tokens: ["a", "a"]) }
        #expect(throws: ModelError.self) { try CharacterTokenizer(tokens: ["a"], unknown: "?") }
        #expect(throws: ModelError.self) { try CharacterTokenizer(tokens: []) }
    }
}
