import Foundation
import LoupeCore

// Sparse dictionaries (sparse autoencoders) in the SAELens layout. Shape legend: N rows (any
// leading dims flattened), I = d_in (the hook's width), S = d_sae (number of features).

/// How a dictionary turns encoder pre-activations into feature activations (SAELens `architecture`).
public enum DictionaryArchitecture: String, Sendable, Codable, CaseIterable {
    /// ReLU.
    case standard
    /// The `k` largest pre-activations of each row, ReLU'd; all others zero.
    case topk
    /// ReLU, and zero wherever the pre-activation is not above the feature's threshold.
    case jumprelu
}

/// What a dictionary does to its inputs before encoding (SAELens `normalize_activations`).
public enum InputNormalization: Equatable, Sendable {
    /// Inputs are used as they are.
    case none
    /// `expected_average_only_in`: the dictionary was trained on `s·x`, with `s` = √I / (mean ‖x‖)
    /// over the training activations. Encoding multiplies inputs by `s`; decoding divides the
    /// reconstruction by `s`. SAELens keeps `s` outside the weights (`activation_scaler.json` of a
    /// training checkpoint, or `norm_scaling_factor` of a pretrained release); `nil` when it is not
    /// known, and then, as in SAELens, inputs are used unscaled.
    case expectedAverageOnlyIn(scalingFactor: Float?)

    /// The factor inputs are multiplied by, if any.
    public var scalingFactor: Float? {
        if case let .expectedAverageOnlyIn(factor) = self { return factor }
        return nil
    }
}

/// A sparse dictionary (sparse autoencoder) over the activations of one hook point, with SAELens's
/// encode and decode.
///
/// Weights (SAELens names): `W_enc` `[I, S]`, `b_enc` `[S]`, `W_dec` `[S, I]`, `b_dec` `[I]`, and for
/// JumpReLU `threshold` `[S]`.
///
/// Encoding `x` `[N, I]`: `x' = s·x` (when normalised), `x' − b_dec` (when `applyDecoderBiasToInput`),
/// pre-activations `h = x'·W_enc + b_enc` `[N, S]` (times ‖W_dec row‖ per feature when
/// `rescalesByDecoderNorm`), then the architecture's activation → features `f` `[N, S]`.
/// Decoding: `x̂ = f·W_dec + b_dec` (features divided by ‖W_dec row‖ first when
/// `rescalesByDecoderNorm`), divided by `s` when normalised → `[N, I]`.
public struct SparseDictionary: Sendable, Equatable {
    /// TransformerLens name of the hook point the dictionary reads (e.g. `blocks.2.hook_resid_post`).
    public var hookName: String
    /// The model the dictionary was trained on, when the configuration names it.
    public var modelName: String?
    /// Activation function family.
    public let architecture: DictionaryArchitecture
    /// Number of active features per row (TopK only).
    public let k: Int?
    /// Whether `b_dec` is subtracted from inputs before encoding.
    public let applyDecoderBiasToInput: Bool
    /// Input scaling (settable, to supply a factor the directory does not hold).
    public var normalization: InputNormalization
    /// Whether TopK pre-activations are multiplied by the decoder row norms (and features divided by
    /// them when decoding): SAELens `rescale_acts_by_decoder_norm`.
    public let rescalesByDecoderNorm: Bool
    /// Whether the hook's activations are `[…, H, D]` per-head values flattened to `H·D` = I
    /// (SAELens `reshape_activations: hook_z`).
    public let flattensHeads: Bool
    /// `W_enc` `[I, S]`.
    public let encoderWeight: Tensor
    /// `b_enc` `[S]`.
    public let encoderBias: Tensor
    /// `W_dec` `[S, I]`.
    public let decoderWeight: Tensor
    /// `b_dec` `[I]`.
    public let decoderBias: Tensor
    /// JumpReLU thresholds `[S]` (`nil` for other architectures).
    public let threshold: Tensor?

    /// Input width I (`d_in`).
    public var inputWidth: Int { encoderWeight.shape[0] }
    /// Number of features S (`d_sae`).
    public var width: Int { encoderWeight.shape[1] }

