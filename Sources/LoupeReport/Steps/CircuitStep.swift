import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// The `circuit(task)` step: every method's scores on the task, the circuit each selects and its
/// faithfulness, the agreement with a known circuit, and what each head does on the task's prompts.
struct CircuitStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// Pairs shown on the pages (and whose attention patterns are kept).
    static let shownPrompts = 3
    /// Features listed per head.
    static let featuresPerHead = 5

    func run(_ circuits: CircuitSpec, dictionaries: [(id: String, hook: String, dictionary: SparseDictionary)]) throws -> CircuitFindings {
        var usedSlugs: Set<String> = []
        return CircuitFindings(tasks: try circuits.tasks.map { task in
            let slug = Self.slug(task.task, taken: usedSlugs)
            usedSlugs.insert(slug)
            return try withStep(.circuit(task: task.task), path: task.groundTruth?.path ?? context.spec.specURL.path) {
                try analyse(task, slug: slug, spec: circuits, dictionaries: dictionaries)
            }
        })
    }

    private func analyse(_ task: CircuitSpec.Task, slug: String, spec: CircuitSpec, dictionaries: [(id: String, hook: String, dictionary: SparseDictionary)]) throws -> CircuitTaskFindings {
        let step = BuildStep.circuit(task: task.task)
        let model = inputs.model
        let pairs = try CircuitTask.pairs(
            task.task, model: model, modelDirectory: context.spec.model, examples: spec.examples, seed: context.spec.seed,
            prependBOS: spec.prependBOS)
        let analysis = CircuitAnalysis(model: model, igSteps: spec.igSteps, seed: context.spec.seed)
        let ablator = try CircuitAblator(analysis: analysis, pairs: pairs, ablation: spec.ablation)
        let truth = try task.groundTruth.map { try CircuitGroundTruth.load(url: $0, graph: analysis.graph) }
        let progress = context.track(step, "scoring", total: spec.methods.count, unit: "methods")
        var methods: [CircuitMethodFindings] = []
        for method in spec.methods {
            var result = try analysis.run(method, task: task.task, pairs: pairs)
            // Wall time goes to the build's progress only: findings and site stay byte-identical across runs.
            context.note(step, "circuit \(task.task), \(method.rawValue): \(String(format: "%.2f", result.seconds)) s")
            var roc: [[Double]] = []
            if let truth {
                result = truth.scoring(result)
                let members = Set(truth.nodes)
                roc = ROC.curve(scores: result.nodes.map { abs($0.score) }, labels: result.nodes.map { members.contains($0.id) })
                    .map { [$0.falsePositiveRate, $0.truePositiveRate] }
            }
            let selection = try CircuitSelection(result: result, ablator: ablator, size: spec.size)
            let passes = method.passes(pairs: pairs.count, nodes: analysis.graph.nodes.count, igSteps: spec.igSteps)
            methods.append(CircuitMethodFindings(
                method: method.rawValue, nodes: result.nodes, edges: result.edges,
                passes: CircuitPasses(forward: passes.forward, backward: passes.backward), faithfulness: selection.curve,
                circuitSize: selection.circuit.count, circuit: selection.circuit.map(\.id),
                circuitFaithfulness: selection.faithfulness, circuitCompleteness: selection.completeness,
                nodeAUC: result.nodeAUC, edgeAUC: result.edgeAUC, roc: roc))
            progress.update(methods.count)
        }
        progress.finish()
        var truthFindings: CircuitTruthFindings?
        if let truth, let url = task.groundTruth {
            let nodes = analysis.graph.nodes.filter { truth.nodes.contains($0.id) }
            let evidence = try CircuitTruthSearch.evidence(of: nodes, ablator: ablator)
            truthFindings = CircuitTruthFindings(
                nodes: nodes.map(\.id), edges: truth.edges, faithfulness: evidence.faithfulness, completeness: evidence.completeness,
                drops: evidence.drops, source: truth.command ?? context.relativePath(url))
        }
        let shown = Array(pairs.prefix(Self.shownPrompts))
        let tokenizer = inputs.tokenizer
        return CircuitTaskFindings(
            task: CircuitTask.toyTaskNames.contains(task.task) ? task.task : context.relativePath(URL(fileURLWithPath: task.task)),
            slug: slug, pairs: pairs.count, cleanMetric: ablator.cleanMetric, corruptedMetric: ablator.corruptedMetric,
            ablation: spec.ablation,
            prompts: shown.map { pair in
                CircuitPrompt(
                    clean: tokenizer.displayStrings(for: pair.clean), corrupted: tokenizer.displayStrings(for: pair.corrupted),
                    answers: tokenizer.displayStrings(for: pair.correct), wrongAnswers: tokenizer.displayStrings(for: pair.wrong))
            },
            methods: methods, groundTruth: truthFindings,
            heads: try HeadBehaviour(model: model, featuresPerHead: Self.featuresPerHead)
                .heads(shown: shown, pairs: pairs, dictionaries: dictionaries))
    }

    /// A folder name for `task`: a toy task's name, or the task file's name without extension, made
    /// of letters, digits, `-` and `_`, and distinct from the names in `taken`.
    static func slug(_ task: String, taken: Set<String>) -> String {
        let stem = URL(fileURLWithPath: task).deletingPathExtension().lastPathComponent
        let cleaned = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" })
        return PageSlug.unique(cleaned.isEmpty ? "task" : cleaned, taken: taken)
    }
}
