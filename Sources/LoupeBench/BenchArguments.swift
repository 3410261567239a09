import Foundation

/// The command line of `loupe-bench`: `--help` prints the usage and exits; an unknown argument is an
/// error (exit 64) with the usage.
enum BenchArguments {
    static let usage = """
        USAGE: loupe-bench [--quick] [--peer FILE] [--peer-train FILE] [--no-atlas] [--build] [--build-tokens N]
                           [--build-features N] [--write-build-input DIR] [--circuits] [--preimage] [--decoder] [--llm] [--subspaces]
                           [--subspace-site HOOK] [--breakdown] [--decoder-generalisation N]

        Throughput of Loupe's kernels and analyses on this machine, printed as lines and one JSON line.

        OPTIONS:
          --quick              One repetition of each timing instead of the median of three.
          --peer FILE          PyTorch's forward figures (the output of Tools/bench_torch.py).
          --peer-train FILE    PyTorch's training figures (the output of Tools/bench_torch_train.py).
          --no-atlas           Leave out the atlas benchmark.
          --build              Add `loupe build` end to end on a generated user-shaped input (needs `loupe`
                               built beside loupe-bench): every phase's time and peak memory.
          --build-tokens N     Corpus tokens of that input (default 131072, the atlas benchmark's).
          --build-features N   Width of its dictionary (default 4096).
          --write-build-input DIR  Only write that input (model, dictionary, corpus, report.yaml) to DIR and
                               exit: a report of real scale to build by hand, e.g. sharded (docs/SCALING.md).
          --circuits           Add the wall time of every circuit method.
          --preimage           Add ε-preimage retrieval over the demo store and a synthetic store on disk.
          --decoder            Add inversion-decoder training and sampling.
          --llm                Add language-model explanations of 100 features against a stub endpoint
                               answering after 300 ms: requests, tokens, wall time, 16k-feature projection.
          --subspaces          Add NDM subspace training on the demo model and its IOI causal check.
          --subspace-site HOOK The demo model's hook point NDM is trained on (default blocks.0.hook_resid_post).
          --breakdown          Add the time of each kernel at the GPT-2-small shape.
          --decoder-generalisation N  Only judge the demo decoder on N random counting queries (samples
                               inside ε, their count, their letter strings) next to each query's exact
                               ε-preimage among 40,000 counting prompts, and exit.
          -h, --help           Show this help.

        """

    /// Flags without a value, flags followed by a file, and flags followed by a positive number.
    static let switches: Set<String> = ["--quick", "--no-atlas", "--build", "--circuits", "--preimage", "--decoder", "--llm", "--subspaces", "--breakdown"]
    static let valued: Set<String> = ["--peer", "--peer-train", "--write-build-input", "--subspace-site"]
    static let numeric: Set<String> = ["--build-tokens", "--build-features", "--decoder-generalisation"]

    /// Checks `arguments` (the program name first); exits on `--help` or an unknown argument.
    static func validate(_ arguments: [String]) {
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--help" || argument == "-h" {
                print(usage, terminator: "")
                exit(0)
            }
            if valued.contains(argument), index + 1 < arguments.count {
                index += 2
                continue
            }
            if numeric.contains(argument), index + 1 < arguments.count, let value = Int(arguments[index + 1]), value > 0 {
                index += 2
                continue
            }
            guard switches.contains(argument) else {
                let reason = valued.contains(argument) ? "\(argument) needs a file"
                    : numeric.contains(argument) ? "\(argument) needs a positive number" : "unknown argument '\(argument)'"
                FileHandle.standardError.write("Error: \(reason)\n\(usage)".data(using: .utf8)!)
                exit(64)
            }
            index += 1
        }
    }
}
