import Foundation
import LoupeFindings

/// First-pass statistics on disk, as a shard of a build leaves them for the merge: `<name>.json`
/// (everything but the co-firing counts, by `JSONWriter`) and `<name>.cofiring` (the `[F, F]`
/// counts as little-endian UInt32, 4·F² bytes), each written to a temporary file and renamed.
extension FirstPassStatistics {
    /// Writes the two files named `name` in `directory`.
    public func write(to directory: URL, name: String) throws {
        var bare = self
        bare.coFiring = []
        let counts = coFiring.map(\.littleEndian).withUnsafeBytes { Data($0) }
        do {
            try counts.write(to: Self.coFiringFile(directory, name), options: .atomic)
            try JSONWriter.encode(bare).write(to: Self.statisticsFile(directory, name), options: .atomic)
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
        guard let counts = try? Data(contentsOf: countsURL), counts.count == 4 * f * f,
              statistics.fireCounts.count == f, statistics.maxima.count == f, statistics.sumLow.count == f,
              statistics.sumHigh.count == f, statistics.strongest.count == 2 * f
        else {
            throw AtlasError.unreadableShard(
                path: countsURL.path, reason: "is missing or does not hold \(f)×\(f) co-firing counts for the statistics beside it")
        }
        statistics.coFiring = counts.withUnsafeBytes { raw in raw.bindMemory(to: UInt32.self).map { UInt32(littleEndian: $0) } }
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
            try JSONWriter.encode(self).write(to: url, options: .atomic)
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
