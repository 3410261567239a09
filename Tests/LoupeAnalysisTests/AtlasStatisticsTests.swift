import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel
import Testing
@testable import LoupeAnalysis

/// Hand-made and random activation chunks for the atlas tests.
enum AtlasData {
    /// One row of a hand-made chunk.
    struct Row {
        var document: Int
        var position: Int
        var values: [Float]
        var special: Bool { position < 0 }
    }

    /// Ids 0…40: "<|endoftext|>", "w1" … "w40".
    static func tokenizer() throws -> WordTokenizer {
        try WordTokenizer(tokens: ["<|endoftext|>"] + (1...40).map { "w\($0)" })
    }

    static func token(document: Int, position: Int) -> Int { position < 0 ? 0 : 1 + (document * 7 + position) % 40 }

    static func chunk(_ rows: [Row], stride: Int) throws -> ActivationChunk {
        let width = rows[0].values.count
        return try ActivationChunk(
            activations: Tensor(shape: [rows.count, width], scalars: rows.flatMap(\.values)),
            documents: rows.map(\.document), positions: rows.map(\.position),
            tokens: rows.map { token(document: $0.document, position: $0.position) }, special: rows.map(\.special),
            windowStride: stride)
    }

    /// The hand-made chunk: windows of stride 4 with a BOS row each; f0 fires on five tokens,
    /// f1 never fires, f2 fires everywhere with 1.
    static func handMade() throws -> ActivationChunk {
        let f0: [[Float]] = [[0, 5, 7, 0, 0, 7, -1, 0], [3, 0, 0, 0], [0, 0, 0, 9]]
        var rows: [Row] = []
        for (document, length) in [(0, 8), (1, 4), (2, 4)] {
            for position in 0..<length {
                if position % 4 == 0 { rows.append(Row(document: document, position: -1, values: [100, 100, 100])) }
                rows.append(Row(document: document, position: position, values: [f0[document][position], -0.5, 1]))
            }
        }
        return try chunk(rows, stride: 4)
    }

    /// Random sparse activations over `documents` documents (windows of stride 8 with a BOS row),
    /// `features` features; feature f fires with probability about (f + 1)/(features + 2).
    static func random(documents: Range<Int>, features: Int, seed: UInt64, dense: Bool = false) throws -> ActivationChunk {
        var rng = SeededRandom(seed: seed)
        var rows: [Row] = []
        for document in documents {
            let length = 1 + rng.nextInt(below: 30)
            for position in 0..<length {
                if position % 8 == 0 { rows.append(Row(document: document, position: -1, values: Array(repeating: 50, count: features))) }
                var values: [Float] = []
                for f in 0..<features {
                    let fires = dense || rng.nextUniform() < Float(f + 1) / Float(features + 2)
                    values.append(fires ? (rng.nextUniform() * Float(f + 1)).rounded(.up) / 4 + rng.nextUniform() : -rng.nextUniform())
                }
                rows.append(Row(document: document, position: position, values: values))
            }
        }
        return try chunk(rows, stride: 8)
    }

    static func run(_ chunks: [ActivationChunk], features: Int, options: AtlasOptions = AtlasOptions(),
                    decoder: Tensor? = nil, model: GPT2Model? = nil, hook: String = "blocks.0.hook_resid_post") throws -> AtlasResult {
        var first = try FirstPassStatistics(hook: hook, featureCount: features, inputWidth: chunks[0].width, options: options)
        for chunk in chunks { try first.add(chunk, encoder: AtlasBuilder.identity) }
        var second = try SecondPassStatistics(first: first)
        for chunk in chunks { try second.add(chunk, encoder: AtlasBuilder.identity) }
        return try AtlasBuilder(options: options).findings(first: first, second: second, tokenizer: tokenizer(), decoder: decoder, model: model)
    }

    /// Non-special (document, position, value of feature f) triples of a chunk.
    static func values(_ chunk: ActivationChunk, feature f: Int) -> [(document: Int, position: Int, value: Float)] {
        (0..<chunk.rowCount).filter { !chunk.special[$0] }.map {
            (chunk.documents[$0], chunk.positions[$0], chunk.activations.scalars[$0 * chunk.width + f])
        }
    }
}

