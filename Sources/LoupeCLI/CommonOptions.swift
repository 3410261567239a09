import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeModel
import LoupeToyWorld

/// `--quiet`: the commands that show progress on stderr can be silenced.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "No progress output.")
    var quiet = false
}

/// `--output`: the safetensors file a command writes.
struct SafetensorsOutput: ParsableArguments {
    @Option(help: "The safetensors file to write.")
    var output: String

    var url: URL { URL(fileURLWithPath: output) }
}

/// `--text-file`: the UTF-8 text file a command reads (`TextInput`).
struct TextFileOption: ParsableArguments {
    @Option(help: "The UTF-8 text file to read.")
    var textFile: String
}

/// The model and task of the circuit commands: `--model`, `--task`, `--prepend-bos`, `--examples`, `--seed`.
struct CircuitTaskOptions: ParsableArguments {
    @Option(help: "A Hugging Face GPT-2 model directory (config.json, model.safetensors, tokenizer).")
    var model: String

    @Flag(help: "Put the beginning-of-sequence token (<|endoftext|>) before each prompt of a task file.")
    var prependBos = false

    @Option(help: "A toy-world task name or a JSON Lines task file.")
    var task: String

    @Option(help: "Pairs drawn for a toy task.")
    var examples: Int = 64

    @Option(help: "Seed of the toy task's pairs (and of sae-codes).")
    var seed: UInt64 = 1

    func validate() throws {
        guard examples >= 1 else { throw ValidationError("--examples must be positive") }
    }

    /// The model and the task's prompt pairs.
    func load() throws -> (model: GPT2Model, pairs: [TaskExample]) {
        let directory = URL(fileURLWithPath: model)
        let gpt2 = try GPT2Model.load(directory: directory)
        return (gpt2, try CircuitTask.pairs(task, model: gpt2, modelDirectory: directory, examples: examples, seed: seed, prependBOS: prependBos))
    }
}
