import Foundation

/// The byte-level BPE model: turns the UTF-8 bytes of one pre-token into token ids by merging
/// adjacent symbols, always the pair with the lowest merge rank first (the leftmost one on ties),
/// until no adjacent pair has a merge — the same procedure as Hugging Face `tokenizers`.
struct BPEModel: Sendable {
    struct Merge: Sendable {
        var rank: UInt32
        var newID: Int32
    }

    /// The id of each byte's one-scalar token, or -1 if the vocabulary lacks it.
    let byteIDs: [Int32]
    /// Merges keyed by `left << 32 | right` (token ids).
    let merges: [UInt64: Merge]
    /// The id used for bytes without a token, or -1 to skip such bytes.
    let unknownID: Int32
    /// Whether consecutive unknown bytes become one unknown token.
    let fuseUnknown: Bool
    /// With `ignore_merges`, pre-tokens whose whole byte string is a token map to it directly.
    let wholeWords: [[UInt8]: Int32]?
    let cache = WordCache()

    /// Pre-tokens longer than this many bytes are not cached.
    static let cacheableLength = 256

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the ids of one pre-token to `output`.
    func encode(_ word: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        if word.count <= Self.cacheableLength {
            let key = Array(word)
            if let ids = cache.lookup(key) {
                output.append(contentsOf: ids)
                return
            }
            let ids = merge(word)
            cache.store(key, ids)
            output.append(contentsOf: ids)
        } else {
            output.append(contentsOf: merge(word))
        }
    }

    /// The ids of one pre-token, without the cache.
    func merge(_ word: UnsafeBufferPointer<UInt8>) -> [Int] {
        if let wholeWords, let id = wholeWords[Array(word)] {
            return [Int(id)]
        }
        var ids: [Int32] = []
        ids.reserveCapacity(word.count)
        var previousWasUnknown = false
        for byte in word {
            let id = byteIDs[Int(byte)]
            if id >= 0 {
                ids.append(id)
                previousWasUnknown = false
            } else if unknownID >= 0 {
                if !(fuseUnknown && previousWasUnknown) { ids.append(unknownID) }
                previousWasUnknown = true
            }
        }
        let count = ids.count
        if count < 2 { return ids.map(Int.init) }

        // Symbols form a linked list over `ids`; a merge keeps the left symbol and unlinks the right.
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index + 1) }
            buffer[count - 1] = -1
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index - 1) }
            initialized = count
        }
        var removed = [Bool](repeating: false, count: count)
        // Heap entries are `rank << 32 | position`, so the smallest is the lowest rank, leftmost.
        var heap = MinHeap()
        for index in 0..<(count - 1) {
            if let merge = merges[Self.key(ids[index], ids[index + 1])] {
                heap.push(UInt64(merge.rank) << 32 | UInt64(index))
            }
        }
        while let entry = heap.pop() {
            let rank = UInt32(truncatingIfNeeded: entry >> 32)
            let position = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF)
            if removed[position] { continue }
            let right = Int(next[position])
            if right < 0 { continue }
            // Entries whose pair has changed since they were pushed are stale.
            guard let merge = merges[Self.key(ids[position], ids[right])], merge.rank == rank else { continue }
            ids[position] = merge.newID
            removed[right] = true
            let after = next[right]
            next[position] = after
            if after >= 0 { previous[Int(after)] = Int32(position) }
            let before = previous[position]
            if before >= 0, let left = merges[Self.key(ids[Int(before)], merge.newID)] {
                heap.push(UInt64(left.rank) << 32 | UInt64(before))
            }
            if after >= 0, let following = merges[Self.key(merge.newID, ids[Int(after)])] {
                heap.push(UInt64(following.rank) << 32 | UInt64(position))
            }
        }
        var result: [Int] = []
        var index = 0
        while index >= 0 {
            result.append(Int(ids[index]))
            index = Int(next[index])
        }
        return result
    }
}

/// A binary min-heap of `UInt64`.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        if items.isEmpty { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        let count = items.count
        while true {
            let left = 2 * parent + 1
            if left >= count { break }
            var smallest = left
            if left + 1 < count && items[left + 1] < items[left] { smallest = left + 1 }
            if items[parent] <= items[smallest] { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// A thread-safe cache from pre-token bytes to token ids, emptied when it grows past `capacity`.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]: [Int]] = [:]
    private let capacity: Int

    init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    func lookup(_ key: [UInt8]) -> [Int]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key]
    }

    func store(_ key: [UInt8], _ ids: [Int]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = ids
    }
}
