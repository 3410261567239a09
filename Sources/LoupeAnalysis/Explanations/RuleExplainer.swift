/// Settings of the explainers and the scorers.
public struct ExplainerSettings: Sendable, Equatable {
    /// A token fires when the feature's activation on it is above this.
    public var firingThreshold: Float = 0
    /// Lowest rule quality (balanced accuracy on explanation tokens minus the complexity penalty) that
    /// counts as a simple rule; below it the explanation says no simple rule was found.
    public var minimumQuality: Double = 0.7
    /// Subtracted from a rule's balanced accuracy per unit of `ExplanationRule.complexity`.
    public var complexityPenalty: Double = 0.002
    /// Largest token set tried.
    public var maxTokenSetSize = 5
    /// Largest distance (in tokens) a token-in-context rule looks back.
    public var maxContextDistance = 8
    /// Most candidate tokens (by firing count) tried as the firing token of a token-in-context rule.
    public var contextCandidates = 20
    /// Most firing tokens asked about per held-out window in fuzzing (as many non-firing ones are added).
    public var maxHighlightsPerWindow = 5
    /// Tokens listed when no simple rule is found.
    public var fallbackTokens = 3
    /// Explanation windows shown to a language-model explainer: the strongest, then windows spread
    /// over the weaker rest (the interval samples' activation levels).
    public var llmTopWindows = 10, llmIntervalWindows = 10
    /// Examples a language-model judge answers per request.
    public var llmBatchSize = 10
    /// Held-out windows a language model judges: for detection (half activating, half not), for
    /// fuzzing (activating, half marked on their firing tokens, half on others), and simulated
    /// token by token (half activating).
    public var llmDetectionWindows = 20, llmFuzzingWindows = 10, llmSimulationWindows = 6

    /// The default settings.
    public init() {}
}

/// What the offline explainer found for one feature.
public struct OfflineExplanation: Sendable, Equatable {
    /// The rule that is scored. When no simple rule was found, a token set of the strongest tokens.
    public var rule: ExplanationRule
    /// The rule as one sentence, or `No simple token rule found; strongest on …`.
    public var text: String
    /// Balanced accuracy of `rule` on the explanation windows' tokens minus its complexity penalty.
    public var quality: Double
    /// Whether `rule` reached `ExplainerSettings.minimumQuality`.
    public var isSimpleRule: Bool
}

/// Finds the simplest token rule that predicts where a feature fires, from explanation windows only.
///
/// Rules are tried in order of simplicity — token sets of 1 to `maxTokenSetSize` tokens (grown greedily,
/// each step adding the token that most raises F1), then single 2- and 3-grams (firing on the last token),
/// then token-in-context rules (token t fires when token c occurs within the previous k ≤
/// `maxContextDistance` tokens) — and each is judged by its balanced accuracy over the tokens of the
/// explanation windows (firing vs non-firing tokens) minus `complexityPenalty × complexity`. The best
/// is kept; a later (more complex) rule replaces it only when strictly better. Ties between candidates of
/// one kind go to the more often firing n-gram, the rarer context token and the shorter distance, then the
/// smaller ids, so equal inputs give equal rules.
public enum RuleExplainer {
    /// The best rule for `explanationWindows`, or nil when no token in them fires.
    public static func explain(
        explanationWindows: [ScoredWindow], display: (Int) -> String, settings: ExplainerSettings = ExplainerSettings()
    ) -> OfflineExplanation? {
        let data = TokenData(windows: explanationWindows.map(WindowCleaning.clean), threshold: settings.firingThreshold)
        guard data.positives > 0 else { return nil }
        var best: (rule: ExplanationRule, quality: Double, f1: Double)?
        func consider(_ rule: ExplanationRule, truePositives: Int, falsePositives: Int) {
            let quality = data.balancedAccuracy(truePositives: truePositives, falsePositives: falsePositives)
                - settings.complexityPenalty * rule.complexity
            let f1 = data.f1(truePositives: truePositives, falsePositives: falsePositives) - settings.complexityPenalty * rule.complexity
            if best.map({ f1 > $0.f1 + 1e-12 }) ?? true {
                best = (rule, quality, f1)
            }
        }
        for candidate in tokenSets(data, settings: settings) {
            consider(candidate.rule, truePositives: candidate.truePositives, falsePositives: candidate.falsePositives)
        }
        for length in 2...3 {
            for candidate in nGrams(data, length: length) {
                consider(candidate.rule, truePositives: candidate.truePositives, falsePositives: candidate.falsePositives)
            }
        }
        for candidate in contextRules(data, settings: settings) {
            consider(candidate.rule, truePositives: candidate.truePositives, falsePositives: candidate.falsePositives)
        }
        if let best, best.quality >= settings.minimumQuality {
            return OfflineExplanation(rule: best.rule, text: best.rule.sentence(display: display), quality: best.quality, isSimpleRule: true)
        }
        return fallback(data, display: display, settings: settings)
    }