@Suite("Atlas: feature statistics")
struct AtlasStatisticsTests {
    @Test func handMadeMatrixGivesKnownStatistics() throws {
        let chunk = try AtlasData.handMade()
        let decoder = try Tensor(shape: [3, 3], scalars: [1, 0, 0, 1, 1, 0, 0, 0, 2])
        let result = try AtlasData.run([chunk], features: 3, decoder: decoder)
        #expect(result.tokens == 16)
        let (f0, f1, f2) = (result.features[0], result.features[1], result.features[2])

        #expect(f0.density == 5.0 / 16 && f1.density == 0 && f2.density == 1)
        #expect(f0.maxActivation == 9 && f1.maxActivation == 0 && f2.maxActivation == 1)
        #expect(abs(f0.meanActivation - 6.2) < 1e-6 && f1.meanActivation == 0 && f2.meanActivation == 1)

        var histogram0 = [Int](repeating: 0, count: 24)
        histogram0[8] = 1  // 3
        histogram0[13] = 1  // 5
        histogram0[18] = 2  // 7, 7
        histogram0[23] = 1  // 9 (last bin closed at the maximum)
        #expect(f0.histogram == Histogram(lower: 0, upper: 9, counts: histogram0))
        #expect(f1.histogram == Histogram(lower: 0, upper: 0, counts: Array(repeating: 0, count: 24)))
        #expect(f2.histogram.counts[23] == 16 && f2.histogram.counts.reduce(0, +) == 16)

        // Strongest first, one per model window, ties by (document, position); BOS rows never count.
        #expect(f0.topExamples.map { [$0.document, $0.position] } == [[2, 3], [0, 2], [0, 5], [1, 0]])
        #expect(f0.topExamples.map(\.activation) == [9, 7, 7, 3])
        let example = f0.topExamples[1]
        #expect(example.activations == [0, 5, 7, 0] && example.focus == 2)
        let words = try AtlasData.tokenizer()
        #expect(example.tokens == (0..<4).map { words.displayString(for: AtlasData.token(document: 0, position: $0)) })
        #expect(f0.topExamples[2].activations == [0, 7, -1, 0] && f0.topExamples[2].focus == 1)
        #expect(f1.topExamples.isEmpty && f1.intervals.isEmpty && f1.coFiring.isEmpty)
        #expect(f2.topExamples.map { [$0.document, $0.position] } == [[0, 0], [0, 4], [1, 0], [2, 0]])

        #expect(f0.intervals.count == 10)
        #expect(f0.intervals.map(\.examples.count) == [0, 0, 0, 1, 0, 1, 0, 1, 0, 1])
        #expect(f0.intervals[7].examples[0].activation == 7)
        #expect(f0.intervals[9].upper == 9 && abs(f0.intervals[3].lower - 2.7) < 1e-6)
        #expect(f2.intervals.map(\.examples.count) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 3])
        #expect(Set(f2.intervals[9].examples.map(\.document)) == [0, 1, 2])

        #expect(f0.coFiring == [FeatureLink(index: 2, score: 1)])
        #expect(f2.coFiring == [FeatureLink(index: 0, score: 5.0 / 16)])

        #expect(f0.neighbours.map(\.index) == [1, 2])
        #expect(abs(f0.neighbours[0].score - 0.70710677) < 1e-6 && f0.neighbours[1].score == 0)
        #expect(f2.neighbours.map(\.index) == [0, 1])
        #expect(f0.logitEffects == nil)
        #expect(f0.explanation == nil)
        #expect(result.exampleSets[1] == FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: []))
    }

    @Test func statisticsMatchAPlainComputation() throws {
        let features = 6
        let chunk = try AtlasData.random(documents: 0..<160, features: features, seed: 11)
        var options = AtlasOptions()
        options.encodeRows = 100
        let result = try AtlasData.run([chunk], features: features, options: options)
        let tokens = chunk.special.filter { !$0 }.count
        let words = try AtlasData.tokenizer()
        #expect(result.tokens == tokens)
        for f in 0..<features {
            let finding = result.features[f]
            let all = AtlasData.values(chunk, feature: f)
            let firing = all.filter { $0.value > 0 }
            let maximum = firing.map(\.value).max() ?? 0
            #expect(finding.density == Double(firing.count) / Double(tokens))
            #expect(finding.maxActivation == maximum)
            let mean = firing.reduce(0.0) { $0 + Double($1.value) } / Double(firing.count)
            #expect(abs(Double(finding.meanActivation) - mean) < 1e-5 * mean)

            var histogram = [Int](repeating: 0, count: 24)
            for item in firing { histogram[min(23, Int(item.value / maximum * 24))] += 1 }
            #expect(finding.histogram.counts == histogram)

            // Top 20: the best token of each model window, strongest first, ties by (document, position).
            var best: [[Int]: (document: Int, position: Int, value: Float)] = [:]
            for item in firing {
                let key = [item.document, item.position / 8]
                if let old = best[key], (old.value, -old.position) >= (item.value, -item.position) { continue }
                best[key] = item
            }
            let expectedTop = best.values.sorted { ($0.value, -$0.document, -$0.position) > ($1.value, -$1.document, -$1.position) }.prefix(20)
            #expect(finding.topExamples.map { [$0.document, $0.position] } == expectedTop.map { [$0.document, $0.position] })
            #expect(finding.topExamples.map(\.activation) == expectedTop.map(\.value))

            // Intervals: never zero, inside their bounds, one per document, as many as there are documents.
            #expect(finding.intervals.count == 10)
            for (i, group) in finding.intervals.enumerated() {
                #expect(group.lower == maximum * Float(i) / 10)
                #expect(group.upper == (i == 9 ? maximum : maximum * Float(i + 1) / 10))
                let documents = Set(firing.filter { $0.value > group.lower && $0.value <= group.upper }.map(\.document))
                #expect(group.examples.count == min(5, documents.count))
                #expect(Set(group.examples.map(\.document)).count == group.examples.count)
                for example in group.examples {
                    #expect(example.activation > 0 && example.activation > group.lower && example.activation <= group.upper)
                    let value = all.first { $0.document == example.document && $0.position == example.position }?.value
                    #expect(value == example.activation)
                }
            }
            // Context: the activations of the same window, up to 10 before and 4 after.
            for example in finding.topExamples + finding.intervals.flatMap(\.examples) {
                let start = example.position - example.focus
                #expect(example.focus <= 10 && example.activations.count - example.focus - 1 <= 4)
                for (offset, value) in example.activations.enumerated() {
                    let position = start + offset
                    #expect(position / 8 == example.position / 8)
                    #expect(all.first { $0.document == example.document && $0.position == position }?.value == value)
                    #expect(example.tokens[offset] == words.displayString(for: AtlasData.token(document: example.document, position: position)))
                }
            }

            // Co-firing: fraction of f's firing tokens where the other fires, top 5.
            var links: [FeatureLink] = []
            for other in 0..<features where other != f {
                let values = AtlasData.values(chunk, feature: other)
                let shared = zip(all, values).filter { pair in pair.0.value > 0 && pair.1.value > 0 }.count
                if shared > 0 { links.append(FeatureLink(index: other, score: Float(Double(shared) / Double(firing.count)))) }
            }
            links.sort { ($0.score, -$0.index) > ($1.score, -$1.index) }
            #expect(finding.coFiring == Array(links.prefix(5)))
        }
    }

