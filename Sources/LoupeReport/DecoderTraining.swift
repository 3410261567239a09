import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel

/// Trains the inversion decoder a `DecoderTrainingSpec` describes and writes it: `config.json`
/// (with the held-out fit), `model.safetensors` and `training_log.csv`, into a staging folder beside
/// the output that replaces it only when all is written.
public enum DecoderTraining {
    /// What training reports as it goes: `step` of `total` and that step's record.
    public typealias Progress = (_ step: Int, _ total: Int, _ record: DecoderTrainingRecord) -> Void

    /// Trains and saves; returns the trained decoder.
    @discardableResult
    public static func run(spec: DecoderTrainingSpec, progress: Progress? = nil) throws -> InversionDecoder {
        let probed = try GPT2Model.load(directory: spec.model)
        let tokenizer = try TokenizerLoader.load(directory: spec.model)
        let bos = try BeginningOfSequence.id(prepend: spec.prependBOS, tokenizer: tokenizer, key: "prepend_bos",
                                             spec: spec.path, model: spec.model)
        let source: DecoderInputSource
        switch spec.data {
        case let .toyWorld(sentences, taskShare, readoutShare, tasks):
            source = .toyWorld(sentences: sentences, taskShare: taskShare, readoutShare: readoutShare, tasks: tasks)
        case let .corpus(url):
            source = .corpus(TokenizedCorpus(corpus: try Corpus.read(file: url), tokenizer: tokenizer))
        }
        let maker = try DecoderExampleMaker(probed: probed, sites: try spec.resolveSites(model: probed), source: source, bos: bos)
        var trainer = try DecoderTrainer(maker: maker, settings: spec.settings, probedModelFingerprint: try ModelFingerprint.of(directory: spec.model))
        while trainer.step < spec.settings.steps {
            let record = try trainer.trainStep()
            progress?(trainer.step, spec.settings.steps, record)
        }
        let evaluation = try trainer.evaluate()
        var decoder = trainer.decoder
        var config = decoder.config
        config.fit = DecoderFit(
            steps: trainer.step, examples: trainer.step * spec.settings.batchSize, heldOutLoss: evaluation.heldOutLoss,
            siteLosses: evaluation.siteLosses)
        decoder = InversionDecoder(config: config, body: decoder.body.weights, conditioning: decoder.conditioning, siteReference: decoder.siteReference)
        try write(decoder, log: trainer.logCSV, to: spec.output)
        return decoder
    }

    /// The decoder's files, staged beside `output` and swapped in.
    static func write(_ decoder: InversionDecoder, log: String, to output: URL) throws {
        do {
            try StagedFolder.replace(output) { staging in
                try decoder.save(to: staging)
                try Data(log.utf8).write(to: staging.appendingPathComponent(DecoderFiles.log), options: .atomic)
            }
        } catch let error as CocoaError {
            throw BuildError(step: .spec, path: output.path, reason: "cannot write the decoder: \(error.localizedDescription)")
        }
    }
}

/// The files of a decoder directory besides `config.json` and `model.safetensors`.
public enum DecoderFiles {
    /// One line per step: `step,loss,learning_rate,gradient_norm,tokens_per_second`.
    public static let log = "training_log.csv"
}
