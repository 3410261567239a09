import ArgumentParser

/// The `loupe` command line: interpretability reports for transformer language models.
public struct LoupeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "loupe", abstract: "Interpretability reports for transformer language models, as static offline websites.",
        subcommands: [TokenizeCommand.self, ForwardCommand.self, InspectCommand.self, TrainCommand.self, EvalTasksCommand.self, EncodeCommand.self, BuildCommand.self, MergeCommand.self, CircuitCommand.self, CircuitTruthCommand.self, PreimageCommand.self, TrainDecoderCommand.self, DecodeCommand.self, SubspacesCommand.self]
    )

    public init() {}
}
