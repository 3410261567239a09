import LoupeAnalysis
@testable import LoupeReport
import Testing

/// The windows a dictionary's reconstruction quality is measured on: exactly the token budget (or the
/// whole corpus), spread over the corpus, in batches of one length.
@Suite struct QualitySampleTests {
    static func windows(_ lengths: [Int]) -> [CorpusWindow] {
        lengths.enumerated().map { CorpusWindow(document: $0.offset, start: 0, tokens: Array(repeating: $0.offset, count: $0.element), hasBOS: false) }
    }

    @Test func theBudgetIsMetSpreadOverTheCorpusInBatchesOfOneLength() {
        let windows = Self.windows((0..<100).map { 5 + $0 % 7 })
        let batches = DictionaryStep.qualityBatches(windows, tokens: 200)
        let chosen = batches.flatMap { $0 }
        #expect(chosen.reduce(0) { $0 + $1.count } == 200)
        #expect(batches.allSatisfy { batch in batch.count <= DictionaryStep.qualityBatch && batch.allSatisfy { $0.count == batch[0].count } })
        let documents = Set(chosen.map { $0[0] })
        #expect(documents.contains(0) && documents.max()! >= 60, "\(documents.sorted())")
    }

    @Test func aSmallCorpusIsMeasuredWhole() {
        let windows = Self.windows([4, 9, 1, 6])
        let chosen = DictionaryStep.qualityBatches(windows, tokens: 1000).flatMap { $0 }
        #expect(chosen.map(\.count).sorted() == [1, 4, 6, 9])
    }
}
