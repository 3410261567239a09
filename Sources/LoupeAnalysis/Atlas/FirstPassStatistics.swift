import Foundation
import LoupeCore
import LoupeFindings

/// The first streaming pass of an atlas over a hook's activations: per feature (F of them) the
/// firing count, the largest activation, the exact sum of firing activations, the strongest
/// examples per document split, and the co-firing counts `[F, F]` — or, when those would take more than
/// `coFiringMemory` bytes, the firing features of every row in a codes file (`CoFiringCodes`), from
/// which the links are counted a block of features at a time, so memory does not grow with F².
///
/// A feature fires on a token when its activation is > 0; special (BOS) rows are skipped.
/// Everything here is a mergeable value: counts and sums add, maxima take the larger, example
/// selections keep the best of both (see `CandidateSelection`), so statistics of disjoint corpus
/// shards `merge` into exactly the statistics of one pass over all of them.
public struct FirstPassStatistics: Codable, Sendable, Equatable {
    /// TransformerLens hook name.
    public let hook: String
    /// Number of features `F`.
    public let featureCount: Int
    /// Width `d_in` of the hook's activations.
    public let inputWidth: Int
    /// Sizes and seed.
    public let options: AtlasOptions
    /// Non-special rows seen.
    public private(set) var tokens: Int = 0
    /// Firing tokens per feature (`F`).
    public private(set) var fireCounts: [Int]
    /// Largest firing activation per feature, 0 for a feature that never fired (`F`).
    public private(set) var maxima: [Float]
    /// Sum of the firing activations per feature in fixed point (2⁻³² units), as two 64-bit
    /// words (low, high), so that sums add exactly in any order (`F` each).
    var sumLow: [UInt64]
    var sumHigh: [UInt64]
    /// Strongest examples, index `2·f + split` (split 0: explanation documents, 1: held out).
    public private(set) var strongest: [CandidateSelection]
    /// `coFiring[i·F + j]`: tokens on which features i and j both fire (`[F, F]`, symmetric;
    /// the diagonal equals `fireCounts`); empty when the counts come from codes files.
    public internal(set) var coFiring: [UInt32]
    /// The codes files of the rows seen, in corpus order (paths); empty when the counts are dense.
    public internal(set) var coFiringCodes: [String]
    /// Bytes the dense counts may take; above it, codes files and counting in blocks of this size.
    public let coFiringMemory: Int

    /// The default of `coFiringMemory`: dense counts up to 8192 features.
    public static let defaultCoFiringMemory = 256 << 20

    /// Whether `featureCount` features' co-firing is counted from codes files within `memory` bytes.
    static func usesCodes(featureCount: Int, memory: Int) -> Bool {
        4 * Double(featureCount) * Double(featureCount) > Double(memory)
    }

    /// Empty statistics for `featureCount` features of a `inputWidth`-wide hook. When the co-firing
    /// counts would exceed `coFiringMemory` bytes, rows' firing features go to a new codes file at
    /// `coFiringCodes` (a new file in the temporary folder when nil; `removeCoFiringCodes` deletes it).
    public init(
        hook: String, featureCount: Int, inputWidth: Int, options: AtlasOptions = AtlasOptions(),
        coFiringCodes: URL? = nil, coFiringMemory: Int = FirstPassStatistics.defaultCoFiringMemory
    ) throws {
        try options.validate()
        guard featureCount > 0 else { throw AtlasError.invalidOption(name: "featureCount", reason: "must be positive, got \(featureCount)") }
        guard inputWidth > 0 else { throw AtlasError.invalidOption(name: "inputWidth", reason: "must be positive, got \(inputWidth)") }
        guard coFiringMemory > 0 else { throw AtlasError.invalidOption(name: "coFiringMemory", reason: "must be positive, got \(coFiringMemory)") }
        (self.hook, self.featureCount, self.inputWidth, self.options) = (hook, featureCount, inputWidth, options)
        fireCounts = Array(repeating: 0, count: featureCount)
        maxima = Array(repeating: 0, count: featureCount)
        sumLow = Array(repeating: 0, count: featureCount)
        sumHigh = Array(repeating: 0, count: featureCount)
        strongest = Array(
            repeating: CandidateSelection(capacity: options.topPerSplit, rank: .strongest, key: .window), count: 2 * featureCount)
        self.coFiringMemory = coFiringMemory
        if Self.usesCodes(featureCount: featureCount, memory: coFiringMemory) {
            let file = coFiringCodes
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("loupe-cofiring-\(UUID().uuidString).codes")
            try CoFiringCodes.create(file)
            coFiring = []
            self.coFiringCodes = [file.path]
        } else {
            coFiring = Array(repeating: 0, count: featureCount * featureCount)
            self.coFiringCodes = []
        }
    }

