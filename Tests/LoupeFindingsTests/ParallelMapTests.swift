import Foundation
import LoupeFindings
import Testing

/// `parallelMap`: results in order, every element once, the earliest failure reported.
@Suite struct ParallelMapTests {
    struct Failure: Error, Equatable {
        let index: Int
    }

    /// Eight workers on a machine of fewer cores: every element waits until all eight are in flight,
    /// which only happens when each has a thread of its own.
    @Test func concurrentMapRunsEveryWorkerAtOnce() {
        let workers = 8
        let arrived = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var progress: [Int] = []
        }
        let log = Log()
        let releaser = Thread {
            var together = true
            for _ in 0..<workers where arrived.wait(timeout: .now() + 30) == .timedOut { together = false }
            for _ in 0..<workers { release.signal() }
            log.lock.lock()
            if !together { log.progress.append(-1) }
            log.lock.unlock()
        }
        releaser.start()
        let results = (0..<workers).concurrentMap(workers: workers, progress: { done in
            log.lock.lock()
            log.progress.append(done)
            log.lock.unlock()
        }) { index -> Int in
            arrived.signal()
            release.wait()
            return index * index
        }
        #expect(results == (0..<workers).map { $0 * $0 })
        #expect(log.progress == Array(1...workers), "not all \(workers) elements were in flight at once")
        #expect((0..<100).concurrentMap(workers: 3) { $0 + 1 } == Array(1...100))
        #expect([Int]().concurrentMap(workers: 4) { $0 }.isEmpty)
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
