import LoupeCore

/// The held-out examples of one feature: the only windows an explanation is scored on.
///
/// Built from `FeatureExampleSets` by dropping its explanation windows, so a scorer that takes this
/// type cannot see an example the explainer was shown.
public struct HeldOutWindows: Sendable, Equatable {
    /// Held-out windows on which the feature fires.
    public var activating: [ScoredWindow]
    /// Held-out windows on which the feature does not fire.
    public var nonActivating: [ScoredWindow]

    /// Held-out windows from their parts.
    public init(activating: [ScoredWindow], nonActivating: [ScoredWindow]) {
        self.activating = activating
        self.nonActivating = nonActivating
    }

    /// The held-out part of `sets`.
    public init(sets: FeatureExampleSets) {
        self.init(activating: sets.heldOutActivating, nonActivating: sets.heldOutNonActivating)
    }

    /// Number of windows (activating + non-activating).
    public var count: Int { activating.count + nonActivating.count }
}

/// One fuzzing question: a held-out activating window with one token highlighted.
public struct FuzzingItem: Sendable, Equatable {
    /// The window's token ids.
    public var tokens: [Int]
    /// Index in `tokens` of the highlighted token.
    public var highlighted: Int
    /// Whether the feature really fires on the highlighted token.
    public var fires: Bool

    /// An item from its parts.
    public init(tokens: [Int], highlighted: Int, fires: Bool) {
        (self.tokens, self.highlighted, self.fires) = (tokens, highlighted, fires)
    }
}

/// Answers the detection question: does the feature, as explained, fire anywhere in this window?
public protocol DetectionJudge {
    /// Whether the explanation predicts that the feature fires somewhere in `tokens`.
    func predictsFiring(in tokens: [Int]) throws -> Bool
}

/// Answers the fuzzing question: is the highlighted token one the feature, as explained, fires on?
public protocol FuzzingJudge {
    /// Whether the explanation predicts that the feature fires on `tokens[index]`.
    func predictsFiring(at index: Int, in tokens: [Int]) throws -> Bool
}

/// The three scores of an explanation on held-out windows.
public struct ExplanationScores: Sendable, Equatable {
    /// Balanced accuracy of "does this window fire" (activating vs non-activating windows).
    public var detection: Double
    /// Balanced accuracy of "is the highlighted token one it fires on".
    public var fuzzing: Double
    /// Pearson correlation of predicted and real activations over every held-out token.
    public var simulation: Double
    /// Held-out windows scored (activating + non-activating).
    public var heldOutExamples: Int
}

/// Scores explanations on held-out windows only.
///
/// - detection: balanced accuracy of the judge's "fires somewhere" over held-out activating windows
///   (should be yes) and non-activating windows (should be no);
/// - fuzzing: balanced accuracy of the judge's "fires here" over `FuzzingItem`s — in each held-out
///   activating window, real firing tokens (should be yes) and as many random non-firing tokens (should
///   be no);
/// - simulation: Pearson correlation between a predictor's activations and the real ones over every token
///   of every held-out window, 0 when either side is constant.
///
/// A balanced accuracy needs both classes; with one class missing it is 0.5 (chance).
public enum ExplanationScorer {
    /// Detection, fuzzing and simulation of a rule-like predictor. `items` come from `fuzzingItems`.
    public static func score(predictor: some ActivationPredictor, heldOut: HeldOutWindows, items: [FuzzingItem]) -> ExplanationScores {
        ExplanationScores(
            detection: detection(heldOut: heldOut, predictor: predictor),
            fuzzing: fuzzing(items: items, predictor: predictor),
            simulation: simulation(heldOut: heldOut, predictor: predictor),
            heldOutExamples: heldOut.count)
    }

    /// Detection balanced accuracy with a judge that may fail (e.g. a language model).
    public static func detection(heldOut: HeldOutWindows, judge: some DetectionJudge) throws -> Double {
        try detection(heldOut: heldOut) { try judge.predictsFiring(in: $0) }
    }

    /// Detection balanced accuracy of a predictor: a window is predicted to fire when the predictor
    /// fires on any of its tokens.
    public static func detection(heldOut: HeldOutWindows, predictor: some ActivationPredictor) -> Double {
        detection(heldOut: heldOut) { predictor.predictedFiring(tokens: $0).contains(true) }
    }

    /// Fuzzing balanced accuracy with a judge that may fail (e.g. a language model).
    public static func fuzzing(items: [FuzzingItem], judge: some FuzzingJudge) throws -> Double {
        try fuzzing(items: items) { try judge.predictsFiring(at: $0.highlighted, in: $0.tokens) }
    }

    /// Fuzzing balanced accuracy of a predictor: the highlighted token is predicted to fire when the
    /// predictor fires on it.
    public static func fuzzing(items: [FuzzingItem], predictor: some ActivationPredictor) -> Double {
        fuzzing(items: items) { item in
            let firing = predictor.predictedFiring(tokens: item.tokens)
            return firing.indices.contains(item.highlighted) && firing[item.highlighted]
        }
    }

