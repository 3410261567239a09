import Foundation
import LoupeCore
import LoupeModel

/// How samples are drawn from a decoder for one query.
public struct DecodeSettings: Sendable, Equatable {
    /// Distinct samples returned.
    public var samples = 64
    /// Distinct candidates drawn per sample returned.
    public var candidatesPerSample = 8
    /// Most of the returned samples taken from the candidates inside ε (the rest from those outside,
    /// nearest first), so a set shows what lies just inside and just outside the preimage.
    public var insideShare = 0.75
    /// Softmax temperatures; candidates are drawn at each in turn.
    public var temperatures: [Double] = [0.5, 1, 2]
    /// Activation-noise levels σ: a candidate's conditioning activation is `q + σ·‖q‖/√w · n`, `n`
    /// standard normal, so the noise's norm is about σ‖q‖.
    public var noises: [Double] = [0, 0.05]
    public var distance: PreimageDistance = .l2
    public var epsilon = 0.1
    public var seed: UInt64 = 1

    public init() {}
}

/// One decoded sample, run back through the probed model.
public struct DecodedCandidate: Sendable, Equatable {
    /// The probed model's input (a leading BOS when the decoder prepends one), `[T]`.
    public var tokens: [Int]
    /// The non-BOS position whose activation lies nearest the query's, and that distance.
    public var matchedPosition: Int
    public var distance: Double
    /// Per position, the distance to the query (`[T]`, nil at BOS tokens).
    public var positionDistances: [Double?]
    public var temperature: Double
    public var noise: Double
}

/// Samples inputs from an inversion decoder for a query activation and measures each one's real
/// distance by running it through the probed model (InversionView's sampling).
public enum DecoderSampler {
    /// Candidates generated per (temperature, noise) pair in one round.
    static let perPairPerRound = 16
    /// Rounds tried before giving up on finding enough distinct samples.
    static let maximumRounds = 200

