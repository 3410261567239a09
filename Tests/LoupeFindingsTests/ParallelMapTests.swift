import Foundation
import LoupeFindings
import Testing

/// `parallelMap`: results in order, every element once, the earliest failure reported.
@Suite struct ParallelMapTests {
    struct Failure: Error, Equatable {
        let index: Int
    }

    @Test func resultsKeepTheCollectionsOrder() throws {
        let values = Array(0..<1000)
        #expect(try values.parallelMap { $0 * $0 } == values.map { $0 * $0 })
        #expect(try [Int]().parallelMap { $0 }.isEmpty)
        #expect(try (5..<9).parallelMap { $0 } == [5, 6, 7, 8])
    }

    @Test func theEarliestFailureIsReported() {
        for _ in 0..<20 {
            #expect(throws: Failure(index: 100)) {
                try Array(0..<1000).parallelMap { index -> Int in
                    if index == 100 || index == 900 || index == 901 { throw Failure(index: index) }
                    return index
                }
            }
        }
    }

    @Test func progressCountsUpToTheTotal() throws {
        var reported: [Int] = []
        _ = try Array(0..<200).parallelMap(progress: { reported.append($0) }) { $0 }
        #expect(reported == reported.sorted() && (reported.last ?? 0) <= 200 && !reported.isEmpty)
    }
}