    /// Pearson correlation of a predictor's activations with the real ones over every token of every
    /// held-out window (0 when either is constant or there are fewer than two tokens).
    public static func simulation(heldOut: HeldOutWindows, predictor: some ActivationPredictor) -> Double {
        var predicted: [Double] = []
        var real: [Double] = []
        for window in (heldOut.activating + heldOut.nonActivating).map(WindowCleaning.clean) {
            let guess = predictor.predictedActivations(tokens: window.tokens)
            for index in window.tokens.indices {
                predicted.append(index < guess.count && guess[index].isFinite ? guess[index] : 0)
                real.append(Double(window.activations[index]))
            }
        }
        return pearson(predicted, real)
    }

    /// The fuzzing questions for held-out activating windows, in window order. In each window the real
    /// firing tokens (activation above `threshold`; at most `maxPerWindow`, drawn at random when there
    /// are more) are asked about, and as many non-firing tokens drawn at random (fewer if the window has
    /// fewer). Every draw comes from `rng`.
    public static func fuzzingItems(
        heldOut: HeldOutWindows, threshold: Float = 0, maxPerWindow: Int = 5, rng: inout SeededRandom
    ) -> [FuzzingItem] {
        var items: [FuzzingItem] = []
        let cap = max(maxPerWindow, 1)
        for window in heldOut.activating.map(WindowCleaning.clean) {
            let firing = window.activations.indices.filter { window.activations[$0] > threshold }
            let quiet = window.activations.indices.filter { !(window.activations[$0] > threshold) }
            guard !firing.isEmpty else { continue }
            let correct = sample(firing, count: min(cap, firing.count), rng: &rng)
            let wrong = sample(quiet, count: min(correct.count, quiet.count), rng: &rng)
            items += correct.map { FuzzingItem(tokens: window.tokens, highlighted: $0, fires: true) }
            items += wrong.map { FuzzingItem(tokens: window.tokens, highlighted: $0, fires: false) }
        }
        return items
    }

    /// Mean of the recall on positives and the recall on negatives; 0.5 when either class is empty.
    public static func balancedAccuracy(truePositives: Int, positives: Int, trueNegatives: Int, negatives: Int) -> Double {
        guard positives > 0, negatives > 0 else { return 0.5 }
        return (Double(truePositives) / Double(positives) + Double(trueNegatives) / Double(negatives)) / 2
    }

    /// Pearson correlation of two equally long series; 0 when they differ in length, have fewer than two
    /// values, either is constant, or a value is not finite.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        guard x.count == y.count, x.count >= 2 else { return 0 }
        let n = Double(x.count)
        let meanX = x.reduce(0, +) / n
        let meanY = y.reduce(0, +) / n
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - meanX) * (b - meanY)
            sxx += (a - meanX) * (a - meanX)
            syy += (b - meanY) * (b - meanY)
        }
        guard sxx > 0, syy > 0, sxx.isFinite, syy.isFinite, sxy.isFinite else { return 0 }
        let r = sxy / (sxx.squareRoot() * syy.squareRoot())
        guard r.isFinite else { return 0 }
        return min(1, max(-1, r))
    }

    static func detection(heldOut: HeldOutWindows, _ decide: ([Int]) throws -> Bool) rethrows -> Double {
        var hits = 0
        for window in heldOut.activating {
            if try decide(WindowCleaning.clean(window).tokens) { hits += 1 }
        }
        var rejections = 0
        for window in heldOut.nonActivating {
            if try !decide(WindowCleaning.clean(window).tokens) { rejections += 1 }
        }
        return balancedAccuracy(
            truePositives: hits, positives: heldOut.activating.count,
            trueNegatives: rejections, negatives: heldOut.nonActivating.count)
    }

    static func fuzzing(items: [FuzzingItem], _ decide: (FuzzingItem) throws -> Bool) rethrows -> Double {
        var truePositives = 0
        var trueNegatives = 0
        var positives = 0
        var negatives = 0
        for item in items {
            let says = try decide(item)
            if item.fires {
                positives += 1
                if says { truePositives += 1 }
            } else {
                negatives += 1
                if !says { trueNegatives += 1 }
            }
        }
        return balancedAccuracy(
            truePositives: truePositives, positives: positives, trueNegatives: trueNegatives, negatives: negatives)
    }

    /// `count` distinct elements of `values` drawn uniformly (partial Fisher–Yates), in their original order.
    static func sample(_ values: [Int], count: Int, rng: inout SeededRandom) -> [Int] {
        guard count < values.count else { return values }
        var pool = values
        for i in 0..<count {
            let j = i + rng.nextInt(below: pool.count - i)
            pool.swapAt(i, j)
        }
        return pool.prefix(count).sorted()
    }
}

/// Makes windows from outside safe to read: tokens and activations cut to the same length and
/// non-finite activations replaced by 0.
enum WindowCleaning {
    static func clean(_ window: ScoredWindow) -> ScoredWindow {
        let count = min(window.tokens.count, window.activations.count)
        var cleaned = window
        if window.tokens.count != count { cleaned.tokens = Array(window.tokens.prefix(count)) }
        if window.activations.count != count || window.activations.contains(where: { !$0.isFinite }) {
            cleaned.activations = window.activations.prefix(count).map { $0.isFinite ? $0 : 0 }
        }
        return cleaned
    }
}
