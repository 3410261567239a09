import Foundation
import LoupeCore
import LoupeFindings

// Reading and writing SAELens dictionary directories: `cfg.json` + `sae_weights.safetensors`
// (+ `activation_scaler.json` in training checkpoints).

extension SparseDictionary {
    /// The configuration file of an SAELens directory.
    public static let configFileName = "cfg.json"
    /// The weights file of an SAELens directory.
    public static let weightsFileName = "sae_weights.safetensors"
    /// The activation-scaler file of an SAELens training checkpoint (`{"scaling_factor": s}`).
    public static let scalerFileName = "activation_scaler.json"

    /// Loads an SAELens dictionary directory.
    ///
    /// `cfg.json` may be SAELens ≥ 6 (nested `metadata.hook_name`, `architecture`, `k`) or older and
    /// flat (`hook_point` or `hook_name`, `activation_fn_str`/`activation_fn` `topk` with
    /// `activation_fn_kwargs.k`, boolean `normalize_activations`). Weights: `W_enc` `[I, S]`, `b_enc`
    /// `[S]`, `W_dec` `[S, I]`, `b_dec` `[I]`, for JumpReLU `threshold` `[S]` or `log_threshold`
    /// (threshold = exp(log_threshold)); a pre-6 `scaling_factor` `[S]` (finetuning scale of the
    /// features) is folded into `W_dec`. With `normalize_activations: expected_average_only_in` the
    /// input scaling factor comes from `activation_scaler.json` when the directory has one.
    public static func load(directory: URL) throws -> SparseDictionary {
        let configURL = directory.appendingPathComponent(configFileName)
        let weightsURL = directory.appendingPathComponent(weightsFileName)
        let config = try SAELensConfig(url: configURL)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw DictionaryError.missingFile(path: weightsURL.path)
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(url: weightsURL) } catch { throw DictionaryError.reading(error, path: weightsURL.path) }
        let (inputs, features) = (config.inputWidth, config.width)
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            do { return try file.tensor(name, shape: shape) } catch { throw DictionaryError.reading(error, path: weightsURL.path) }
        }
        let encoderWeight = try tensor("W_enc", [inputs, features])
        let encoderBias = try tensor("b_enc", [features])
        var decoderWeight = try tensor("W_dec", [features, inputs])
        let decoderBias = try tensor("b_dec", [inputs])
        var threshold: Tensor?
        if config.architecture == .jumprelu {
            if file.entries["threshold"] != nil {
                threshold = try tensor("threshold", [features])
            } else if file.entries["log_threshold"] != nil {
                var values = try tensor("log_threshold", [features])
                for i in 0..<values.count { values.scalars[i] = expf(values.scalars[i]) }
                threshold = values
            } else {
                throw DictionaryError.missingTensor(path: weightsURL.path, tensor: "threshold")
            }
        }
        if file.entries["scaling_factor"] != nil {
            let scale = try tensor("scaling_factor", [features])
            if scale.scalars.contains(where: { abs($0 - 1) > 1e-5 }) {
                guard config.finetuningScalingFactor else {
                    throw DictionaryError.invalidConfig(
                        path: configURL.path, key: "finetuning_scaling_factor",
                        reason: "the weights hold a 'scaling_factor' that is not all ones, but the configuration does not enable it")
                }
                for row in 0..<features {
                    for i in 0..<inputs { decoderWeight.scalars[row * inputs + i] *= scale.scalars[row] }
                }
            }
        }
        var normalization = config.normalization
        if case .expectedAverageOnlyIn(nil) = normalization {
            let scalerURL = directory.appendingPathComponent(scalerFileName)
            if FileManager.default.fileExists(atPath: scalerURL.path) {
                normalization = .expectedAverageOnlyIn(scalingFactor: try Self.scalingFactor(url: scalerURL))
            }
        }
        do {
            return try SparseDictionary(
                architecture: config.architecture, hookName: config.hookName,
                encoderWeight: encoderWeight, encoderBias: encoderBias, decoderWeight: decoderWeight, decoderBias: decoderBias,
                threshold: threshold, k: config.k, applyDecoderBiasToInput: config.applyDecoderBiasToInput,
                normalization: normalization, rescalesByDecoderNorm: config.rescalesByDecoderNorm,
                flattensHeads: config.flattensHeads, modelName: config.modelName)
        } catch let DictionaryError.invalidArgument(name, reason) {
            throw DictionaryError.invalidConfig(path: configURL.path, key: name, reason: reason)
        }
    }

    /// The `scaling_factor` of an SAELens `activation_scaler.json` (`nil` when it is null).
    static func scalingFactor(url: URL) throws -> Float? {
        let scaler = try readJSONObject(url: url)
        if try scaler.boolean("has_whitening") == true {
            throw DictionaryError.unsupportedSetting(path: url.path, key: "has_whitening", value: "true")
        }
        guard let factor = try scaler.number("scaling_factor") else { return nil }
        guard factor.isFinite, factor > 0 else {
            throw scaler.error("scaling_factor", "expected a positive number or null, found \(factor)")
        }
        return Float(factor)
    }

    /// Writes the dictionary as an SAELens directory (created if needed): a flat `cfg.json` that
    /// SAELens reads (its pre-6 form, converted on load) and `sae_weights.safetensors` (F32).
    ///
    /// A known input scaling factor is folded into the weights as SAELens does at the end of
    /// training (`W_enc·s`, `W_dec/s`, `b_dec/s`, `normalize_activations: none`), after folding
    /// the decoder norms of a `rescalesByDecoderNorm` TopK dictionary, so the saved dictionary gives
    /// the same features and reconstructions without the factor.
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DictionaryError.unwritableFile(path: directory.path, reason: error.localizedDescription)
        }
        let folded = try foldingScalingFactor()
        var config: [String: Any] = [
            "architecture": folded.architecture.rawValue,
            "d_in": folded.inputWidth,
            "d_sae": folded.width,
            "dtype": "float32",
            "device": "cpu",
            "hook_name": folded.hookName,
            "apply_b_dec_to_input": folded.applyDecoderBiasToInput,
            "normalize_activations": folded.normalization == .none ? "none" : "expected_average_only_in",
            "reshape_activations": folded.flattensHeads ? "hook_z" : "none",
            "activation_fn": folded.architecture == .topk ? "topk" : "relu",
        ]
        if let modelName = folded.modelName { config["model_name"] = modelName }
        if let k = folded.k {
            config["k"] = k
            config["activation_fn_kwargs"] = ["k": k]
            config["rescale_acts_by_decoder_norm"] = folded.rescalesByDecoderNorm
        }
        var tensors: [String: SafetensorsValue] = [
            "W_enc": .float32(folded.encoderWeight), "b_enc": .float32(folded.encoderBias),
            "W_dec": .float32(folded.decoderWeight), "b_dec": .float32(folded.decoderBias),
        ]
        if let threshold = folded.threshold { tensors["threshold"] = .float32(threshold) }
        // The weights first: a folder with a config holds a whole dictionary, even if saving was interrupted.
        let weightsURL = directory.appendingPathComponent(Self.weightsFileName)
        do {
            try SafetensorsWriter.write(tensors, to: weightsURL)
        } catch {
            throw DictionaryError.unwritableFile(path: weightsURL.path, reason: String(describing: error))
        }
        let configURL = directory.appendingPathComponent(Self.configFileName)
        do {
            let data = try JSONWriter.encode(object: config, layout: .pretty)
            try (data + Data("\n".utf8)).write(to: configURL, options: .atomic)
        } catch {
            throw DictionaryError.unwritableFile(path: configURL.path, reason: error.localizedDescription)
        }
    }

    /// The same dictionary with a known input scaling factor folded into its weights (and, for
    /// a TopK dictionary that rescales by decoder norm, those norms folded first).
    public func foldingScalingFactor() throws -> SparseDictionary {
        guard let factor = normalization.scalingFactor else { return self }
        var encoderWeight = self.encoderWeight
        var encoderBias = self.encoderBias
        var decoderWeight = self.decoderWeight
        var decoderBias = self.decoderBias
        let (inputs, features) = (inputWidth, width)
        if rescalesByDecoderNorm {
            let norms = decoderRowNorms
            for j in 0..<features {
                encoderBias.scalars[j] *= norms[j]
                for i in 0..<inputs {
                    decoderWeight.scalars[j * inputs + i] /= norms[j]
                    encoderWeight.scalars[i * features + j] *= norms[j]
                }
            }
        }
        encoderWeight.scale(by: factor)
        decoderWeight.scale(by: 1 / factor)
        decoderBias.scale(by: 1 / factor)
        return try SparseDictionary(
            architecture: architecture, hookName: hookName, encoderWeight: encoderWeight, encoderBias: encoderBias,
            decoderWeight: decoderWeight, decoderBias: decoderBias, threshold: threshold, k: k,
            applyDecoderBiasToInput: applyDecoderBiasToInput, normalization: .none, rescalesByDecoderNorm: false,
            flattensHeads: flattensHeads, modelName: modelName)
    }
}

