import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel
import LoupeToyWorld

/// The decoded half of a neighbourhood: a decoder's samples for one query, each re-measured, the share
/// inside ε, and what the samples inside ε share that those outside do not.
public struct DecodedNeighbourhood: Sendable {
    /// Ascending by distance.
    public var samples: [DecodedCandidate]
    /// Samples with distance ≤ ε over all samples.
    public var insideFraction: Double
    public var shared: [SharedStatement]

    /// Samples `query` with `decoder` (which must cover the query's site and have been trained on
    /// `probed`, whose tokenizer is `tokenizer`). Toy-world variables (count, target letter, …) join
    /// the shared properties when the tokenizer is the toy world's.
    public static func run(
        decoder: InversionDecoder, probed: GPT2Model, tokenizer: any Tokenizer, query: PreimageQuery, settings: DecodeSettings
    ) throws -> DecodedNeighbourhood {
        let siteIndex = try decoder.config.siteIndex(hook: query.site.hook, head: query.site.head)
        let samples = try DecoderSampler.sample(decoder: decoder, probed: probed, query: query, siteIndex: siteIndex, settings: settings)
        let converted = samples.map { NeighbourhoodSample(tokens: $0.tokens, matchedPosition: $0.matchedPosition, distance: $0.distance) }
        let inside = converted.filter { $0.distance <= settings.epsilon }
        let outside = converted.filter { $0.distance > settings.epsilon }
        let isToyWorld = (tokenizer as? WordTokenizer)?.tokens == ToyWorld().vocabulary
        let shared = SharedInformation.statements(
            inside: inside, outside: outside,
            query: NeighbourhoodSample(tokens: query.tokens, matchedPosition: query.position, distance: 0),
            display: { tokenizer.displayString(for: $0) },
            variables: isToyWorld ? { ToyTaskVariables.variables(of: $0.tokens, at: $0.matchedPosition) } : nil,
            options: SharedInformation.Options(bos: decoder.config.prependBOS ? decoder.config.bosTokenID : nil))
        return DecodedNeighbourhood(samples: samples, insideFraction: Double(inside.count) / Double(samples.count), shared: shared)
    }

    /// Per sample and token, `p(token | activation) − p(token | reference)` under the decoder, the
    /// tokens fed in (teacher forcing): how much the query activation, over the site's reference
    /// activation, made the decoder choose each token (`[T]` per sample, 0 at a leading BOS the decoder did not choose).
    public static func shading(
        decoder: InversionDecoder, samples: [[Int]], activation: [Float], siteIndex: Int
    ) throws -> [[Double]] {
        guard !samples.isEmpty else { return [] }
        let bos = decoder.config.bosTokenID
        let length = samples.map(\.count).max()! + 1
        let inputs = samples.map { [bos] + $0 + Array(repeating: bos, count: length - 1 - $0.count) }
        let sites = Array(repeating: siteIndex, count: samples.count)
        let vocabulary = decoder.config.body.vocabularySize
        let withQuery = try decoder.logits(inputs, activations: Array(repeating: activation, count: samples.count), sites: sites)
        let withReference = try decoder.logits(
            inputs, activations: Array(repeating: decoder.reference(site: siteIndex), count: samples.count), sites: sites)
        func probability(_ logits: Tensor, row: Int, token: Int) -> Double {
            let offset = row * vocabulary
            let values = logits.scalars[offset..<(offset + vocabulary)].map(Double.init)
            let top = values.max()!
            let total = values.reduce(0) { $0 + exp($1 - top) }
            return exp(values[token] - top) / total
        }
        return samples.enumerated().map { item, tokens in
            tokens.indices.map { position in
                if position == 0 && decoder.config.prependBOS { return 0 }
                let row = item * length + position
                return probability(withQuery, row: row, token: tokens[position]) - probability(withReference, row: row, token: tokens[position])
            }
        }
    }
}
