import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// The circuit benchmark of `make bench` (`--circuits`): the wall time of every circuit method on
/// the demo model's five toy tasks (64 pairs each) and on a GPT-2-small-shaped model with 64
/// IOI-shaped pairs of 16 random tokens (corrupted at one position, one correct and one wrong answer).
struct CircuitBenchmark {
    /// Seconds per method on each task, in method order.
    struct Row {
        var label: String
        var seconds: [Double]
    }

    func demo(modelDirectory: URL) throws -> [Row] {
        let model = try GPT2Model.load(directory: modelDirectory)
        let analysis = CircuitAnalysis(model: model)
        return try ToyWorld().tasks.map { task in
            var rng = SeededRandom(seed: 1)
            let pairs = task.examples(count: 64, rng: &rng)
            return Row(label: "demo \(task.name)", seconds: try times(analysis, pairs: pairs))
        }
    }

    func gpt2Small(model: GPT2Model) throws -> Row {
        var rng = SeededRandom(seed: 5)
        let vocabulary = model.config.vocabularySize
        let pairs = (0..<64).map { _ -> TaskExample in
            let clean = (0..<16).map { _ in rng.nextInt(below: vocabulary) }
            var corrupted = clean
            corrupted[10] = rng.nextInt(below: vocabulary)
            return TaskExample(clean: clean, corrupted: corrupted, correct: [rng.nextInt(below: vocabulary)], wrong: [rng.nextInt(below: vocabulary)])
        }
        return Row(label: "GPT-2 small, 64 pairs × 16 tokens", seconds: try times(CircuitAnalysis(model: model), pairs: pairs))
    }

    private func times(_ analysis: CircuitAnalysis, pairs: [TaskExample]) throws -> [Double] {
        try CircuitMethod.allCases.map { method in
            FileHandle.standardError.write("  \(method.rawValue)…\n".data(using: .utf8)!)
            return try analysis.run(method, task: "bench", pairs: pairs).seconds
        }
    }
}
