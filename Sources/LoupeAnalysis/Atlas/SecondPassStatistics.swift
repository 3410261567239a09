import LoupeCore

/// The second streaming pass of an atlas, once every feature's maximum is known: per feature
/// (F of them) the histogram of firing activations over `[0, max]`, seeded samples of firing
/// tokens in each activation interval, and random held-out windows where the feature does not
/// fire.
///
/// Samples keep the candidates with the smallest seeded priority (a hash of seed, feature,
/// document and position: a uniform sample without replacement, as a reservoir gives, that
/// does not depend on row order), one per document. Statistics of disjoint shards computed with
/// the same maxima `merge` exactly.
public struct SecondPassStatistics: Codable, Sendable, Equatable {
    public let hook: String
    /// Number of features `F`.
    public let featureCount: Int
    /// Width `d_in` of the hook's activations.
    public let inputWidth: Int
    public let options: AtlasOptions
    /// Each feature's maximum from the first pass (`F`): the histogram's upper bound and the top
    /// of the intervals.
    public let maxima: [Float]
    /// `histograms[f·bins + b]`: firing tokens of feature f in bin b (`[F, histogramBins]`).
    public private(set) var histograms: [Int]
    /// Interval samples, index `(f·intervals + i)·2 + split` (split 0: explanation documents,
    /// 1: held out); interval i holds activations in `(max·i/intervals, max·(i+1)/intervals]`.
    public private(set) var intervalSamples: [CandidateSelection]
    /// Held-out windows of `windowBefore + 1 + windowAfter` tokens on which the feature does not
    /// fire, one per document (`F`).
    public private(set) var nonActivating: [CandidateSelection]

    /// Empty second-pass statistics for the dictionary of `first`, with its maxima.
    public init(first: FirstPassStatistics) throws {
        try self.init(hook: first.hook, featureCount: first.featureCount, inputWidth: first.inputWidth, maxima: first.maxima, options: first.options)
    }

    /// Empty second-pass statistics for `maxima.count` features.
    public init(hook: String, featureCount: Int, inputWidth: Int, maxima: [Float], options: AtlasOptions = AtlasOptions()) throws {
        try options.validate()
        guard featureCount > 0, maxima.count == featureCount else {
            throw AtlasError.invalidOption(name: "maxima", reason: "needs one maximum per feature (\(featureCount)), got \(maxima.count)")
        }
        (self.hook, self.featureCount, self.inputWidth, self.options) = (hook, featureCount, inputWidth, options)
        self.maxima = maxima
        histograms = Array(repeating: 0, count: featureCount * options.histogramBins)
        intervalSamples = Array(
            repeating: CandidateSelection(capacity: Self.intervalCapacity(options), rank: .lowestPriority, key: .document),
            count: featureCount * options.intervals * 2)
        nonActivating = Array(
            repeating: CandidateSelection(capacity: options.heldOutNonActivating, rank: .lowestPriority, key: .document),
            count: featureCount)
    }

    /// Samples kept per interval and split: the atlas's examples per interval, and at least two
    /// so the explainer's one-per-interval pick can avoid a window already chosen.
    static func intervalCapacity(_ options: AtlasOptions) -> Int { max(options.examplesPerInterval, 2) }

    /// Adds one chunk: encodes it block by block and updates histograms and samples.
    public mutating func add(_ chunk: ActivationChunk, encoder: FeatureEncoder) throws {
        try forEachEncodedBlock(
            of: chunk, hook: hook, inputWidth: inputWidth, featureCount: featureCount, blockRows: options.encodeRows, encoder: encoder
        ) { z, block, layout in
            scan(z, rows: block, chunk: chunk, layout: layout)
        }
    }

    /// Adds the statistics of other rows computed with the same maxima.
    public mutating func merge(_ other: SecondPassStatistics) throws {
        guard other.hook == hook, other.featureCount == featureCount, other.inputWidth == inputWidth, other.options == options,
              other.maxima.map(\.bitPattern) == maxima.map(\.bitPattern)
        else {
            throw AtlasError.incompatibleShards(reason: "second-pass statistics differ in hook, feature count, options or maxima")
        }
        for index in histograms.indices { histograms[index] += other.histograms[index] }
        for index in intervalSamples.indices { try intervalSamples[index].merge(other.intervalSamples[index]) }
        for index in nonActivating.indices { try nonActivating[index].merge(other.nonActivating[index]) }
    }

    /// Windows of `spanLength` tokens tiling each held-out model window of a block, with a seeded
    /// priority per window (shared by all features).
    private func spans(rows block: Range<Int>, chunk: ActivationChunk, layout: ChunkLayout) -> [(rows: Range<Int>, priority: UInt64)] {
        let length = options.spanLength
        var result: [(rows: Range<Int>, priority: UInt64)] = []
        for run in layout.runs where run.lowerBound >= block.lowerBound && run.upperBound <= block.upperBound && layout.heldOut[run.lowerBound] {
            if run.count <= length {
                result.append((run, positionHash(seed: options.seed, salt: 0x5350_414E, document: chunk.documents[run.lowerBound], position: chunk.positions[run.lowerBound])))
                continue
            }
            var start = run.lowerBound
            while start + length <= run.upperBound {
                result.append((start..<(start + length), positionHash(seed: options.seed, salt: 0x5350_414E, document: chunk.documents[start], position: chunk.positions[start])))
                start += length
            }
        }
        return result
    }

