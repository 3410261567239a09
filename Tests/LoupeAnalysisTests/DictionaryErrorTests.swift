import Foundation
import LoupeCore
import Testing
@testable import LoupeAnalysis

@Suite("Dictionary: errors for broken directories")
struct DictionaryErrorTests {
    /// Rewrites `cfg.json` of `directory` through `change`.
    private func editConfig(_ directory: URL, _ change: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("cfg.json")
        var object = try readJSONObject(url: url).values
        change(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    /// Rewrites `sae_weights.safetensors` of `directory` through `change`.
    private func editWeights(_ directory: URL, _ change: (inout [String: Tensor]) -> Void) throws {
        let url = directory.appendingPathComponent("sae_weights.safetensors")
        let file = try SafetensorsFile(url: url)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        change(&tensors)
        try SafetensorsWriter.write(tensors.mapValues { .float32($0) }, to: url)
    }

    private func loadError(_ directory: URL) -> DictionaryError? {
        do {
            _ = try SparseDictionary.load(directory: directory)
            return nil
        } catch {
            return error as? DictionaryError
        }
    }

    @Test func missingFilesAreNamed() throws {
        let directory = try DictionaryFixtures.copy("standard-nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let weights = directory.appendingPathComponent("sae_weights.safetensors")
        try FileManager.default.removeItem(at: weights)
        #expect(loadError(directory) == .missingFile(path: weights.path))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("cfg.json"))
        #expect(loadError(directory) == .missingFile(path: directory.appendingPathComponent("cfg.json").path))
        let empty = directory.appendingPathComponent("nothing-here")
        #expect(loadError(empty) == .missingFile(path: empty.appendingPathComponent("cfg.json").path))
    }

    @Test func unreadableConfigIsNamed() throws {
        let directory = try DictionaryFixtures.copy("standard-nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let config = directory.appendingPathComponent("cfg.json")
        try Data("{ not json".utf8).write(to: config)
        #expect(loadError(directory) == .unreadableFile(path: config.path, reason: "not a JSON object"))
        #expect(loadError(directory)?.description.contains("cfg.json") == true)
    }

    @Test func configProblemsNameTheKey() throws {
        let directory = try DictionaryFixtures.copy("topk-rescaled")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let path = directory.appendingPathComponent("cfg.json").path
        let original = try readJSONObject(url: directory.appendingPathComponent("cfg.json")).values
        func reset() throws { try JSONSerialization.data(withJSONObject: original).write(to: URL(fileURLWithPath: path)) }

        try editConfig(directory) { $0["architecture"] = "gated" }
        #expect(loadError(directory) == .unsupportedArchitecture(path: path, architecture: "gated"))
        #expect(loadError(directory)?.description.contains("gated") == true)

        try reset()
        try editConfig(directory) { $0["d_in"] = nil }
        #expect(loadError(directory) == .invalidConfig(path: path, key: "d_in", reason: "missing"))

        try reset()
        try editConfig(directory) { $0["k"] = nil }
        guard case .invalidConfig(path, "k", _)? = loadError(directory) else {
            Issue.record("missing k: \(String(describing: loadError(directory)))")
            return
        }

        try reset()
        try editConfig(directory) { $0["k"] = 65 }
        guard case .invalidConfig(path, "k", _)? = loadError(directory) else {
            Issue.record("k too large: \(String(describing: loadError(directory)))")
            return
        }

        try reset()
        try editConfig(directory) { $0["metadata"] = ["sae_lens_version": "6.0.0"] }
        guard case .invalidConfig(path, "metadata.hook_name", _)? = loadError(directory) else {
            Issue.record("no hook: \(String(describing: loadError(directory)))")
            return
        }

        try reset()
        try editConfig(directory) { $0["normalize_activations"] = "layer_norm" }
        #expect(loadError(directory) == .unsupportedSetting(path: path, key: "normalize_activations", value: "layer_norm"))

        try reset()
        try editConfig(directory) { $0["apply_b_dec_to_input"] = "yes" }
        guard case .invalidConfig(path, "apply_b_dec_to_input", _)? = loadError(directory) else {
            Issue.record("bad flag: \(String(describing: loadError(directory)))")
            return
        }
    }

    @Test func numbersAndBooleansAreNotInterchangeableInTheConfig() throws {
        let directory = try DictionaryFixtures.copy("topk-rescaled")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let path = directory.appendingPathComponent("cfg.json").path
        try editConfig(directory) { $0["apply_b_dec_to_input"] = 1 }
        #expect(loadError(directory) == .invalidConfig(
            path: path, key: "apply_b_dec_to_input", reason: "expected true or false, found a number (1)"))
        try editConfig(directory) { $0["apply_b_dec_to_input"] = true; $0["d_sae"] = true }
        #expect(loadError(directory) == .invalidConfig(path: path, key: "d_sae", reason: "expected an integer, found a boolean (true)"))
        try editConfig(directory) { $0["d_sae"] = 64; $0["metadata"] = ["hook_name": 3] }
        #expect(loadError(directory) == .invalidConfig(path: path, key: "metadata.hook_name", reason: "expected a string, found a number (3)"))
    }

    @Test func weightProblemsNameTheFileAndTensor() throws {
        let directory = try DictionaryFixtures.copy("jumprelu-nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let path = directory.appendingPathComponent("sae_weights.safetensors").path
        let weights = try SafetensorsFile(url: URL(fileURLWithPath: path))
        var original: [String: Tensor] = [:]
        for name in weights.names { original[name] = try weights.tensor(name) }
        func reset() throws { try SafetensorsWriter.write(original.mapValues { .float32($0) }, to: URL(fileURLWithPath: path)) }

        try editWeights(directory) { $0["threshold"] = nil }
        #expect(loadError(directory) == .missingTensor(path: path, tensor: "threshold"))

        try reset()
        try editWeights(directory) { $0["W_dec"] = nil }
        #expect(loadError(directory) == .missingTensor(path: path, tensor: "W_dec"))

        try reset()
        try editWeights(directory) { $0["W_enc"] = Tensor(shape: [64, 16]) }
        #expect(loadError(directory) == .tensorShape(path: path, tensor: "W_enc", expected: [16, 64], found: [64, 16]))
        #expect(loadError(directory)?.description.contains("sae_weights.safetensors") == true)

        try reset()
        try editConfig(directory) { $0["d_sae"] = 32 }
        #expect(loadError(directory) == .tensorShape(path: path, tensor: "W_enc", expected: [16, 32], found: [16, 64]))

        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        guard case .unreadableFile(path, _)? = loadError(directory) else {
            Issue.record("truncated weights: \(String(describing: loadError(directory)))")
            return
        }
    }

    @Test func finetuningScalingFactorIsFoldedOrRejected() throws {
        let directory = try DictionaryFixtures.copy("standard-nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let plain = try SparseDictionary.load(directory: directory)
        var scale = Tensor(shape: [64], repeating: 1)
        try editWeights(directory) { $0["scaling_factor"] = scale }
        #expect(try SparseDictionary.load(directory: directory) == plain)

        scale.scalars[3] = 2
        try editWeights(directory) { $0["scaling_factor"] = scale }
        guard case .invalidConfig(_, "finetuning_scaling_factor", _)? = loadError(directory) else {
            Issue.record("unexpected: \(String(describing: loadError(directory)))")
            return
        }
        try editConfig(directory) { $0["finetuning_scaling_factor"] = true }
        let folded = try SparseDictionary.load(directory: directory)
        var features = Tensor(shape: [1, 64])
        features.scalars[3] = 1.5
        let expected = try plain.decode(try Tensor(shape: [1, 64], scalars: features.scalars.enumerated().map { $0.offset == 3 ? 3 : $0.element }))
        #expect(try folded.decode(features).maxAbsDifference(expected) < 1e-5)
    }

    @Test func olderFlatSettingsAreUnderstood() throws {
        let directory = try DictionaryFixtures.copy("standard-scaled")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        try editConfig(directory) { config in
            config["metadata"] = nil
            config["hook_point"] = "blocks.1.hook_resid_pre"
            config["normalize_activations"] = true
            config["activation_fn_str"] = "relu"
        }
        let dictionary = try SparseDictionary.load(directory: directory)
        #expect(dictionary.hookName == "blocks.1.hook_resid_pre")
        #expect(dictionary.normalization.scalingFactor != nil)
        try editConfig(directory) { $0["activation_fn_str"] = "tanh-relu" }
        #expect(loadError(directory) == .unsupportedSetting(
            path: directory.appendingPathComponent("cfg.json").path, key: "activation_fn_str", value: "tanh-relu"))
    }

    @Test func constructorChecksShapes() throws {
        #expect(throws: DictionaryError.self) {
            try SparseDictionary(
                architecture: .standard, hookName: "h", encoderWeight: Tensor(shape: [4, 8]), encoderBias: Tensor(shape: [8]),
                decoderWeight: Tensor(shape: [4, 8]), decoderBias: Tensor(shape: [4]))
        }
        #expect(throws: DictionaryError.invalidArgument(name: "k", reason: "a topk dictionary needs 1 ≤ k ≤ 8, got none")) {
            try SparseDictionary(
                architecture: .topk, hookName: "h", encoderWeight: Tensor(shape: [4, 8]), encoderBias: Tensor(shape: [8]),
                decoderWeight: Tensor(shape: [8, 4]), decoderBias: Tensor(shape: [4]))
        }
    }
}
