import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// The `subspaces(site)` steps: per site, the NDM partition (trained on a sample of the store when its
/// folder holds none yet), each subspace's share of the variance, example queries with their
/// neighbours inside the subspace and what those share, and the causal check of every task next to
/// the identity, random and PCA baselines.
struct SubspaceStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// Tokens shown before and after a token in context.
    static let before = 10, after = 5
    /// Points of the loss curve kept in the findings.
    static let curvePoints = 100
    /// Activations on each side of the threshold compared for the shared statements, at most.
    static let sharedSample = 200

    func run(_ spec: SubspaceSpec, store: ActivationStore, windows: [CorpusWindow]) throws -> SubspaceFindings {
        var slugs: Set<String> = []
        let located = WindowIndex(windows: windows)
        let sites = try spec.sites.map { site -> SubspaceSiteFindings in
            let slug = PageSlug.unique(site.hook, taken: slugs)
            slugs.insert(slug)
            return try withStep(.subspaces(site: slug), path: site.path.path) {
                try analyse(site, slug: slug, spec: spec, store: store, windows: located)
            }
        }
        return SubspaceFindings(similarity: spec.similarity, sites: sites)
    }

    private func analyse(
        _ site: SubspaceSpec.Site, slug: String, spec: SubspaceSpec, store: ActivationStore, windows: WindowIndex
    ) throws -> SubspaceSiteFindings {
        let step = BuildStep.subspaces(site: slug)
        let settings = site.training
        let sample = try SubspaceSample.draw(store: store, hook: site.hook, rows: settings.samples, seed: settings.ndm.seed)
        let width = sample.activations.shape[1]
        let files: SubspaceFiles
        if SubspaceFiles.exist(in: site.path) {
            files = try SubspaceFiles.load(from: site.path, site: site.hook, width: width)
        } else {
            var trainer = try NDMTrainer(site: site.hook, activations: sample.activations, settings: settings.ndm)
            let progress = context.track(step, "training the rotation (NDM)", total: settings.ndm.steps, unit: "steps")
            trainer.train { done, _, record in progress.update(done, detail: String(format: "loss %.4f, %d blocks", record.loss, record.blocks)) }
            progress.finish()
            files = SubspaceFiles(trainer: trainer, samples: sample.documents.count)
            try files.save(to: site.path, log: trainer.logCSV)
        }
        let report = context.spec
        let tasks = try spec.tasks.map { task in
            try SubspaceComparison.run(
                task: task, model: inputs.model, modelDirectory: report.model, site: site.hook, rotation: files.rotation,
                partition: files.partition, activations: sample.activations, examples: spec.examples, seed: report.seed,
                prependBOS: report.prependBos)
        }
        let variances = Self.variances(sample.activations, rotation: files.rotation, blocks: files.partition.blocks)
        let progress = context.track(step, "finding neighbours inside each subspace", total: files.partition.blocks.count, unit: "subspaces")
        defer { progress.finish() }
        var rng = SeededRandom(seed: settings.ndm.seed &+ 0x5eed)
        let subspaces = files.partition.blocks.enumerated().map { number, block -> SubspaceBlock in
            let neighbours = SubspaceNeighbours(activations: sample.activations, rotation: files.rotation, block: block)
            let queries = (0..<spec.queries).map { _ in
                query(rng.nextInt(below: sample.documents.count), neighbours: neighbours, sample: sample, spec: spec, windows: windows, rng: &rng)
            }
            progress.update(number + 1)
            return SubspaceBlock(
                number: number + 1, size: block.count, variance: variances[number], effects: tasks.map { $0.bases[0].effects[number] },
                queries: queries)
        }
        let record = files.record
        return SubspaceSiteFindings(
            slug: slug, hook: site.hook, width: width, path: context.relativePath(site.path),
            training: SubspaceTrainingSummary(
                samples: record.samples, blockSize: record.blockSize, threshold: record.threshold, steps: record.steps,
                converged: record.converged, lossCurve: LossPoint.curve(files.losses, points: Self.curvePoints),
                rounds: record.rounds.map {
                    SubspaceMergeRound(
                        step: $0.step, sizesBefore: $0.sizesBefore, sizesAfter: $0.sizesAfter, largestNormalised: $0.largestNormalised,
                        merged: $0.merges.map(\.normalised))
                }),
            subspaces: subspaces, tasks: tasks)
    }

    /// One query row: its token in context, its neighbours above the threshold and what they share.
    private func query(
        _ row: Int, neighbours: SubspaceNeighbours, sample: SubspaceSample, spec: SubspaceSpec, windows: WindowIndex, rng: inout SeededRandom
    ) -> SubspaceQuery {
        let tokenizer = inputs.tokenizer
        let found = neighbours.neighbours(of: row, threshold: spec.similarity, count: spec.neighbours, rng: &rng)
        func token(_ row: Int, similarity: Double) -> SubspaceToken {
            let (ids, index) = windows.context(document: sample.documents[row], position: sample.positions[row], before: Self.before, after: Self.after)
            return SubspaceToken(
                document: sample.documents[row], position: sample.positions[row], tokens: tokenizer.displayStrings(for: ids), index: index,
                similarity: similarity)
        }
        func neighbourhoodSample(_ row: Int) -> NeighbourhoodSample {
            let (ids, index) = windows.context(document: sample.documents[row], position: sample.positions[row], before: Self.before, after: Self.after)
            return NeighbourhoodSample(tokens: ids, matchedPosition: index, distance: 0)
        }
        // What the activations above the threshold share, against as many drawn from below it.
        let insideSet = Set(found.inside)
        var inside = found.inside, outside = (0..<sample.documents.count).filter { $0 != row && !insideSet.contains($0) }
        for i in 0..<min(Self.sharedSample, inside.count) { inside.swapAt(i, i + rng.nextInt(below: inside.count - i)) }
        for i in 0..<min(Self.sharedSample, outside.count) { outside.swapAt(i, i + rng.nextInt(below: outside.count - i)) }
        let isToyWorld = (tokenizer as? WordTokenizer)?.tokens == ToyWorld().vocabulary
        let shared = SharedInformation.statements(
            inside: inside.prefix(Self.sharedSample).map(neighbourhoodSample),
            outside: outside.prefix(Self.sharedSample).map(neighbourhoodSample),
            query: neighbourhoodSample(row), display: { tokenizer.displayString(for: $0) },
            variables: isToyWorld ? { ToyTaskVariables.variables(of: $0.tokens, at: $0.matchedPosition) } : nil,
            options: SharedInformation.Options(insideName: "above the threshold", outsideName: "below"))
        return SubspaceQuery(
            query: token(row, similarity: 1), inside: found.inside.count, compared: sample.documents.count - 1,
            neighbours: found.shown.map { token($0.row, similarity: $0.similarity) }, shared: shared)
    }

    /// Each block's share of the total variance of `activations` `[P, d]` about their mean.
    static func variances(_ activations: Tensor, rotation: Tensor, blocks: [[Int]]) -> [Double] {
        let projected = try! activations.matmul(rotation)
        let (n, d) = (projected.shape[0], projected.shape[1])
        var columnVariance = [Double](repeating: 0, count: d)
        for column in 0..<d {
            var sum = 0.0, squares = 0.0
            for row in 0..<n {
                let value = Double(projected.scalars[row * d + column])
                sum += value
                squares += value * value
            }
            columnVariance[column] = max(0, squares / Double(n) - (sum / Double(n)) * (sum / Double(n)))
        }
        let total = columnVariance.reduce(0, +)
        return blocks.map { block in total > 0 ? block.reduce(0) { $0 + columnVariance[$1] } / total : 0 }
    }
}
