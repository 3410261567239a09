import LoupeAnalysis
import Testing

/// The windows a dictionary's reconstruction quality is measured on: exactly the token budget (or the
/// whole corpus), spread over the corpus.
@Suite struct EvaluationSampleTests {
    static func windows(_ lengths: [Int]) -> [CorpusWindow] {
        lengths.enumerated().map { CorpusWindow(document: $0.offset, start: 0, tokens: Array(repeating: $0.offset, count: $0.element), hasBOS: false) }
    }

    @Test func theBudgetIsMetSpreadOverTheCorpus() {
        let windows = Self.windows((0..<100).map { 5 + $0 % 7 })
        let sample = EvaluationSample.spread(over: windows, tokens: 200, hooks: ["h"])
        #expect(sample.windows.values.reduce(0, +) == 200)
        #expect(sample.windows.allSatisfy { $0.value <= windows[$0.key].count && $0.value > 0 })
        #expect(sample.windows.filter { $0.value < windows[$0.key].count }.count <= 1, "only the last window chosen is cut")
        #expect(sample.windows.keys.contains(0) && sample.windows.keys.max()! >= 60, "\(sample.windows.keys.sorted())")
    }

    @Test func aSmallCorpusIsMeasuredWhole() {
        let windows = Self.windows([4, 9, 1, 6])
        let sample = EvaluationSample.spread(over: windows, tokens: 1000, hooks: ["h"])
        #expect(sample.windows == [0: 4, 1: 9, 2: 1, 3: 6])
    }
}
