import Foundation
import Testing
@testable import LoupeCLI

/// `loupe preimage`: the JSON it writes (exact keys), negative positions, the store beside the
/// corpus, and errors with non-zero exit codes.
@Suite("Neighbourhoods: loupe preimage")
struct PreimageCommandTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpt2-prefixed").path

    /// A folder with `corpus.txt` (a blank line 1), `corpus.jsonl` (the same documents) and `query.txt`.
    func workspace() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-preimage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let documents = ["the cat sat on the mat", "", "a dog ran far away", "the cat sat on the mat", "Hello there"]
        try Data((documents.joined(separator: "\n") + "\n").utf8).write(to: url.appendingPathComponent("corpus.txt"))
        let lines = try documents.map { $0.isEmpty ? "" : String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0, "id": 1]), as: UTF8.self) }
        try Data(lines.joined(separator: "\n").utf8).write(to: url.appendingPathComponent("corpus.jsonl"))
        try Data("the cat sat".utf8).write(to: url.appendingPathComponent("query.txt"))
        return url
    }

    func arguments(_ directory: URL, corpus: String = "corpus.txt", extra: [String] = []) -> [String] {
        ["preimage", "--model", Self.model, "--corpus", directory.appendingPathComponent(corpus).path, "--hook", "blocks.1.hook_resid_post",
         "--query-file", directory.appendingPathComponent("query.txt").path, "--output", directory.appendingPathComponent("out.json").path]
            + extra
    }

    /// Runs the command in-process and returns the written JSON object.
    func run(_ arguments: [String], in directory: URL) throws -> [String: Any] {
        var command = try LoupeCommand.parseAsRoot(arguments)
        try command.run()
        let data = try Data(contentsOf: directory.appendingPathComponent("out.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func writesExactlyTheContractKeysWithANegativePosition() throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = try run(arguments(directory, extra: ["--position", "-1", "--k", "4", "--prepend-bos"]), in: directory)
        #expect(Set(object.keys) == ["hook", "head", "distance", "epsilon", "query", "candidates", "inside", "neighbours"])
        #expect(object["head"] is NSNull)
        #expect(object["hook"] as? String == "blocks.1.hook_resid_post")
        #expect(object["distance"] as? String == "l2")
        #expect(object["epsilon"] as? Double == 0.1)
        let query = try #require(object["query"] as? [String: Any])
        #expect(Set(query.keys) == ["tokens", "position"])
        let tokens = try #require(query["tokens"] as? [Int])
        #expect(tokens.first == 0)
        #expect(query["position"] as? Int == tokens.count - 1)
        let neighbours = try #require(object["neighbours"] as? [[String: Any]])
        #expect(neighbours.count == 4)
        for neighbour in neighbours {
            #expect(Set(neighbour.keys) == ["document", "position", "distance", "text"])
        }
        // The query is a prefix of documents 0 and 3: both match exactly, in document order.
        #expect(neighbours.prefix(2).map { $0["document"] as? Int } == [0, 3])
        #expect(neighbours.prefix(2).map { $0["position"] as? Int } == [tokens.count - 2, tokens.count - 2])
        #expect(try #require(neighbours[0]["distance"] as? Double) < 1e-4)
        #expect(neighbours[0]["text"] as? String == "the cat sat")
        #expect(object["inside"] as? Int == 2)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(".loupe-store").path))
    }

    @Test func jsonlCorpusNumbersDocumentsByLineAndHeadsAreReported() throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = directory.appendingPathComponent("stores")
        let object = try run(arguments(directory, corpus: "corpus.jsonl", extra: [
            "--position", "-2", "--hook", "blocks.0.attn.hook_z", "--head", "1", "--distance", "cosine", "--k", "100",
            "--store", store.path, "--epsilon", "0.25", "--context", "8",
        ]), in: directory)
        #expect(object["head"] as? Int == 1)
        #expect(object["hook"] as? String == "blocks.0.attn.hook_z")
        #expect(object["distance"] as? String == "cosine")
        let neighbours = try #require(object["neighbours"] as? [[String: Any]])
        #expect(Set(neighbours.compactMap { $0["document"] as? Int }) == [0, 2, 3, 4])
        #expect(neighbours.count == object["candidates"] as? Int)
        let stores = try FileManager.default.contentsOfDirectory(atPath: store.path)
        #expect(stores.count == 1)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".loupe-store").path))
    }

    @Test func aSecondQueryReusesTheStore() throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, _, stderr) = try runLoupe(arguments(directory, extra: ["--position", "-1"]))
        #expect(status == 0)
        #expect(stderr.isEmpty)
        let root = directory.appendingPathComponent(".loupe-store")
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: root.path).first)
        let manifest = root.appendingPathComponent(folder).appendingPathComponent("manifest.json").path
        let stamp = try FileManager.default.attributesOfItem(atPath: manifest)[.modificationDate] as? Date
        let first = try Data(contentsOf: directory.appendingPathComponent("out.json"))
        try Data("the cat".utf8).write(to: directory.appendingPathComponent("query.txt"))
        #expect(try runLoupe(arguments(directory, extra: ["--position", "1", "--quiet"])).0 == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: manifest)[.modificationDate] as? Date == stamp)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == [folder])
        #expect(try Data(contentsOf: directory.appendingPathComponent("out.json")) != first)
    }

    @Test func errorsNameTheOptionOrFileAndExitNonZero() throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("\n  \n".utf8).write(to: directory.appendingPathComponent("empty.txt"))
        try Data(String(repeating: "word ", count: 40).utf8).write(to: directory.appendingPathComponent("long.txt"))
        let query = directory.appendingPathComponent("query.txt").path
        let cases: [([String], [String])] = [
            (["--position", "0", "--hook", "blocks.0.attn.hook_pattern"], ["--hook", "blocks.0.attn.hook_pattern"]),
            (["--position", "0", "--hook", "blocks.7.hook_resid_pre"], ["--hook", "blocks.7.hook_resid_pre"]),
            (["--position", "0", "--hook", "blocks.0.attn.hook_z", "--head", "4"], ["--head", "4 heads"]),
            (["--position", "0", "--head", "0"], ["--head", "no heads"]),
            (["--position", "-40"], ["--position", "out of range"]),
            (["--position", "0", "--context", "65"], ["--context", "65"]),
            (["--position", "0", "--query-file", directory.appendingPathComponent("long.txt").path, "--context", "16"],
             ["--query-file", "long.txt", "more than the context of 16"]),
            (["--position", "0", "--query-file", directory.appendingPathComponent("missing.txt").path], ["missing.txt"]),
            (["--position", "0", "--corpus", directory.appendingPathComponent("empty.txt").path], ["empty.txt", "no document"]),
            (["--position", "0", "--corpus", directory.appendingPathComponent("absent.txt").path], ["absent.txt"]),
            (["--position", "0", "--distance", "manhattan"], ["--distance"]),
            (["--position", "0", "--k", "0"], ["--k"]),
        ]
        #expect(FileManager.default.fileExists(atPath: query))
        for (extra, expected) in cases {
            let (status, _, stderr) = try runLoupe(arguments(directory, extra: extra))
            #expect(status != 0, "\(extra)")
            for fragment in expected { #expect(stderr.contains(fragment), "\(extra): \(stderr)") }
        }
    }
}
