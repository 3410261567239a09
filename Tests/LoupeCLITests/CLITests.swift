import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeCLI

/// The command-line surface: parsing, outputs, and errors with exit codes.
@Suite struct CLITests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func tokenizePrintsTheSameIdsAsHuggingFace() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        struct Case: Decodable { let text: String; let ids: [Int] }
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("tokenizer/cases.json")))
        for (index, item) in cases.prefix(10).enumerated() {
            let file = directory.appendingPathComponent("text\(index).txt")
            try Data(item.text.utf8).write(to: file)
            let printed = try TokenizeCommand.tokenIDs(
                tokenizerDirectory: Self.fixtures.appendingPathComponent("tokenizer").path, textFile: file.path)
            #expect(printed == "[" + item.ids.map(String.init).joined(separator: ",") + "]")
        }
    }

    @Test func forwardWritesTokensLogitsAndHooksMatchingTheReference() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelDirectory = Self.fixtures.appendingPathComponent("gpt2-prefixed")
        struct Reference: Decodable { let texts: [String] }
        let texts = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: modelDirectory.appendingPathComponent("reference.json"))).texts
        let reference = try SafetensorsFile(url: modelDirectory.appendingPathComponent("reference.safetensors"))
        let text = directory.appendingPathComponent("text.txt")
        try Data(texts[1].utf8).write(to: text)
        let output = directory.appendingPathComponent("out.safetensors")
        var command = try LoupeCommand.parseAsRoot([
            "forward", "--model", modelDirectory.path, "--text-file", text.path, "--output", output.path,
            "--hooks", "blocks.1.attn.hook_pattern, blocks.2.hook_resid_post",
        ])
        try command.run()
        let written = try SafetensorsFile(url: output)
        #expect(written.names == ["blocks.1.attn.hook_pattern", "blocks.2.hook_resid_post", "logits", "tokens"])
        #expect(written.entries["tokens"]?.dtype == .i32)
        #expect(try written.integers("tokens") == reference.integers("case1/tokens"))
        for name in ["logits", "blocks.1.attn.hook_pattern", "blocks.2.hook_resid_post"] {
            #expect(try written.tensor(name).maxAbsDifference(reference.tensor("case1/" + name)) <= 1e-4, "\(name)")
        }
    }

    @Test func forwardWithAllHooksAndBos() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("text.txt")
        try Data("Hello there".utf8).write(to: text)
        let output = directory.appendingPathComponent("out.safetensors")
        let modelDirectory = Self.fixtures.appendingPathComponent("gpt2-bare")
        var command = try LoupeCommand.parseAsRoot([
            "forward", "--model", modelDirectory.path, "--text-file", text.path, "--output", output.path,
            "--hooks", "all", "--prepend-bos",
        ])
        try command.run()
        let written = try SafetensorsFile(url: output)
        let model = try GPT2Model.load(directory: modelDirectory)
        #expect(Set(written.names) == Set(model.hookNames + ["logits", "tokens"]))
        let tokens = try written.integers("tokens")
        #expect(tokens.first == 0)
        #expect(written.entries["blocks.1.attn.hook_pattern"]?.shape == [2, tokens.count, tokens.count])
    }

    @Test func inspectListsNamesDtypesAndShapes() throws {
        let listing = try InspectCommand.listing(path: Self.fixtures.appendingPathComponent("gpt2-bare/model.safetensors").path)
        #expect(listing.contains("wte.weight"))
        #expect(listing.contains("wte.weight") && listing.contains("F32   [400, 32]"))
        #expect(listing.hasSuffix("28 tensors\n"))
    }

    @Test func unknownHookIsAnOptionError() throws {
        let model = try GPT2Model.load(directory: Self.fixtures.appendingPathComponent("gpt2-bare"))
        #expect(throws: CLIError.self) { try ForwardCommand.hookNames("blocks.0.hook_resid_pre,blocks.9.hook_z", model: model) }
        #expect(try ForwardCommand.hookNames(" blocks.0.hook_resid_pre ", model: model) == ["blocks.0.hook_resid_pre"])
    }

    @Test(arguments: [
        (["inspect", "@corrupt/truncated.safetensors"], "truncated.safetensors"),
        (["inspect", "@corrupt/bad_dtype.safetensors"], "Q7"),
        (["tokenize", "--tokenizer", "@corrupt/not_json_tokenizer", "--text-file", "@tokenizer/cases.json"], "tokenizer.json"),
        (["forward", "--model", "@corrupt/config_mismatch", "--text-file", "@tokenizer/cases.json", "--output", "/tmp/unused.safetensors"], "config.json implies"),
        (["forward", "--model", "@corrupt/missing_tensor", "--text-file", "@tokenizer/cases.json", "--output", "/tmp/unused.safetensors"], "h.1.mlp.c_fc.weight"),
        (["forward", "--model", "@gpt2-bare", "--text-file", "@tokenizer/cases.json", "--output", "/tmp/unused.safetensors", "--hooks", "blocks.7.hook_z"], "blocks.7.hook_z"),
        (["tokenize", "--tokenizer", "@tokenizer", "--text-file", "no/such/file.txt"], "no/such/file.txt"),
    ])
    func badInputsExitNonZeroWithOneClearMessage(arguments: [String], expected: String) throws {
        // "@path" names a file under Tests/Fixtures.
        let resolved = arguments.map { argument in
            argument.hasPrefix("@") ? Self.fixtures.appendingPathComponent(String(argument.dropFirst())).path : argument
        }
        let (status, stdout, stderr) = try runLoupe(resolved)
        #expect(status != 0)
        #expect(stdout.isEmpty)
        #expect(stderr.contains(expected), "\(stderr)")
        #expect(stderr.split(separator: "\n").count <= 2, "\(stderr)")
    }
}