    /// `settings.samples` distinct samples for `query` (at `site`, index `siteIndex` of the decoder),
    /// ascending by distance (ties in the order drawn), InversionView's way: distinct candidates are
    /// drawn at every temperature and noise level in turn until there are `candidatesPerSample` per
    /// sample, each is run back through the probed model, and the set shown holds the nearest candidates
    /// inside ε (at most `insideShare` of it) and the nearest outside (the rest): most but not all
    /// inside, so that what the inside samples share stands against near misses.
    public static func sample(
        decoder: InversionDecoder, probed: GPT2Model, query: PreimageQuery, siteIndex: Int, settings: DecodeSettings
    ) throws -> [DecodedCandidate] {
        guard settings.samples > 0 else { throw DecoderError.invalidSetting(name: "samples", reason: "must be positive") }
        guard !settings.temperatures.isEmpty, settings.temperatures.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DecoderError.invalidSetting(name: "temperatures", reason: "need at least one positive temperature")
        }
        guard settings.noises.allSatisfy({ $0 >= 0 && $0.isFinite }), !settings.noises.isEmpty else {
            throw DecoderError.invalidSetting(name: "noise", reason: "need at least one level ≥ 0")
        }
        guard settings.insideShare > 0 && settings.insideShare <= 1 else {
            throw DecoderError.invalidSetting(name: "inside share", reason: "must be in (0, 1]")
        }
        let pairs = settings.temperatures.flatMap { t in settings.noises.map { (temperature: t, noise: $0) } }
        var rng = SeededRandom(seed: settings.seed)
        var seen: Set<[Int]> = []
        var kept: [(tokens: [Int], temperature: Double, noise: Double)] = []
        // Each temperature and noise level gives an equal share of distinct candidates (a confident
        // low temperature repeats itself, so it is drawn from until its share is full or rounds run out).
        let quota = (settings.samples * max(1, settings.candidatesPerSample) + pairs.count - 1) / pairs.count
        var filled = Array(repeating: 0, count: pairs.count)
        var round = 0
        while filled.contains(where: { $0 < quota }) && round < maximumRounds {
            round += 1
            let open = pairs.indices.filter { filled[$0] < quota }
            let rows = (0..<perPairPerRound).flatMap { _ in open }
            let activations = rows.map { noisy(query.activation, level: pairs[$0].noise, rng: &rng) }
            let drawn = try generate(
                decoder: decoder, activations: activations, site: siteIndex, temperatures: rows.map { pairs[$0].temperature }, rng: &rng)
            for (pair, tokens) in zip(rows, drawn) where filled[pair] < quota {
                guard tokens.contains(where: { $0 != decoder.config.bosTokenID }), seen.insert(tokens).inserted else { continue }
                kept.append((tokens, pairs[pair].temperature, pairs[pair].noise))
                filled[pair] += 1
            }
        }
        guard kept.count >= settings.samples else {
            throw DecoderError.invalidSetting(
                name: "samples", reason: "the decoder gave only \(kept.count) distinct inputs in \(maximumRounds) rounds; ask for fewer samples")
        }
        let measured = try measure(kept.map(\.tokens), probed: probed, query: query, distance: settings.distance, bos: decoder.config.bosTokenID)
        let candidates = zip(kept, measured).map { drawn, measure in
            DecodedCandidate(
                tokens: drawn.tokens, matchedPosition: measure.matched, distance: measure.distances[measure.matched]!,
                positionDistances: measure.distances, temperature: drawn.temperature, noise: drawn.noise)
        }
        let sorted = candidates.enumerated().sorted { ($0.element.distance, $0.offset) < ($1.element.distance, $1.offset) }.map(\.element)
        return select(sorted, settings: settings)
    }

    /// The samples shown, from candidates sorted by distance: the nearest inside ε, at most
    /// `insideShare` of the samples unless too few lie outside, and the rest from outside, spread
    /// evenly over their distances (near misses and far ones alike); in order.
    static func select(_ sorted: [DecodedCandidate], settings: DecodeSettings) -> [DecodedCandidate] {
        let inside = sorted.filter { $0.distance <= settings.epsilon }
        let outside = sorted.filter { $0.distance > settings.epsilon }
        let n = min(settings.samples, sorted.count)
        let most = Int((Double(n) * settings.insideShare).rounded(.down))
        let fromInside = min(inside.count, max(most, n - outside.count))
        let fromOutside = n - fromInside
        let spread = (0..<fromOutside).map { outside[$0 * outside.count / max(1, fromOutside)] }
        return Array(inside.prefix(fromInside)) + spread
    }

    /// `activation` plus noise of norm about `level · ‖activation‖`.
    static func noisy(_ activation: [Float], level: Double, rng: inout SeededRandom) -> [Float] {
        guard level > 0 else { return activation }
        let norm = activation.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let scale = Float(level * norm / Double(activation.count).squareRoot())
        return activation.map { $0 + scale * rng.nextNormal() }
    }

    /// Draws one input per activation, token by token, until each has produced the end of text or
    /// filled the probed context. Returns the probed model's inputs (a leading BOS when the decoder prepends one).
    static func generate(
        decoder: InversionDecoder, activations: [[Float]], site: Int, temperatures: [Double], rng: inout SeededRandom
    ) throws -> [[Int]] {
        let bos = decoder.config.bosTokenID
        let limit = decoder.config.body.contextLength - 2
        let start = decoder.config.prependBOS ? [bos, bos] : [bos]
        var sequences = Array(repeating: start, count: activations.count)
        var finished = Array(repeating: false, count: activations.count)
        let sites = Array(repeating: site, count: activations.count)
        let vocabulary = decoder.config.body.vocabularySize
        while finished.contains(false) && sequences[0].count - 1 < limit {
            let logits = try decoder.logits(sequences, activations: activations, sites: sites)
            let t = sequences[0].count
            for row in sequences.indices {
                guard !finished[row] else {
                    sequences[row].append(bos)
                    continue
                }
                let offset = (row * t + t - 1) * vocabulary
                let next = draw(Array(logits.scalars[offset..<(offset + vocabulary)]), temperature: temperatures[row], rng: &rng)
                sequences[row].append(next)
                if next == bos { finished[row] = true }
            }
        }
        return sequences.map { sequence in
            var tokens = Array(sequence.dropFirst())
            let first = decoder.config.prependBOS ? 1 : 0
            if let end = tokens[first...].firstIndex(of: bos) { tokens = Array(tokens[..<end]) }
            return tokens
        }
    }

    /// An index drawn from `softmax(logits / temperature)`.
    static func draw(_ logits: [Float], temperature: Double, rng: inout SeededRandom) -> Int {
        let top = Double(logits.max()!)
        let weights = logits.map { exp((Double($0) - top) / temperature) }
        var target = Double(rng.nextUniform()) * weights.reduce(0, +)
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return index }
        }
        return weights.lastIndex { $0 > 0 }!
    }

    /// Each input's distance to the query at every non-BOS position (double precision) and the
    /// nearest such position (the first on ties).
    static func measure(
        _ inputs: [[Int]], probed: GPT2Model, query: PreimageQuery, distance: PreimageDistance, bos: Int
    ) throws -> [(distances: [Double?], matched: Int)] {
        let scorer = PreimageScorer(query: query.activation.map(Double.init), distance: distance)
        let site = query.site
        var results: [(distances: [Double?], matched: Int)] = []
        let batch = 64
        for start in stride(from: 0, to: inputs.count, by: batch) {
            let group = Array(inputs[start..<min(inputs.count, start + batch)])
            let length = group.map(\.count).max()!
            let pass = try probed.forward(
                group.map { $0 + Array(repeating: bos, count: length - $0.count) }, ForwardRequest(cache: [site.hook], computeLogits: false))
            let value = pass.cache[site.hook]!
            for (item, tokens) in group.enumerated() {
                var distances: [Double?] = []
                value.scalars.withUnsafeBufferPointer { rows in
                    for position in tokens.indices {
                        guard tokens[position] != bos else {
                            distances.append(nil)
                            continue
                        }
                        let row = (item * length + position) * site.rowWidth
                        distances.append(scorer.exact(UnsafeBufferPointer(rebasing: rows[(row + site.columns.lowerBound)..<(row + site.columns.upperBound)])))
                    }
                }
                let matched = distances.indices.filter { distances[$0] != nil }.min { distances[$0]! < distances[$1]! }!
                results.append((distances, matched))
            }
        }
        return results
    }
}