/// The settings of an SAELens `cfg.json` that change what a dictionary computes.
struct SAELensConfig {
    var architecture: DictionaryArchitecture
    var inputWidth, width: Int
    var hookName: String
    var modelName: String?
    var k: Int?
    var applyDecoderBiasToInput: Bool
    var normalization: InputNormalization
    var rescalesByDecoderNorm, flattensHeads, finetuningScalingFactor: Bool

    init(url: URL) throws {
        let path = url.path
        let top = try readJSONObject(url: url)
        let metadata = try top.object("metadata")
        /// The object holding `key`: the top level, else `metadata` (where SAELens ≥ 6 moved some keys).
        func holder(_ key: String) -> JSONObjectReader {
            if top.value(key) == nil, let metadata, metadata.value(key) != nil { return metadata }
            return top
        }
        func integer(_ key: String) throws -> Int? { try holder(key).integer(key) }
        func boolean(_ key: String, default fallback: Bool) throws -> Bool { try holder(key).boolean(key) ?? fallback }
        func string(_ key: String) throws -> String? { try holder(key).string(key) }
        func positive(_ key: String) throws -> Int {
            let reader = holder(key)
            let value = try reader.required(key, reader.integer)
            guard value > 0 else { throw reader.error(key, "must be positive, found \(value)") }
            return value
        }

        inputWidth = try positive("d_in")
        width = try positive("d_sae")

        guard let hook = try string("hook_name") ?? string("hook_point") else {
            throw DictionaryError.invalidConfig(
                path: path, key: "metadata.hook_name", reason: "missing (also looked for 'hook_name' and 'hook_point'); Loupe needs the hook the dictionary reads")
        }
        hookName = hook
        modelName = try string("model_name")

        // Pre-6 configurations name the activation `activation_fn_str` or `activation_fn`; a TopK
        // dictionary was `architecture: standard` with `activation_fn: topk`.
        let activationKey = holder("activation_fn").value("activation_fn") != nil ? "activation_fn" : "activation_fn_str"
        let activation = try string(activationKey)
        let architectureName = try string("architecture") ?? "standard"
        let kwargsK = try holder("activation_fn_kwargs").object("activation_fn_kwargs")?.integer("k")
        var resolved: DictionaryArchitecture
        switch architectureName {
        case "standard": resolved = .standard
        case "topk": resolved = .topk
        case "jumprelu": resolved = .jumprelu
        default: throw DictionaryError.unsupportedArchitecture(path: path, architecture: architectureName)
        }
        if resolved == .standard, activation == "topk" { resolved = .topk }
        if resolved != .topk, let activation, activation != "relu" {
            throw DictionaryError.unsupportedSetting(path: path, key: activationKey, value: activation)
        }
        architecture = resolved
        if resolved == .topk {
            guard let chosen = try integer("k") ?? kwargsK else {
                throw DictionaryError.invalidConfig(path: path, key: "k", reason: "missing: a topk dictionary needs 'k' (or 'activation_fn_kwargs.k')")
            }
            guard chosen >= 1 && chosen <= width else {
                throw DictionaryError.invalidConfig(path: path, key: "k", reason: "must be between 1 and d_sae = \(width), found \(chosen)")
            }
            k = chosen
            rescalesByDecoderNorm = try boolean("rescale_acts_by_decoder_norm", default: false)
        } else {
            k = nil
            rescalesByDecoderNorm = false
        }

        applyDecoderBiasToInput = try boolean("apply_b_dec_to_input", default: true)
        finetuningScalingFactor = try boolean("finetuning_scaling_factor", default: false)

        // Older configurations say true or false; newer ones name the normalisation.
        let normalizationKey = "normalize_activations"
        let normalizationValue = holder(normalizationKey).value(normalizationKey)
        if let flag = normalizationValue.flatMap(JSONObjectReader.booleanValue) {
            normalization = flag ? .expectedAverageOnlyIn(scalingFactor: nil) : .none
        } else {
            switch try string(normalizationKey) {
            case nil, "none": normalization = .none
            case "expected_average_only_in": normalization = .expectedAverageOnlyIn(scalingFactor: nil)
            case let name?: throw DictionaryError.unsupportedSetting(path: path, key: normalizationKey, value: name)
            }
        }

        switch try string("reshape_activations") {
        case nil: flattensHeads = hook.hasSuffix("hook_z")
        case "none": flattensHeads = false
        case "hook_z": flattensHeads = true
        case let other?: throw DictionaryError.unsupportedSetting(path: path, key: "reshape_activations", value: other)
        }
    }
}

/// The JSON object in the file at `url`, whose problems are `DictionaryError`s naming the file and key.
func readJSONObject(url: URL) throws -> JSONObjectReader {
    let path = url.path
    return try JSONObjectReader.read(
        url,
        error: { key, reason in
            key.map { DictionaryError.invalidConfig(path: path, key: $0, reason: reason) }
                ?? DictionaryError.unreadableFile(path: path, reason: reason)
        },
        fileError: { problem in
            switch problem {
            case .missing: return DictionaryError.missingFile(path: path)
            case let .unreadable(reason): return DictionaryError.unreadableFile(path: path, reason: reason)
            case .notJSON, .notObject: return DictionaryError.unreadableFile(path: path, reason: "not a JSON object")
            }
        })
}
