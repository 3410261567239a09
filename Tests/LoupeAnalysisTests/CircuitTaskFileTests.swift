import Foundation
import LoupeAnalysis
import LoupeModel
import LoupeToyWorld
import Testing

/// Task files (`{"clean", "corrupted", "answer", "wrong_answer"}` per line): every malformed line is
/// an error naming the file and its 1-based line.
@Suite("Circuits: task files")
struct CircuitTaskFileTests {
    /// The gpt2-prefixed fixture: context 64; " at", " of", " is", " the" are one token, " cat" two.
    static let modelDirectory = CircuitReference.root.appendingPathComponent("gpt2-prefixed")
    static let contextLength = 64

    static let good = #"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " at", "wrong_answer": " of"}"#
    static let goodToo = #"{"clean": "I went to the park and", "corrupted": "I went to the sea and", "answer": " and", "wrong_answer": " is"}"#

    /// Writes `text` to a fresh temporary file.
    static func write(_ text: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-task-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("task.jsonl")
        try Data(text.utf8).write(to: url)
        return url
    }

    static func load(_ url: URL, prependBOS: Bool = true) throws -> [TaskExample] {
        try CircuitTaskFile.load(
            url: url, tokenizer: try TokenizerLoader.load(directory: modelDirectory), prependBOS: prependBOS,
            contextLength: contextLength)
    }

    /// Loads `lines` joined by newlines and expects an invalid-pair error at `line`, naming the file
    /// and the line in its message, with `reason` in it.
    static func expectInvalid(_ lines: [String], line: Int, reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = try write(lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            let pairs = try load(url)
            Issue.record("loaded \(pairs.count) pairs, expected an error at line \(line)", sourceLocation: sourceLocation)
        } catch let error as CircuitError {
            guard case let .invalidPair(path, errorLine, message) = error else {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(path == url.path, sourceLocation: sourceLocation)
            #expect(errorLine == line, sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("\(url.path):\(line): "), "\(error.description)", sourceLocation: sourceLocation)
            #expect(message.contains(reason), "\(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func aValidFileLoadsAsTokenIDs() throws {
        let pairs = try Self.load(CircuitReference.root.appendingPathComponent("circuits/task.jsonl"))
        let reference = try CircuitReference("gpt2-prefixed-text")
        #expect(pairs == reference.pairs)
        #expect(pairs.allSatisfy { $0.clean.first == 0 && $0.corrupted.first == 0 })
        let bare = try Self.load(CircuitReference.root.appendingPathComponent("circuits/task.jsonl"), prependBOS: false)
        #expect(bare.map(\.clean) == pairs.map { Array($0.clean.dropFirst()) })
    }

    @Test func badJSON() throws {
        try Self.expectInvalid([Self.good, #"{"clean": "The dog is in the", "corrupted": "#], line: 2, reason: "not valid JSON")
        try Self.expectInvalid([#"["The dog", "The fox", " at", " of"]"#], line: 1, reason: "not a JSON object")
    }

    @Test func missingField() throws {
        try Self.expectInvalid(
            [#"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " at"}"#, Self.good],
            line: 1, reason: "wrong_answer")
        try Self.expectInvalid(
            [Self.good, Self.good, #"{"corrupted": "The fox is in the", "answer": " at", "wrong_answer": " of"}"#],
            line: 3, reason: "'clean'")
    }

    @Test func fieldThatIsNotAString() throws {
        try Self.expectInvalid(
            [#"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": 5, "wrong_answer": " of"}"#],
            line: 1, reason: "answer")
        try Self.expectInvalid(
            [Self.good, #"{"clean": ["The dog"], "corrupted": "The fox is in the", "answer": " at", "wrong_answer": " of"}"#],
            line: 2, reason: "clean")
    }

    @Test func cleanAndCorruptedOfDifferentLengths() throws {
        // "The dog is in the" is 7 tokens, "The cat is in the" 6 (8 and 7 with the BOS).
        try Self.expectInvalid(
            [Self.good, #"{"clean": "The dog is in the", "corrupted": "The cat is in the", "answer": " at", "wrong_answer": " of"}"#],
            line: 2, reason: "clean has 8 tokens, corrupted 7")
    }

    @Test func answerOfTwoTokens() throws {
        try Self.expectInvalid(
            [#"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " cat", "wrong_answer": " of"}"#],
            line: 1, reason: "'answer' is 2 tokens")
    }

    @Test func wrongAnswerOfZeroTokens() throws {
        try Self.expectInvalid(
            [Self.good, #"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " at", "wrong_answer": ""}"#],
            line: 2, reason: "'wrong_answer' is 0 tokens")
    }

    @Test func promptLongerThanTheContext() throws {
        // 63 tokens + BOS = 64 fit the context of 64; 64 + BOS do not.
        func pair(_ words: Int) -> String {
            let prompt = String(repeating: " the", count: words)
            return #"{"clean": "\#(prompt)", "corrupted": "\#(prompt)", "answer": " at", "wrong_answer": " of"}"#
        }
        let url = try Self.write(pair(63) + "\n")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(try Self.load(url).first?.clean.count == 64)
        try Self.expectInvalid([Self.good, pair(64)], line: 2, reason: "more than the model's context of 64")
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let url = try Self.write("\n" + Self.good + "\n\n   \n" + Self.goodToo + "\n\t\n")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let pairs = try Self.load(url)
        #expect(pairs.count == 2)
        #expect(pairs[1].correct == [290])
        try Self.expectInvalid(["", Self.good, "", "  ", #"{"clean": "The dog"}"#], line: 5, reason: "corrupted")
    }

    @Test(arguments: ["", "\n", "\n  \n\t\n\n"])
    func aFileWithoutPairsIsAnError(text: String) throws {
        let url = try Self.write(text)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(throws: CircuitError.emptyTask(path: url.path)) { try Self.load(url) }
        #expect(CircuitError.emptyTask(path: url.path).description.contains(url.path))
    }

    @Test func aMissingFileNamesItsPath() throws {
        let url = URL(fileURLWithPath: "/nonexistent/loupe/task.jsonl")
        do {
            _ = try Self.load(url)
            Issue.record("a missing file loaded")
        } catch let error as CircuitError {
            #expect(error.description.contains(url.path))
        }
    }
}
