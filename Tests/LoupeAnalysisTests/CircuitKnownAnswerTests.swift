import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld
import Testing

/// Hand-set models whose circuit is known by construction.
@Suite("Circuits: known answers")
struct CircuitKnownAnswerTests {
    /// Row `i` of the 8 × 8 Sylvester–Hadamard matrix: entries ±1, rows 1…7 mean-zero, mutually
    /// orthogonal, squared norm 8 (so a layer norm with unit weight and zero bias leaves them unchanged).
    static func hadamard(_ i: Int) -> [Float] {
        (0..<8).map { j in (i & j).nonzeroBitCount % 2 == 0 ? 1 : -1 }
    }

    /// A 2-layer, 2-head, width-8 model in which head a1.h0 alone writes into the residual stream.
    ///
    /// With b = H₁, a = H₂, a' = H₃, c = H₄ (Hadamard rows; zero position embeddings):
    /// - tokens 0 (BOS) and 3 embed as b, token 1 (clean) as a, token 2 (corrupted) as a';
    ///   tokens 4 (answer) and 5 (wrong answer) as c and −c, so with the tied unembedding the metric
    ///   is M = LN_f(x)·2c.
    /// - Every `attn.c_proj` and `mlp.c_proj` weight and bias is zero except row 0 of layer 1's
    ///   `attn.c_proj` (head 0's first value channel), which is 6c. So a0.h0, a0.h1, a1.h1, m0 and m1
    ///   write exactly zero whatever they compute (their other weights are random).
    /// - a1.h0 has zero query and key weights and biases, so it attends uniformly; its first value
    ///   channel is LN(x)·(a − a')/16, which is +½ on token 1, −½ on token 2 and 0 on b. On a prompt
    ///   of T tokens with the varying token before the last, the last position's z₀ is ±½/T and the
    ///   head writes s·c with s = ±3/T into a residual stream b + s·c.
    /// - Hence M(s) = 2c·(b + s c)/√(1 + s²) = 16 s/√(1 + s²): clean M(3/T), corrupted −M(3/T).
    ///
    /// Known answers (all other nodes and edges exactly 0, since their output difference Δ or
    /// their input's gradient is structurally zero):
    /// - patching a1.h0 = corrupted − clean = −2 M(3/T);
    /// - attribution a1.h0 = Δs · M'(s) = (−6/T) · 16/(1 + s²)^{3/2}, also EAP's a1.h0->logits;
    /// - EAP input->a1.h0<v>: Δx = a' − a at the varying position; the layer norm's Jacobian at a
    ///   maps (a − a')/16 to −a'/16, so Δx · ∂v₀/∂x = −½ and the edge is (6/T)·M'(s)·(−½) =
    ///   half of attribution's score; a1.h0<q> and <k> have zero weights, so zero gradient.
    static func singleHeadModel() throws -> GPT2Model {
        let config = GPT2Config(vocabularySize: 6, contextLength: 8, width: 8, heads: 2, layers: 2, mlpWidth: 8)
        let base = GPT2Weights.random(config: config, seed: 3)
        var rng = SeededRandom(seed: 11)
        var named: [String: Tensor] = [:]
        for (name, tensor) in base.named {
            var t = tensor
            for i in 0..<t.count { t.scalars[i] = (name.contains("ln_") && name.hasSuffix("weight") ? 1 : 0) + 0.5 * rng.nextNormal() }
            named[name] = t
        }
        let (b, a, a2, c) = (hadamard(1), hadamard(2), hadamard(3), hadamard(4))
        let zero8 = [Float](repeating: 0, count: 8)
        named["wte.weight"] = try Tensor(shape: [6, 8], scalars: b + a + a2 + b + c + c.map { -$0 })
        named["wpe.weight"] = Tensor(shape: [8, 8])
        for name in ["h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias", "h.1.attn.c_proj.bias",
                     "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias", "h.1.mlp.c_proj.weight", "h.1.mlp.c_proj.bias",
                     "h.1.ln_1.bias", "ln_f.bias"] {
            named[name] = Tensor(shape: named[name]!.shape)
        }
        named["h.1.ln_1.weight"] = Tensor(shape: [8], repeating: 1)
        named["ln_f.weight"] = Tensor(shape: [8], repeating: 1)
        // Layer 1's attn.c_proj: head 0's first value channel (row 0) writes 6c; every other row zero.
        named["h.1.attn.c_proj.weight"] = try Tensor(shape: [8, 8], scalars: c.map { 6 * $0 } + Array(repeating: zero8, count: 7).flatMap { $0 })
        // Layer 1's c_attn [C, 3C]: columns 0–3 (query), 8–11 (key), 16–19 (value) are head 0's.
        var attention = named["h.1.attn.c_attn.weight"]!
        var attentionBias = named["h.1.attn.c_attn.bias"]!
        for column in Array(0..<4) + Array(8..<12) + Array(16..<20) {
            attentionBias.scalars[column] = 0
            for channel in 0..<8 {
                attention.scalars[channel * 24 + column] = column == 16 ? (a[channel] - a2[channel]) / 16 : 0
            }
        }
        named["h.1.attn.c_attn.weight"] = attention
        named["h.1.attn.c_attn.bias"] = attentionBias
        return GPT2Model(config: config, weights: GPT2Weights.withNamed(named, like: base))
    }

