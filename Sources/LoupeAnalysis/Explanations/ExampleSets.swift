/// A window of corpus tokens with one feature's activation at every token.
public struct ScoredWindow: Codable, Sendable, Equatable {
    /// Document index in the corpus.
    public var document: Int
    /// Position in the document of the window's first token.
    public var start: Int
    /// Token ids of the window.
    public var tokens: [Int]
    /// The feature's activation at each token (same count as `tokens`).
    public var activations: [Float]

    public init(document: Int, start: Int, tokens: [Int], activations: [Float]) {
        self.document = document
        self.start = start
        self.tokens = tokens
        self.activations = activations
    }

    /// Largest activation in the window.
    public var peak: Float { activations.max() ?? 0 }
}

/// The examples an explainer may look at and the disjoint ones its explanation is scored on.
///
/// Corpus documents are split once for the whole report (`DocumentSplit`): explanation windows come
/// only from explanation documents, held-out windows only from held-out documents, so no scored
/// example was shown to the explainer.
public struct FeatureExampleSets: Codable, Sendable, Equatable {
    /// Strongly and moderately activating windows from explanation documents.
    public var explanation: [ScoredWindow]
    /// Activating windows from held-out documents (top and interval-sampled).
    public var heldOutActivating: [ScoredWindow]
    /// Random windows from held-out documents on which the feature does not fire.
    public var heldOutNonActivating: [ScoredWindow]

    public init(explanation: [ScoredWindow], heldOutActivating: [ScoredWindow], heldOutNonActivating: [ScoredWindow]) {
        self.explanation = explanation
        self.heldOutActivating = heldOutActivating
        self.heldOutNonActivating = heldOutNonActivating
    }
}

/// Which corpus documents explanations may use and which are kept for scoring.
public enum DocumentSplit {
    /// Whether document `index` is held out for scoring (every other document by a fixed hash,
    /// so the split does not depend on corpus order statistics).
    public static func isHeldOut(document index: Int) -> Bool {
        var z = UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) & 1 == 1
    }
}
