import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel
import LoupeToyWorld
import Testing

/// A reference file of `Tests/Fixtures/circuits/` (written by `Tools/make_circuit_fixtures.py` in
/// float64 from an explicit PyTorch graph forward pass, independent of the Swift code).
struct CircuitReference {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Node and edge scores of one method.
    struct Scores {
        var nodes: [String: Double]
        var edges: [String: Double]
    }

    var model: String
    var igSteps: Int
    var pairs: [TaskExample]
    var cleanMetric: Double
    var corruptedMetric: Double
    var methods: [String: Scores]

    init(_ name: String) throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("circuits/\(name).json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        model = try #require(object["model"] as? String)
        igSteps = try #require(object["ig_steps"] as? Int)
        let rawPairs = try #require(object["pairs"] as? [[String: [Int]]])
        pairs = try rawPairs.map { pair in
            TaskExample(
                clean: try #require(pair["clean"]), corrupted: try #require(pair["corrupted"]),
                correct: try #require(pair["correct"]), wrong: try #require(pair["wrong"]))
        }
        cleanMetric = try #require(object["clean_metric"] as? Double)
        corruptedMetric = try #require(object["corrupted_metric"] as? Double)
        let rawMethods = try #require(object["methods"] as? [String: [String: [String: Double]]])
        methods = rawMethods.mapValues { Scores(nodes: $0["nodes"] ?? [:], edges: $0["edges"] ?? [:]) }
    }

    /// The model the reference was computed on.
    func loadModel() throws -> GPT2Model {
        try GPT2Model.load(directory: Self.root.appendingPathComponent(model))
    }
}

/// Every exact circuit method against the float64 PyTorch reference: metrics, every node score and
/// every edge score, with the same node and edge ids.
@Suite("Circuits: reference scores")
struct CircuitReferenceTests {
    static let tolerance = 1e-4

    /// Compares a result with the reference scores of its method (ids as sets, values to 1e-4).
    static func expectMatches(_ result: CircuitMethodResult, _ reference: CircuitReference, method: String) throws {
        let expected = try #require(reference.methods[method], "\(method) missing from the reference")
        #expect(abs(result.cleanMetric - reference.cleanMetric) <= tolerance, "\(method): clean \(result.cleanMetric) vs \(reference.cleanMetric)")
        #expect(abs(result.corruptedMetric - reference.corruptedMetric) <= tolerance,
                "\(method): corrupted \(result.corruptedMetric) vs \(reference.corruptedMetric)")
        #expect(result.pairs == reference.pairs.count)

        let nodes = Dictionary(uniqueKeysWithValues: result.nodes.map { ($0.id, $0.score) })
        #expect(nodes.count == result.nodes.count, "\(method): duplicate node ids")
        #expect(Set(nodes.keys) == Set(expected.nodes.keys), "\(method): node ids differ")
        for (id, score) in expected.nodes {
            guard let actual = nodes[id] else { continue }
            #expect(abs(actual - score) <= tolerance, "\(method) node \(id): \(actual) vs \(score)")
        }

        let edges = Dictionary(uniqueKeysWithValues: result.edges.map { ($0.id, $0.score) })
        #expect(edges.count == result.edges.count, "\(method): duplicate edge ids")
        #expect(Set(edges.keys) == Set(expected.edges.keys), "\(method): edge ids differ")
        for (id, score) in expected.edges {
            guard let actual = edges[id] else { continue }
            #expect(abs(actual - score) <= tolerance, "\(method) edge \(id): \(actual) vs \(score)")
        }
        if method == "eap" || method == "eap-ig" {
            #expect(expected.edges.count > 0)
        } else {
            #expect(result.edges.isEmpty)
        }
    }

    @Test(arguments: ["gpt2-prefixed", "gpt2-bare"], ["patching", "attribution", "eap", "eap-ig"])
    func scoresMatchTheReference(fixture: String, method: String) throws {
        let reference = try CircuitReference(fixture)
        let model = try reference.loadModel()
        let analysis = CircuitAnalysis(model: model, igSteps: reference.igSteps)
        let circuitMethod = try #require(CircuitMethod(rawValue: method))
        let result = try analysis.run(circuitMethod, task: "reference", pairs: reference.pairs)
        #expect(result.method == method)
        #expect(result.task == "reference")
        try Self.expectMatches(result, reference, method: method)
    }

    /// The node scores of an edge method are the sums of |edge score| over each node's outgoing
    /// edges: recomputed here from the result's own edges, and checked against the reference's.
    @Test(arguments: ["gpt2-prefixed", "gpt2-bare"], ["eap", "eap-ig"])
    func edgeMethodNodeScoresAreSumsOfOutgoingAbsoluteEdgeScores(fixture: String, method: String) throws {
        let reference = try CircuitReference(fixture)
        let analysis = CircuitAnalysis(model: try reference.loadModel(), igSteps: reference.igSteps)
        let result = try analysis.run(try #require(CircuitMethod(rawValue: method)), task: "reference", pairs: reference.pairs)
        var sums: [String: Double] = [:]
        for edge in result.edges where edge.sender != "input" { sums[edge.sender, default: 0] += abs(edge.score) }
        for node in result.nodes {
            #expect(abs(node.score - (sums[node.id] ?? 0)) <= 1e-9, "\(method) node \(node.id)")
            let expected = try #require(reference.methods[method]?.nodes[node.id])
            #expect(abs(node.score - expected) <= Self.tolerance, "\(method) node \(node.id): \(node.score) vs \(expected)")
        }
        // Every node feeds at least the logits, so every node has outgoing edges.
        #expect(Set(sums.keys) == Set(result.nodes.map(\.id)))
    }
}