    /// A candidate rule with its counts on the explanation tokens.
    struct Candidate {
        var rule: ExplanationRule
        var truePositives: Int
        var falsePositives: Int
    }

    /// Token sets of growing size, each adding the token that most raises F1; stops when F1 stops rising.
    static func tokenSets(_ data: TokenData, settings: ExplainerSettings) -> [Candidate] {
        let pool = Array(data.tokenStats.filter { $0.firing > 0 }
            .sorted { ($0.firing, -$0.token) > ($1.firing, -$1.token) }
            .prefix(50))
        var chosen: [TokenStats] = []
        var truePositives = 0
        var falsePositives = 0
        var currentF1 = -1.0
        var candidates: [Candidate] = []
        for _ in 0..<max(settings.maxTokenSetSize, 0) {
            var pick: (stats: TokenStats, f1: Double)?
            for stats in pool where !chosen.contains(where: { $0.token == stats.token }) {
                let f1 = data.f1(truePositives: truePositives + stats.firing,
                                 falsePositives: falsePositives + stats.occurrences - stats.firing)
                if pick.map({ f1 > $0.f1 + 1e-12 }) ?? true { pick = (stats, f1) }
            }
            guard let pick, pick.f1 > currentF1 + 1e-12 else { break }
            chosen.append(pick.stats)
            truePositives += pick.stats.firing
            falsePositives += pick.stats.occurrences - pick.stats.firing
            currentF1 = pick.f1
            let members = chosen.map { RuleToken(token: $0.token, activation: $0.meanActivation) }
            candidates.append(Candidate(rule: .tokenSet(members), truePositives: truePositives, falsePositives: falsePositives))
        }
        return candidates
    }

    /// Every n-gram of `length` that ends on a firing token, most often firing first.
    static func nGrams(_ data: TokenData, length: Int) -> [Candidate] {
        var counts: [[Int]: Counts] = [:]
        for (tokens, fires, activations) in data.windows where tokens.count >= length {
            for end in (length - 1)..<tokens.count {
                let gram = Array(tokens[(end + 1 - length)...end])
                counts[gram, default: Counts()].add(fires: fires[end], activation: activations[end])
            }
        }
        return counts.filter { $0.value.firing > 0 }
            .sorted { a, b in
                a.value.firing != b.value.firing ? a.value.firing > b.value.firing : a.key.lexicographicallyPrecedes(b.key)
            }
            .map { gram, counts in
                Candidate(rule: .nGram(tokens: gram, activation: counts.meanActivation),
                          truePositives: counts.firing, falsePositives: counts.occurrences - counts.firing)
            }
    }

    /// Token-in-context rules for the most often firing tokens, every context token seen before them and
    /// every distance up to `maxContextDistance`: rarer context tokens first, then shorter distances.
    static func contextRules(_ data: TokenData, settings: ExplainerSettings) -> [Candidate] {
        let reach = max(settings.maxContextDistance, 0)
        guard reach > 0 else { return [] }
        let targets = data.tokenStats.filter { $0.firing > 0 }
            .sorted { ($0.firing, -$0.token) > ($1.firing, -$1.token) }
            .prefix(max(settings.contextCandidates, 0))
        var occurrences: [Int: Int] = [:]
        for stats in data.tokenStats { occurrences[stats.token] = stats.occurrences }
        var candidates: [Candidate] = []
        for target in targets {
            // For each context token, counts of the target's occurrences by distance to the nearest
            // preceding occurrence of the context token (index 1…reach).
            var byContext: [Int: [Counts]] = [:]
            for (tokens, fires, activations) in data.windows {
                for position in tokens.indices where tokens[position] == target.token {
                    var seen: [Int] = []
                    var q = position - 1
                    while q >= 0 && position - q <= reach {
                        let context = tokens[q]
                        if !seen.contains(context) {
                            seen.append(context)
                            byContext[context, default: Array(repeating: Counts(), count: reach + 1)][position - q]
                                .add(fires: fires[position], activation: activations[position])
                        }
                        q -= 1
                    }
                }
            }
            // Rarer context tokens first, so that among equally good rules the most specific context wins.
            let order = byContext.keys.sorted { a, b in
                let (countA, countB) = (occurrences[a] ?? 0, occurrences[b] ?? 0)
                return countA != countB ? countA < countB : a < b
            }
            for context in order {
                guard let counts = byContext[context] else { continue }
                var total = Counts()
                for distance in 1...reach {
                    total.merge(counts[distance])
                    guard total.firing > 0 else { continue }
                    candidates.append(Candidate(
                        rule: .tokenInContext(token: target.token, context: context, distance: distance,
                                              activation: total.meanActivation),
                        truePositives: total.firing, falsePositives: total.occurrences - total.firing))
                }
            }
        }
        return candidates
    }

