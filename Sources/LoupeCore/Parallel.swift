import Foundation

/// Splits `0..<count` into contiguous chunks and runs `body` on them in parallel.
///
/// Chunks are at least `minimumChunk` (≥ 1) long, so small loops run on the calling thread.
/// Each index is visited exactly once; the order of chunks is unspecified, so `body`
/// must write only to locations owned by its own range. `count` must not be negative.
@inline(__always)
public func parallelChunks(count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    precondition(count >= 0 && minimumChunk >= 1, "parallelChunks: count \(count) must be ≥ 0, minimumChunk \(minimumChunk) ≥ 1")
    guard count > 0 else { return }
    let workers = ProcessInfo.processInfo.activeProcessorCount
    let chunks = max(1, min(workers, count / minimumChunk))
    if chunks == 1 {
        body(0..<count)
        return
    }
    let size = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = chunk * size
        let end = min(count, start + size)
        if start < end { body(start..<end) }
    }
}
