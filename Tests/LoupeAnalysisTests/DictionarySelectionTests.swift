import Foundation
import LoupeCore
import Testing
@testable import LoupeAnalysis

@Suite("Dictionary: top-k selection and activations")
struct DictionarySelectionTests {
    /// The k largest by sorting (ties: lower index first).
    private func sortedTopK(_ values: [Float], k: Int) -> [Int] {
        Array(values.indices.filter { !values[$0].isNaN }.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
    }

    @Test func selectionMatchesSortingOnBothPaths() {
        var rng = SeededRandom(seed: 7)
        for count in [1, 5, 16, 64, 300] {
            for k in Set([1, 2, count / 4 + 1, count / 2, count].filter { $0 >= 1 && $0 <= count }) {
                // Few distinct values, so ties are common.
                let values = (0..<count).map { _ in Float(rng.nextInt(below: 7)) - 3 }
                var indices = [Int](repeating: -1, count: k)
                var chosen = [Float](repeating: 0, count: k)
                let padded = [Float(99), Float(98)] + values
                TopKSelection.select(padded, offset: 2, count: count, k: k, indices: &indices, values: &chosen)
                let expected = sortedTopK(values, k: k)
                #expect(indices == expected, "count \(count) k \(k)")
                #expect(chosen == expected.map { values[$0] })
            }
        }
    }

    @Test func nanIsNeverChosenOverANumber() {
        for k in [1, 3] {
            let values: [Float] = [.nan, 1, .nan, -2]
            var indices = [Int](repeating: 0, count: k)
            var chosen = [Float](repeating: 0, count: k)
            TopKSelection.select(values, offset: 0, count: 4, k: k, indices: &indices, values: &chosen)
            #expect(Array(indices.prefix(2)) == Array([1, 3].prefix(k)))
            if k == 3 { #expect(indices[2] == 0 && chosen[2] == 0) }
        }
    }

    private func dictionary(_ architecture: DictionaryArchitecture, k: Int? = nil, threshold: Tensor? = nil, flattensHeads: Bool = false) throws -> SparseDictionary {
        var identity = Tensor(shape: [4, 4])
        for i in 0..<4 { identity.scalars[i * 4 + i] = 1 }
        return try SparseDictionary(
            architecture: architecture, hookName: "blocks.0.attn.hook_z", encoderWeight: identity, encoderBias: Tensor(shape: [4]),
            decoderWeight: identity, decoderBias: Tensor(shape: [4]), threshold: threshold, k: k, flattensHeads: flattensHeads)
    }

    @Test func activationsFollowTheirDefinitions() throws {
        let x = try Tensor(shape: [2, 4], scalars: [0.5, -1, 2, 0.2, -3, -2, -1, 0.1])
        #expect(try dictionary(.standard).encode(x).scalars == [0.5, 0, 2, 0.2, 0, 0, 0, 0.1])
        #expect(try dictionary(.topk, k: 2).encode(x).scalars == [0.5, 0, 2, 0, 0, 0, 0, 0.1])
        let threshold = try Tensor(shape: [4], scalars: [0.6, -5, 1, 0.05])
        #expect(try dictionary(.jumprelu, threshold: threshold).encode(x).scalars == [0, 0, 2, 0.2, 0, 0, 0, 0.1])
    }

    @Test func headsAreFlattenedOnlyWhenAsked() throws {
        let values = try Tensor(shape: [3, 2, 2], scalars: (0..<12).map(Float.init))
        let flat = try dictionary(.standard, flattensHeads: true)
        #expect(try flat.rows(of: values, source: "z").shape == [3, 4])
        #expect(throws: DictionaryError.inputWidth(source: "z", expected: 4, found: [3, 2, 2])) {
            try dictionary(.standard).rows(of: values, source: "z")
        }
        #expect(try dictionary(.standard).rows(of: try values.reshaped([3, 4]), source: "z").shape == [3, 4])
    }
}
