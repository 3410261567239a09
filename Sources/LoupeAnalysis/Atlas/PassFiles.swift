import Foundation
import LoupeFindings

/// First-pass statistics on disk, as a shard of a build leaves them for the merge: `<name>.json`
/// (everything but the co-firing counts, by `JSONWriter`) and `<name>.cofiring` (the nonzero entries
/// of the `[F, F]` counts, which are few (a sparse dictionary's features fire together rarely), in
/// index order, 12 bytes each: the index `i·F + j` as a little-endian UInt64, then the count as a
/// UInt32), each written to a temporary file and renamed; for a dictionary whose co-firing is
/// counted from codes, `<name>.codes` (`CoFiringCodes`) instead of `<name>.cofiring`.
extension FirstPassStatistics {
    /// Writes the files named `name` in `directory` (the codes are copied there unless they are
    /// already `<name>.codes`, as when the first pass was given that file).
    public func write(to directory: URL, name: String) throws {
        var bare = self
        bare.coFiring = []
        bare.coFiringCodes = []
        if !coFiringCodes.isEmpty { try writeCodes(to: Self.coFiringCodesFile(directory, name)) }
        do {
            if coFiringCodes.isEmpty {
                var counts = Data()
                for (index, count) in coFiring.enumerated() where count != 0 {
                    withUnsafeBytes(of: UInt64(index).littleEndian) { counts.append(contentsOf: $0) }
                    withUnsafeBytes(of: count.littleEndian) { counts.append(contentsOf: $0) }
                }
                try AtomicFile.write(counts, to: Self.coFiringFile(directory, name))
            }
            try AtomicFile.write(JSONWriter.encode(bare), to: Self.statisticsFile(directory, name))
        } catch {
            throw AtlasError.unreadableShard(path: Self.statisticsFile(directory, name).path, reason: "cannot be written: \(error)")
        }
    }

    /// Reads the statistics `write(to:name:)` left in `directory`, checking the co-firing file's size.
    public static func read(from directory: URL, name: String) throws -> FirstPassStatistics {
        let url = statisticsFile(directory, name)
        var statistics = try decodeStatistics(FirstPassStatistics.self, from: url, kind: "first-pass")
        let f = statistics.featureCount
        if usesCodes(featureCount: f, memory: statistics.coFiringMemory) {
            let codes = coFiringCodesFile(directory, name)
            guard FileManager.default.fileExists(atPath: codes.path) else {
                throw AtlasError.unreadableShard(path: codes.path, reason: "is missing: the co-firing codes of the statistics beside it")
            }
            statistics.coFiringCodes = [codes.path]
            return statistics
        }
        let countsURL = coFiringFile(directory, name)
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
    /// Where a shard's first pass keeps its co-firing codes.
    public static func coFiringCodesFile(_ directory: URL, _ name: String) -> URL { directory.appendingPathComponent(name + ".codes") }

    /// The codes files, one after the other, as `destination` (nothing to do when they are already it).
    private func writeCodes(to destination: URL) throws {
        guard coFiringCodes != [destination.path] else { return }
        let staged = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString)")
        do {
            try CoFiringCodes.create(staged)
            let output = try FileHandle(forWritingTo: staged)
            defer { try? output.close() }
            for path in coFiringCodes {
                let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                defer { try? input.close() }
                while let piece = try input.read(upToCount: 1 << 24), !piece.isEmpty { try output.write(contentsOf: piece) }
            }
            try? FileManager.default.removeItem(at: destination)
            try FileManager.default.moveItem(at: staged, to: destination)
        } catch {
            try? FileManager.default.removeItem(at: staged)
            throw AtlasError.unreadableShard(path: destination.path, reason: "cannot be written: \(error)")
        }
    }
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
        let statistics = try decodeStatistics(SecondPassStatistics.self, from: url, kind: "second-pass")
        let f = statistics.featureCount
        guard statistics.maxima.count == f, statistics.histograms.count == f * statistics.options.histogramBins,
              statistics.intervalSamples.count == f * statistics.options.intervals * 2, statistics.nonActivating.count == f
        else {
            throw AtlasError.unreadableShard(path: url.path, reason: "does not hold second-pass statistics of \(f) features")
        }
        return statistics
    }
}

/// The statistics decoded from the JSON file `url`, or `unreadableShard` saying that the file is missing
/// or does not hold `kind` statistics.
private func decodeStatistics<Statistics: Decodable>(_ type: Statistics.Type, from url: URL, kind: String) throws -> Statistics {
    do {
        return try JSONDecoder().decode(type, from: Data(contentsOf: url))
    } catch {
        throw AtlasError.unreadableShard(path: url.path, reason: "is missing or not \(kind) statistics (\(error))")
    }
}
