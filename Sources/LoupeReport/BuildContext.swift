import Foundation

/// What every step of one build shares: the spec, the caller's environment and progress sink.
struct BuildContext {
    let spec: ReportSpec
    let environment: [String: String]
    /// Whether cached language-model answers are ignored (`--llm-refresh`).
    var refreshLanguageModel = false
    let progress: BuildProgress

    /// Reports a note for `step`.
    func note(_ step: BuildStep, _ message: String) {
        progress(.note(step, message))
    }

    /// Runs `body` as the phase `step`, reporting its wall time and peak memory.
    func timed<T>(_ step: BuildStep, _ body: () throws -> T) rethrows -> T {
        try timed(step.description, body)
    }

    /// Runs `body` as the phase named `phase` (steps of several tasks or sites together).
    func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        try PhaseClock.measure(phase, record: { progress(.timed($0)) }, body)
    }

    /// Announces a part of `step` with `total` units and returns the function that reports how
    /// many are done (call `finish` on the result at the end).
    func track(_ step: BuildStep, _ label: String, total: Int, unit: String) -> StepProgress {
        progress(.started(step, label: label, total: total, unit: unit))
        return StepProgress(step: step, sink: progress)
    }

    /// `url` relative to the report folder when inside it (so findings do not depend on where the
    /// report lives), else as given.
    func relativePath(_ url: URL) -> String {
        let base = spec.directory.standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }
}

/// The progress of one part of a step.
struct StepProgress {
    let step: BuildStep
    let sink: BuildProgress

    func update(_ done: Int, detail: String = "") {
        sink(.advanced(step, done: done, detail: detail))
    }

    func finish() {
        sink(.finished(step))
    }
}
