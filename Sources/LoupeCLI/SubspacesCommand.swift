import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeReport

/// `loupe subspaces SPEC`: learns the NDM partition of one hook point as a YAML spec describes.
struct SubspacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subspaces", abstract: "Learn the subspaces (NDM) of a model's hook point from a YAML spec.",
        discussion: """
            The spec names the model, the corpus (as in report.yaml), the site, the starting block size, the merging \
            threshold, the steps and the seed. Writes rotation.safetensors (R, z = h R), partition.json \
            ({"site", "blocks"}), training_log.csv and merging.json into the spec's output folder, replaced only once all \
            is written. With `tasks`, each subspace is patched alone from corrupted into clean prompts and its effect \
            printed with the Gini coefficient of the effects next to the identity, random and PCA baselines.
            """)

    @Argument(help: "The subspace training spec (YAML).")
    var spec: String

    @OptionGroup var progressOptions: ProgressOptions

    @Flag(help: "Print the partition and the causal checks as one JSON object.")
    var json = false

    func run() throws {
        let spec = try SubspaceTrainingSpec.load(url: URL(fileURLWithPath: self.spec))
        let progress = ProgressLine("training subspaces", total: spec.training.ndm.steps, quiet: progressOptions.quiet)
        let result = try NDMTraining.run(spec: spec) { step, _, record in
            progress.update(step, detail: String(format: "loss %.4f, %d blocks", record.loss, record.blocks))
        }
        progress.finish()
        let partition = result.files.partition
        if json {
            let object = SubspacesOutput(
                site: spec.site, output: spec.output.path, sizes: partition.sizes, steps: result.files.record.steps,
                converged: result.files.record.converged, tasks: result.tasks)
            print(try JSONWriter.line(object))
            return
        }
        print("\(spec.output.path): \(partition.blocks.count) subspaces of sizes \(partition.sizes.map(String.init).joined(separator: ", ")) "
            + "after \(result.files.record.steps) steps (\(result.files.record.converged ? "no pair left above the threshold" : "step limit reached"))")
        for task in result.tasks {
            let ginis = task.bases.map { String(format: "%@ %.3f", $0.basis, $0.gini) }.joined(separator: ", ")
            let effects = task.bases[0].effects.enumerated().map { String(format: "s%d %.3f", $0 + 1, $1) }.joined(separator: " ")
            print("\(task.task): Gini \(ginis); NDM effects \(effects)")
        }
    }
}

/// `loupe subspaces --json`: the partition's sizes and the causal checks.
struct SubspacesOutput: Encodable {
    var site, output: String
    var sizes: [Int]
    var steps: Int
    var converged: Bool
    var tasks: [SubspaceTaskFindings]
}
