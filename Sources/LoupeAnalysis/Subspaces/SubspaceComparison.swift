import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

/// The causal check of a partition on one task, next to its baselines: NDM's blocks, then the
/// identity, random and PCA rotations split into blocks of the same sizes, each block patched alone
/// (`SubspacePatching`), with the Gini coefficient of each basis's effects.
public enum SubspaceComparison {
    /// `task` is a toy task name or a task file (tokenised with the tokenizer in `modelDirectory`);
    /// `activations` `[P, d]` give the PCA baseline; `seed` draws toy pairs and the random rotation.
    public static func run(
        task: String, model: GPT2Model, modelDirectory: URL, site: String, rotation: Tensor, partition: SubspacePartition,
        activations: Tensor, examples: Int, seed: UInt64, prependBOS: Bool
    ) throws -> SubspaceTaskFindings {
        let pairs = try CircuitTask.pairs(task, model: model, modelDirectory: modelDirectory, examples: examples, seed: seed, prependBOS: prependBOS)
        let patching = try SubspacePatching(model: model, site: site, pairs: pairs)
        let ndm = try patching.effects(rotation: rotation, partition: partition)
        var bases = [SubspaceBasisEffects(basis: "ndm", effects: ndm, gini: SubspacePatching.gini(ndm))]
        let sized = SubspacePartition(site: site, sizes: partition.sizes)
        for baseline in SubspaceBaseline.allCases {
            let effects = try patching.effects(rotation: baseline.rotation(activations: activations, seed: seed), partition: sized)
            bases.append(SubspaceBasisEffects(basis: baseline.rawValue, effects: effects, gini: SubspacePatching.gini(effects)))
        }
        let name = CircuitTask.toyTaskNames.contains(task) ? task : URL(fileURLWithPath: task).lastPathComponent
        return SubspaceTaskFindings(
            task: name, pairs: pairs.count, cleanMetric: patching.cleanMetric, corruptedMetric: patching.corruptedMetric, bases: bases)
    }
}
