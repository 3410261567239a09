import Foundation

extension Collection where Index == Int {
    /// `transform` applied to every element on all cores, results in the collection's order.
    ///
    /// Elements are processed in contiguous chunks (`chunksPerCore` per core, so uneven work still
    /// spreads). If any call throws, its chunk stops and the error of the earliest failing chunk is
    /// rethrown, so the failure reported does not depend on thread timing. `progress`, when given, is
    /// called from the calling thread with the number of elements finished so far.
    public func parallelMap<Result>(
        chunksPerCore: Int = 4, progress: ((Int) -> Void)? = nil, _ transform: (Element) throws -> Result
    ) throws -> [Result] {
        let total = count
        guard total > 0 else { return [] }
        let chunks = Swift.max(1, Swift.min(total, ProcessInfo.processInfo.activeProcessorCount * chunksPerCore))
        let state = ParallelMapState<Result>(count: total, chunks: chunks)
        let base = startIndex
        let caller = Thread.current
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lower = total * chunk / chunks
            let upper = total * (chunk + 1) / chunks
            for offset in lower..<upper {
                do {
                    let finished = state.store(try transform(self[base + offset]), at: offset)
                    if Thread.current === caller { progress?(finished) }
                } catch {
                    state.fail(chunk: chunk, error)
                    return
                }
            }
        }
        if let error = state.firstError { throw error }
        return state.results()
    }
}

extension Collection where Index == Int {
    /// `transform` applied to every element by `workers` threads of their own, results in the
    /// collection's order: for work that mostly waits (on a network), where the core count is no bound.
    /// Each thread takes the next unclaimed element until none is left. `progress`, when given, is called
    /// from the calling thread with the number of elements finished so far.
    public func concurrentMap<Result>(
        workers: Int, progress: ((Int) -> Void)? = nil, _ transform: @escaping (Element) -> Result
    ) -> [Result] {
        let total = count
        guard total > 0 else { return [] }
        let state = ParallelMapState<Result>(count: total, chunks: 1)
        let elements = Array(self)
        let finished = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for _ in 0..<Swift.max(1, Swift.min(workers, total)) {
            done.enter()
            Thread.detachNewThread {
                while let offset = state.claim(below: total) {
                    _ = state.store(transform(elements[offset]), at: offset)
                    finished.signal()
                }
                done.leave()
            }
        }
        for finishedCount in 1...total {
            finished.wait()
            progress?(finishedCount)
        }
        done.wait()
        return state.results()
    }
}

/// Results and errors of a `parallelMap` or `concurrentMap` in progress, guarded by a lock.
private final class ParallelMapState<Result>: @unchecked Sendable {
    private var values: [Result?]
    private var errors: [Error?]
    private var finished = 0
    private var claimed = 0
    private let lock = NSLock()

    init(count: Int, chunks: Int) {
        values = Array(repeating: nil, count: count)
        errors = Array(repeating: nil, count: chunks)
    }

    /// Stores the result of element `offset`; returns how many elements are finished.
    func store(_ value: Result, at offset: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        values[offset] = value
        finished += 1
        return finished
    }

    /// The next element no thread has taken, nil when all `count` are taken.
    func claim(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard claimed < count else { return nil }
        claimed += 1
        return claimed - 1
    }

    func fail(chunk: Int, _ error: Error) {
        lock.lock()
        errors[chunk] = error
        lock.unlock()
    }

    var firstError: Error? {
        lock.lock()
        defer { lock.unlock() }
        return errors.lazy.compactMap { $0 }.first
    }

    func results() -> [Result] {
        lock.lock()
        defer { lock.unlock() }
        return values.map { $0! }
    }
}
