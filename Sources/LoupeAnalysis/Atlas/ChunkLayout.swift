import LoupeCore

/// Encodes a block of activations `[n, d_in]` into feature activations `[n, F]` (a dictionary's
/// encoder, or the identity for a hook's own neurons).
public typealias FeatureEncoder = (Tensor) throws -> Tensor

/// The row structure of one chunk: model windows (runs of rows), encode blocks cut at window
/// boundaries, the document split and each row's window number.
struct ChunkLayout {
    /// First row and end row of the model window of each row (a special row is its own run).
    let runStart: [Int]
    let runEnd: [Int]
    /// `position / windowStride` of each row (−1 on special rows).
    let regions: [Int]
    /// Whether each row's document is held out for scoring.
    let heldOut: [Bool]
    /// Rows encoded together; every run lies inside one block.
    let blocks: [Range<Int>]
    /// Model windows (runs of non-special rows), in row order.
    let runs: [Range<Int>]

    init(chunk: ActivationChunk, blockRows: Int) {
        let rows = chunk.rowCount
        var runStart = [Int](repeating: 0, count: rows)
        var runEnd = [Int](repeating: 0, count: rows)
        var regions = [Int](repeating: -1, count: rows)
        var heldOut = [Bool](repeating: false, count: rows)
        var runs: [Range<Int>] = []
        var boundaries: [Int] = []
        var splitCache: (document: Int, heldOut: Bool) = (-1, false)
        var current = 0
        for row in 0..<rows {
            let special = chunk.special[row]
            if !special {
                regions[row] = chunk.positions[row] / chunk.windowStride
                let document = chunk.documents[row]
                if document != splitCache.document { splitCache = (document, DocumentSplit.isHeldOut(document: document)) }
                heldOut[row] = splitCache.heldOut
            }
            let startsRun = row == 0 || special || chunk.special[row - 1]
                || chunk.documents[row] != chunk.documents[row - 1] || regions[row] != regions[row - 1]
                || chunk.positions[row] != chunk.positions[row - 1] + 1
            if startsRun {
                if row > current, !chunk.special[current] { runs.append(current..<row) }
                boundaries.append(row)
                current = row
            }
        }
        if rows > current, !chunk.special[current] { runs.append(current..<rows) }
        boundaries.append(rows)
        for (start, end) in zip(boundaries, boundaries.dropFirst()) {
            for row in start..<end {
                runStart[row] = start
                runEnd[row] = end
            }
        }
        var blocks: [Range<Int>] = []
        var blockStart = 0
        for (start, end) in zip(boundaries, boundaries.dropFirst()) where end - blockStart > blockRows && start > blockStart {
            blocks.append(blockStart..<start)
            blockStart = start
        }
        if rows > blockStart { blocks.append(blockStart..<rows) }
        self.runStart = runStart
        self.runEnd = runEnd
        self.regions = regions
        self.heldOut = heldOut
        self.blocks = blocks
        self.runs = runs
    }

    /// The rows kept around `row`: up to `before` earlier and `after` later rows of its window.
    @inline(__always)
    func context(of row: Int, before: Int, after: Int) -> Range<Int> {
        max(runStart[row], row - before)..<min(runEnd[row], row + after + 1)
    }
}

/// Encodes rows `block` of a chunk and checks the result's shape (`[n, F]`).
///
/// Each window (its special rows with the run after them) starts a row tile of the encoded matrix
/// (`ProductLayout`), so its features have the same bits whichever windows share the block: a
/// sharded build's chunks hold other windows together than an unsharded one's.
func encodeBlock(
    _ chunk: ActivationChunk, rows block: Range<Int>, layout: ChunkLayout, encoder: FeatureEncoder, featureCount: Int, hook: String
) throws -> Tensor {
    let width = chunk.width
    var groups: [Int] = []
    var start = block.lowerBound
    for row in block where row > start && row == layout.runStart[row] && !chunk.special[row - 1] {
        groups.append(row - start)
        start = row
    }
    if block.upperBound > start { groups.append(block.upperBound - start) }
    let placement = ProductLayout(groups: groups)
    let rows = Array(chunk.activations.scalars[(block.lowerBound * width)..<(block.upperBound * width)])
    let output = try encoder(try Tensor(shape: [placement.calledRows, width], scalars: placement.spread(rows, width: width)))
    guard output.shape == [placement.calledRows, featureCount] else {
        let found = output.rank == 2 && output.shape[0] == placement.calledRows ? [block.count, output.shape[1]] : output.shape
        throw AtlasError.encoderShape(hook: hook, expected: [block.count, featureCount], found: found)
    }
    return try Tensor(shape: [block.count, featureCount], scalars: placement.gather(output.scalars, width: featureCount))
}

