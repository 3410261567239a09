import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeReport

/// `loupe train-decoder SPEC`: trains an inversion decoder for a model's sites as a YAML spec describes.
struct TrainDecoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-decoder", abstract: "Train an inversion decoder (InversionView) for a model's sites from a YAML spec.",
        discussion: """
            The spec names the probed model, its sites (hook names, `*` for every layer, `heads: all`), the decoder's \
            sizes, the data (toy_world, or a corpus file), the training steps and the seed. Writes config.json (with \
            the held-out loss per site), model.safetensors and training_log.csv into the spec's output folder, which \
            is replaced only once all is written.
            """)

    @Argument(help: "The decoder training spec (YAML).")
    var spec: String

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let spec = try DecoderTrainingSpec.load(url: URL(fileURLWithPath: self.spec))
        let progress = ProgressLine("training decoder", total: spec.settings.steps, quiet: progressOptions.quiet)
        let decoder = try DecoderTraining.run(spec: spec) { step, _, record in
            progress.update(step, detail: String(format: "loss %.3f, %.0f tokens/s", record.loss, record.tokensPerSecond))
        }
        progress.finish()
        if let fit = decoder.config.fit {
            print(String(format: "%@: %d sites, held-out loss %.4f per token", spec.output.path, decoder.config.sites.count, fit.heldOutLoss))
        }
    }
}
