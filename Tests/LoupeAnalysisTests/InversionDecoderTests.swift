import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import Testing

/// The inversion decoder against `Tests/Fixtures/decoder/` (written by `Tools/make_decoder_fixtures.py`:
/// PyTorch autograd in float64 over Hugging Face's own `GPT2Block`s).
@Suite struct InversionDecoderTests {
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/decoder")

    static func batch() throws -> [DecoderExample] {
        let data = try Data(contentsOf: fixture.appendingPathComponent("batch.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let sites = try #require(object["sites"] as? [Int])
        let activations = try #require(object["activations"] as? [[Double]])
        let tokens = try #require(object["tokens"] as? [[Int]])
        return sites.indices.map { DecoderExample(site: sites[$0], activation: activations[$0].map(Float.init), tokens: tokens[$0]) }
    }

    @Test func lossLogitsAndEveryGradientMatchPyTorch() throws {
        let decoder = try InversionDecoder.load(directory: Self.fixture)
        let expected = try SafetensorsFile(url: Self.fixture.appendingPathComponent("expected.safetensors"))
        let examples = try Self.batch()
        let (loss, gradients) = try decoder.lossAndGradients(examples)
        #expect(abs(Double(loss) - Double(try expected.tensor("loss").scalars[0])) < 1e-5)

        let length = examples.map(\.tokens.count).max()! + 2
        let inputs = examples.map { [0] + $0.tokens + [0] + Array(repeating: 0, count: length - $0.tokens.count - 2) }
        let logits = try decoder.logits(inputs, activations: examples.map(\.activation), sites: examples.map(\.site))
        #expect(logits.maxAbsDifference(try expected.tensor("logits")) < 1e-4)

        var checked = 0
        for (name, tensor) in gradients.body.named {
            let reference = try expected.tensor("grad.transformer." + name)
            let scale = max(1, reference.scalars.map(abs).max()!)
            #expect(tensor.maxAbsDifference(reference) / scale < 1e-4, "\(name)")
            checked += 1
        }
        for (name, path) in gradients.conditioning.parameterPaths {
            let reference = try expected.tensor("grad." + name)
            let scale = max(1, reference.scalars.map(abs).max()!)
            #expect(gradients.conditioning[keyPath: path].maxAbsDifference(reference) / scale < 1e-4, "\(name)")
            checked += 1
        }
        #expect(checked == expected.entries.keys.filter { $0.hasPrefix("grad.") }.count)
    }

    @Test func savedDecoderLoadsBackIdentically() throws {
        let decoder = try InversionDecoder.load(directory: Self.fixture)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decoder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try decoder.save(to: directory)
        let loaded = try InversionDecoder.load(directory: directory)
        #expect(loaded.config == decoder.config)
        let examples = try Self.batch()
        #expect(try loaded.loss(examples) == (try decoder.loss(examples)))
        #expect(loaded.siteReference.scalars == decoder.siteReference.scalars)
    }

    @Test func errorsNameTheFileAndTheProblem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decoder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.fixture.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        var config = try String(contentsOf: Self.fixture.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\"site_embedding_width\": 3", with: "\"site_embedding_width\": 4")
        try config.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect {
            try InversionDecoder.load(directory: directory)
        } throws: { error in
            "\(error)".contains("model.safetensors") && "\(error)".contains("site_embedding")
        }
        let configURL = directory.appendingPathComponent("config.json")
        try FileManager.default.removeItem(at: configURL)
        #expect(throws: DecoderError.invalidDecoder(path: configURL.path, key: nil, reason: "file does not exist")) {
            try InversionDecoder.load(directory: directory)
        }
        try "{\"n_layer\": 2}".write(to: configURL, atomically: true, encoding: .utf8)
        #expect(throws: DecoderError.invalidDecoder(path: configURL.path, key: "n_embd", reason: "missing")) {
            try InversionDecoder.load(directory: directory)
        }

        let decoder = try InversionDecoder.load(directory: Self.fixture)
        #expect(throws: DecoderError.self) { try decoder.loss([DecoderExample(site: 1, activation: [1, 2], tokens: [1])]) }
        #expect(throws: DecoderError.self) { try decoder.config.siteIndex(hook: "blocks.0.hook_resid_mid", head: nil) }
    }
}
