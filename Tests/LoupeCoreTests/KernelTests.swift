import Foundation
import LoupeCore
import Testing

/// Checks each kernel against a plain, obviously correct version computed in Double.
@Suite struct KernelTests {
    func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededRandom(seed: seed)
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.scalars[i] = rng.nextNormal() * scale }
        return t
    }

    @Test func matmulWithBiasMatchesPlainLoops() throws {
        let x = random([2, 3, 5], seed: 1), w = random([5, 4], seed: 2), b = random([4], seed: 3)
        let y = try x.matmul(w, bias: b)
        #expect(y.shape == [2, 3, 4])
        for row in 0..<6 {
            for j in 0..<4 {
                var sum = Double(b.scalars[j])
                for i in 0..<5 { sum += Double(x.scalars[row * 5 + i]) * Double(w.scalars[i * 4 + j]) }
                #expect(abs(Double(y.scalars[row * 4 + j]) - sum) < 1e-5)
            }
        }
        let wt = random([4, 5], seed: 4)
        let z = try x.matmulTransposed(wt)
        for row in 0..<6 {
            for j in 0..<4 {
                var sum = 0.0
                for i in 0..<5 { sum += Double(x.scalars[row * 5 + i]) * Double(wt.scalars[j * 5 + i]) }
                #expect(abs(Double(z.scalars[row * 4 + j]) - sum) < 1e-5)
            }
        }
        #expect(throws: CoreError.self) { try x.matmul(random([4, 4], seed: 5)) }
    }

    @Test func layerNormMatchesDefinition() throws {
        let x = random([3, 7], seed: 6, scale: 3), w = random([7], seed: 7), b = random([7], seed: 8)
        let y = try x.layerNorm(weight: w, bias: b, epsilon: 1e-5)
        for row in 0..<3 {
            let values = (0..<7).map { Double(x.scalars[row * 7 + $0]) }
            let mean = values.reduce(0, +) / 7
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7
            for c in 0..<7 {
                let expected = (values[c] - mean) / (variance + 1e-5).squareRoot() * Double(w.scalars[c]) + Double(b.scalars[c])
                #expect(abs(Double(y.scalars[row * 7 + c]) - expected) < 1e-5)
            }
        }
    }

    @Test func activationsMatchTheirFormulas() {
        let xs = stride(from: -12.0, through: 12.0, by: 0.37).map { $0 } + [-100, 100, 0]
        for x in xs {
            let tanhForm = 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
            let erfForm = 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            #expect(abs(Double(Activation.geluTanh(Float(x))) - tanhForm) < 1e-5 * max(1, abs(x)))
            #expect(abs(Double(Activation.geluErf(Float(x))) - erfForm) < 1e-5 * max(1, abs(x)))
            #expect(Activation.relu(Float(x)) == Float(max(0, x)))
            #expect(abs(Double(Activation.silu(Float(x))) - x / (1 + exp(-x))) < 1e-5 * max(1, abs(x)))
        }
        let t = random([1000], seed: 9, scale: 4)
        for activation in Activation.allCases {
            let applied = t.applying(activation)
            let worst = zip(applied.scalars, t.scalars).map { abs($0 - activation($1)) / max(1, abs($1)) }.max()!
            #expect(worst < 1e-6, "\(activation): \(worst)")
        }
    }

    @Test func activationBackwardIsTheDerivativeTimesTheGradient() throws {
        let x = try Tensor(shape: [1003], scalars: (0..<1003).map { Float($0 - 501) * 0.023 })
        let dy = random([1003], seed: 13, scale: 2)
        for activation in Activation.allCases {
            let backward = x.activationBackward(activation, outputGradient: dy)
            for i in 0..<x.count {
                let value = Double(x.scalars[i]), h = 1e-4
                let analytic: Double
                switch activation {
                case .geluTanh:
                    func gelu(_ v: Double) -> Double { 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))) }
                    analytic = (gelu(value + h) - gelu(value - h)) / (2 * h)
                case .geluErf:
                    analytic = 0.5 * (1 + erf(value / 2.0.squareRoot())) + value * exp(-0.5 * value * value) / (2 * Double.pi).squareRoot()
                case .relu:
                    analytic = value > 0 ? 1 : 0
                case .silu:
                    let sigmoid = 1 / (1 + exp(-value))
                    analytic = sigmoid * (1 + value * (1 - sigmoid))
                }
                let expected = analytic * Double(dy.scalars[i])
                #expect(abs(Double(backward.scalars[i]) - expected) < 1e-5 * max(1, abs(expected)), "\(activation) at \(value)")
            }
        }
    }

    @Test func causalAttentionMatchesPlainLoops() throws {
        let (b, t, h, d) = (2, 5, 3, 4)
        let q = random([b, t, h, d], seed: 10), k = random([b, t, h, d], seed: 11), v = random([b, t, h, d], seed: 12)
        let scale: Float = 0.5
        let scores = try CausalAttention.scores(query: q, key: k, scale: scale)
        let pattern = try CausalAttention.pattern(scores: scores)
        let z = try CausalAttention.mix(pattern: pattern, value: v)
        func at(_ x: Tensor, _ i: Int, _ j: Int, _ l: Int, _ m: Int) -> Double {
            Double(x.scalars[((i * x.shape[1] + j) * x.shape[2] + l) * x.shape[3] + m])
        }
        for batch in 0..<b {
            for head in 0..<h {
                for query in 0..<t {
                    var logits: [Double] = []
                    for key in 0...query {
                        logits.append((0..<d).reduce(0) { $0 + at(q, batch, query, head, $1) * at(k, batch, key, head, $1) } * Double(scale))
                        #expect(abs(at(scores, batch, head, query, key) - logits[key]) < 1e-5)
                    }
                    for key in (query + 1)..<max(query + 1, t) {
                        #expect(at(scores, batch, head, query, key) == -.infinity)
                        #expect(at(pattern, batch, head, query, key) == 0)
                    }
                    let top = logits.max()!
                    let total = logits.map { exp($0 - top) }.reduce(0, +)
                    let probabilities = logits.map { exp($0 - top) / total }
                    for key in 0...query { #expect(abs(at(pattern, batch, head, query, key) - probabilities[key]) < 1e-6) }
                    for m in 0..<d {
                        let expected = (0...query).reduce(0) { $0 + probabilities[$1] * at(v, batch, $1, head, m) }
                        #expect(abs(at(z, batch, query, head, m) - expected) < 1e-5)
                    }
                }
            }
        }
    }

    /// A row's product, and a sequence's attention, are the same bits however many rows or padded
    /// sequences share the call (the batch invariance the activation store relies on).
    @Test func productsAndPaddedAttentionDoNotDependOnTheBatch() throws {
        let w = random([512, 128], seed: 20), b = random([128], seed: 21), x = random([40, 512], seed: 22)
        let whole = try x.matmul(w, bias: b), wholeT = try x.matmulTransposed(random([96, 512], seed: 23))
        for rows in [1, 3, 17] {
            let part = try Tensor(shape: [rows, 512], scalars: Array(x.scalars[0..<(rows * 512)]))
            #expect(try part.matmul(w, bias: b).scalars == Array(whole.scalars[0..<(rows * 128)]))
            #expect(try part.matmulTransposed(random([96, 512], seed: 23)).scalars == Array(wholeT.scalars[0..<(rows * 96)]))
        }
        let (t, h, d) = (9, 2, 4)
        let q = random([2, t, h, d], seed: 24), k = random([2, t, h, d], seed: 25), v = random([2, t, h, d], seed: 26)
        let lengths = [9, 6]
        let padded = try CausalAttention.mix(
            pattern: CausalAttention.pattern(scores: CausalAttention.scores(query: q, key: k, scale: 0.5, lengths: lengths)),
            value: v, lengths: lengths)
        for (item, length) in lengths.enumerated() {
            func alone(_ x: Tensor) throws -> Tensor {
                try Tensor(shape: [1, length, h, d], scalars: Array(x.scalars[(item * t * h * d)..<((item * t + length) * h * d)]))
            }
            let z = try CausalAttention.mix(
                pattern: CausalAttention.pattern(scores: CausalAttention.scores(query: alone(q), key: alone(k), scale: 0.5)), value: alone(v))
            #expect(z.scalars == Array(padded.scalars[(item * t * h * d)..<((item * t + length) * h * d)]))
        }
        // A padding row is the value at position 0.
        #expect(Array(padded.scalars[((t + 7) * h * d)..<((t + 7) * h * d + d)]) == Array(v.scalars[(t * h * d)..<(t * h * d + d)]))
        #expect(throws: CoreError.self) { try CausalAttention.scores(query: q, key: k, scale: 1, lengths: [9, 10]) }
    }

    @Test func headResultsSumToTheOutputProjection() throws {
        let z = random([2, 3, 4, 5], seed: 13), w = random([20, 6], seed: 14), bias = random([6], seed: 15)
        let results = try CausalAttention.headResults(z: z, outputWeight: w)
        #expect(results.shape == [2, 3, 4, 6])
        let summed = try CausalAttention.sumHeads(results, bias: bias)
        let direct = try z.reshaped([2, 3, 20]).matmul(w, bias: bias)
        #expect(summed.maxAbsDifference(direct) < 1e-5)
    }

    @Test func fullyMaskedRowsGiveZerosNotNaN() throws {
        var scores = Tensor(shape: [1, 1, 2, 2], repeating: -.infinity)
        scores.scalars[2] = 1
        let pattern = try CausalAttention.pattern(scores: scores)
        #expect(pattern.scalars == [0, 0, 1, 0])
    }

    @Test func embeddingGatherAndSplit() throws {
        let table = try Tensor(shape: [3, 2], scalars: [0, 1, 10, 11, 20, 21])
        #expect(table.gatherRows([2, 0, 2]).scalars == [20, 21, 0, 1, 20, 21])
        let parts = try Tensor(shape: [2, 6], scalars: (0..<12).map(Float.init)).splitLastDimension(into: 3)
        #expect(parts.map(\.scalars) == [[0, 1, 6, 7], [2, 3, 8, 9], [4, 5, 10, 11]])
    }

    @Test func seededRandomIsDeterministicAndSeedDependent() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
        var n = SeededRandom(seed: 1)
        let normals = (0..<20_000).map { _ in Double(n.nextNormal()) }
        let mean = normals.reduce(0, +) / Double(normals.count)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(normals.count)
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
    }
}
