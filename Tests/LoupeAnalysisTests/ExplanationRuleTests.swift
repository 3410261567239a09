import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeAnalysis
import LoupeToyWorld

/// Synthetic features over synthetic documents, cut into windows and split like a report does.
enum ExplanationFixtures {
    /// `count` documents of `length` ids drawn uniformly from `vocabulary`.
    static func randomDocuments(count: Int, length: Int, vocabulary: Range<Int>, rng: inout SeededRandom) -> [[Int]] {
        (0..<count).map { _ in
            (0..<length).map { _ in vocabulary.lowerBound + rng.nextInt(below: vocabulary.count) }
        }
    }

    /// `count` toy-world training sequences of `length` ids.
    static func toyDocuments(count: Int, length: Int, rng: inout SeededRandom) -> [[Int]] {
        let world = ToyWorld()
        return (0..<count).map { _ in world.sequence(length: length, rng: &rng) }
    }

    /// Example sets of the feature `activation(tokens, position)`: activating windows of `windowLength`
    /// tokens around firing tokens (not overlapping), and per held-out document up to
    /// `quietPerDocument` windows with no firing token. Documents with `DocumentSplit.isHeldOut` give
    /// held-out windows, the others explanation windows.
    static func sets(
        documents: [[Int]], windowLength: Int = 16, quietPerDocument: Int = 1, rng: inout SeededRandom,
        activation: ([Int], Int) -> Float
    ) -> FeatureExampleSets {
        var explanation: [ScoredWindow] = []
        var activating: [ScoredWindow] = []
        var quiet: [ScoredWindow] = []
        for (document, tokens) in documents.enumerated() {
            let activations = tokens.indices.map { activation(tokens, $0) }
            let heldOut = DocumentSplit.isHeldOut(document: document)
            func window(_ start: Int) -> ScoredWindow {
                let end = min(start + windowLength, tokens.count)
                return ScoredWindow(document: document, start: start, tokens: Array(tokens[start..<end]),
                                    activations: Array(activations[start..<end]))
            }
            var position = 0
            while position < tokens.count {
                if activations[position] > 0 {
                    let start = max(0, min(position - windowLength / 2, tokens.count - windowLength))
                    if heldOut { activating.append(window(start)) } else { explanation.append(window(start)) }
                    position = start + windowLength
                } else {
                    position += 1
                }
            }
            guard heldOut, tokens.count >= windowLength else { continue }
            var found = 0
            for _ in 0..<20 where found < quietPerDocument {
                let start = rng.nextInt(below: tokens.count - windowLength + 1)
                let candidate = window(start)
                if candidate.peak <= 0 && !quiet.contains(candidate) {
                    quiet.append(candidate)
                    found += 1
                }
            }
        }
        return FeatureExampleSets(explanation: explanation, heldOutActivating: activating, heldOutNonActivating: quiet)
    }

    /// A deterministic activation in (1, 3] for firing tokens.
    static func strength(_ tokens: [Int], _ position: Int) -> Float {
        1 + Float((tokens[position] &* 31 &+ position &* 17) % 100) / 50
    }
}

@Suite("Explanations: offline rule fitting")
struct ExplanationRuleTests {
    let world = ToyWorld()

