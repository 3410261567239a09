import ArgumentParser
import Foundation
import LoupeAnalysis
import LoupeFindings

/// `loupe decode`: samples inputs from an inversion decoder for one query activation, runs each back
/// through the model, and says what the samples inside ε share (the decoded ε-preimage of InversionView).
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Sample inputs whose activation is near a query's from an inversion decoder; write JSON.",
        discussion: """
            Distinct candidates are drawn from the decoder in equal shares at temperatures 0.5, 1 and 2 and \
            activation-noise levels 0 and 0.05 (8 per sample), each is run through the model, and its distance is \
            the minimum over its non-BOS positions (the matched position). The --samples shown are the nearest \
            candidates inside ε (at most three quarters of them) and candidates outside ε spread over their distances. \
            Writes {"query": {"tokens", "position"}, "hook", "head", "distance", "epsilon", "samples": [{"tokens", \
            "text", "distance", "matched_position", "temperature", "noise"}], "inside_fraction", "shared": \
            [{"statement", "support"}]}, samples ascending by distance.
            """)

    @Option(help: "The inversion decoder directory (from `loupe train-decoder`).")
    var decoder: String

    @OptionGroup var query: QueryOptions

    @Option(help: "Distinct samples to draw.")
    var samples: Int = 64

    @Option(help: "Seed of the sampling.")
    var seed: UInt64 = 1

    @Option(help: "The JSON file to write.")
    var output: String

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1, got \(samples)") }
    }

    func run() throws {
        let (model, tokenizer, _, resolved) = try query.resolve()
        let decoderURL = URL(fileURLWithPath: decoder)
        let inversion = try InversionDecoder.load(directory: decoderURL)
        let fingerprint = try ModelFingerprint.of(directory: URL(fileURLWithPath: query.model))
        guard inversion.config.probedModelFingerprint == fingerprint else {
            throw DecoderError.otherModel(decoder: decoderURL.path, expected: inversion.config.probedModelFingerprint, found: fingerprint)
        }
        var settings = DecodeSettings()
        settings.samples = samples
        settings.seed = seed
        settings.epsilon = query.epsilon
        settings.distance = query.method
        let neighbourhood = try DecodedNeighbourhood.run(decoder: inversion, probed: model, tokenizer: tokenizer, query: resolved, settings: settings)
        let result = DecodeResult(
            query: PreimageQueryTokens(tokens: resolved.tokens, position: resolved.position), hook: query.hook, head: query.head,
            distance: query.distance, epsilon: query.epsilon,
            samples: neighbourhood.samples.map {
                DecodeSample(
                    tokens: $0.tokens, text: tokenizer.decode($0.tokens), distance: $0.distance, matchedPosition: $0.matchedPosition,
                    temperature: $0.temperature, noise: $0.noise)
            },
            insideFraction: neighbourhood.insideFraction, shared: neighbourhood.shared)
        try JSONOutput.write(result, to: output)
    }
}
