import Foundation
import LoupeFindings
import Testing

/// The error the tests' factory makes: the key and reason the reader reported.
private struct Problem: Error, Equatable {
    var key: String?
    var reason: String
}

/// The error the tests' file-problem factory makes.
private struct FileFailure: Error {
    var problem: JSONObjectReader.FileProblem
}

/// A reader of the JSON object `text`, reporting through `Problem`.
private func reader(_ text: String) throws -> JSONObjectReader {
    try JSONObjectReader.parse(Data(text.utf8), path: "test.json") { Problem(key: $0, reason: $1) }
}

@Suite("JSONObjectReader: kinds of values")
struct JSONObjectReaderValueTests {
    @Test func integerGivenAsBooleanIsRejected() throws {
        let object = try reader(#"{"n": true, "m": false}"#)
        #expect(throws: Problem(key: "n", reason: "expected an integer, found a boolean (true)")) { try object.integer("n") }
        #expect(throws: Problem(key: "m", reason: "expected an integer, found a boolean (false)")) { try object.integer("m") }
        #expect(throws: Problem(key: "n", reason: "expected a number, found a boolean (true)")) { try object.number("n") }
        #expect(throws: Problem(key: "n", reason: "expected a list, found a boolean (true)")) { try object.integers("n") }
    }

    @Test func booleanGivenAsNumberIsRejected() throws {
        let object = try reader(#"{"one": 1, "zero": 0, "yes": true, "no": false}"#)
        #expect(throws: Problem(key: "one", reason: "expected true or false, found a number (1)")) { try object.boolean("one") }
        #expect(throws: Problem(key: "zero", reason: "expected true or false, found a number (0)")) { try object.boolean("zero") }
        #expect(try object.boolean("yes") == true)
        #expect(try object.boolean("no") == false)
    }

    @Test func integersMustBeIntegral() throws {
        let object = try reader(#"{"half": 2.5, "whole": 3.0, "plain": 7, "negative": -4, "huge": 1e30}"#)
        #expect(throws: Problem(key: "half", reason: "expected an integer, found a number (2.5)")) { try object.integer("half") }
        #expect(try object.integer("whole") == 3)
        #expect(try object.integer("plain") == 7)
        #expect(try object.integer("negative") == -4)
        #expect(throws: Problem.self) { try object.integer("huge") }
        #expect(try object.number("half") == 2.5)
        #expect(try object.number("plain") == 7)
    }

    @Test func stringsAndNumbersAreNotInterchangeable() throws {
        let object = try reader(#"{"text": "5", "count": 5}"#)
        #expect(throws: Problem(key: "text", reason: #"expected an integer, found a string ("5")"#)) { try object.integer("text") }
        #expect(throws: Problem(key: "text", reason: #"expected a number, found a string ("5")"#)) { try object.number("text") }
        #expect(throws: Problem(key: "count", reason: "expected a string, found a number (5)")) { try object.string("count") }
        #expect(try object.string("text") == "5")
    }

    @Test func nullIsTreatedAsAbsent() throws {
        let object = try reader(#"{"nothing": null}"#)
        for key in ["nothing", "absent"] {
            #expect(try object.integer(key) == nil)
            #expect(try object.number(key) == nil)
            #expect(try object.boolean(key) == nil)
            #expect(try object.string(key) == nil)
            #expect(try object.object(key) == nil)
            #expect(try object.array(key) == nil)
            #expect(try object.integers(key) == nil)
            #expect(object.value(key) == nil)
            #expect(throws: Problem(key: key, reason: "missing")) { try object.required(key, object.integer) }
        }
    }

    @Test func listsAndObjectsAreChecked() throws {
        let object = try reader(#"{"list": [1, 2], "map": {"a": 1}, "text": "x"}"#)
        #expect(try object.integers("list") == [1, 2])
        #expect(try object.object("map")?.integer("a") == 1)
        #expect(throws: Problem(key: "map", reason: "expected a list, found an object")) { try object.array("map") }
        #expect(throws: Problem(key: "list", reason: "expected an object, found a list")) { try object.object("list") }
        #expect(throws: Problem(key: "text", reason: #"expected a list, found a string ("x")"#)) { try object.strings("text") }
    }

    @Test func valuesAreClassifiedWithoutMixingBooleansAndNumbers() throws {
        let object = try reader(#"{"t": true, "one": 1, "half": 0.5}"#)
        let t = try #require(object.value("t"))
        let one = try #require(object.value("one"))
        let half = try #require(object.value("half"))
        #expect(JSONObjectReader.booleanValue(t) == true)
        #expect(JSONObjectReader.booleanValue(one) == nil)
        #expect(JSONObjectReader.integerValue(t) == nil)
        #expect(JSONObjectReader.integerValue(one) == 1)
        #expect(JSONObjectReader.integerValue(half) == nil)
        #expect(JSONObjectReader.numberValue(t) == nil)
        #expect(JSONObjectReader.numberValue(half) == 0.5)
        // Values built in Swift bridge the same way.
        #expect(JSONObjectReader.booleanValue(true) == true)
        #expect(JSONObjectReader.booleanValue(1) == nil)
        #expect(JSONObjectReader.integerValue(false) == nil)
        #expect(JSONObjectReader.describe(nil) == "missing")
        #expect(JSONObjectReader.describe(NSNull()) == "null")
        #expect(JSONObjectReader.describe(String(repeating: "a", count: 50)) == "a string (\"\(String(repeating: "a", count: 40))…\")")
    }
}

@Suite("JSONObjectReader: key names and files")
struct JSONObjectReaderKeyTests {
    @Test func nestedKeysAreNamedWithTheirPath() throws {
        let object = try reader(#"""
            {"metadata": {"hook_name": 3, "inner": {"flag": 1}},
             "added_tokens": [{"id": 0}, {"id": "one"}], "shape": [4, true]}
            """#)
        let metadata = try #require(try object.object("metadata"))
        #expect(metadata.keyPrefix == "metadata.")
        #expect(throws: Problem(key: "metadata.hook_name", reason: "expected a string, found a number (3)")) {
            try metadata.string("hook_name")
        }
        #expect(throws: Problem(key: "metadata.inner.flag", reason: "expected true or false, found a number (1)")) {
            try metadata.object("inner")?.boolean("flag")
        }
        let tokens = try #require(try object.objects("added_tokens"))
        #expect(try tokens[0].integer("id") == 0)
        #expect(throws: Problem(key: "added_tokens[1].id", reason: #"expected an integer, found a string ("one")"#)) {
            try tokens[1].integer("id")
        }
        #expect(throws: Problem(key: "shape[1]", reason: "expected an integer, found a boolean (true)")) {
            try object.integers("shape")
        }
        #expect(metadata.error("hook_name", "custom") as? Problem == Problem(key: "metadata.hook_name", reason: "custom"))
    }

    @Test func fileProblemsAreReported() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func problem(_ url: URL) -> JSONObjectReader.FileProblem? {
            do {
                _ = try JSONObjectReader.read(url, error: { Problem(key: $0, reason: $1) }, fileError: { FileFailure(problem: $0) })
                return nil
            } catch {
                return (error as? FileFailure)?.problem
            }
        }
        let file = directory.appendingPathComponent("config.json")
        #expect(problem(file) == .missing)
        #expect({ if case .unreadable? = problem(directory) { return true } else { return false } }())
        try Data("{ broken".utf8).write(to: file)
        #expect({ if case .notJSON? = problem(file) { return true } else { return false } }())
        try Data("[1, 2]".utf8).write(to: file)
        #expect(problem(file) == .notObject(found: "a list"))
        // Without a file-problem factory the problem's reason goes to the error factory with no key.
        #expect(throws: Problem(key: nil, reason: "top level is a list, not a JSON object")) {
            try JSONObjectReader.read(file) { Problem(key: $0, reason: $1) }
        }
        try Data(#"{"n_layer": 2}"#.utf8).write(to: file)
        let config = try JSONObjectReader.read(file) { Problem(key: $0, reason: $1) }
        #expect(config.path == file.path)
        #expect(config.keys == ["n_layer"])
        #expect(try config.integer("n_layer") == 2)
    }
}
