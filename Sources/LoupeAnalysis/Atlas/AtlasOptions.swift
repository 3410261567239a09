/// The sizes and seed of a feature atlas.
///
/// Windows are cut inside one model window (never across a window boundary or over a BOS token):
/// atlas examples show `exampleBefore` tokens before the focus token and `exampleAfter` after it;
/// the explainer's `ScoredWindow`s show `windowBefore` and `windowAfter`.
public struct AtlasOptions: Codable, Sendable, Equatable {
    /// Top activating examples per feature.
    public var topK: Int
    /// Tokens shown before and after the focus token of an atlas example.
    public var exampleBefore: Int
    public var exampleAfter: Int
    /// Bins of the activation histogram (from 0 to the maximum).
    public var histogramBins: Int
    /// Interval groups between 0 (exclusive) and the maximum, and examples per group.
    public var intervals: Int
    public var examplesPerInterval: Int
    /// Most promoted / suppressed tokens listed, and bins of the logit-effect histogram.
    public var logitTokens: Int
    public var logitHistogramBins: Int
    /// Nearest features by decoder cosine, and most co-firing features, listed.
    public var neighbours: Int
    public var coFiring: Int
    /// Seed of the interval and non-activating samples.
    public var seed: UInt64
    /// Explainer windows: strongest windows from explanation documents (plus one sample per
    /// interval), strongest from held-out documents (plus one sample per interval), and random
    /// held-out windows where the feature does not fire.
    public var explanationTop: Int
    public var heldOutTop: Int
    public var heldOutNonActivating: Int
    /// Tokens before and after the focus token in an explainer window (window ≈ before + 1 + after).
    public var windowBefore: Int
    public var windowAfter: Int
    /// Rows encoded at once (blocks are cut at model-window boundaries).
    public var encodeRows: Int

    public init(
        topK: Int = 20, exampleBefore: Int = 10, exampleAfter: Int = 4, histogramBins: Int = 24,
        intervals: Int = 10, examplesPerInterval: Int = 5, logitTokens: Int = 10, logitHistogramBins: Int = 24,
        neighbours: Int = 5, coFiring: Int = 5, seed: UInt64 = 0,
        explanationTop: Int = 20, heldOutTop: Int = 10, heldOutNonActivating: Int = 20,
        windowBefore: Int = 11, windowAfter: Int = 4, encodeRows: Int = 2_048
    ) {
        self.topK = topK
        self.exampleBefore = exampleBefore
        self.exampleAfter = exampleAfter
        self.histogramBins = histogramBins
        self.intervals = intervals
        self.examplesPerInterval = examplesPerInterval
        self.logitTokens = logitTokens
        self.logitHistogramBins = logitHistogramBins
        self.neighbours = neighbours
        self.coFiring = coFiring
        self.seed = seed
        self.explanationTop = explanationTop
        self.heldOutTop = heldOutTop
        self.heldOutNonActivating = heldOutNonActivating
        self.windowBefore = windowBefore
        self.windowAfter = windowAfter
        self.encodeRows = encodeRows
    }

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