    @Test func coFiringIsExactOnDenseAndSparseBlocks() throws {
        for dense in [true, false] {
            let features = 9
            let chunk = try AtlasData.random(documents: 0..<40, features: features, seed: 5, dense: dense)
            var first = try FirstPassStatistics(hook: "h", featureCount: features, inputWidth: features)
            try first.add(chunk, encoder: AtlasBuilder.identity)
            for i in 0..<features {
                for j in 0..<features {
                    let a = AtlasData.values(chunk, feature: i), b = AtlasData.values(chunk, feature: j)
                    let shared = zip(a, b).filter { pair in pair.0.value > 0 && pair.1.value > 0 }.count
                    #expect(first.coFiringCount(i, j) == shared)
                }
            }
        }
    }

    @Test func neighboursFollowDecoderCosine() throws {
        var rng = SeededRandom(seed: 4)
        let (features, width) = (40, 7)
        var decoder = Tensor(shape: [features, width])
        for i in 0..<decoder.count { decoder.scalars[i] = rng.nextNormal() }
        for k in 0..<width { decoder.scalars[3 * width + k] = 0 }
        let neighbours = try DecoderGeometry.neighbours(decoder, count: 5)
        func cosine(_ a: Int, _ b: Int) -> Double {
            var (dot, na, nb) = (0.0, 0.0, 0.0)
            for k in 0..<width {
                let (x, y) = (Double(decoder.scalars[a * width + k]), Double(decoder.scalars[b * width + k]))
                dot += x * y
                na += x * x
                nb += y * y
            }
            return na == 0 || nb == 0 ? 0 : dot / (na * nb).squareRoot()
        }
        for f in 0..<features {
            let expected = (0..<features).filter { $0 != f }.sorted { (cosine(f, $0), -$0) > (cosine(f, $1), -$1) }.prefix(5)
            #expect(neighbours[f].map(\.index) == Array(expected))
            for link in neighbours[f] { #expect(abs(Double(link.score) - cosine(f, link.index)) < 1e-5) }
        }
        #expect(neighbours[3].map(\.index) == [0, 1, 2, 4, 5])
    }

    @Test func invalidInputsAreRefused() throws {
        let chunk = try AtlasData.handMade()
        #expect(throws: AtlasError.self) { try FirstPassStatistics(hook: "h", featureCount: 0, inputWidth: 3) }
        var options = AtlasOptions()
        options.intervals = 0
        #expect(throws: AtlasError.invalidOption(name: "intervals", reason: "must be positive, got 0")) {
            try FirstPassStatistics(hook: "h", featureCount: 3, inputWidth: 3, options: options)
        }
        var first = try FirstPassStatistics(hook: "h", featureCount: 4, inputWidth: 3)
        #expect(throws: AtlasError.encoderShape(hook: "h", expected: [20, 4], found: [20, 3])) {
            try first.add(chunk, encoder: AtlasBuilder.identity)
        }
        var narrow = try FirstPassStatistics(hook: "h", featureCount: 2, inputWidth: 2)
        #expect(throws: AtlasError.inputWidth(hook: "h", expected: 2, found: 3)) { try narrow.add(chunk, encoder: AtlasBuilder.identity) }
        #expect(throws: AtlasError.decoderShape(hook: "blocks.0.hook_resid_post", expected: [3, 3], found: [3, 4])) {
            try AtlasData.run([chunk], features: 3, decoder: Tensor(shape: [3, 4]))
        }
    }
}
