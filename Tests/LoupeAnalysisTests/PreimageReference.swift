import Foundation
import LoupeModel
import Testing
@testable import LoupeAnalysis

/// A float64 brute-force preimage search written apart from the engine: the corpus file split into
/// lines by hand, each window forwarded alone, every distance computed in double precision.
struct PreimageReference {
    struct Hit: Hashable {
        var line: Int
        var position: Int
        var distance: Double
    }

    /// Every candidate, ascending by distance, ties by (line, position).
    var hits: [Hit]
    var queryTokens: [Int]
    var queryPosition: Int

    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpt2-prefixed")

    init(
        model: GPT2Model, tokenizer: any Tokenizer, corpusText: String, context: Int, bos: Bool, hook: String, head: Int?,
        query: String, position: Int, distance: PreimageDistance
    ) throws {
        let eos = try #require(tokenizer.id(for: "<|endoftext|>"))
        func row(_ tokens: [Int], _ index: Int) throws -> [Double] {
            let value = try #require(try model.forward([tokens], ForwardRequest(cache: [hook], computeLogits: false)).cache[hook])
            let width = value.count / tokens.count
            let slice = head.map { width / model.config.heads * $0..<width / model.config.heads * ($0 + 1) } ?? 0..<width
            return slice.map { Double(value.scalars[index * width + $0]) }
        }
        queryTokens = (bos ? [eos] : []) + tokenizer.encode(query)
        queryPosition = position < 0 ? queryTokens.count + position : position
        let q = try row(queryTokens, queryPosition)
        let qNorm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let stride = context - (bos ? 1 : 0)
        var hits: [Hit] = []
        for (line, text) in corpusText.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !text.allSatisfy(\.isWhitespace) {
            let ids = tokenizer.encode(String(text))
            for start in Swift.stride(from: 0, to: ids.count, by: stride) {
                let body = Array(ids[start..<min(ids.count, start + stride)])
                let window = (bos ? [eos] : []) + body
                for (offset, token) in body.enumerated() where token != eos {
                    let z = try row(window, offset + (bos ? 1 : 0))
                    let value: Double
                    switch distance {
                    case .l2:
                        value = zip(q, z).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() / qNorm
                    case .cosine:
                        let dot = zip(q, z).reduce(0) { $0 + $1.0 * $1.1 }
                        let zNorm = z.reduce(0) { $0 + $1 * $1 }.squareRoot()
                        value = zNorm == 0 ? 1 : 1 - dot / (qNorm * zNorm)
                    }
                    hits.append(Hit(line: line, position: start + offset, distance: value))
                }
            }
        }
        self.hits = hits.sorted { ($0.distance, $0.line, $0.position) < ($1.distance, $1.line, $1.position) }
    }

    /// An ε halfway between two consecutive distances at least 2e-5 apart, from rank `rank` (0-based,
    /// ≥ 1) on, and the number of candidates inside it.
    func epsilon(near rank: Int) throws -> (epsilon: Double, inside: Int) {
        var index = rank
        while index < hits.count && hits[index].distance - hits[index - 1].distance < 2e-5 { index += 1 }
        try #require(index < hits.count)
        return ((hits[index - 1].distance + hits[index].distance) / 2, index)
    }

    func inside(_ epsilon: Double) -> Int { hits.filter { $0.distance <= epsilon }.count }
}
