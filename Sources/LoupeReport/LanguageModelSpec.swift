import LoupeAnalysis

/// The `llm:` section of a report spec: how language-model explanations are judged and how many may
/// fall back before the build fails. Used only when `LOUPE_LLM_BASE_URL` names an endpoint.
///
/// ```yaml
/// llm: {batch_size: 10, detection_windows: 20, fuzzing_windows: 10, simulation_windows: 6, max_fallback: 0.05}
/// ```
public struct LanguageModelSpec: Equatable, Sendable {
    /// Examples judged per request.
    public var batchSize = 10
    /// Held-out windows judged for detection, marked for fuzzing, and simulated token by token.
    public var detectionWindows = 20, fuzzingWindows = 10, simulationWindows = 6
    /// Largest share of asked features that may fall back to the offline explanation; above it the
    /// build writes the site and then fails.
    public var maxFallback = 0.05

    public init() {}

    /// The explainer settings these values give.
    var explainerSettings: ExplainerSettings {
        var settings = ExplainerSettings()
        settings.llmBatchSize = batchSize
        settings.llmDetectionWindows = detectionWindows
        settings.llmFuzzingWindows = fuzzingWindows
        settings.llmSimulationWindows = simulationWindows
        return settings
    }

    /// Reads the section (every key optional).
    static func read(_ section: SpecReader) throws -> LanguageModelSpec {
        try section.rejectUnknownKeys(["batch_size", "detection_windows", "fuzzing_windows", "simulation_windows", "max_fallback"])
        var spec = LanguageModelSpec()
        let counts: [(key: String, field: WritableKeyPath<LanguageModelSpec, Int>, range: ClosedRange<Int>)] = [
            ("batch_size", \.batchSize, 1...100), ("detection_windows", \.detectionWindows, 2...1000),
            ("fuzzing_windows", \.fuzzingWindows, 2...1000), ("simulation_windows", \.simulationWindows, 1...1000),
        ]
        for count in counts {
            spec[keyPath: count.field] = try section.integer(count.key, default: spec[keyPath: count.field], range: count.range)
        }
        spec.maxFallback = try section.number("max_fallback", default: spec.maxFallback, range: 0...1)
        return spec
    }
}