    /// The `capacity` strongest co-firing links of every feature (tokens shared ÷ its firing tokens),
    /// best first, ties to the smaller index.
    public func coFiringLinks(capacity: Int) throws -> [[FeatureLink]] {
        let f = featureCount
        guard coFiring.isEmpty else {
            return (0..<f).map { i in
                CoFiringCodes.links(of: i, counts: coFiring, row: i * f, featureCount: f, fires: fireCounts[i], capacity: capacity)
            }
        }
        return try CoFiringCodes.links(
            files: coFiringCodes.map { URL(fileURLWithPath: $0) }, featureCount: f, fireCounts: fireCounts, capacity: capacity,
            memory: coFiringMemory)
    }

    /// Deletes the codes files (when the links have been counted and nothing will read them again).
    public func removeCoFiringCodes() {
        for path in coFiringCodes { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Mean of the firing activations of `feature` (0 when it never fired).
    public func meanActivation(_ feature: Int) -> Float {
        let count = fireCounts[feature]
        guard count > 0 else { return 0 }
        let sum = (Double(sumHigh[feature]) * 18_446_744_073_709_551_616.0 + Double(sumLow[feature])) / 4_294_967_296.0
        return Float(sum / Double(count))
    }

    /// Tokens on which both features fire.
    public func coFiringCount(_ i: Int, _ j: Int) -> Int { Int(coFiring[i * featureCount + j]) }

    /// Adds one chunk: encodes it block by block and updates every statistic.
    public mutating func add(_ chunk: ActivationChunk, encoder: FeatureEncoder) throws {
        try forEachEncodedBlock(
            of: chunk, hook: hook, inputWidth: inputWidth, featureCount: featureCount, blockRows: options.encodeRows, encoder: encoder
        ) { z, block, layout in
            scan(z, rows: block, chunk: chunk, layout: layout)
            try accumulateCoFiring(z, rows: block, chunk: chunk)
            tokens += block.reduce(0) { $0 + (chunk.special[$1] ? 0 : 1) }
        }
    }

    /// Adds the statistics of other rows of the same hook and dictionary.
    public mutating func merge(_ other: FirstPassStatistics) throws {
        guard other.hook == hook, other.featureCount == featureCount, other.inputWidth == inputWidth, other.options == options,
              other.coFiringMemory == coFiringMemory
        else {
            throw AtlasError.incompatibleShards(reason: "first-pass statistics differ in hook, feature count, input width or options")
        }
        tokens += other.tokens
        for f in 0..<featureCount {
            fireCounts[f] += other.fireCounts[f]
            maxima[f] = max(maxima[f], other.maxima[f])
            let (low, carry) = sumLow[f].addingReportingOverflow(other.sumLow[f])
            sumLow[f] = low
            sumHigh[f] = sumHigh[f] &+ other.sumHigh[f] &+ (carry ? 1 : 0)
        }
        for index in strongest.indices { try strongest[index].merge(other.strongest[index]) }
        for index in coFiring.indices { coFiring[index] &+= other.coFiring[index] }
        coFiringCodes += other.coFiringCodes
    }

    /// Counts, maxima, sums and strongest examples of one encoded block `z` `[n, F]`.
    private mutating func scan(_ z: Tensor, rows block: Range<Int>, chunk: ActivationChunk, layout: ChunkLayout) {
        let f = featureCount
        let (before, after) = (options.captureBefore, options.captureAfter)
        var thresholds = strongest.map(\.activationThreshold)
        fireCounts.withUnsafeMutableBufferPointer { counts in
        maxima.withUnsafeMutableBufferPointer { maxs in
        sumLow.withUnsafeMutableBufferPointer { lows in
        sumHigh.withUnsafeMutableBufferPointer { highs in
        strongest.withUnsafeMutableBufferPointer { selections in
        thresholds.withUnsafeMutableBufferPointer { limits in
            guard let counts = counts.baseAddress, let maxs = maxs.baseAddress, let lows = lows.baseAddress,
                  let highs = highs.baseAddress, let selections = selections.baseAddress, let limits = limits.baseAddress
            else { return }
            forEachFiring(z, featureCount: f, rows: block, chunk: chunk, layout: layout) { zBase, row, split, feature, value in
                counts[feature] += 1
                if value > maxs[feature] { maxs[feature] = value }
                let scaled = Double(value) * 4_294_967_296.0
                let units: UInt64 = scaled < 9.0e18 ? UInt64(scaled) : 9_000_000_000_000_000_000
                let (low, carry) = lows[feature].addingReportingOverflow(units)
                lows[feature] = low
                if carry { highs[feature] &+= 1 }
                let slot = 2 * feature + split
                guard value >= limits[slot],
                      selections[slot].admits(activation: value, priority: 0, document: chunk.documents[row], position: chunk.positions[row])
                else { return }
                selections[slot].offer(makeCandidate(
                    chunk: chunk, layout: layout, z: zBase, featureCount: f, blockStart: block.lowerBound,
                    feature: feature, row: row, rows: layout.context(of: row, before: before, after: after),
                    activation: value, priority: 0))
                limits[slot] = selections[slot].activationThreshold
            }
        }}}}}}
    }

    /// Adds the co-firing counts of one encoded block: a sparse pass over each row's firing
    /// features when rows fire sparsely, else bit sets of each feature's firing rows
    /// (`CoOccurrence`, `F²/2 · n/64` word operations).
    private mutating func accumulateCoFiring(_ z: Tensor, rows block: Range<Int>, chunk: ActivationChunk) throws {
        let f = featureCount
        let n = block.count
        var rowCounts = [Int](repeating: 0, count: n)
        z.scalars.withUnsafeBufferPointer { zBuffer in
            rowCounts.withUnsafeMutableBufferPointer { out in
                guard let zBase = zBuffer.baseAddress, let out = out.baseAddress else { return }
                parallelChunks(count: n, minimumChunk: 64) { rows in
                    for local in rows where !chunk.special[block.lowerBound + local] {
                        let values = zBase + local * f
                        var count = 0
                        for feature in 0..<f where values[feature] > 0 { count += 1 }
                        out[local] = count
                    }
                }
            }
        }
        if let codes = coFiringCodes.last {
            let (offsets, indices) = firingIndices(z, rowCounts: rowCounts)
            try CoFiringCodes.append(offsets: offsets, indices: indices, to: URL(fileURLWithPath: codes))
            return
        }
        let pairs = rowCounts.reduce(0.0) { $0 + Double($1) * Double($1) }
        if pairs * CoFiringCost.sparseToDenseRatio > Double(n) * Double(f) * Double(f) {
            try bitsetCoFiring(z, rows: block, chunk: chunk)
        } else {
            sparseCoFiring(z, rowCounts: rowCounts)
        }
    }

    private mutating func bitsetCoFiring(_ z: Tensor, rows block: Range<Int>, chunk: ActivationChunk) throws {
        try CoOccurrence.accumulatePositive(z, include: block.map { !chunk.special[$0] }, into: &coFiring)
    }

    /// Each row's firing features in ascending order: row r's are `indices[offsets[r]..<offsets[r + 1]]`
    /// (`rowCounts[r]` of them, 0 for special rows).
    private func firingIndices(_ z: Tensor, rowCounts: [Int]) -> (offsets: [Int], indices: [Int32]) {
        let f = featureCount
        let n = rowCounts.count
        var offsets = [Int](repeating: 0, count: n + 1)
        for row in 0..<n { offsets[row + 1] = offsets[row] + rowCounts[row] }
        var indices = [Int32](repeating: 0, count: offsets[n])
        z.scalars.withUnsafeBufferPointer { zBuffer in
            indices.withUnsafeMutableBufferPointer { out in
                guard let zBase = zBuffer.baseAddress, let out = out.baseAddress else { return }
                parallelChunks(count: n, minimumChunk: 64) { rows in
                    for row in rows where rowCounts[row] > 0 {
                        let values = zBase + row * f
                        var next = offsets[row]
                        for feature in 0..<f where values[feature] > 0 {
                            out[next] = Int32(feature)
                            next += 1
                        }
                    }
                }
            }
        }
        return (offsets, indices)
    }

    private mutating func sparseCoFiring(_ z: Tensor, rowCounts: [Int]) {
        let f = featureCount
        let n = rowCounts.count
        let (offsets, indices) = firingIndices(z, rowCounts: rowCounts)
        indices.withUnsafeBufferPointer { list in
            coFiring.withUnsafeMutableBufferPointer { target in
                guard let list = list.baseAddress, let target = target.baseAddress else { return }
                parallelChunks(count: f, minimumChunk: 16) { owned in
                    for row in 0..<n {
                        let (start, end) = (offsets[row], offsets[row + 1])
                        for a in start..<end {
                            let i = Int(list[a])
                            if i < owned.lowerBound { continue }
                            if i >= owned.upperBound { break }
                            let base = target + i * f
                            for b in start..<end { base[Int(list[b])] &+= 1 }
                        }
                    }
                }
            }
        }
    }
}

/// When to count co-firing with a dense product instead of a sparse pass.
enum CoFiringCost {
    /// Bit sets when Σ(firing features per row)² · ratio > rows · F², i.e. when the sparse
    /// pass's increments (one per pair of firing features per row) would outnumber the bit-set
    /// pass's `rows · F² / 128` word operations.
    static let sparseToDenseRatio = 128.0
}
