import Foundation
import LoupeCore
import LoupeModel
import Testing

/// Broken or inconsistent model inputs give one clear error naming the file and the problem.
@Suite struct ModelLoadingErrorTests {
    func loadError(_ directory: URL) -> String? {
        do {
            _ = try GPT2Model.load(directory: directory)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func configThatDisagreesWithTheWeightsNamesTensorAndShapes() throws {
        let message = try #require(loadError(Fixtures.url("corrupt/config_mismatch")))
        #expect(message.contains("corrupt/config_mismatch/model.safetensors"))
        #expect(message.contains("wte.weight"))
        #expect(message.contains("[400, 32]") && message.contains("[400, 64]"))
    }

    @Test func missingTensorIsNamed() throws {
        let message = try #require(loadError(Fixtures.url("corrupt/missing_tensor")))
        #expect(message.contains("model.safetensors"))
        #expect(message.contains("'h.1.mlp.c_fc.weight' is missing"))
    }

    @Test(arguments: [
        ("truncated.safetensors", "truncated"),
        ("overlap.safetensors", "overlap"),
        ("past_end.safetensors", "past the end"),
        ("bad_dtype.safetensors", "Q7"),
    ])
    func brokenWeightFilesAreRejectedWithTheirProblem(file: String, problem: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: Fixtures.url("gpt2-bare/config.json"), to: directory.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: Fixtures.url("corrupt/\(file)"), to: directory.appendingPathComponent("model.safetensors"))
        let message = try #require(loadError(directory))
        #expect(message.contains(directory.appendingPathComponent("model.safetensors").path))
        #expect(message.contains(problem), "\(message)")
    }

    @Test func configErrorsNameTheKey() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        let cases: [(String, String)] = [
            (#"{"n_embd": 32, "n_head": 3, "n_layer": 1, "vocab_size": 10}"#, "n_head"),
            (#"{"n_embd": 32, "n_head": 2, "n_layer": 1, "vocab_size": 10, "activation_function": "mish"}"#, "activation_function"),
            (#"{"n_embd": 32, "n_head": 2, "vocab_size": 10}"#, "n_layer"),
            (#"{"n_embd": -4, "n_head": 2, "n_layer": 1, "vocab_size": 10}"#, "n_embd"),
            (#"{"n_embd": 32, "n_head": 2, "n_layer": 1, "vocab_size": 10, "model_type": "llama"}"#, "model_type"),
            (#"{"n_embd": 32, "n_head": 2, "n_layer": 1, "vocab_size": 10, "layer_norm_epsilon": "small"}"#, "layer_norm_epsilon"),
            ("[1, 2]", "not a JSON object"),
            ("{ broken", "not a JSON object"),
        ]
        for (text, key) in cases {
            try Data(text.utf8).write(to: config)
            let message = try #require(loadError(directory))
            #expect(message.contains(config.path) && message.contains(key), "\(message)")
        }
        try FileManager.default.removeItem(at: config)
        #expect(loadError(directory)?.contains("config.json") == true)
    }

    @Test func booleansAndNumbersAreNotInterchangeableInTheConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"n_embd": 32, "n_head": 2, "n_layer": true, "vocab_size": 10}"#.utf8).write(to: config)
        #expect(throws: ModelError.invalidConfig(path: config.path, key: "n_layer", reason: "expected an integer, found a boolean (true)")) {
            try GPT2Config.load(url: config)
        }
        #expect(loadError(directory)?.contains("'n_layer'") == true)
        try Data(#"{"n_embd": 32, "n_head": 2, "n_layer": 1, "vocab_size": 10, "scale_attn_weights": 1}"#.utf8).write(to: config)
        #expect(throws: ModelError.invalidConfig(path: config.path, key: "scale_attn_weights", reason: "expected true or false, found a number (1)")) {
            try GPT2Config.load(url: config)
        }
        try Data(#"{"n_embd": 32.0, "n_head": 2, "n_layer": 1, "vocab_size": 10, "n_inner": null, "layer_norm_epsilon": 1e-6}"#.utf8).write(to: config)
        let loaded = try GPT2Config.load(url: config)
        #expect(loaded.width == 32 && loaded.mlpWidth == 128 && loaded.layerNormEpsilon == 1e-6)
    }

    @Test func forwardRejectsBadTokensAndHooks() throws {
        let model = try GPT2Model.load(directory: Fixtures.url("gpt2-bare"))
        #expect(throws: ModelError.tokenOutOfRange(id: 400, vocabularySize: 400)) { try model.forward([[1, 400]]) }
        #expect(throws: ModelError.sequenceTooLong(length: 49, maximum: 48)) { try model.forward([Array(repeating: 1, count: 49)]) }
        #expect(throws: ModelError.unknownHook(name: "blocks.2.hook_resid_pre")) {
            try model.forward([[1]], ForwardRequest(cache: ["blocks.2.hook_resid_pre"]))
        }
        #expect(throws: ModelError.unknownHook(name: "blocks.0.hook_nothing")) {
            try model.forward([[1]], ForwardRequest(cache: ["blocks.0.hook_nothing"]))
        }
        #expect(throws: ModelError.self) { try model.forward([]) }
        #expect(throws: ModelError.self) { try model.forward([[1, 2], [3]]) }
    }
}
