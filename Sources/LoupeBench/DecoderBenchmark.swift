import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld

/// Inversion-decoder throughput on the demo: training steps of the demo decoder's shape (pairs made by
/// running the demo model on toy-world inputs, as `loupe train-decoder Reports/demo/decoder.yaml` does),
/// and sampling with the committed demo decoder (64 distinct samples for a counting query, each run back
/// through the demo model).
struct DecoderBenchmark {
    struct Result {
        /// Body tokens per second over the timed training steps, and the steps timed.
        var trainingTokensPerSecond: Double
        var trainingSteps: Int
        /// Seconds of one 64-sample decode (median of 3) and samples per second.
        var decodeSeconds, samplesPerSecond: Double
    }

    let steps: Int

    func run(demo: URL) throws -> Result {
        let probed = try GPT2Model.load(directory: demo.appendingPathComponent("model"))
        let decoder = try InversionDecoder.load(directory: demo.appendingPathComponent("decoder"))
        let sites = try decoder.config.sites.map { try PreimageSite(hook: $0.hook, head: $0.head, model: probed) }
        let maker = try DecoderExampleMaker(probed: probed, sites: sites, source: .toyWorld(sentences: 1, taskShare: 0.9, readoutShare: 0, tasks: ["counting", "ioi"]), bos: 0)
        var settings = DecoderTrainingSettings()
        settings.steps = steps + 8
        var trainer = try DecoderTrainer(maker: maker, settings: settings, probedModelFingerprint: "bench")
        for _ in 0..<8 { try trainer.trainStep() }
        var tokens = 0
        let trainingSeconds = try seconds {
            for _ in 0..<steps { tokens += try trainer.trainStep().tokens }
        }

        let world = ToyWorld()
        let query = try PreimageQuery(
            model: probed, site: try PreimageSite(hook: "blocks.3.hook_resid_post", head: nil, model: probed),
            tokens: [world.endOfTextID] + world.tokenizer.encode("c b e b b | b :"), position: -1, contextLength: 64)
        var decode = DecodeSettings()
        decode.epsilon = 0.45
        let times = try (0..<3).map { _ in
            try seconds { _ = try DecodedNeighbourhood.run(decoder: decoder, probed: probed, tokenizer: world.tokenizer, query: query, settings: decode) }
        }
        let decodeSeconds = median(times)
        return Result(
            trainingTokensPerSecond: Double(tokens) / trainingSeconds, trainingSteps: steps, decodeSeconds: decodeSeconds,
            samplesPerSecond: Double(decode.samples) / decodeSeconds)
    }
}