    /// Pairs whose varying token (1 clean, 2 corrupted) sits before the last position: T = 3 and T = 4.
    static let pairs = [
        TaskExample(clean: [0, 1, 3], corrupted: [0, 2, 3], correct: [4], wrong: [5]),
        TaskExample(clean: [0, 3, 1, 3], corrupted: [0, 3, 2, 3], correct: [4], wrong: [5]),
    ]

    /// M(s) = 16 s / √(1 + s²) and its derivative.
    static func metric(_ s: Double) -> Double { 16 * s / (1 + s * s).squareRoot() }
    static func slope(_ s: Double) -> Double { 16 / pow(1 + s * s, 1.5) }

    /// The mean over `pairs` of f(T).
    static func mean(_ f: (Double) -> Double) -> Double { pairs.map { f(Double($0.clean.count)) }.reduce(0, +) / Double(pairs.count) }

    static let tolerance = 1e-3
    /// What "exactly zero" allows for (float32 arithmetic on exact zeros stays zero).
    static let zero = 1e-7

    @Test func theMetricsAreTheConstructedOnes() throws {
        let analysis = CircuitAnalysis(model: try Self.singleHeadModel())
        let result = try analysis.run(.patching, task: "known", pairs: Self.pairs)
        #expect(abs(result.cleanMetric - Self.mean { Self.metric(3 / $0) }) <= Self.tolerance, "\(result.cleanMetric)")
        #expect(abs(result.corruptedMetric + Self.mean { Self.metric(3 / $0) }) <= Self.tolerance, "\(result.corruptedMetric)")
        #expect(result.cleanMetric > 9)
    }

    @Test func nodeMethodsScoreOnlyTheWritingHead() throws {
        let analysis = CircuitAnalysis(model: try Self.singleHeadModel())
        let patching = try analysis.run(.patching, task: "known", pairs: Self.pairs)
        let attribution = try analysis.run(.attribution, task: "known", pairs: Self.pairs)
        let expectedPatching = Self.mean { -2 * Self.metric(3 / $0) }
        let expectedAttribution = Self.mean { T in -6 / T * Self.slope(3 / T) }
        for (result, expected) in [(patching, expectedPatching), (attribution, expectedAttribution)] {
            #expect(result.nodes.map(\.id) == ["a0.h0", "a0.h1", "m0", "a1.h0", "a1.h1", "m1"])
            #expect(result.edges.isEmpty)
            for node in result.nodes {
                if node.id == "a1.h0" {
                    #expect(abs(node.score - expected) <= Self.tolerance, "\(result.method) a1.h0: \(node.score) vs \(expected)")
                } else {
                    #expect(abs(node.score) <= Self.zero, "\(result.method) \(node.id): \(node.score)")
                }
            }
        }
        // Patching's a1.h0 score is the whole change of the metric: it is the only path.
        let whole = patching.corruptedMetric - patching.cleanMetric
        #expect(abs(patching.nodes[3].score - whole) <= Self.tolerance)
    }

