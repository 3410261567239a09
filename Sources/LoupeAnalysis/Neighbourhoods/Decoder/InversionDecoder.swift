import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

/// One (activation → input) pair: the probed model's activation at a site and position of `tokens`.
public struct DecoderExample: Sendable, Equatable {
    /// Index of the site in `DecoderConfig.sites`.
    public var site: Int
    /// The site's row at the position (`[w]`, unscaled).
    public var activation: [Float]
    /// The probed model's input (a leading BOS included when it saw one), `[n]`.
    public var tokens: [Int]

    public init(site: Int, activation: [Float], tokens: [Int]) {
        self.site = site
        self.activation = activation
        self.tokens = tokens
    }
}

/// An inversion decoder (InversionView): a GPT-2-style language model over the probed model's
/// vocabulary whose every layer attends to one extra key/value slot made from an activation, so it
/// samples inputs that give (nearly) that activation.
///
/// For an example with input `x` (`[n]`), the body reads `[BOS] + x + [BOS]`: row 0 is the prefix slot
/// (before block `l` its residual is `ConditioningNetwork`'s prefix `l`), row `i` predicts token
/// `i + 1`, so the body predicts all of `x` and then the end of text. Saved as `config.json`
/// (`DecoderConfig`) and `model.safetensors` (the body under `transformer.`, the conditioning network
/// under `site_embedding`, `condition.` and `prefix.`, and `site_reference`).
public struct InversionDecoder: Sendable {
    public let config: DecoderConfig
    /// The body: `[B, T]` ids → `[B, T, V]` logits, `T ≤` the probed context + 2.
    public var body: GPT2Model
    public var conditioning: ConditioningWeights
    /// `[S, A]`: per site, the mean activation of the training pairs (zero-padded), the reference
    /// against which a sample's tokens are shaded. Not trained.
    public var siteReference: Tensor

    static let referenceName = "site_reference"

    public init(config: DecoderConfig, body: GPT2Weights, conditioning: ConditioningWeights, siteReference: Tensor) {
        precondition(siteReference.shape == [config.sites.count, config.activationWidth], "InversionDecoder: site reference \(siteReference.shape)")
        self.config = config
        self.body = GPT2Model(config: config.body, weights: body)
        self.conditioning = conditioning
        self.siteReference = siteReference
    }

    /// Site `site`'s reference activation (`[w]`).
    public func reference(site: Int) -> [Float] {
        let a = config.activationWidth
        return Array(siteReference.scalars[(site * a)..<(site * a + config.sites[site].width)])
    }

    /// A decoder with random weights (GPT-2 initialisation for the body).
    public static func random(config: DecoderConfig, seed: UInt64) -> InversionDecoder {
        var rng = SeededRandom(seed: seed ^ 0x5EED_DEC0)
        return InversionDecoder(
            config: config, body: GPT2Weights.random(config: config.body, seed: seed),
            conditioning: ConditioningWeights.random(config: config, rng: &rng),
            siteReference: Tensor(shape: [config.sites.count, config.activationWidth]))
    }

    /// Loads `config.json` and `model.safetensors` from a decoder directory, checking every tensor.
    public static func load(directory: URL) throws -> InversionDecoder {
        let config = try DecoderConfig.load(url: directory.appendingPathComponent(ModelFiles.config))
        let url = directory.appendingPathComponent(ModelFiles.weights)
        let body: GPT2Weights
        do {
            body = try GPT2Weights.load(url: url, config: config.body)
        } catch let error as ModelError {
            throw DecoderError.reading(url.path, error)
        }
        var tensors: [String: Tensor] = [:]
        do {
            let file = try SafetensorsFile(url: url)
            for (name, shape) in ConditioningWeights.expectedShapes(config) + [(referenceName, [config.sites.count, config.activationWidth])] {
                guard let entry = file.entries[name] else {
                    throw DecoderError.invalidDecoder(path: url.path, key: nil, reason: "tensor '\(name)' is missing")
                }
                guard entry.shape == shape else {
                    throw DecoderError.invalidDecoder(path: url.path, key: nil, reason: "tensor '\(name)' has shape \(entry.shape), config.json implies \(shape)")
                }
                tensors[name] = try file.tensor(name)
            }
        } catch let error as CoreError {
            throw DecoderError.invalidDecoder(path: url.path, key: nil, reason: error.description)
        }
        return InversionDecoder(
            config: config, body: body, conditioning: ConditioningWeights(config: config, tensors: tensors),
            siteReference: tensors[referenceName]!)
    }