    /// `No simple token rule found; strongest on …`, scored as a token set of the tokens with the most
    /// activation summed over their firing occurrences.
    static func fallback(_ data: TokenData, display: (Int) -> String, settings: ExplainerSettings) -> OfflineExplanation {
        let strongest = Array(data.tokenStats.filter { $0.firing > 0 }
            .sorted { a, b in
                a.firingActivationSum != b.firingActivationSum ? a.firingActivationSum > b.firingActivationSum : a.token < b.token
            }
            .prefix(max(settings.fallbackTokens, 1)))
        let rule = ExplanationRule.tokenSet(strongest.map { RuleToken(token: $0.token, activation: $0.meanActivation) })
        let truePositives = strongest.reduce(0) { $0 + $1.firing }
        let falsePositives = strongest.reduce(0) { $0 + $1.occurrences - $1.firing }
        let quality = data.balancedAccuracy(truePositives: truePositives, falsePositives: falsePositives)
            - settings.complexityPenalty * rule.complexity
        let list = strongest.map { "“\(display($0.token))”" }.joined(separator: ", ")
        return OfflineExplanation(
            rule: rule, text: "No simple token rule found; strongest on \(list).", quality: quality, isSimpleRule: false)
    }
}

/// Occurrence counts of one pattern in the explanation windows.
struct Counts {
    var occurrences = 0
    var firing = 0
    var activationSum = 0.0
    var firingActivationSum = 0.0

    mutating func add(fires: Bool, activation: Float) {
        occurrences += 1
        activationSum += Double(activation)
        if fires {
            firing += 1
            firingActivationSum += Double(activation)
        }
    }

    mutating func merge(_ other: Counts) {
        occurrences += other.occurrences
        firing += other.firing
        activationSum += other.activationSum
        firingActivationSum += other.firingActivationSum
    }

    /// Mean activation over every occurrence (the activation a rule predicts where it matches).
    var meanActivation: Double { occurrences > 0 ? activationSum / Double(occurrences) : 0 }
}

/// Counts of one token id in the explanation windows.
struct TokenStats {
    var token: Int
    var occurrences: Int
    var firing: Int
    var meanActivation: Double
    var firingActivationSum: Double
}

/// The explanation windows as firing labels, with per-token statistics.
struct TokenData {
    var windows: [(tokens: [Int], fires: [Bool], activations: [Float])]
    /// Firing tokens.
    var positives = 0
    /// Non-firing tokens.
    var negatives = 0
    /// One entry per distinct token id, ordered by id.
    var tokenStats: [TokenStats]

    init(windows cleaned: [ScoredWindow], threshold: Float) {
        windows = cleaned.map { ($0.tokens, $0.activations.map { $0 > threshold }, $0.activations) }
        var counts: [Int: Counts] = [:]
        for (tokens, fires, activations) in windows {
            for index in tokens.indices {
                counts[tokens[index], default: Counts()].add(fires: fires[index], activation: activations[index])
                if fires[index] { positives += 1 } else { negatives += 1 }
            }
        }
        tokenStats = counts.keys.sorted().compactMap { token in
            counts[token].map {
                TokenStats(token: token, occurrences: $0.occurrences, firing: $0.firing,
                           meanActivation: $0.meanActivation, firingActivationSum: $0.firingActivationSum)
            }
        }
    }

    /// Balanced accuracy of a rule matching `truePositives` firing and `falsePositives` non-firing tokens
    /// (recall alone when no token is non-firing).
    func balancedAccuracy(truePositives: Int, falsePositives: Int) -> Double {
        guard positives > 0 else { return 0 }
        let recall = Double(truePositives) / Double(positives)
        guard negatives > 0 else { return recall }
        return (recall + 1 - Double(falsePositives) / Double(negatives)) / 2
    }

    /// F1 of a rule matching `truePositives` firing and `falsePositives` non-firing tokens.
    func f1(truePositives: Int, falsePositives: Int) -> Double {
        let denominator = Double(truePositives + positives + falsePositives)
        return denominator > 0 ? 2 * Double(truePositives) / denominator : 0
    }
}
