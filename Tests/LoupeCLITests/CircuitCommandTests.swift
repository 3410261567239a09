import Foundation
import Testing
@testable import LoupeCLI

/// `loupe circuit` on a task file: the written JSON against the PyTorch reference, its exact keys,
/// ground-truth AUCs and the errors.
@Suite("Circuits: loupe circuit")
struct CircuitCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let model = fixtures.appendingPathComponent("gpt2-prefixed").path
    static let task = fixtures.appendingPathComponent("circuits/task.jsonl").path

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-circuit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `loupe circuit` in-process on the text task and returns the written JSON object.
    func runCircuit(method: String, in directory: URL, extra: [String] = []) throws -> [String: Any] {
        let output = directory.appendingPathComponent("\(method).json")
        var command = try LoupeCommand.parseAsRoot([
            "circuit", "--model", Self.model, "--task", Self.task, "--method", method, "--output", output.path,
            "--prepend-bos", "--ig-steps", "5",
        ] + extra)
        try command.run()
        let data = try Data(contentsOf: output)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The reference `gpt2-prefixed-text.json`: metrics and, per method, node and edge scores.
    func reference() throws -> (clean: Double, corrupted: Double, pairs: Int, methods: [String: [String: [String: Double]]]) {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("circuits/gpt2-prefixed-text.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["ig_steps"] as? Int == 5)
        #expect(object["prepend_bos"] as? Bool == true)
        return (try #require(object["clean_metric"] as? Double), try #require(object["corrupted_metric"] as? Double),
                try #require((object["pairs"] as? [Any])?.count),
                try #require(object["methods"] as? [String: [String: [String: Double]]]))
    }

    @Test(arguments: ["patching", "attribution", "eap", "eap-ig"])
    func writesTheReferenceScoresWithExactlyTheContractKeys(method: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = try runCircuit(method: method, in: directory)
        let reference = try reference()
        let expected = try #require(reference.methods[method])

        #expect(Set(json.keys) == ["task", "method", "pairs", "clean_metric", "corrupted_metric", "nodes", "edges", "seconds"])
        #expect(json["task"] as? String == Self.task)
        #expect(json["method"] as? String == method)
        #expect(json["pairs"] as? Int == reference.pairs)
        #expect(abs(try #require(json["clean_metric"] as? Double) - reference.clean) <= 1e-4)
        #expect(abs(try #require(json["corrupted_metric"] as? Double) - reference.corrupted) <= 1e-4)
        let seconds = try #require(json["seconds"] as? Double)
        #expect(seconds >= 0)

        let nodes = try #require(json["nodes"] as? [[String: Any]])
        #expect(nodes.count == 15)
        var nodeIDs: Set<String> = []
        for node in nodes {
            #expect(Set(node.keys) == ["id", "layer", "head", "score"])
            let id = try #require(node["id"] as? String)
            nodeIDs.insert(id)
            let layer = try #require(node["layer"] as? Int)
            if id.hasPrefix("m") {
                #expect(node["head"] is NSNull, "\(id): head must be JSON null")
                #expect(id == "m\(layer)")
            } else {
                let head = try #require(node["head"] as? Int)
                #expect(id == "a\(layer).h\(head)")
            }
            let score = try #require(node["score"] as? Double)
            let want = try #require(expected["nodes"]?[id], "\(id)")
            #expect(abs(score - want) <= 1e-4, "\(method) \(id): \(score) vs \(want)")
        }
        #expect(nodeIDs == Set(expected["nodes"]!.keys))

        let edges = try #require(json["edges"] as? [[String: Any]])
        if method == "patching" || method == "attribution" {
            #expect(edges.isEmpty)
            #expect(expected["edges"] == nil || expected["edges"]!.isEmpty)
        } else {
            let expectedEdges = try #require(expected["edges"])
            #expect(edges.count == expectedEdges.count)
            var edgeIDs: Set<String> = []
            for edge in edges {
                #expect(Set(edge.keys) == ["id", "sender", "receiver", "score"])
                let id = try #require(edge["id"] as? String)
                edgeIDs.insert(id)
                let sender = try #require(edge["sender"] as? String)
                let receiver = try #require(edge["receiver"] as? String)
                #expect(id == sender + "->" + receiver)
                let score = try #require(edge["score"] as? Double)
                let want = try #require(expectedEdges[id], "\(id)")
                #expect(abs(score - want) <= 1e-4, "\(method) \(id): \(score) vs \(want)")
            }
            #expect(edgeIDs == Set(expectedEdges.keys))
        }
    }

    /// ROC AUC by pair counting: the share of (member, non-member) pairs in which the member's |score|
    /// is larger, ties counting one half.
    static func pairCountingAUC(_ scores: [String: Double], members: Set<String>) -> Double {
        let positives = scores.filter { members.contains($0.key) }.map { abs($0.value) }
        let negatives = scores.filter { !members.contains($0.key) }.map { abs($0.value) }
        var wins = 0.0
        for p in positives {
            for n in negatives { wins += p > n ? 1 : (p == n ? 0.5 : 0) }
        }
        return wins / Double(positives.count * negatives.count)
    }

    static func scores(_ list: Any?) throws -> [String: Double] {
        let items = try #require(list as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: try items.map { (try #require($0["id"] as? String), try #require($0["score"] as? Double)) })
    }

    @Test func aGroundTruthAddsTheNodeAUC() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let truthNodes: Set<String> = ["a0.h0", "a1.h2", "m2"]
        let truth = directory.appendingPathComponent("gt.json")
        try Data(#"{"nodes": ["a0.h0", "a1.h2", "m2"]}"#.utf8).write(to: truth)
        let json = try runCircuit(method: "patching", in: directory, extra: ["--ground-truth", truth.path])
        #expect(Set(json.keys) == ["task", "method", "pairs", "clean_metric", "corrupted_metric", "nodes", "edges", "seconds", "node_auc"])
        let auc = try #require(json["node_auc"] as? Double)
        let expected = Self.pairCountingAUC(try Self.scores(json["nodes"]), members: truthNodes)
        #expect(abs(auc - expected) <= 1e-12, "\(auc) vs \(expected)")
        #expect(auc > 0 && auc < 1)
    }

    @Test func aGroundTruthWithEdgesAddsTheEdgeAUCForAnEdgeMethod() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let truthNodes: Set<String> = ["a0.h1", "a2.h3"]
        let truthEdges: Set<String> = ["input->a0.h1<v>", "a0.h1->a2.h3<k>", "a2.h3->logits", "m1->logits"]
        let truth = directory.appendingPathComponent("gt.json")
        let text = #"{"nodes": ["a0.h1", "a2.h3"], "edges": ["input->a0.h1<v>", "a0.h1->a2.h3<k>", "a2.h3->logits", "m1->logits"]}"#
        try Data(text.utf8).write(to: truth)
        let json = try runCircuit(method: "eap", in: directory, extra: ["--ground-truth", truth.path])
        #expect(Set(json.keys) == ["task", "method", "pairs", "clean_metric", "corrupted_metric", "nodes", "edges", "seconds", "node_auc", "edge_auc"])
        let nodeAUC = try #require(json["node_auc"] as? Double)
        let edgeAUC = try #require(json["edge_auc"] as? Double)
        #expect(abs(nodeAUC - Self.pairCountingAUC(try Self.scores(json["nodes"]), members: truthNodes)) <= 1e-12)
        #expect(abs(edgeAUC - Self.pairCountingAUC(try Self.scores(json["edges"]), members: truthEdges)) <= 1e-12)

        // A node method given edges in the ground truth still has no edge AUC.
        let patching = try runCircuit(method: "patching", in: directory, extra: ["--ground-truth", truth.path])
        #expect(patching["node_auc"] is Double)
        #expect(patching["edge_auc"] == nil)
    }

    @Test(arguments: [
        (#"{"nodes": ["a0.h0", "a7.h0"]}"#, "a7.h0"),
        (#"{"nodes": ["a0.h0", "a0.h4"]}"#, "a0.h4"),
        (#"{"nodes": ["a0.h0"], "edges": ["a0.h0->a0.h1<q>"]}"#, "a0.h0->a0.h1<q>"),
    ])
    func aGroundTruthNamingAnUnknownNodeOrEdgeIsAnError(text: String, unknown: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let truth = directory.appendingPathComponent("gt.json")
        try Data(text.utf8).write(to: truth)
        let output = directory.appendingPathComponent("out.json")
        var command = try LoupeCommand.parseAsRoot([
            "circuit", "--model", Self.model, "--task", Self.task, "--method", "patching", "--output", output.path,
            "--prepend-bos", "--ground-truth", truth.path,
        ])
        do {
            try command.run()
            Issue.record("an unknown id in the ground truth was accepted")
        } catch {
            #expect("\(error)".contains(truth.path), "\(error)")
            #expect("\(error)".contains("'\(unknown)'"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func aMalformedTaskLineFailsWithTheFileAndLineOnStderr() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let task = directory.appendingPathComponent("bad.jsonl")
        let good = #"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " at", "wrong_answer": " of"}"#
        let bad = #"{"clean": "The dog is in the", "corrupted": "The fox is in the", "answer": " cat", "wrong_answer": " of"}"#
        try Data([good, "", bad].joined(separator: "\n").utf8).write(to: task)
        let output = directory.appendingPathComponent("out.json")
        let (status, stdout, stderr) = try runLoupe([
            "circuit", "--model", Self.model, "--task", task.path, "--method", "attribution", "--output", output.path, "--prepend-bos",
        ])
        #expect(status != 0)
        #expect(stdout.isEmpty)
        #expect(stderr.contains("\(task.path):3:"), "\(stderr)")
        #expect(stderr.contains("answer"), "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func anUnknownMethodOrTaskIsAnError() throws {
        #expect(throws: (any Error).self) {
            try LoupeCommand.parseAsRoot(["circuit", "--model", Self.model, "--task", Self.task, "--method", "acdc", "--output", "/tmp/unused.json"])
        }
        let (status, _, stderr) = try runLoupe([
            "circuit", "--model", Self.model, "--task", "no/such/task.jsonl", "--method", "eap", "--output", "/tmp/unused.json",
        ])
        #expect(status != 0)
        #expect(stderr.contains("no/such/task.jsonl"), "\(stderr)")
    }
}