/// Checks that `chunk` holds `hook`'s activations (`inputWidth` wide), cuts it into encode blocks of
/// about `blockRows` rows, and calls `body(z, block, layout)` with each block's feature activations
/// `z` `[n, F]`, in row order.
func forEachEncodedBlock(
    of chunk: ActivationChunk, hook: String, inputWidth: Int, featureCount: Int, blockRows: Int, encoder: FeatureEncoder,
    _ body: (_ z: Tensor, _ block: Range<Int>, _ layout: ChunkLayout) throws -> Void
) throws {
    guard chunk.width == inputWidth else { throw AtlasError.inputWidth(hook: hook, expected: inputWidth, found: chunk.width) }
    let layout = ChunkLayout(chunk: chunk, blockRows: blockRows)
    for block in layout.blocks {
        try body(try encodeBlock(chunk, rows: block, layout: layout, encoder: encoder, featureCount: featureCount, hook: hook), block, layout)
    }
}

/// Calls `body(z, row, split, feature, value)` for every activation `value > 0` of an encoded block
/// `[n, F]` (`z`: its first value) in the non-special rows `block` of a chunk; `split` is 1 when the
/// row's document is held out, else 0. The features are cut into chunks run in parallel
/// (`parallelChunks`), each visiting the rows in order, so `body` may write only to its feature's slots.
@inline(__always)
func forEachFiring(
    _ encoded: Tensor, featureCount f: Int, rows block: Range<Int>, chunk: ActivationChunk, layout: ChunkLayout,
    _ body: (_ z: UnsafePointer<Float>, _ row: Int, _ split: Int, _ feature: Int, _ value: Float) -> Void
) {
    encoded.scalars.withUnsafeBufferPointer { buffer in
        guard let z = buffer.baseAddress else { return }
        parallelChunks(count: f, minimumChunk: 32) { features in
            for row in block where !chunk.special[row] {
                let values = z + (row - block.lowerBound) * f
                let split = layout.heldOut[row] ? 1 : 0
                for feature in features {
                    let value = values[feature]
                    if value > 0 { body(z, row, split, feature, value) }
                }
            }
        }
    }
}

/// Builds the candidate for feature `feature` at `row` of a chunk whose encoded block starts at
/// `blockStart` (`z` is the block's `[n, F]` activations).
@inline(__always)
func makeCandidate(
    chunk: ActivationChunk, layout: ChunkLayout, z: UnsafePointer<Float>, featureCount: Int, blockStart: Int,
    feature: Int, row: Int, rows: Range<Int>, activation: Float, priority: UInt64
) -> ExampleCandidate {
    var tokens: [Int] = []
    var values: [Float] = []
    tokens.reserveCapacity(rows.count)
    values.reserveCapacity(rows.count)
    for r in rows {
        tokens.append(chunk.tokens[r])
        values.append(z[(r - blockStart) * featureCount + feature])
    }
    return ExampleCandidate(
        activation: activation, priority: priority, document: chunk.documents[row], position: chunk.positions[row],
        region: layout.regions[row], start: chunk.positions[rows.lowerBound], tokens: tokens, activations: values)
}

/// SplitMix64 finaliser: a well-mixed 64-bit hash of `x`.
@inline(__always)
func mix64(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A seeded hash of a (document, position) pair, independent of row order and sharding.
@inline(__always)
func positionHash(seed: UInt64, salt: UInt64, document: Int, position: Int) -> UInt64 {
    mix64(mix64(seed ^ salt) ^ mix64(UInt64(bitPattern: Int64(document)) &* 0xD6E8_FEB8_6659_FD93 ^ UInt64(bitPattern: Int64(position))))
}

/// Equal-width bins over `[lower, upper]`: bin i covers `[e_i, e_{i+1})` with
/// `e_i = lower + (upper − lower)·i/bins`, the last bin closed at `upper`.
func histogramBin(_ value: Float, lower: Float, upper: Float, bins: Int) -> Int? {
    guard value >= lower, value <= upper else { return nil }
    let width = upper - lower
    guard width > 0 else { return bins - 1 }
    func edge(_ i: Int) -> Float { i == bins ? upper : lower + width * Float(i) / Float(bins) }
    var bin = min(bins - 1, max(0, Int((value - lower) / width * Float(bins))))
    while bin > 0 && value < edge(bin) { bin -= 1 }
    while bin < bins - 1 && value >= edge(bin + 1) { bin += 1 }
    return bin
}

/// Interval bounds `b_i = maximum·i/count` (`b_count = maximum`); interval i is `(b_i, b_{i+1}]`.
@inline(__always)
func intervalBound(_ i: Int, maximum: Float, count: Int) -> Float {
    i == count ? maximum : maximum * Float(i) / Float(count)
}

/// The interval `(b_i, b_{i+1}]` holding `value`, or nil when it is not in `(0, maximum]`.
@inline(__always)
func intervalIndex(_ value: Float, maximum: Float, count: Int) -> Int? {
    guard value > 0, value <= maximum else { return nil }
    var index = min(count - 1, max(0, Int(value / maximum * Float(count))))
    while index > 0 && value <= intervalBound(index, maximum: maximum, count: count) { index -= 1 }
    while index < count - 1 && value > intervalBound(index + 1, maximum: maximum, count: count) { index += 1 }
    return index
}