    func id(_ word: String) throws -> Int { try #require(world.tokenizer.id(for: word)) }
    func display(_ id: Int) -> String { world.tokenizer.displayString(for: id) }

    func toySets(seed: UInt64 = 7, documents: Int = 120, activation: ([Int], Int) -> Float) -> FeatureExampleSets {
        var rng = SeededRandom(seed: seed)
        let docs = ExplanationFixtures.toyDocuments(count: documents, length: 64, rng: &rng)
        return ExplanationFixtures.sets(documents: docs, rng: &rng, activation: activation)
    }

    func fit(_ sets: FeatureExampleSets) throws -> OfflineExplanation {
        try #require(RuleExplainer.explain(explanationWindows: sets.explanation, display: display))
    }

    @Test func findsATokenSet() throws {
        let openers = try ["when", "after", "while"].map(id)
        let sets = toySets { tokens, p in openers.contains(tokens[p]) ? ExplanationFixtures.strength(tokens, p) : 0 }
        let found = try fit(sets)
        guard case .tokenSet(let members) = found.rule else {
            Issue.record("expected a token set, got \(found.rule)")
            return
        }
        #expect(members.map(\.token).sorted() == openers.sorted())
        #expect(found.isSimpleRule && found.quality > 0.95)
        #expect(found.text.hasPrefix("Fires on “"))
        for word in ["when", "after", "while"] { #expect(found.text.contains("“ \(word)”")) }
        #expect(members.allSatisfy { $0.activation > 1 && $0.activation <= 3 })
    }

    @Test func findsASingleToken() throws {
        let mary = try id("Mary")
        let sets = toySets { tokens, p in tokens[p] == mary ? 2 : 0 }
        let found = try fit(sets)
        #expect(found.rule == .tokenSet([RuleToken(token: mary, activation: 2)]))
        #expect(found.text == "Fires on the token “ Mary”.")
    }

    @Test func findsAnNGram() throws {
        let (went, to) = (try id("went"), try id("to"))
        let sets = toySets { tokens, p in p > 0 && tokens[p] == to && tokens[p - 1] == went ? 1.5 : 0 }
        let found = try fit(sets)
        #expect(found.rule == .nGram(tokens: [went, to], activation: 1.5))
        #expect(found.text == "Fires on “ to” after “ went”.")
    }

    @Test func findsATokenInContext() throws {
        // In random text the context is identifiable from activating windows alone: token 5 fires only
        // when token 9 occurred within the previous 4 tokens.
        var rng = SeededRandom(seed: 12)
        let docs = ExplanationFixtures.randomDocuments(count: 300, length: 64, vocabulary: 2..<40, rng: &rng)
        let sets = ExplanationFixtures.sets(documents: docs, rng: &rng) { tokens, p in
            tokens[p] == 5 && tokens[max(0, p - 4)..<p].contains(9) ? ExplanationFixtures.strength(tokens, p) : 0
        }
        let found = try #require(RuleExplainer.explain(explanationWindows: sets.explanation, display: { "␣w\($0)" }))
        guard case .tokenInContext(let token, let context, let distance, _) = found.rule else {
            Issue.record("expected a token-in-context rule, got \(found.rule): \(found.text)")
            return
        }
        #expect(token == 5 && context == 9 && distance == 4)
        #expect(found.text == "Fires on “␣w5” when “␣w9” occurred within the previous 4 tokens.")
    }

    @Test func saysSoWhenNoSimpleRuleFits() throws {
        // Fires at random on 5% of positions, whatever the token.
        let sets = toySets { tokens, p in
            (tokens[p] &* 7919 &+ p &* 104_729 &+ tokens[max(0, p - 1)] &* 13) % 20 == 0 ? 1 : 0
        }
        let found = try fit(sets)
        #expect(!found.isSimpleRule)
        #expect(found.text.hasPrefix("No simple token rule found; strongest on “"))
        guard case .tokenSet(let members) = found.rule else {
            Issue.record("the fallback is scored as a token set")
            return
        }
        #expect(members.count == 3)
    }

    @Test func isDeterministic() throws {
        let (gave, to) = (try id("gave"), try id("to"))
        let feature: ([Int], Int) -> Float = { tokens, p in
            tokens[p] == to && tokens[max(0, p - 4)..<p].contains(gave) ? 1 : 0
        }
        let a = try fit(toySets(seed: 3, activation: feature))
        let b = try fit(toySets(seed: 3, activation: feature))
        #expect(a == b)
        var rng1 = SeededRandom(seed: 11)
        var rng2 = SeededRandom(seed: 11)
        let sets = toySets(seed: 3, activation: feature)
        let first = FeatureExplainer.explain(sets: sets, display: display, rng: &rng1)
        let second = FeatureExplainer.explain(sets: sets, display: display, rng: &rng2)
        #expect(first.explanation == second.explanation && first.warnings == second.warnings)
    }

    @Test func returnsNilWhenTheFeatureNeverFires() {
        let sets = toySets(documents: 20) { _, _ in 0 }
        #expect(RuleExplainer.explain(explanationWindows: sets.explanation, display: display) == nil)
        var rng = SeededRandom(seed: 1)
        let quiet = FeatureExampleSets(
            explanation: [ScoredWindow(document: 0, start: 0, tokens: [5, 6], activations: [0, 0])],
            heldOutActivating: [],
            heldOutNonActivating: [ScoredWindow(document: 1, start: 0, tokens: [5, 6], activations: [0, -1])])
        let result = FeatureExplainer.explain(sets: quiet, display: display, rng: &rng)
        #expect(result.explanation == nil && result.warnings.isEmpty)
        let empty = FeatureExplainer.explain(
            sets: FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: []),
            display: display, rng: &rng)
        #expect(empty.explanation == nil)
    }

    @Test func toleratesMalformedWindows() {
        let windows = [
            ScoredWindow(document: 0, start: 0, tokens: [4, 5, 6, 7], activations: [0, 2]),
            ScoredWindow(document: 2, start: 0, tokens: [5], activations: [.nan, 3, 4]),
            ScoredWindow(document: 4, start: 0, tokens: [], activations: []),
            ScoredWindow(document: 6, start: 0, tokens: [5, 9], activations: [.infinity, 1]),
        ]
        let found = RuleExplainer.explain(explanationWindows: windows, display: { "t\($0)" })
        #expect(found != nil)
        var rng = SeededRandom(seed: 2)
        let sets = FeatureExampleSets(explanation: windows, heldOutActivating: windows.map {
            var window = $0
            window.document += 1
            return window
        }, heldOutNonActivating: [])
        let result = FeatureExplainer.explain(sets: sets, display: { "t\($0)" }, rng: &rng)
        let explanation = result.explanation
        #expect(explanation != nil)
        if let explanation {
            let scores = [explanation.detection, explanation.fuzzing, explanation.simulation]
            #expect(scores.allSatisfy { $0.isFinite })
            #expect((try? JSONEncoder().encode(explanation)) != nil)
        }
    }

    @Test func rulesPredictAndReadAsSentences() {
        let show: (Int) -> String = { ["␣the", "␣year", "␣in", "␣a", "␣count"][$0] }
        let tokens = [2, 0, 1, 3, 4, 0, 0, 3, 1]
        let set = ExplanationRule.tokenSet([RuleToken(token: 1, activation: 2), RuleToken(token: 3, activation: 0.5)])
        #expect(set.predictedFiring(tokens: tokens) == [false, false, true, true, false, false, false, true, true])
        #expect(set.predictedActivations(tokens: tokens) == [0, 0, 2, 0.5, 0, 0, 0, 0.5, 2])
        #expect(set.sentence(display: show) == "Fires on “␣year”, “␣a”.")
        #expect(ExplanationRule.tokenSet([RuleToken(token: 1, activation: 1)]).sentence(display: show)
            == "Fires on the token “␣year”.")

        let bigram = ExplanationRule.nGram(tokens: [0, 1], activation: 3)
        #expect(bigram.predictedFiring(tokens: tokens) == [false, false, true, false, false, false, false, false, false])
        #expect(bigram.sentence(display: show) == "Fires on “␣year” after “␣the”.")
        let trigram = ExplanationRule.nGram(tokens: [2, 0, 1], activation: 3)
        #expect(trigram.predictedActivations(tokens: tokens) == [0, 0, 3, 0, 0, 0, 0, 0, 0])
        #expect(trigram.sentence(display: show) == "Fires on “␣year” after “␣in” “␣the”.")

        let context = ExplanationRule.tokenInContext(token: 3, context: 4, distance: 3, activation: 1)
        #expect(context.predictedFiring(tokens: tokens) == [false, false, false, false, false, false, false, true, false])
        #expect(context.sentence(display: show) == "Fires on “␣a” when “␣count” occurred within the previous 3 tokens.")
        #expect(ExplanationRule.tokenInContext(token: 3, context: 4, distance: 1, activation: 1).sentence(display: show)
            == "Fires on “␣a” right after “␣count”.")
        #expect(set.complexity < bigram.complexity + 0.5 && trigram.complexity < context.complexity)
        let coded = try? JSONDecoder().decode(ExplanationRule.self, from: JSONEncoder().encode(context))
        #expect(coded == context)
    }
}
