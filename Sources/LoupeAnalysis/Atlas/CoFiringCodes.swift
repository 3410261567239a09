import Foundation
import LoupeCore
import LoupeFindings

/// The firing features of every row, kept on disk when a dictionary is too wide for dense `[F, F]`
/// co-firing counts in memory; co-firing links are then counted from them a block of features at a time.
///
/// A codes file is a sequence of records, one per encoded block: the number of rows `n`, then the `n`
/// row lengths, then each row's firing feature indices in ascending order (every field a little-endian
/// UInt32). Special rows have length 0. Several files (shards of a corpus, in order) count as one.
enum CoFiringCodes {
    /// Creates an empty codes file at `url`, replacing any file there.
    static func create(_ url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw AtlasError.unreadableShard(path: url.path, reason: "the co-firing codes file cannot be created")
        }
    }

    /// Appends one record: rows whose firing features are `indices[offsets[r]..<offsets[r + 1]]`.
    static func append(offsets: [Int], indices: [Int32], to url: URL) throws {
        let rows = offsets.count - 1
        var words = [UInt32]()
        words.reserveCapacity(1 + rows + indices.count)
        words.append(UInt32(rows).littleEndian)
        for row in 0..<rows { words.append(UInt32(offsets[row + 1] - offsets[row]).littleEndian) }
        for index in indices { words.append(UInt32(index).littleEndian) }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: words.withUnsafeBytes { Data($0) })
        } catch {
            throw AtlasError.unreadableShard(path: url.path, reason: "cannot append co-firing codes: \(error)")
        }
    }

    /// The `capacity` strongest co-firing links of each of `featureCount` features, as
    /// `AtlasBuilder.findings` defines them (tokens shared ÷ the feature's firing tokens), counted from
    /// `files` in blocks of features whose `[B, F]` UInt32 counts take at most `memory` bytes.
    static func links(files: [URL], featureCount f: Int, fireCounts: [Int], capacity: Int, memory: Int) throws -> [[FeatureLink]] {
        let block = max(1, min(f, memory / (4 * f)))
        var links = [[FeatureLink]](repeating: [], count: f)
        for lower in stride(from: 0, to: f, by: block) {
            let owned = lower..<min(f, lower + block)
            var counts = [UInt32](repeating: 0, count: owned.count * f)
            for file in files {
                try forEachRecord(file, featureCount: f) { lengths, indices in count(lengths: lengths, indices: indices, owned: owned, featureCount: f, into: &counts) }
            }
            for i in owned {
                links[i] = Self.links(of: i, counts: counts, row: (i - lower) * f, featureCount: f, fires: fireCounts[i], capacity: capacity)
            }
        }
        return links
    }

    /// Feature `i`'s links from its co-firing counts `counts[row..<row + F]`, given its `fires`.
    static func links(of i: Int, counts: [UInt32], row: Int, featureCount f: Int, fires: Int, capacity: Int) -> [FeatureLink] {
        guard fires > 0 else { return [] }
        var top = TopLinks(capacity: capacity)
        for other in 0..<f where other != i && counts[row + other] > 0 {
            top.offer(index: other, score: Float(Double(counts[row + other]) / Double(fires)))
        }
        return top.links
    }

    /// Adds the pairs of one record whose first feature is in `owned` to `counts` (`[owned.count, F]`),
    /// the owned features split over the cores.
    private static func count(lengths: [UInt32], indices: [UInt32], owned: Range<Int>, featureCount f: Int, into counts: inout [UInt32]) {
        var starts = [Int](repeating: 0, count: lengths.count + 1)
        for row in lengths.indices { starts[row + 1] = starts[row] + Int(lengths[row]) }
        indices.withUnsafeBufferPointer { list in
            counts.withUnsafeMutableBufferPointer { target in
                guard let list = list.baseAddress, let target = target.baseAddress else { return }
                parallelChunks(count: owned.count, minimumChunk: 16) { part in
                    let mine = (owned.lowerBound + part.lowerBound)..<(owned.lowerBound + part.upperBound)
                    for row in lengths.indices {
                        let (start, end) = (starts[row], starts[row + 1])
                        for a in start..<end {
                            let i = Int(list[a])
                            if i < mine.lowerBound { continue }
                            if i >= mine.upperBound { break }
                            let base = target + (i - owned.lowerBound) * f
                            for b in start..<end { base[Int(list[b])] &+= 1 }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with each record of `url` in order, checking that it is whole and that each row's
    /// indices ascend below `featureCount`.
    private static func forEachRecord(_ url: URL, featureCount: Int, _ body: ([UInt32], [UInt32]) throws -> Void) throws {
        let broken = AtlasError.unreadableShard(path: url.path, reason: "is not a whole co-firing codes file")
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw AtlasError.unreadableShard(path: url.path, reason: "the co-firing codes cannot be read: \(error)")
        }
        defer { try? handle.close() }
        func words(_ count: Int) throws -> [UInt32]? {
            guard count > 0 else { return [] }
            guard let data = try handle.read(upToCount: 4 * count), !data.isEmpty else { return nil }
            guard data.count == 4 * count else { throw broken }
            return data.withUnsafeBytes { raw in (0..<count).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) } }
        }
        while let header = try words(1) {
            guard let lengths = try words(Int(header[0])) else { throw broken }
            let total = lengths.reduce(0) { $0 + Int($1) }
            guard let indices = try words(total) else { throw broken }
            var start = 0
            for length in lengths {
                let row = indices[start..<(start + Int(length))]
                guard zip(row, row.dropFirst()).allSatisfy({ $0 < $1 }), (row.last ?? 0) < featureCount else { throw broken }
                start += Int(length)
            }
            try body(lengths, indices)
        }
    }
}
