import ArgumentParser
import Foundation
import LoupeAnalysis

/// `loupe encode`: runs activations through a sparse dictionary and writes its features and
/// reconstruction.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode", abstract: "Encode activations with an SAELens dictionary and save features and reconstruction as safetensors.",
        discussion: """
            Reads one tensor [..., d_in] (leading dimensions are flattened to N rows; [..., H, D] \
            with H·D = d_in for hook_z dictionaries) and writes `feature_acts` (F32 [N, d_sae]) and \
            `reconstruction` (F32 [N, d_in]).
            """)

    @Option(help: "An SAELens dictionary directory (cfg.json, sae_weights.safetensors).")
    var sae: String

    @Option(help: "The safetensors file holding the activations.")
    var input: String

    @Option(help: "Name of the activation tensor in the input file.")
    var tensor: String

    @OptionGroup var output: SafetensorsOutput

    @Option(help: "Input scaling factor of an expected_average_only_in dictionary whose directory does not hold it.")
    var scalingFactor: Float?

    func run() throws {
        var dictionary = try SparseDictionary.load(directory: URL(fileURLWithPath: sae))
        if let scalingFactor {
            guard scalingFactor.isFinite && scalingFactor > 0 else {
                throw CLIError.invalidOption(name: "--scaling-factor", reason: "must be a positive number, got \(scalingFactor)")
            }
            guard case .expectedAverageOnlyIn = dictionary.normalization else {
                throw CLIError.invalidOption(name: "--scaling-factor", reason: "the dictionary does not normalise its inputs (normalize_activations is none)")
            }
            dictionary.normalization = .expectedAverageOnlyIn(scalingFactor: scalingFactor)
        } else if dictionary.normalization == .expectedAverageOnlyIn(scalingFactor: nil) {
            FileHandle.standardError.write(Data(
                "warning: \(sae): normalize_activations is expected_average_only_in but no scaling factor is known; inputs are encoded unscaled (pass --scaling-factor)\n".utf8))
        }
        try dictionary.encodeFile(input: URL(fileURLWithPath: input), tensor: tensor, output: output.url)
    }
}
