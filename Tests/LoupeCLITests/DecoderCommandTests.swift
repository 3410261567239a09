import Foundation
import Testing
@testable import LoupeCLI

/// `loupe train-decoder` and `loupe decode`: a small decoder trained from a YAML spec on a corpus, the
/// JSON `decode` writes (exact keys, N distinct samples ascending by distance), and errors.
@Suite("Neighbourhoods: loupe train-decoder and loupe decode")
struct DecoderCommandTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpt2-prefixed").path

    /// A folder with `corpus.txt`, `query.txt` and `decoder.yaml` (a decoder of two sites, 20 steps).
    func workspace(steps: Int = 20) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-decoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let documents = ["the cat sat on the mat", "a dog ran far away", "the bird flew over the house", "one two three four"]
        try Data((documents.joined(separator: "\n") + "\n").utf8).write(to: url.appendingPathComponent("corpus.txt"))
        try Data("the cat sat".utf8).write(to: url.appendingPathComponent("query.txt"))
        let spec = """
            model: \(Self.model)
            output: decoder
            seed: 3
            sites:
              - blocks.*.hook_resid_post
              - {hook: blocks.0.attn.hook_z, head: 1}
            decoder: {layers: 1, width: 16, heads: 2, mlp_width: 32, site_embedding: 4, conditioning_blocks: 1}
            data: {source: corpus, file: corpus.txt}
            training: {steps: \(steps), batch_size: 8, learning_rate: 0.003, warmup_steps: 2}
            evaluation: {held_out_per_site: 4}
            """
        try Data(spec.utf8).write(to: url.appendingPathComponent("decoder.yaml"))
        return url
    }

    func run(_ arguments: [String]) throws {
        var command = try LoupeCommand.parseAsRoot(arguments)
        try command.run()
    }

    func decode(_ directory: URL, extra: [String] = []) -> [String] {
        ["decode", "--decoder", directory.appendingPathComponent("decoder").path, "--model", Self.model, "--hook", "blocks.1.hook_resid_post",
         "--query-file", directory.appendingPathComponent("query.txt").path, "--position", "-1", "--prepend-bos",
         "--output", directory.appendingPathComponent("out.json").path] + extra
    }

    @Test func trainsThenDecodesWithTheContractKeys() throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        try run(["train-decoder", directory.appendingPathComponent("decoder.yaml").path, "--quiet"])
        for file in ["config.json", "model.safetensors", "training_log.csv"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("decoder/\(file)").path))
        }
        let log = try String(contentsOf: directory.appendingPathComponent("decoder/training_log.csv"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 21)

        try run(decode(directory, extra: ["--samples", "10", "--epsilon", "0.5"]))
        let data = try Data(contentsOf: directory.appendingPathComponent("out.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["query", "hook", "head", "distance", "epsilon", "samples", "inside_fraction", "shared"])
        #expect(object["head"] is NSNull)
        #expect(object["epsilon"] as? Double == 0.5)
        let query = try #require(object["query"] as? [String: Any])
        let tokens = try #require(query["tokens"] as? [Int])
        #expect(tokens.first == 0 && query["position"] as? Int == tokens.count - 1)
        let samples = try #require(object["samples"] as? [[String: Any]])
        #expect(samples.count == 10)
        #expect(Set(samples.map { "\($0["tokens"]!)" }).count == 10)
        for sample in samples {
            #expect(Set(sample.keys) == ["tokens", "text", "distance", "matched_position", "temperature", "noise"])
        }
        let distances = samples.compactMap { $0["distance"] as? Double }
        #expect(distances == distances.sorted())
        let inside = Double(distances.filter { $0 <= 0.5 }.count) / 10
        #expect(object["inside_fraction"] as? Double == inside)
    }

    @Test func aSiteTheDecoderDoesNotCoverOrAnotherModelIsAnError() throws {
        let directory = try workspace(steps: 3)
        defer { try? FileManager.default.removeItem(at: directory) }
        try run(["train-decoder", directory.appendingPathComponent("decoder.yaml").path, "--quiet"])
        #expect {
            try run(decode(directory).map { $0 == "blocks.1.hook_resid_post" ? "blocks.1.hook_resid_mid" : $0 })
        } throws: { "\($0)".contains("does not cover hook 'blocks.1.hook_resid_mid'") }
        let other = URL(fileURLWithPath: Self.model).deletingLastPathComponent().appendingPathComponent("gpt2-bare").path
        #expect {
            try run(decode(directory).map { $0 == Self.model ? other : $0 })
        } throws: { "\($0)".contains("was trained on the model with fingerprint") }
    }

    @Test func specErrorsNameTheKey() throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("decoder.yaml")
        var spec = try String(contentsOf: url, encoding: .utf8)
        spec = spec.replacingOccurrences(of: "site_embedding: 4", with: "site_embeding: 4")
        try spec.write(to: url, atomically: true, encoding: .utf8)
        #expect { try run(["train-decoder", url.path, "--quiet"]) } throws: { "\($0)".contains("decoder.site_embeding") }
        spec = spec.replacingOccurrences(of: "site_embeding: 4", with: "site_embedding: 4")
            .replacingOccurrences(of: "blocks.*.hook_resid_post", with: "blocks.*.hook_nothing")
        try spec.write(to: url, atomically: true, encoding: .utf8)
        #expect { try run(["train-decoder", url.path, "--quiet"]) } throws: { "\($0)".contains("blocks.0.hook_nothing") }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("decoder").path))
    }
}
