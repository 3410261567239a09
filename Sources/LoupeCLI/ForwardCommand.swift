import ArgumentParser
import Foundation
import LoupeCore
import LoupeModel

/// `loupe forward`: runs one text through a model and writes tokens, logits and hook activations.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Run a text through a model and save tokens, logits and hook activations as safetensors.",
        discussion: """
            Writes `tokens` (I32 [T]), `logits` (F32 [T, V]) and every requested hook (F32, batch \
            dimension dropped; TransformerLens names, e.g. blocks.0.attn.hook_pattern [H, T, T]).
            """)

    @Option(help: "A Hugging Face GPT-2 model directory (config.json, model.safetensors, tokenizer).")
    var model: String

    @OptionGroup var text: TextFileOption

    @OptionGroup var output: SafetensorsOutput

    @Option(help: "Hook points to save: comma-separated TransformerLens names, or 'all'.")
    var hooks: String = ""

    @Flag(help: "Put the beginning-of-sequence token (<|endoftext|>) before the text.")
    var prependBos = false

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let gpt2 = try GPT2Model.load(directory: directory)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        var tokens = tokenizer.encode(try TextInput.read(path: text.textFile))
        if prependBos {
            guard let bos = tokenizer.id(for: "<|endoftext|>") else {
                throw CLIError.invalidOption(name: "--prepend-bos", reason: "the tokenizer has no <|endoftext|> token")
            }
            tokens.insert(bos, at: 0)
        }
        let hookNames = try Self.hookNames(hooks, model: gpt2)
        let result = try gpt2.forward([tokens], ForwardRequest(cache: Set(hookNames)))
        var tensors: [String: SafetensorsValue] = [
            "tokens": .int32(shape: [tokens.count], values: tokens.map { Int32($0) }),
        ]
        if let logits = result.logits { tensors["logits"] = .float32(try logits.reshaped(Array(logits.shape.dropFirst()))) }
        for name in hookNames {
            if let value = result.cache[name] {
                tensors[name] = .float32(try value.reshaped(Array(value.shape.dropFirst())))
            }
        }
        try SafetensorsWriter.write(tensors, to: output.url)
    }

    /// The hook names the `--hooks` value asks for, each checked against the model.
    static func hookNames(_ option: String, model: GPT2Model) throws -> [String] {
        let trimmed = option.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return [] }
        if trimmed == "all" { return model.hookNames }
        let known = Set(model.hookNames)
        return try trimmed.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard known.contains(name) else {
                throw CLIError.invalidOption(name: "--hooks", reason: "the model has no hook point '\(name)' (see TransformerLens names, e.g. blocks.0.hook_resid_pre)")
            }
            return name
        }
    }
}