    /// Histogram counts and interval samples of one encoded block `z` `[n, F]`, then its non-activating
    /// windows.
    private mutating func scan(_ z: Tensor, rows block: Range<Int>, chunk: ActivationChunk, layout: ChunkLayout) {
        let f = featureCount
        let (bins, intervals) = (options.histogramBins, options.intervals)
        let (before, after) = (options.captureBefore, options.captureAfter)
        let seed = options.seed
        var rowHashes = [UInt64](repeating: 0, count: block.count)
        for row in block where !chunk.special[row] {
            rowHashes[row - block.lowerBound] = positionHash(seed: seed, salt: 0x494E_5456, document: chunk.documents[row], position: chunk.positions[row])
        }
        var sampleLimits = intervalSamples.map(\.priorityThreshold)
        let maxima = self.maxima
        // Per feature: 1/bin width, 1/interval width, the maximum, then the bin edges and interval
        // bounds as `histogramBin` and `intervalBound` define them.
        let stride = 3 + (bins + 1) + (intervals + 1)
        var table = [Float](repeating: 0, count: f * stride)
        for feature in 0..<f where maxima[feature] > 0 {
            let maximum = maxima[feature]
            let base = feature * stride
            table[base] = Float(bins) / maximum
            table[base + 1] = Float(intervals) / maximum
            table[base + 2] = maximum
            for i in 0...bins { table[base + 3 + i] = i == bins ? maximum : 0 + maximum * Float(i) / Float(bins) }
            for i in 0...intervals { table[base + 4 + bins + i] = intervalBound(i, maximum: maximum, count: intervals) }
        }
        histograms.withUnsafeMutableBufferPointer { histograms in
        intervalSamples.withUnsafeMutableBufferPointer { samples in
        sampleLimits.withUnsafeMutableBufferPointer { sampleLimits in
        table.withUnsafeBufferPointer { table in
            guard let histograms = histograms.baseAddress, let samples = samples.baseAddress, let limits = sampleLimits.baseAddress,
                  let table = table.baseAddress
            else { return }
            forEachFiring(z, featureCount: f, rows: block, chunk: chunk, layout: layout) { zBase, row, split, feature, value in
                let entry = table + feature * stride
                guard value <= entry[2] else { return }
                let edge = entry + 3
                var bin = min(bins - 1, Int(value * entry[0]))
                while bin > 0 && value < edge[bin] { bin -= 1 }
                while bin < bins - 1 && value >= edge[bin + 1] { bin += 1 }
                histograms[feature * bins + bin] += 1
                let bound = entry + 4 + bins
                var interval = min(intervals - 1, Int(value * entry[1]))
                while interval > 0 && value <= bound[interval] { interval -= 1 }
                while interval < intervals - 1 && value > bound[interval + 1] { interval += 1 }
                let slot = (feature * intervals + interval) * 2 + split
                let priority = mix64(rowHashes[row - block.lowerBound] ^ (UInt64(feature) &+ 1) &* 0xA24B_AED4_963E_E407)
                guard priority <= limits[slot],
                      samples[slot].admits(activation: value, priority: priority, document: chunk.documents[row], position: chunk.positions[row])
                else { return }
                samples[slot].offer(makeCandidate(
                    chunk: chunk, layout: layout, z: zBase, featureCount: f, blockStart: block.lowerBound,
                    feature: feature, row: row, rows: layout.context(of: row, before: before, after: after),
                    activation: value, priority: priority))
                limits[slot] = samples[slot].priorityThreshold
            }
        }}}}
        sampleNonActivating(z, rows: block, chunk: chunk, layout: layout)
    }

    /// Offers every feature that has fired (maximum > 0) the held-out spans of one encoded block `z`
    /// `[n, F]` on which it does not fire.
    private mutating func sampleNonActivating(_ z: Tensor, rows block: Range<Int>, chunk: ActivationChunk, layout: ChunkLayout) {
        let f = featureCount
        let maxima = self.maxima
        let spans = self.spans(rows: block, chunk: chunk, layout: layout)
        var spanLimits = nonActivating.map(\.priorityThreshold)
        z.scalars.withUnsafeBufferPointer { zBuffer in
        nonActivating.withUnsafeMutableBufferPointer { windows in
        spanLimits.withUnsafeMutableBufferPointer { spanLimits in
            guard let zBase = zBuffer.baseAddress, let windows = windows.baseAddress, let spanLimits = spanLimits.baseAddress else { return }
            parallelChunks(count: f, minimumChunk: 32) { features in
                for span in spans {
                    let first = span.rows.lowerBound
                    for feature in features where maxima[feature] > 0 && span.priority <= spanLimits[feature] {
                        guard windows[feature].admits(activation: 0, priority: span.priority, document: chunk.documents[first], position: chunk.positions[first])
                        else { continue }
                        var peak = -Float.infinity
                        for row in span.rows {
                            peak = max(peak, zBase[(row - block.lowerBound) * f + feature])
                            if peak > 0 { break }
                        }
                        guard peak <= 0 else { continue }
                        windows[feature].offer(makeCandidate(
                            chunk: chunk, layout: layout, z: zBase, featureCount: f, blockStart: block.lowerBound,
                            feature: feature, row: first, rows: span.rows, activation: peak, priority: span.priority))
                        spanLimits[feature] = windows[feature].priorityThreshold
                    }
                }
            }
        }}}
    }
}