    /// A dictionary from its parts; throws `invalidArgument` when shapes disagree or `k` /
    /// `threshold` do not fit the architecture.
    public init(
        architecture: DictionaryArchitecture, hookName: String,
        encoderWeight: Tensor, encoderBias: Tensor, decoderWeight: Tensor, decoderBias: Tensor,
        threshold: Tensor? = nil, k: Int? = nil, applyDecoderBiasToInput: Bool = true,
        normalization: InputNormalization = .none, rescalesByDecoderNorm: Bool = false,
        flattensHeads: Bool = false, modelName: String? = nil
    ) throws {
        guard encoderWeight.rank == 2, encoderWeight.shape[0] > 0, encoderWeight.shape[1] > 0 else {
            throw DictionaryError.invalidArgument(name: "encoderWeight", reason: "shape \(encoderWeight.shape) is not [d_in, d_sae]")
        }
        let (inputs, features) = (encoderWeight.shape[0], encoderWeight.shape[1])
        let expected: [(String, Tensor?, [Int])] = [
            ("encoderBias", encoderBias, [features]), ("decoderWeight", decoderWeight, [features, inputs]),
            ("decoderBias", decoderBias, [inputs]), ("threshold", threshold, [features]),
        ]
        for (name, tensor, shape) in expected {
            if let tensor, tensor.shape != shape {
                throw DictionaryError.invalidArgument(name: name, reason: "shape \(tensor.shape), expected \(shape)")
            }
        }
        switch architecture {
        case .topk:
            guard let k, k >= 1, k <= features else {
                throw DictionaryError.invalidArgument(name: "k", reason: "a topk dictionary needs 1 ≤ k ≤ \(features), got \(k.map(String.init) ?? "none")")
            }
        case .jumprelu:
            guard threshold != nil else { throw DictionaryError.invalidArgument(name: "threshold", reason: "a jumprelu dictionary needs thresholds") }
        case .standard:
            break
        }
        if let factor = normalization.scalingFactor, !(factor.isFinite && factor > 0) {
            throw DictionaryError.invalidArgument(name: "scalingFactor", reason: "must be a positive number, got \(factor)")
        }
        self.architecture = architecture
        self.hookName = hookName
        self.modelName = modelName
        self.encoderWeight = encoderWeight
        self.encoderBias = encoderBias
        self.decoderWeight = decoderWeight
        self.decoderBias = decoderBias
        self.threshold = architecture == .jumprelu ? threshold : nil
        self.k = architecture == .topk ? k : nil
        self.applyDecoderBiasToInput = applyDecoderBiasToInput
        self.normalization = normalization
        self.rescalesByDecoderNorm = architecture == .topk && rescalesByDecoderNorm
        self.flattensHeads = flattensHeads
    }

    // MARK: Encoding and decoding

    /// Feature activations of `x` `[…, I]` → `[…, S]`, as SAELens's `encode`.
    public func encode(_ x: Tensor) throws -> Tensor {
        let pre = try preActivations(x)
        return activate(pre)
    }

    /// Reconstruction from feature activations `f` `[…, S]` → `[…, I]`, un-normalised (SAELens's
    /// `decode`, and the division by the scaling factor SAELens folds into the weights).
    public func decode(_ f: Tensor) throws -> Tensor {
        guard f.rank >= 1, f.shape[f.rank - 1] == width else {
            throw DictionaryError.featureWidth(source: "decode", expected: width, found: f.shape)
        }
        var features = f
        if rescalesByDecoderNorm {
            let norms = decoderRowNorms
            let columns = width
            for row in 0..<(features.count / columns) {
                for j in 0..<columns { features.scalars[row * columns + j] /= norms[j] }
            }
        }
        var out = try features.matmul(decoderWeight, bias: decoderBias)
        if let factor = normalization.scalingFactor { out.scale(by: 1 / factor) }
        return out
    }

    /// `decode(encode(x))`: the dictionary's reconstruction of `x` `[…, I]`.
    public func reconstruct(_ x: Tensor) throws -> Tensor {
        try decode(try encode(x))
    }

    /// Encoder pre-activations `[…, S]` (before the activation function) of `x` `[…, I]`.
    public func preActivations(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inputWidth else {
            throw DictionaryError.inputWidth(source: "encode", expected: inputWidth, found: x.shape)
        }
        var input = x
        if let factor = normalization.scalingFactor { input.scale(by: factor) }
        if applyDecoderBiasToInput { input = subtractingRows(input, decoderBias) }
        var pre = try input.matmul(encoderWeight, bias: encoderBias)
        if rescalesByDecoderNorm {
            let norms = decoderRowNorms
            let columns = width
            for row in 0..<(pre.count / columns) {
                for j in 0..<columns { pre.scalars[row * columns + j] *= norms[j] }
            }
        }
        return pre
    }

    /// The architecture's activation applied to pre-activations `[…, S]`.
    func activate(_ pre: Tensor) -> Tensor {
        let source = pre.scalars
        let columns = width
        var values = [Float](repeating: 0, count: source.count)
        switch architecture {
        case .standard:
            for i in 0..<source.count where source[i] > 0 { values[i] = source[i] }
        case .jumprelu:
            let theta = threshold?.scalars ?? [Float](repeating: 0, count: columns)
            for row in 0..<(source.count / columns) {
                let base = row * columns
                for j in 0..<columns {
                    let value = source[base + j]
                    if value > 0 && value > theta[j] { values[base + j] = value }
                }
            }
        case .topk:
            let keep = k ?? columns
            var selected = [Int](repeating: 0, count: keep)
            var chosen = [Float](repeating: 0, count: keep)
            for row in 0..<(source.count / columns) {
                TopKSelection.select(source, offset: row * columns, count: columns, k: keep, indices: &selected, values: &chosen)
                for slot in 0..<keep where chosen[slot] > 0 { values[row * columns + selected[slot]] = chosen[slot] }
            }
        }
        var out = pre
        out.scalars = values
        return out
    }