    /// Writes `config.json` and `model.safetensors` into `directory`, creating it if needed.
    public func save(to directory: URL) throws {
        let configURL = directory.appendingPathComponent(ModelFiles.config)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try JSONWriter.encode(object: config.json, layout: .pretty).write(to: configURL, options: .atomic)
        } catch {
            throw DecoderError.invalidDecoder(path: configURL.path, key: nil, reason: "cannot write: \(error.localizedDescription)")
        }
        var tensors: [String: SafetensorsValue] = [:]
        for (name, tensor) in body.weights.named { tensors["transformer." + name] = .float32(tensor) }
        for (name, path) in conditioning.parameterPaths { tensors[name] = .float32(conditioning[keyPath: path]) }
        tensors[Self.referenceName] = .float32(siteReference)
        try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent(ModelFiles.weights), metadata: ["format": "pt"])
    }

    /// The body's input (`[BOS] + tokens + [BOS]`, padded with BOS to `length`) and targets (the next
    /// id, -1 on padding).
    func sequence(_ tokens: [Int], length: Int) -> (input: [Int], target: [Int]) {
        let bos = config.bosTokenID
        let full = [bos] + tokens + [bos]
        let input = full + Array(repeating: bos, count: length - full.count)
        let target = Array(full.dropFirst()) + Array(repeating: -1, count: length - full.count + 1)
        return (input, target)
    }

    /// The body's inputs and targets for a batch, padded to its longest example, each example checked.
    func sequences(_ examples: [DecoderExample]) throws -> [(input: [Int], target: [Int])] {
        guard !examples.isEmpty else { throw DecoderError.invalidSetting(name: "batch", reason: "no example") }
        for example in examples { try check(example) }
        let length = examples.map(\.tokens.count).max()! + 2
        return examples.map { sequence($0.tokens, length: length) }
    }

    /// Checks an example's site, activation width and tokens.
    func check(_ example: DecoderExample) throws {
        guard config.sites.indices.contains(example.site) else {
            throw DecoderError.invalidSetting(name: "site", reason: "\(example.site) is outside 0..<\(config.sites.count)")
        }
        let width = config.sites[example.site].width
        guard example.activation.count == width else {
            throw DecoderError.invalidSetting(name: "activation", reason: "\(example.activation.count) values for site \(config.sites[example.site].label) of width \(width)")
        }
        guard example.tokens.count + 2 <= config.body.contextLength else {
            throw DecoderError.invalidSetting(
                name: "tokens", reason: "\(example.tokens.count) tokens; the decoder reads at most \(config.body.contextLength - 2)")
        }
    }

    /// The gradients of one batch: the body's parameters and the conditioning network's.
    public struct BatchGradients: Sendable {
        public var body: GPT2Weights
        public var conditioning: ConditioningWeights
    }

    /// Mean next-token cross-entropy over every predicted token of `examples` (each input's tokens
    /// and its end of text) and the gradient of every parameter.
    public func lossAndGradients(_ examples: [DecoderExample]) throws -> (loss: Float, gradients: BatchGradients) {
        let sequences = try sequences(examples)
        let (prefix, tape) = try ConditioningNetwork.forward(
            conditioning, config: config, activations: examples.map(\.activation), sites: examples.map(\.site))
        let pass = try body.forward(sequences.map(\.input), ForwardRequest(recordTape: true, prefix: prefix))
        let (loss, logitsGradient) = CrossEntropy.lossAndGradient(logits: pass.logits!, targets: sequences.flatMap(\.target))
        let bodyGradients = try body.backward(tape: pass.tape!, logitsGradient: logitsGradient)
        var conditioningGradients = ConditioningWeights.zeros(config: config)
        try ConditioningNetwork.backward(conditioning, tape: tape, prefixGradient: bodyGradients.prefix!, gradients: &conditioningGradients)
        return (loss, BatchGradients(body: bodyGradients.parameters, conditioning: conditioningGradients))
    }

    /// Mean next-token cross-entropy of `examples` without gradients.
    public func loss(_ examples: [DecoderExample]) throws -> Double {
        let sequences = try sequences(examples)
        let logits = try self.logits(sequences.map(\.input), activations: examples.map(\.activation), sites: examples.map(\.site))
        return Double(CrossEntropy.lossAndGradient(logits: logits, targets: sequences.flatMap(\.target)).loss)
    }

    /// The body's logits `[B, T, V]` for body inputs `inputs` (each starting with the prefix slot's
    /// BOS) conditioned on `activations` at `sites`.
    public func logits(_ inputs: [[Int]], activations: [[Float]], sites: [Int]) throws -> Tensor {
        let (prefix, _) = try ConditioningNetwork.forward(conditioning, config: config, activations: activations, sites: sites)
        return try body.forward(inputs, ForwardRequest(prefix: prefix)).logits!
    }
}
