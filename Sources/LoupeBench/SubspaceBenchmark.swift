import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// The subspace benchmark of `make bench` (`--subspaces`): NDM on the demo model as the demo report
/// runs it — 4000 toy-world documents (seed 7), context 64 with a BOS, 16,384 activations of the site
/// (`blocks.0.hook_resid_post` unless `--subspace-site` names another) drawn from the store, the demo's
/// `NDMSettings` (blocks of 16, threshold 0.2, a merging round at step 1500, at most 2000 steps; batch
/// 256 against a buffer of 4096) with seed 1 — then the IOI causal check (64 pairs, seed 1) of NDM and
/// its three baselines.
///
/// Reported: seconds per training step (median over the run), the whole training, the causal check;
/// and the nearest-neighbour search of one step (every block's products and scans, `nearestRows`) as
/// GFLOP/s, against the sgemm peak and the raw rate of one product of the same shape over all columns.
struct SubspaceBenchmark {
    var site = "blocks.0.hook_resid_post"

    /// The demo report's NDM settings.
    static let demoSettings = NDMSettings(blockSize: 16, threshold: 0.2, steps: 2000, mergeEvery: 1500, seed: 1)

    struct Result {
        var storeSeconds, trainingSeconds, stepSeconds: Double
        var steps: Int
        var sizes: [Int]
        var checkSeconds: Double
        /// Gini of the IOI effects: NDM first, then each baseline.
        var gini: [(String, Double)]
        var effects: [Double]
        var searchGflops, sgemmGflops: Double
    }

    func run(demoModel: URL) throws -> Result {
        let model = try GPT2Model.load(directory: demoModel)
        let tokenizer = try TokenizerLoader.load(directory: demoModel)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-subspace-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var rng = SeededRandom(seed: 7)
        let texts = ToyWorld().documents(count: 4000, length: 63, rng: &rng)
        let corpus = TokenizedCorpus(corpus: Corpus(documents: texts, files: ["toy world"]), tokenizer: tokenizer)
        let windows = try corpus.windows(contextLength: 64, bos: tokenizer.id(for: "<|endoftext|>"))
        var store: ActivationStore?
        let storeSeconds = try seconds { store = try ActivationStore.build(model: model, windows: windows, hooks: [site], directory: scratch) }
        let sample = try SubspaceSample.draw(store: store!, hook: site, rows: 16_384, seed: 1)
        let settings = Self.demoSettings
        var trainer = try NDMTrainer(site: site, activations: sample.activations, settings: settings)
        var stepTimes: [Double] = []
        let trainingSeconds = seconds {
            while trainer.step < settings.steps && !trainer.converged {
                stepTimes.append(seconds { trainer.trainStep() })
                if trainer.step % settings.mergeEvery == 0 && trainer.step < settings.steps {
                    let round = trainer.mergeRound()
                    progress("step \(trainer.step): loss \(trainer.log.last!.loss), largest normalised MI \(round.largestNormalised), sizes \(round.sizesAfter)")
                }
            }
        }
        var gini: [(String, Double)] = []
        var effects: [Double] = []
        let checkSeconds = try seconds {
            var pairRng = SeededRandom(seed: 1)
            let pairs = ToyWorld().task(named: "ioi")!.examples(count: 64, rng: &pairRng)
            let patching = try SubspacePatching(model: model, site: site, pairs: pairs)
            let partition = trainer.partition
            effects = try patching.effects(rotation: trainer.rotation, partition: partition)
            gini.append(("ndm", SubspacePatching.gini(effects)))
            for baseline in SubspaceBaseline.allCases {
                let rotation = baseline.rotation(activations: sample.activations, seed: 1)
                gini.append((baseline.rawValue, SubspacePatching.gini(try patching.effects(rotation: rotation, partition: partition))))
            }
        }
        // One step's search alone: every block of the final partition, batch 256 against 4096.
        let d = sample.activations.shape[1]
        let batch = sample.activations.gatherRows(Array(0..<256))
        let buffer = sample.activations.gatherRows(Array(256..<(256 + 4096)))
        let searchSeconds = median((0..<5).map { _ in
            seconds { _ = buffer.nearestRows(to: batch, blocks: trainer.ranges) }
        })
        let searchFlops = 2.0 * 256 * 4096 * Double(d)
        return Result(
            storeSeconds: storeSeconds, trainingSeconds: trainingSeconds, stepSeconds: median(stepTimes), steps: trainer.step,
            sizes: trainer.sizes, checkSeconds: checkSeconds, gini: gini, effects: effects,
            searchGflops: searchFlops / searchSeconds / 1e9, sgemmGflops: SgemmProbe.gflops(m: 256, n: 4096, k: d))
    }
}