    @Test(arguments: [CircuitMethod.eap, .eapIG])
    func edgeMethodsScoreOnlyEdgesAtTheWritingHead(method: CircuitMethod) throws {
        let analysis = CircuitAnalysis(model: try Self.singleHeadModel(), igSteps: 4)
        let result = try analysis.run(method, task: "known", pairs: Self.pairs)
        #expect(result.edges.count == CircuitGraph(layers: 2, heads: 2).edges.count)
        let atHead: Set<String> = ["a1.h0<q>", "a1.h0<k>", "a1.h0<v>"]
        for edge in result.edges where edge.sender != "a1.h0" && !atHead.contains(edge.receiver) {
            #expect(abs(edge.score) <= Self.zero, "\(method) \(edge.id): \(edge.score)")
        }
        let scores = Dictionary(uniqueKeysWithValues: result.edges.map { ($0.id, $0.score) })
        // Only the input differs among a1.h0's senders, and its query and key weights are zero.
        for sender in ["a0.h0", "a0.h1", "m0"] {
            for receiver in atHead { #expect(abs(scores["\(sender)->\(receiver)"]!) <= Self.zero) }
        }
        #expect(abs(scores["input->a1.h0<q>"]!) <= Self.zero)
        #expect(abs(scores["input->a1.h0<k>"]!) <= Self.zero)
        #expect(abs(scores["a1.h0->m1"]!) <= Self.zero)
        let toLogits = scores["a1.h0->logits"]!
        let intoValue = scores["input->a1.h0<v>"]!
        if method == .eap {
            let attribution = Self.mean { T in -6 / T * Self.slope(3 / T) }
            #expect(abs(toLogits - attribution) <= Self.tolerance, "\(toLogits) vs \(attribution)")
            #expect(abs(intoValue - attribution / 2) <= Self.tolerance, "\(intoValue) vs \(attribution / 2)")
        } else {
            // Integrated gradients change the sizes, not the signs: both edges lower the metric.
            #expect(toLogits < -1)
            #expect(intoValue < -1)
        }
        // Node scores: Σ |outgoing edge| singles out a1.h0.
        for node in result.nodes {
            if node.id == "a1.h0" {
                #expect(abs(node.score - abs(toLogits)) <= 1e-9)
            } else {
                #expect(abs(node.score) <= Self.zero, "\(method) \(node.id): \(node.score)")
            }
        }
    }

    @Test func discreteCodesGiveNodeScoresSummingToOne() throws {
        let analysis = CircuitAnalysis(model: try Self.singleHeadModel(), seed: 4)
        let result = try analysis.run(.saeCodes, task: "known", pairs: Self.pairs + Self.pairs)
        #expect(result.method == "sae-codes")
        #expect(result.nodes.map(\.id) == ["a0.h0", "a0.h1", "m0", "a1.h0", "a1.h1", "m1"])
        // Every node (heads and, beyond the original method, MLPs) gets a code: the scores are a softmax over nodes.
        #expect(abs(result.nodes.map(\.score).reduce(0, +) - 1) <= 1e-9)
        #expect(result.nodes.allSatisfy { $0.score > 0 && $0.score <= 1 })
        #expect(result.edges.map(\.id) == CircuitGraph(layers: 2, heads: 2).edgeIDs)
        #expect(result.edges.allSatisfy { $0.score >= 0 })
        #expect(result.edges.filter { $0.sender == "input" || $0.receiver == "logits" }.allSatisfy { $0.score == 0 })
        #expect(abs(result.cleanMetric - Self.mean { Self.metric(3 / $0) }) <= Self.tolerance)
    }

    /// A model whose metric is linear in the last layer's head outputs: every layer norm has epsilon
    /// 1e8 (so in float32 its variance term is exactly 1e8 and LN(x) = (x − mean)·w/10⁴, affine) with
    /// weights ~10⁴ to keep activations O(1), and the last MLP writes zero. The last layer's heads
    /// feed only the final residual stream, so the metric is affine in each one's z and patching it
    /// changes the metric by exactly Δz · ∂M/∂z: attribution patching must agree with activation
    /// patching there. Earlier nodes pass through attention softmaxes and GELUs, where they differ.
    static func linearMetricModel() -> GPT2Model {
        let config = GPT2Config(
            vocabularySize: 11, contextLength: 8, width: 8, heads: 2, layers: 2, mlpWidth: 16, layerNormEpsilon: 1e8)
        let base = GPT2Weights.random(config: config, seed: 5)
        var rng = SeededRandom(seed: 9)
        var named: [String: Tensor] = [:]
        for (name, tensor) in base.named {
            var t = tensor
            let isNormWeight = name.contains("ln_") && name.hasSuffix("weight")
            for i in 0..<t.count {
                let value = 0.6 * rng.nextNormal()
                t.scalars[i] = isNormWeight ? 1e4 * (1 + value / 2) : value
            }
            named[name] = t
        }
        named["h.1.mlp.c_proj.weight"] = Tensor(shape: [16, 8])
        named["h.1.mlp.c_proj.bias"] = Tensor(shape: [8])
        return GPT2Model(config: config, weights: GPT2Weights.withNamed(named, like: base))
    }

    @Test func patchingAndAttributionAgreeWhereTheMetricIsLinear() throws {
        let model = Self.linearMetricModel()
        let pairs = [
            TaskExample(clean: [1, 4, 2, 9, 3], corrupted: [1, 7, 2, 9, 3], correct: [5], wrong: [8]),
            TaskExample(clean: [6, 0, 5, 10, 2], corrupted: [6, 0, 3, 10, 2], correct: [1], wrong: [4]),
            TaskExample(clean: [2, 2, 8, 7], corrupted: [2, 6, 8, 1], correct: [9], wrong: [0]),
        ]
        let analysis = CircuitAnalysis(model: model)
        let patching = try analysis.run(.patching, task: "linear", pairs: pairs)
        let attribution = try analysis.run(.attribution, task: "linear", pairs: pairs)
        #expect(abs(patching.cleanMetric - patching.corruptedMetric) > 0.1)
        var earlierDifference = 0.0
        for (patched, attributed) in zip(patching.nodes, attribution.nodes) {
            #expect(patched.id == attributed.id)
            if patched.layer == 1 {
                if patched.head != nil {
                    #expect(abs(patched.score) > 0.05, "\(patched.id): \(patched.score)")
                }
                #expect(abs(patched.score - attributed.score) <= 1e-3 * abs(patched.score) + 1e-6,
                        "\(patched.id): patching \(patched.score), attribution \(attributed.score)")
            } else {
                earlierDifference = max(earlierDifference, abs(patched.score - attributed.score))
            }
        }
        // The construction is not linear everywhere: the first layer's nodes show the difference.
        #expect(earlierDifference > 1e-2, "\(earlierDifference)")
    }
}
