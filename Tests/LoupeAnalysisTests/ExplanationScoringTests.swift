import Foundation
import LoupeCore
import LoupeFindings
import Testing
@testable import LoupeAnalysis

@Suite("Explanations: held-out scoring")
struct ExplanationScoringTests {
    /// Ids 2..<62; token 7 is where the feature fires, token 50 occurs as often but never fires.
    static let firingToken = 7
    static let unrelatedToken = 50

    static func display(_ id: Int) -> String { "␣w\(id)" }

    static func sets(seed: UInt64 = 21, documents: Int = 400) -> FeatureExampleSets {
        var rng = SeededRandom(seed: seed)
        let docs = ExplanationFixtures.randomDocuments(count: documents, length: 64, vocabulary: 2..<62, rng: &rng)
        return ExplanationFixtures.sets(documents: docs, quietPerDocument: 2, rng: &rng) { tokens, p in
            tokens[p] == firingToken ? ExplanationFixtures.strength(tokens, p) : 0
        }
    }

    @Test func wrongExplanationScoresAtChanceAndRightOneHigh() throws {
        let sets = Self.sets()
        let heldOut = HeldOutWindows(sets: sets)
        #expect(heldOut.activating.count >= 150 && heldOut.nonActivating.count >= 150)
        var rng = SeededRandom(seed: 5)
        let items = ExplanationScorer.fuzzingItems(heldOut: heldOut, rng: &rng)

        // A rule for a token that never co-occurs with firing.
        let wrong = ExplanationRule.tokenSet([RuleToken(token: Self.unrelatedToken, activation: 2)])
        let wrongScores = ExplanationScorer.score(predictor: wrong, heldOut: heldOut, items: items)
        #expect(abs(wrongScores.detection - 0.5) < 0.08, "detection \(wrongScores.detection)")
        #expect(abs(wrongScores.fuzzing - 0.5) < 0.08, "fuzzing \(wrongScores.fuzzing)")
        #expect(abs(wrongScores.simulation) < 0.1, "simulation \(wrongScores.simulation)")

        // The rule the explainer fits on the explanation windows.
        let fitted = try #require(RuleExplainer.explain(explanationWindows: sets.explanation, display: Self.display))
        #expect(fitted.text == "Fires on the token “␣w7”.")
        let right = ExplanationScorer.score(predictor: fitted.rule, heldOut: heldOut, items: items)
        #expect(right.detection > 0.95 && right.fuzzing > 0.95 && right.simulation > 0.8, "\(right)")
        #expect(right.heldOutExamples == heldOut.count)

        // The same through the public entry point.
        var entryRNG = SeededRandom(seed: 5)
        let result = FeatureExplainer.explain(sets: sets, display: Self.display, rng: &entryRNG)
        let explanation = try #require(result.explanation)
        #expect(result.warnings.isEmpty)
        #expect(explanation == Explanation(
            text: "Fires on the token “␣w7”.", source: "offline", detection: right.detection, fuzzing: right.fuzzing,
            simulation: right.simulation, heldOutExamples: heldOut.count))
    }

    @Test func explainerAndScorerSeeDisjointDocuments() throws {
        let sets = Self.sets(documents: 120)
        #expect(!sets.explanation.isEmpty && !sets.heldOutActivating.isEmpty && !sets.heldOutNonActivating.isEmpty)
        var seen: [(FeatureExplainer.Stage, [ScoredWindow])] = []
        var rng = SeededRandom(seed: 9)
        let result = FeatureExplainer.explain(
            sets: sets, display: Self.display, session: nil, settings: ExplainerSettings(), rng: &rng
        ) { stage, windows in seen.append((stage, windows)) }
        #expect(result.explanation != nil)
        let shown = seen.filter { $0.0 == .explainer }.flatMap(\.1)
        let scored = seen.filter { $0.0 == .scorer }.flatMap(\.1)
        #expect(shown == sets.explanation)
        #expect(scored == sets.heldOutActivating + sets.heldOutNonActivating)
        #expect(shown.allSatisfy { !DocumentSplit.isHeldOut(document: $0.document) })
        #expect(scored.allSatisfy { DocumentSplit.isHeldOut(document: $0.document) })
        #expect(Set(shown.map(\.document)).isDisjoint(with: scored.map(\.document)))
    }

    @Test func explanationWindowsFromHeldOutDocumentsAreDropped() throws {
        var sets = Self.sets(documents: 120)
        let leaked = Array(sets.heldOutActivating.prefix(3))
        sets.explanation += leaked
        var seen: [ScoredWindow] = []
        var rng = SeededRandom(seed: 9)
        let result = FeatureExplainer.explain(
            sets: sets, display: Self.display, session: nil, settings: ExplainerSettings(), rng: &rng
        ) { stage, windows in if stage == .explainer { seen += windows } }
        #expect(result.explanation != nil)
        #expect(seen == Array(sets.explanation.dropLast(3)))
        #expect(result.warnings == ["3 explanation window(s) came from held-out documents and were not shown to the explainer"])
    }

    @Test func fuzzingItemsAreBalancedAndSeeded() {
        let heldOut = HeldOutWindows(sets: Self.sets(documents: 60))
        var a = SeededRandom(seed: 4)
        var b = SeededRandom(seed: 4)
        let items = ExplanationScorer.fuzzingItems(heldOut: heldOut, maxPerWindow: 2, rng: &a)
        #expect(items == ExplanationScorer.fuzzingItems(heldOut: heldOut, maxPerWindow: 2, rng: &b))
        #expect(items.filter(\.fires).count == items.filter { !$0.fires }.count)
        for window in heldOut.activating {
            let mine = items.filter { $0.tokens == window.tokens }
            let firing = window.activations.filter { $0 > 0 }.count
            #expect(mine.filter(\.fires).count == min(2, firing))
        }
        for item in items {
            let window = heldOut.activating.first { $0.tokens == item.tokens }
            #expect(window.map { ($0.activations[item.highlighted] > 0) == item.fires } ?? false)
        }
    }

    @Test func scoreEdgeCases() {
        #expect(abs(ExplanationScorer.pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12)
        #expect(abs(ExplanationScorer.pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12)
        #expect(ExplanationScorer.pearson([1, 1, 1], [1, 2, 3]) == 0)
        #expect(ExplanationScorer.pearson([1, 2, 3], [0, 0, 0]) == 0)
        #expect(ExplanationScorer.pearson([1], [1]) == 0)
        #expect(ExplanationScorer.pearson([1, 2], [1]) == 0)
        #expect(ExplanationScorer.balancedAccuracy(truePositives: 3, positives: 4, trueNegatives: 1, negatives: 2) == 0.625)
        #expect(ExplanationScorer.balancedAccuracy(truePositives: 3, positives: 3, trueNegatives: 0, negatives: 0) == 0.5)

        // A rule that never fires: chance detection and fuzzing, no correlation.
        let heldOut = HeldOutWindows(sets: Self.sets(documents: 40))
        var rng = SeededRandom(seed: 1)
        let items = ExplanationScorer.fuzzingItems(heldOut: heldOut, rng: &rng)
        let silent = ExplanationScorer.score(predictor: ExplanationRule.tokenSet([]), heldOut: heldOut, items: items)
        #expect(silent.detection == 0.5 && silent.fuzzing == 0.5 && silent.simulation == 0)

        // No held-out windows at all: chance by definition, with a warning.
        var sets = Self.sets(documents: 40)
        sets.heldOutActivating = []
        sets.heldOutNonActivating = []
        let result = FeatureExplainer.explain(sets: sets, display: Self.display, rng: &rng)
        #expect(result.explanation?.heldOutExamples == 0)
        #expect(result.explanation?.detection == 0.5)
        #expect(result.warnings.contains("no held-out windows: scores are at chance by definition"))
    }
}
