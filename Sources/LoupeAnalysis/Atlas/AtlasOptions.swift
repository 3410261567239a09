/// The sizes and seed of a feature atlas.
///
/// Windows are cut inside one model window (never across a window boundary or over a BOS token):
/// atlas examples show `exampleBefore` tokens before the focus token and `exampleAfter` after it;
/// the explainer's `ScoredWindow`s show `windowBefore` and `windowAfter`.
public struct AtlasOptions: Codable, Sendable, Equatable {
    /// Top activating examples per feature.
    public var topK = 20
    /// Tokens shown before and after the focus token of an atlas example.
    public var exampleBefore = 10, exampleAfter = 4
    /// Bins of the activation histogram (from 0 to the maximum).
    public var histogramBins = 24
    /// Interval groups between 0 (exclusive) and the maximum, and examples per group.
    public var intervals = 10, examplesPerInterval = 5
    /// Most promoted / suppressed tokens listed, and bins of the logit-effect histogram.
    public var logitTokens = 10, logitHistogramBins = 24
    /// Nearest features by decoder cosine, and most co-firing features, listed.
    public var neighbours = 5, coFiring = 5
    /// Seed of the interval and non-activating samples.
    public var seed: UInt64 = 0
    /// Explainer windows: strongest windows from explanation documents (plus one sample per
    /// interval), strongest from held-out documents (plus one sample per interval), and random
    /// held-out windows where the feature does not fire.
    public var explanationTop = 20, heldOutTop = 10, heldOutNonActivating = 20
    /// Tokens before and after the focus token in an explainer window (window ≈ before + 1 + after).
    public var windowBefore = 11, windowAfter = 4
    /// Rows encoded at once (blocks are cut at model-window boundaries).
    public var encodeRows = 2_048

    /// The default options.
    public init() {}

    /// Strongest examples kept per document split: enough for the atlas and both example sets.
    var topPerSplit: Int { max(topK, explanationTop, heldOutTop) }
    /// Tokens kept around each candidate's focus token.
    var captureBefore: Int { max(exampleBefore, windowBefore) }
    var captureAfter: Int { max(exampleAfter, windowAfter) }
    /// Length of a non-activating window.
    var spanLength: Int { windowBefore + 1 + windowAfter }

    /// Throws `AtlasError.invalidOption` for the first option out of range.
    func validate() throws {
        let positive: [(String, Int)] = [("histogramBins", histogramBins), ("intervals", intervals), ("logitHistogramBins", logitHistogramBins), ("encodeRows", encodeRows)]
        for (name, value) in positive where value <= 0 {
            throw AtlasError.invalidOption(name: name, reason: "must be positive, got \(value)")
        }
        let counts: [(String, Int)] = [
            ("topK", topK), ("exampleBefore", exampleBefore), ("exampleAfter", exampleAfter),
            ("examplesPerInterval", examplesPerInterval), ("logitTokens", logitTokens), ("neighbours", neighbours),
            ("coFiring", coFiring), ("explanationTop", explanationTop), ("heldOutTop", heldOutTop),
            ("heldOutNonActivating", heldOutNonActivating), ("windowBefore", windowBefore), ("windowAfter", windowAfter),
        ]
        for (name, value) in counts where value < 0 {
            throw AtlasError.invalidOption(name: name, reason: "must not be negative, got \(value)")
        }
    }
}
