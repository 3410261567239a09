import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import Testing

/// Training and sampling an inversion decoder for the small GPT-2 fixture on a tiny corpus: the loss
/// falls, and every sample's distance is the one a separate run of the model gives.
@Suite struct DecoderSamplingTests {
    static let modelDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/gpt2-bare")

    static let documents = [
        "the cat sat on the mat", "a dog ran in the park", "the bird flew over the house", "one two three four five",
        "red green blue yellow", "the cat ran over the mat",
    ]

    static func trainer(steps: Int) throws -> (DecoderTrainer, GPT2Model, any Tokenizer) {
        let model = try GPT2Model.load(directory: modelDirectory)
        let tokenizer = try TokenizerLoader.load(directory: modelDirectory)
        let corpus = TokenizedCorpus(corpus: Corpus(documents: documents), tokenizer: tokenizer)
        let sites = [
            try PreimageSite(hook: "blocks.1.hook_resid_post", head: nil, model: model),
            try PreimageSite(hook: "blocks.0.attn.hook_z", head: 1, model: model),
        ]
        let maker = try DecoderExampleMaker(probed: model, sites: sites, source: .corpus(corpus), bos: 0)
        var settings = DecoderTrainingSettings()
        settings.layers = 1
        settings.width = 32
        settings.heads = 2
        settings.mlpWidth = 64
        settings.siteEmbeddingWidth = 4
        settings.conditioningBlocks = 1
        settings.steps = steps
        settings.batchSize = 16
        settings.heldOutPerSite = 8
        settings.optimizer.learningRate = 3e-3
        settings.optimizer.warmupSteps = 2
        var trainer = try DecoderTrainer(maker: maker, settings: settings, probedModelFingerprint: "test")
        for _ in 0..<steps { try trainer.trainStep() }
        return (trainer, model, tokenizer)
    }

    @Test func trainingLowersTheLossAndTheHeldOutFitCoversEverySite() throws {
        let (trainer, _, _) = try Self.trainer(steps: 40)
        let losses = trainer.log.map { Double($0.loss) }
        #expect(losses.count == 40)
        let first: Double = losses.prefix(5).reduce(0, +)
        let last: Double = losses.suffix(5).reduce(0, +)
        #expect(last < first * 0.8)
        let evaluation = try trainer.evaluate()
        #expect(evaluation.siteLosses.count == 2 && evaluation.siteLosses.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(trainer.logCSV.split(separator: "\n").count == 41)
    }

    @Test func samplesAreDistinctSortedAndTheirDistancesAreReMeasured() throws {
        let (trainer, model, tokenizer) = try Self.trainer(steps: 10)
        let site = try PreimageSite(hook: "blocks.1.hook_resid_post", head: nil, model: model)
        let query = try PreimageQuery(
            model: model, site: site, tokens: [0] + tokenizer.encode("the cat sat on"), position: -1, contextLength: model.config.contextLength)
        var settings = DecodeSettings()
        settings.samples = 12
        settings.epsilon = 0.3
        let result = try DecodedNeighbourhood.run(decoder: trainer.decoder, probed: model, tokenizer: tokenizer, query: query, settings: settings)
        #expect(result.samples.count == 12)
        #expect(Set(result.samples.map(\.tokens)).count == 12)
        #expect(zip(result.samples, result.samples.dropFirst()).allSatisfy { $0.distance <= $1.distance })
        #expect(result.insideFraction == Double(result.samples.filter { $0.distance <= 0.3 }.count) / 12)
        let q = query.activation.map(Double.init)
        let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for sample in result.samples {
            #expect(sample.tokens.first == 0)
            let value = try model.forward([sample.tokens], ForwardRequest(cache: [site.hook], computeLogits: false)).cache[site.hook]!
            var best = (position: -1, distance: Double.infinity)
            for position in sample.tokens.indices where sample.tokens[position] != 0 {
                let row = value.scalars[(position * site.rowWidth)..<((position + 1) * site.rowWidth)]
                let distance = zip(q, row).reduce(0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) }.squareRoot() / norm
                #expect(abs(distance - sample.positionDistances[position]!) < 1e-6)
                if distance < best.distance { best = (position, distance) }
            }
            #expect(sample.matchedPosition == best.position)
            #expect(abs(sample.distance - best.distance) < 1e-6)
            #expect(settings.temperatures.contains(sample.temperature) && settings.noises.contains(sample.noise))
        }
        let shading = try DecodedNeighbourhood.shading(
            decoder: trainer.decoder, samples: result.samples.map(\.tokens), activation: query.activation, siteIndex: 0)
        #expect(zip(shading, result.samples).allSatisfy { $0.count == $1.tokens.count && $0.allSatisfy { abs($0) <= 1 } && $0[0] == 0 })
    }

    @Test func samplingIsDeterministicForASeed() throws {
        let (trainer, model, tokenizer) = try Self.trainer(steps: 5)
        let site = try PreimageSite(hook: "blocks.0.attn.hook_z", head: 1, model: model)
        let query = try PreimageQuery(
            model: model, site: site, tokens: [0] + tokenizer.encode("a dog ran"), position: -1, contextLength: model.config.contextLength)
        var settings = DecodeSettings()
        settings.samples = 6
        let first = try DecodedNeighbourhood.run(decoder: trainer.decoder, probed: model, tokenizer: tokenizer, query: query, settings: settings)
        let second = try DecodedNeighbourhood.run(decoder: trainer.decoder, probed: model, tokenizer: tokenizer, query: query, settings: settings)
        #expect(first.samples == second.samples)
        #expect(throws: DecoderError.self) {
            let other = try PreimageSite(hook: "blocks.0.hook_resid_post", head: nil, model: model)
            let query = try PreimageQuery(model: model, site: other, tokens: [0, 5], position: -1, contextLength: 48)
            _ = try DecodedNeighbourhood.run(decoder: trainer.decoder, probed: model, tokenizer: tokenizer, query: query, settings: settings)
        }
    }
}
