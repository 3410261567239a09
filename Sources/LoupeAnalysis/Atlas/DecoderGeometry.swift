import LoupeCore
import LoupeFindings
import LoupeModel

/// What a dictionary's decoder directions `[F, d]` say without the corpus: nearest features by
/// cosine, and direct effects on the logits.
enum DecoderGeometry {
    /// Features per matrix product (bounds memory to `block × F` or `block × V` values).
    static let block = 256

    /// `body(row, products)` for every row of `matrix` `[F, d]`, where `products` points at that row's
    /// `N` dot products with the rows of `other` `[N, d]`. Products are computed `block` rows at a
    /// time (bounding memory to `block × N` values) and rows are spread over the cores; the results
    /// come back in row order.
    static func rowProducts<Result>(
        _ matrix: Tensor, _ other: Tensor, minimumChunk: Int, placeholder: Result,
        _ body: (Int, UnsafePointer<Float>) -> Result
    ) throws -> [Result] {
        let (rows, width, columns) = (matrix.shape[0], matrix.shape[1], other.shape[0])
        var results = [Result](repeating: placeholder, count: rows)
        for start in stride(from: 0, to: rows, by: block) {
            let end = min(rows, start + block)
            let part = try Tensor(shape: [end - start, width], scalars: Array(matrix.scalars[(start * width)..<(end * width)]))
            let products = try part.matmulTransposed(other)
            products.scalars.withUnsafeBufferPointer { values in
                results.withUnsafeMutableBufferPointer { out in
                    guard let values = values.baseAddress, let out = out.baseAddress else { return }
                    parallelChunks(count: end - start, minimumChunk: minimumChunk) { local in
                        for row in local { out[start + row] = body(start + row, values + row * columns) }
                    }
                }
            }
        }
        return results
    }

    /// For each feature, the `count` other features whose decoder directions have the highest
    /// cosine similarity (ties to the smaller index). A zero direction has cosine 0 with all.
    static func neighbours(_ decoder: Tensor, count: Int) throws -> [[FeatureLink]] {
        let (features, width) = (decoder.shape[0], decoder.shape[1])
        var unit = decoder
        for f in 0..<features {
            var sum = 0.0
            for k in 0..<width { sum += Double(decoder.scalars[f * width + k]) * Double(decoder.scalars[f * width + k]) }
            let scale: Float = sum > 0 ? Float(1 / sum.squareRoot()) : 0
            for k in 0..<width { unit.scalars[f * width + k] *= scale }
        }
        return try rowProducts(unit, unit, minimumChunk: 8, placeholder: []) { f, cosines in
            var links = TopLinks(capacity: count)
            for other in 0..<features where other != f {
                links.offer(index: other, score: cosines[other])
            }
            return links.links
        }
    }

    /// For each feature: its decoder direction times the final layer norm's weight (`ln_f`),
    /// projected on the unembedding `[V, C]`; the `logitTokens` most promoted and most suppressed
    /// tokens (display strings, ties to the smaller id) and a histogram over the vocabulary
    /// (ids the tokenizer has a token for).
    static func logitEffects(_ decoder: Tensor, model: GPT2Model, tokenizer: any Tokenizer, options: AtlasOptions) throws -> [LogitEffects] {
        let (features, width) = (decoder.shape[0], decoder.shape[1])
        let unembedding = model.weights.unembedding
        let vocabulary = unembedding.shape[0]
        let scale = model.weights.finalNormWeight.scalars
        let valid = (0..<vocabulary).map { tokenizer.token(for: $0) != nil }
        var scaled = decoder
        for f in 0..<features {
            for k in 0..<width { scaled.scalars[f * width + k] *= scale[k] }
        }
        let tokenCount = options.logitTokens
        let bins = options.logitHistogramBins
        let raw = try rowProducts(scaled, unembedding, minimumChunk: 4, placeholder: ([FeatureLink](), [FeatureLink](), Histogram(lower: 0, upper: 0, counts: []))) { _, effect in
            var top = TopLinks(capacity: tokenCount)
            var bottom = TopLinks(capacity: tokenCount)
            var (lower, upper) = (Float.infinity, -Float.infinity)
            for id in 0..<vocabulary where valid[id] {
                let value = effect[id]
                lower = min(lower, value)
                upper = max(upper, value)
                if top.links.count < tokenCount || value >= (top.links.last?.score ?? value) { top.offer(index: id, score: value) }
                if bottom.links.count < tokenCount || -value >= (bottom.links.last?.score ?? -value) { bottom.offer(index: id, score: -value) }
            }
            if lower > upper { (lower, upper) = (0, 0) }
            var counts = [Int](repeating: 0, count: bins)
            for id in 0..<vocabulary where valid[id] {
                if let bin = histogramBin(effect[id], lower: lower, upper: upper, bins: bins) { counts[bin] += 1 }
            }
            return (top.links, bottom.links, Histogram(lower: lower, upper: upper, counts: counts))
        }
        return raw.map { entry in
            LogitEffects(
                top: entry.0.map { TokenWeight(token: tokenizer.displayString(for: $0.index), weight: $0.score) },
                bottom: entry.1.map { TokenWeight(token: tokenizer.displayString(for: $0.index), weight: -$0.score) },
                histogram: entry.2)
        }
    }
}
