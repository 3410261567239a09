import Foundation
import LoupeAnalysis
import LoupeCLI
import LoupeCore
import LoupeModel
import LoupeReport

/// One parser of user files under fuzzing: the file the input is written to, valid inputs to start from,
/// the folder it needs around that file, and the parse, which must end in a value or a thrown error.
struct FuzzTarget {
    let name: String
    /// The parser, as `docs/RELIABILITY.md` lists it.
    let summary: String
    /// The input's file name in the scratch folder.
    let fileName: String
    /// Valid inputs (`repository` is the Loupe checkout, whose committed files serve as seeds).
    let seeds: (_ repository: URL) throws -> [[UInt8]]
    /// Puts the other files the parser reads into `scratch` (once per run).
    let prepare: (_ scratch: URL, _ repository: URL) throws -> Void
    /// Parses `file` (inside `scratch`).
    let parse: (_ file: URL, _ scratch: URL) throws -> Void

    static func file(_ repository: URL, _ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: repository.appendingPathComponent(path)))
    }

    static func link(_ scratch: URL, _ name: String, to target: URL) throws {
        let place = scratch.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: place)
        try FileManager.default.createSymbolicLink(at: place, withDestinationURL: target)
    }

    static let none: (URL, URL) throws -> Void = { _, _ in }

    /// One of GPT-2's two tokenizer files (`vocab.json`, `merges.txt`) fuzzed beside a valid `other`.
    static func gpt2TokenizerFile(_ fileName: String, beside other: String, name: String) -> FuzzTarget {
        let folder = "Tests/Fixtures/gpt2-bare/"
        return FuzzTarget(
            name: name, summary: "GPT-2 `\(fileName)` beside a valid `\(other)`", fileName: fileName,
            seeds: { repository in [try file(repository, folder + fileName)] },
            prepare: { scratch, repository in try link(scratch, other, to: repository.appendingPathComponent(folder + other)) },
            parse: { _, scratch in _ = try TokenizerLoader.load(directory: scratch).encode("Hello world, it's 2026!") })
    }

    static let all: [FuzzTarget] = [
        FuzzTarget(
            name: "safetensors", summary: "safetensors header and tensor data (`SafetensorsFile`)", fileName: "input.safetensors",
            seeds: { _ in
                var tensor = Tensor(shape: [2, 3])
                for i in 0..<6 { tensor.scalars[i] = Float(i) - 2.5 }
                let plain = try SafetensorsWriter.encode(
                    ["w": .float32(tensor), "ids": .int32(shape: [3], values: [1, -2, 3])], metadata: ["format": "pt"])
                var header = Array(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},"l":{"dtype":"I64","shape":[1],"data_offsets":[6,14]},"d":{"dtype":"F64","shape":[],"data_offsets":[14,22]}}"#.utf8)
                while header.count % 8 != 0 { header.append(0x20) }
                var mixed = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
                mixed += [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
                return [[UInt8](plain), mixed]
            },
            prepare: none,
            parse: { file, _ in
                let tensors = try SafetensorsFile(url: file)
                for name in tensors.names {
                    _ = try? tensors.tensor(name)
                    _ = try? tensors.integers(name)
                }
            }),
        FuzzTarget(
            name: "npy", summary: "NumPy `.npy` arrays (`Npy.read`)", fileName: "input.npy",
            seeds: { _ in
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-fuzz-seed-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                var tensor = Tensor(shape: [2, 3])
                for i in 0..<6 { tensor.scalars[i] = Float(i) * 0.5 }
                try Npy.write(tensor, to: folder.appendingPathComponent("a.npy"))
                return [[UInt8](try Data(contentsOf: folder.appendingPathComponent("a.npy")))]
            },
            prepare: none,
            parse: { file, _ in _ = try Npy.read(url: file) }),
        FuzzTarget(
            name: "model-config", summary: "model `config.json` (`GPT2Config.load`)", fileName: "config.json",
            seeds: { repository in
                [try file(repository, "Reports/demo/model/config.json"), try file(repository, "Tests/Fixtures/gpt2-bare/config.json")]
            },
            prepare: none,
            parse: { file, _ in _ = try GPT2Config.load(url: file) }),
        FuzzTarget(
            name: "saelens-cfg", summary: "SAELens `cfg.json` with its weights (`SparseDictionary.load`)", fileName: "cfg.json",
            seeds: { repository in [try file(repository, "Reports/demo/dictionary/cfg.json")] },
            prepare: { scratch, repository in
                try link(scratch, "sae_weights.safetensors", to: repository.appendingPathComponent("Reports/demo/dictionary/sae_weights.safetensors"))
            },
            parse: { _, scratch in _ = try SparseDictionary.load(directory: scratch) }),
        FuzzTarget(
            name: "tokenizer-json", summary: "Hugging Face `tokenizer.json` (byte-level BPE)", fileName: "tokenizer.json",
            seeds: { repository in [try file(repository, "Tests/Fixtures/gpt2-bare/tokenizer.json")] },
            prepare: none,
            parse: { _, scratch in _ = try TokenizerLoader.load(directory: scratch).encode("Hello world, it's 2026 — ünïcode!") }),
        gpt2TokenizerFile("vocab.json", beside: "merges.txt", name: "vocab-json"),
        gpt2TokenizerFile("merges.txt", beside: "vocab.json", name: "merges-txt"),
        FuzzTarget(
            name: "loupe-tokenizer", summary: "`loupe_tokenizer.json` (word- and character-level)", fileName: "loupe_tokenizer.json",
            seeds: { repository in [try file(repository, "Reports/demo/model/loupe_tokenizer.json")] },
            prepare: none,
            parse: { file, _ in _ = try TokenizerLoader.loadLoupeTokenizer(file).encode("when Alice and Kate went to the office") }),
        FuzzTarget(
            name: "report-yaml", summary: "report spec YAML (`ReportSpec.load`)", fileName: "report.yaml",
            seeds: { repository in [try file(repository, "Reports/demo/report.yaml")] },
            prepare: { scratch, repository in
                for name in ["model", "dictionary", "decoder", "circuits"] {
                    try link(scratch, name, to: repository.appendingPathComponent("Reports/demo/\(name)"))
                }
            },
            parse: { file, _ in _ = try ReportSpec.load(url: file) }),
        FuzzTarget(
            name: "train-yaml", summary: "training spec YAML (`TrainSpec.load`)", fileName: "train.yaml",
            seeds: { repository in [try file(repository, "Reports/demo/train.yaml")] },
            prepare: none,
            parse: { file, _ in _ = try TrainSpec.load(url: file, vocabularySize: 311) }),
        FuzzTarget(
            name: "corpus-jsonl", summary: "corpus JSON Lines (`Corpus.read`)", fileName: "corpus.jsonl",
            seeds: { _ in
                [Array(#"""
                {"text": "The cat sat on the mat."}
                {"text": "Unicode: caf\u00e9 \ud83d\ude00 and a tab\there", "id": 7}

                {"text": "Line two\nwith a newline \"quoted\""}
                """#.utf8)]
            },
            prepare: none,
            parse: { file, _ in _ = try Corpus.read(file: file) }),
        FuzzTarget(
            name: "task-jsonl", summary: "circuit task JSON Lines (`CircuitTaskFile.load`)", fileName: "task.jsonl",
            seeds: { _ in
                [Array(#"""
                {"clean": "when Alice and Kate went to the office , Alice handed a pen to", "corrupted": "when Alice and Kate went to the office , Julia handed a pen to", "answer": " Kate", "wrong_answer": " Alice"}
                {"clean": "while Mike and Kate went to the museum , Mike brought a pen to", "corrupted": "while Mike and Kate went to the museum , Kate brought a pen to", "answer": " Kate", "wrong_answer": " Mike"}
                """#.utf8)]
            },
            prepare: { scratch, repository in
                try link(scratch, "loupe_tokenizer.json", to: repository.appendingPathComponent("Reports/demo/model/loupe_tokenizer.json"))
            },
            parse: { file, scratch in
                let tokenizer = try TokenizerLoader.loadLoupeTokenizer(scratch.appendingPathComponent("loupe_tokenizer.json"))
                _ = try CircuitTaskFile.load(url: file, tokenizer: tokenizer, prependBOS: true, contextLength: 64)
            }),
    ]
}
