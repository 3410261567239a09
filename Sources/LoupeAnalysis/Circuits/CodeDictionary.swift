import LoupeCore

/// The small ReLU dictionary of the discrete-codes method: `x ↦ relu((x − b)·W_enc + b_enc)`, decoded
/// as `f·W_dec + b` with a tied pre-bias `b` and unit-norm decoder rows. Shape legend: N rows,
/// C width, F features.
struct CodeDictionary {
    /// `[C, F]` and `[F]`.
    var encoder: Tensor, encoderBias: Tensor
    /// `[F, C]`, rows of unit norm.
    var decoder: Tensor
    /// `[C]`, subtracted before encoding and added after decoding.
    var preBias: Tensor

    /// A dictionary with random unit-norm decoder rows and the encoder their transpose.
    init(width: Int, features: Int, rng: inout SeededRandom) {
        decoder = Tensor(shape: [features, width])
        for i in 0..<decoder.count { decoder.scalars[i] = rng.nextNormal() }
        encoder = Tensor(shape: [width, features])
        encoderBias = Tensor(shape: [features])
        preBias = Tensor(shape: [width])
        normaliseDecoder()
        for feature in 0..<features {
            for channel in 0..<width { encoder.scalars[channel * features + feature] = decoder.scalars[feature * width + channel] }
        }
    }

    /// Feature activations `[N, F]` of `rows` `[N, C]`, and the centred input `[N, C]`.
    private func encode(_ rows: Tensor) throws -> (features: Tensor, centred: Tensor, preActivation: Tensor) {
        var centred = rows
        let width = preBias.count
        for i in 0..<centred.count { centred.scalars[i] -= preBias.scalars[i % width] }
        let pre = try centred.matmul(encoder, bias: encoderBias)
        return (pre.applying(.relu), centred, pre)
    }

    /// The index of the most active feature (the first on ties) of each row.
    func codes(of rows: [[Float]]) throws -> [Int] {
        let features = try encode(Tensor(shape: [rows.count, preBias.count], scalars: rows.flatMap { $0 })).features
        let f = encoderBias.count
        return (0..<rows.count).map { row in
            var best = 0
            for feature in 1..<f where features.scalars[row * f + feature] > features.scalars[row * f + best] { best = feature }
            return best
        }
    }

    /// Full-batch Adam on `rows` for `steps` steps of loss `mean((x̂ − x)²) + sparsity · mean_rows(Σ_f f)`,
    /// decoder rows renormalised after each step; `stepDone` is called after each step with its number.
    mutating func train(rows: [[Float]], sparsity: Float, steps: Int, learningRate: Float, stepDone: (Int) -> Void) throws {
        let (n, c, f) = (rows.count, preBias.count, encoderBias.count)
        let x = try Tensor(shape: [n, c], scalars: rows.flatMap { $0 })
        let parameters: [WritableKeyPath<CodeDictionary, Tensor>] = [\.encoder, \.encoderBias, \.decoder, \.preBias]
        var firstMoments = parameters.map { Tensor(shape: self[keyPath: $0].shape) }
        var secondMoments = firstMoments
        for step in 1...max(steps, 1) {
            let (features, centred, pre) = try encode(x)
            var reconstructionGradient = try features.matmul(decoder, bias: preBias)
            let scale = 2 / Float(n * c)
            for i in 0..<reconstructionGradient.count {
                reconstructionGradient.scalars[i] = scale * (reconstructionGradient.scalars[i] - x.scalars[i])
            }
            var decoderGradient = Tensor(shape: [f, c])
            var preBiasGradient: Tensor? = Tensor(shape: [c])
            var featureGradient = features.matmulBackward(
                weight: decoder, outputGradient: reconstructionGradient, weightGradient: &decoderGradient, biasGradient: &preBiasGradient)!
            let penalty = sparsity / Float(n)
            for i in 0..<featureGradient.count {
                featureGradient.scalars[i] = pre.scalars[i] > 0 ? featureGradient.scalars[i] + penalty : 0
            }
            var encoderGradient = Tensor(shape: [c, f])
            var encoderBiasGradient: Tensor? = Tensor(shape: [f])
            let centredGradient = centred.matmulBackward(
                weight: encoder, outputGradient: featureGradient, weightGradient: &encoderGradient, biasGradient: &encoderBiasGradient)!
            var biasGradient = preBiasGradient!
            for i in 0..<centredGradient.count { biasGradient.scalars[i % c] -= centredGradient.scalars[i] }
            let gradients = [encoderGradient, encoderBiasGradient!, decoderGradient, biasGradient]
            let adam = AdamWStep(learningRate: learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: step)
            for (index, path) in parameters.enumerated() {
                self[keyPath: path].adamWUpdate(gradient: gradients[index], m: &firstMoments[index], v: &secondMoments[index], adam)
            }
            normaliseDecoder()
            stepDone(step)
        }
    }

    /// Scales every decoder row to unit norm.
    private mutating func normaliseDecoder() {
        let c = preBias.count
        for row in 0..<encoderBias.count {
            let range = (row * c)..<((row + 1) * c)
            let norm = decoder.scalars[range].reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for i in range { decoder.scalars[i] /= norm } }
        }
    }
}
