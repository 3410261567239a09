import Foundation
import LoupeFindings

/// First-pass statistics on disk, as a shard of a build leaves them for the merge: `<name>.json`
/// (everything but the co-firing counts, by `JSONWriter`) and `<name>.cofiring` (the nonzero entries
/// of the `[F, F]` counts, which are few (a sparse dictionary's features fire together rarely), in
/// index order, 12 bytes each: the index `i·F + j` as a little-endian UInt64, then the count as a
/// UInt32), each written to a temporary file and renamed.
extension FirstPassStatistics {
    /// Writes the two files named `name` in `directory`.
    public func write(to directory: URL, name: String) throws {
        var bare = self
        bare.coFiring = []
        var counts = Data()
        for (index, count) in coFiring.enumerated() where count != 0 {
            withUnsafeBytes(of: UInt64(index).littleEndian) { counts.append(contentsOf: $0) }
            withUnsafeBytes(of: count.littleEndian) { counts.append(contentsOf: $0) }
        }
        do {
            try AtomicFile.write(counts, to: Self.coFiringFile(directory, name))
            try AtomicFile.write(JSONWriter.encode(bare), to: Self.statisticsFile(directory, name))
        } catch {
            throw AtlasError.unreadableShard(path: Self.statisticsFile(directory, name).path, reason: "cannot be written: \(error)")
        }
    }

    /// Reads the statistics `write(to:name:)` left in `directory`, checking the co-firing file's size.
    public static func read(from directory: URL, name: String) throws -> FirstPassStatistics {
        let url = statisticsFile(directory, name)
        var statistics: FirstPassStatistics
        do {
            statistics = try JSONDecoder().decode(FirstPassStatistics.self, from: Data(contentsOf: url))
        } catch {
            throw AtlasError.unreadableShard(path: url.path, reason: "is missing or not first-pass statistics (\(error))")
        }
        let countsURL = coFiringFile(directory, name)
        let f = statistics.featureCount
        let unreadable = AtlasError.unreadableShard(
            path: countsURL.path, reason: "is missing or does not hold \(f)×\(f) co-firing counts for the statistics beside it")
        guard let counts = try? Data(contentsOf: countsURL), counts.count % 12 == 0,
              statistics.fireCounts.count == f, statistics.maxima.count == f, statistics.sumLow.count == f,
              statistics.sumHigh.count == f, statistics.strongest.count == 2 * f
        else { throw unreadable }
        var dense = [UInt32](repeating: 0, count: f * f)
        let complete = counts.withUnsafeBytes { raw -> Bool in
            var previous = -1
            for offset in stride(from: 0, to: raw.count, by: 12) {
                let index = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                guard index < UInt64(dense.count), Int(index) > previous else { return false }
                previous = Int(index)
                dense[previous] = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
            }
            return true
        }
        guard complete else { throw unreadable }
        statistics.coFiring = dense
        return statistics
    }

    static func statisticsFile(_ directory: URL, _ name: String) -> URL { directory.appendingPathComponent(name + ".json") }
    static func coFiringFile(_ directory: URL, _ name: String) -> URL { directory.appendingPathComponent(name + ".cofiring") }
}

/// Second-pass statistics on disk, as a shard's second round leaves them for the merge:
/// `<name>.json` by `JSONWriter`, written to a temporary file and renamed.
extension SecondPassStatistics {
    /// Writes `<name>.json` in `directory`.
    public func write(to directory: URL, name: String) throws {
        let url = directory.appendingPathComponent(name + ".json")
        do {
            try AtomicFile.write(JSONWriter.encode(self), to: url)
        } catch {
            throw AtlasError.unreadableShard(path: url.path, reason: "cannot be written: \(error)")
        }
    }

    /// Reads the statistics `write(to:name:)` left in `directory`, checking their sizes.
    public static func read(from directory: URL, name: String) throws -> SecondPassStatistics {
        let url = directory.appendingPathComponent(name + ".json")
        let statistics: SecondPassStatistics
        do {
            statistics = try JSONDecoder().decode(SecondPassStatistics.self, from: Data(contentsOf: url))
        } catch {
            throw AtlasError.unreadableShard(path: url.path, reason: "is missing or not second-pass statistics (\(error))")
        }
        let f = statistics.featureCount
        guard statistics.maxima.count == f, statistics.histograms.count == f * statistics.options.histogramBins,
              statistics.intervalSamples.count == f * statistics.options.intervals * 2, statistics.nonActivating.count == f
        else {
            throw AtlasError.unreadableShard(path: url.path, reason: "does not hold second-pass statistics of \(f) features")
        }
        return statistics
    }
}