    /// Norms of the rows of `W_dec` `[S]`.
    public var decoderRowNorms: [Float] {
        let columns = inputWidth
        return (0..<width).map { row in
            var sum: Float = 0
            for i in 0..<columns {
                let value = decoderWeight.scalars[row * columns + i]
                sum += value * value
            }
            return sum.squareRoot()
        }
    }

    /// What one unit of each feature adds to the reconstruction, in the hook's own units
    /// `[S, I]`: the rows of `W_dec`, divided by their norms when `rescalesByDecoderNorm`, and by
    /// the input scaling factor when there is one.
    public var decoderDirections: Tensor {
        var directions = decoderWeight
        let columns = inputWidth
        let norms = rescalesByDecoderNorm ? decoderRowNorms : nil
        let factor = normalization.scalingFactor ?? 1
        for row in 0..<width {
            let divisor = (norms?[row] ?? 1) * factor
            guard divisor != 1 else { continue }
            for i in 0..<columns { directions.scalars[row * columns + i] /= divisor }
        }
        return directions
    }

    /// The rows `[N, I]` of a hook activation: `[…, I]`, or `[…, H, D]` with H·D = I when the
    /// dictionary flattens heads. `source` names the activation in the error.
    public func rows(of activation: Tensor, source: String) throws -> Tensor {
        let shape = activation.shape
        if let last = shape.last, last == inputWidth {
            return try activation.reshaped([activation.count / inputWidth, inputWidth])
        }
        if flattensHeads, shape.count >= 2, shape[shape.count - 1] * shape[shape.count - 2] == inputWidth {
            return try activation.reshaped([activation.count / inputWidth, inputWidth])
        }
        throw DictionaryError.inputWidth(source: source, expected: inputWidth, found: shape)
    }
}

/// `x` `[N…, C]` minus `bias` `[C]` in every row.
func subtractingRows(_ x: Tensor, _ bias: Tensor) -> Tensor {
    var values = x.scalars
    let b = bias.scalars
    let columns = b.count
    for row in 0..<(values.count / max(1, columns)) {
        let base = row * columns
        for j in 0..<columns { values[base + j] -= b[j] }
    }
    var out = x
    out.scalars = values
    return out
}

/// Selection of the k largest values of a row.
enum TopKSelection {
    /// Writes the indices and values of the `k` largest of `values[offset ..< offset + count]`
    /// (indices relative to `offset`, largest first; ties keep the lower index; NaN never chosen
    /// over a number) into the first `k` entries of `indices` and `selectedValues`.
    static func select(
        _ values: [Float], offset: Int, count: Int, k: Int, indices: inout [Int], values selectedValues: inout [Float]
    ) {
        if k * 4 > count {
            // Many of few: sorting is cheaper than insertion into a long buffer.
            var order = (0..<count).filter { !values[offset + $0].isNaN }
            order.sort { values[offset + $0] > values[offset + $1] || (values[offset + $0] == values[offset + $1] && $0 < $1) }
            let taken = min(k, order.count)
            for slot in 0..<taken {
                indices[slot] = order[slot]
                selectedValues[slot] = values[offset + order[slot]]
            }
            fillRemainder(from: taken, k: k, indices: &indices, values: &selectedValues)
            return
        }
        var filled = 0
        for j in 0..<count {
            let value = values[offset + j]
            guard !value.isNaN else { continue }
            if filled == k {
                guard value > selectedValues[k - 1] else { continue }
                filled -= 1
            }
            var position = filled
            while position > 0 && selectedValues[position - 1] < value {
                selectedValues[position] = selectedValues[position - 1]
                indices[position] = indices[position - 1]
                position -= 1
            }
            selectedValues[position] = value
            indices[position] = j
            filled += 1
        }
        fillRemainder(from: filled, k: k, indices: &indices, values: &selectedValues)
    }

    /// Completes a selection of `filled` < k entries (a row with NaNs) with the first unchosen
    /// columns, at value 0.
    private static func fillRemainder(from filled: Int, k: Int, indices: inout [Int], values: inout [Float]) {
        var filled = filled
        var j = 0
        while filled < k {
            if !indices[0..<filled].contains(j) {
                indices[filled] = j
                values[filled] = 0
                filled += 1
            }
            j += 1
        }
    }
}
