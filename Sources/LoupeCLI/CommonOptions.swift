import ArgumentParser
import Foundation

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
