import Foundation
import LoupeCore
import Testing

/// Bad shapes, sizes and indices passed to LoupeCore's public API are refused with a message:
/// throwing functions throw the `CoreError` naming the problem, the others stop the program
/// (checked in a child process) before any memory is read out of bounds.
@Suite struct KernelPreconditionTests {
    // MARK: Thrown errors

    @Test func tensorShapesMustHoldTheirValues() {
        #expect(throws: CoreError.incompatibleShapes(
            operation: "Tensor(shape:scalars:)", detail: "shape [2, 3] needs 6 values, found 5")) {
            try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "Tensor(shape:scalars:)", detail: "shape [-2, -3] has a negative dimension or too many values")) {
            try Tensor(shape: [-2, -3], scalars: [1, 2, 3, 4, 5, 6])
        }
        var tensor = Tensor(shape: [2, 3])
        #expect(throws: CoreError.incompatibleShapes(
            operation: "reshape", detail: "from [2, 3]: shape [-1, -6] has a negative dimension or too many values")) {
            try tensor.reshape([-1, -6])
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "Tensor(shape:scalars:)", detail: "shape [4] needs 4 values, found 6")) {
            try tensor.reshaped([4])
        }
    }

    @Test func matmulInnerDimensionsMustAgree() {
        let x = Tensor(shape: [2, 3])
        #expect(throws: CoreError.incompatibleShapes(operation: "matmul", detail: "input [2, 3] needs a weight [3, O], found [4, 5]")) {
            try x.matmul(Tensor(shape: [4, 5]))
        }
        #expect(throws: CoreError.incompatibleShapes(operation: "matmul", detail: "input [2, 3] needs a weight [3, O], found [3]")) {
            try x.matmul(Tensor(shape: [3]))
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "matmulTransposed", detail: "input [2, 3] needs a weight [O, 3], found [5, 4]")) {
            try x.matmulTransposed(Tensor(shape: [5, 4]))
        }
        #expect(throws: CoreError.incompatibleShapes(operation: "matmul", detail: "bias [4], expected [5]")) {
            try x.matmul(Tensor(shape: [3, 5]), bias: Tensor(shape: [4]))
        }
        #expect(throws: CoreError.incompatibleShapes(operation: "matmul", detail: "input [2, 0] needs [..., I] with I ≥ 1")) {
            try Tensor(shape: [2, 0]).matmul(Tensor(shape: [0, 3]))
        }
    }

    @Test func kernelsRefuseTensorsWhoseValuesWereResized() {
        var weight = Tensor(shape: [3, 5])
        weight.scalars.removeLast()
        #expect(throws: CoreError.incompatibleShapes(operation: "matmul", detail: "shape [3, 5] needs 15 values, found 14")) {
            try Tensor(shape: [2, 3]).matmul(weight)
        }
        var key = Tensor(shape: [1, 2, 1, 4])
        key.scalars.append(0)
        #expect(throws: CoreError.incompatibleShapes(operation: "attention scores", detail: "shape [1, 2, 1, 4] needs 8 values, found 9")) {
            try CausalAttention.scores(query: Tensor(shape: [1, 2, 1, 4]), key: key, scale: 1)
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "SafetensorsWriter", detail: "tensor 'w': shape [3, 5] does not hold 14 values")) {
            try SafetensorsWriter.write(["w": .float32(weight)], to: FileManager.default.temporaryDirectory.appendingPathComponent("unused"))
        }
    }

    @Test func layerNormParametersMustHaveTheInputWidth() {
        let x = Tensor(shape: [2, 4])
        #expect(throws: CoreError.incompatibleShapes(operation: "layerNorm", detail: "weight [3] and bias [4], expected [4] each")) {
            try x.layerNorm(weight: Tensor(shape: [3]), bias: Tensor(shape: [4]), epsilon: 1e-5)
        }
        #expect(throws: CoreError.incompatibleShapes(operation: "layerNorm", detail: "weight [4] and bias [4, 1], expected [4] each")) {
            try x.layerNorm(weight: Tensor(shape: [4]), bias: Tensor(shape: [4, 1]), epsilon: 1e-5)
        }
        #expect(throws: CoreError.incompatibleShapes(operation: "layerNorm", detail: "input [2, 0] needs [..., C] with C ≥ 1")) {
            try Tensor(shape: [2, 0]).layerNorm(weight: Tensor(shape: [0]), bias: Tensor(shape: [0]), epsilon: 1e-5)
        }
    }

    @Test func attentionShapesMustAgree() {
        #expect(throws: CoreError.incompatibleShapes(
            operation: "attention scores",
            detail: "q [1, 3, 2, 4] and k [1, 2, 2, 4] must both be one [B, T, H, D] with every extent ≥ 1")) {
            try CausalAttention.scores(query: Tensor(shape: [1, 3, 2, 4]), key: Tensor(shape: [1, 2, 2, 4]), scale: 1)
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "attention scores",
            detail: "q [1, 2, 2, 0] and k [1, 2, 2, 0] must both be one [B, T, H, D] with every extent ≥ 1")) {
            try CausalAttention.scores(query: Tensor(shape: [1, 2, 2, 0]), key: Tensor(shape: [1, 2, 2, 0]), scale: 1)
        }
        #expect(throws: CoreError.incompatibleShapes(operation: "attention pattern", detail: "scores [1, 1, 2, 3]")) {
            try CausalAttention.pattern(scores: Tensor(shape: [1, 1, 2, 3]))
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "attention mix", detail: "pattern [1, 2, 3, 3], expected [1, 1, 3, 3] for v [1, 3, 1, 4]")) {
            try CausalAttention.mix(pattern: Tensor(shape: [1, 2, 3, 3]), value: Tensor(shape: [1, 3, 1, 4]))
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "head results", detail: "W_O [5, 4], expected [6, C] for z [1, 2, 2, 3]")) {
            try CausalAttention.headResults(z: Tensor(shape: [1, 2, 2, 3]), outputWeight: Tensor(shape: [5, 4]))
        }
        #expect(throws: CoreError.incompatibleShapes(
            operation: "sum heads", detail: "bias [3], expected [4] for results [1, 2, 2, 4]")) {
            try CausalAttention.sumHeads(Tensor(shape: [1, 2, 2, 4]), bias: Tensor(shape: [3]))
        }
    }

    @Test func splitsMustBeEqualAndPositive() {
        let x = Tensor(shape: [2, 6])
        for parts in [4, 0] {
            #expect(throws: CoreError.incompatibleShapes(
                operation: "splitLastDimension",
                detail: "the last dimension of [2, 6] does not split into \(parts) equal parts (parts must be ≥ 1)")) {
                try x.splitLastDimension(into: parts)
            }
        }
    }

    @Test func integerTensorsMustFillTheirShapeToBeWritten() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(UUID().uuidString).safetensors")
        #expect(throws: CoreError.incompatibleShapes(
            operation: "SafetensorsWriter", detail: "tensor 'ids': shape [2, 2] does not hold 3 values")) {
            try SafetensorsWriter.write(["ids": .int32(shape: [2, 2], values: [1, 2, 3])], to: url)
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func npyShapesTooLargeToAddressAreRefused() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0])
        data.append(Data(header.utf8))
        #expect(throws: CoreError.corruptNpy(
            path: "big.npy", reason: "shape [4294967296, 4294967296] holds more values than can be addressed")) {
            try Npy.decode(data, path: "big.npy")
        }
    }

    // MARK: Stops

    /// A call that breaks a precondition of a non-throwing function, with the message it stops with.
    enum Misuse: String, CaseIterable, Codable, Sendable {
        case resizedTable, negativeShape, sliceOutOfRange, differenceOfShapes, sumOfShapes, concatenateRows
        case gatherNegativeId, gatherIdPastTable, scatterIdPastTable, scatterGradientShape
        case matmulBackwardOutputGradient, matmulBackwardWeight, matmulBackwardBiasGradient
        case matmulTransposedBackwardWeight, matmulTransposedBackwardWeightGradient
        case layerNormBackwardWeight, layerNormBackwardStatistics, activationBackwardShape
        case mixBackwardPattern, patternBackwardGradient, scoresBackwardKey, headResultsBackwardWeight
        case crossEntropyTargetPastVocabulary, crossEntropyTargetBelowIgnored, crossEntropyTargetCount
        case adamWShapes, adamWStepZero, negativeChunkCount, zeroSizeSgemmProbe, emptyIntegerRange

        /// Text the stop message must contain.
        var message: String {
            switch self {
            case .resizedTable: return "gatherRows: shape [3, 2] needs 6 values, found 1"
            case .negativeShape: return "Tensor(shape:repeating:): shape [2, -1] has a negative dimension"
            case .sliceOutOfRange: return "slice 2 out of range for shape [2, 3]"
            case .differenceOfShapes: return "maxAbsDifference: shapes [2, 3] and [3, 2] differ"
            case .sumOfShapes: return "+: shapes [2, 3] and [6] differ"
            case .concatenateRows: return "concatenateLastDimension: shapes [[2, 3], [3, 3]] differ before the last dimension"
            case .gatherNegativeId: return "gatherRows: id -1 outside 0..<3"
            case .gatherIdPastTable: return "gatherRows: id 3 outside 0..<3"
            case .scatterIdPastTable: return "scatterAddRows: id 3 outside 0..<3"
            case .scatterGradientShape: return "scatterAddRows: output gradient [2, 3], expected 2 rows of 2"
            case .matmulBackwardOutputGradient: return "matmulBackward: output gradient [4, 4], expected [4, 5]"
            case .matmulBackwardWeight: return "matmulBackward: input [4, 3] does not fit weight [2, 5]"
            case .matmulBackwardBiasGradient: return "matmulBackward: bias gradient [4], expected [5]"
            case .matmulTransposedBackwardWeight: return "matmulTransposedBackward: input [4, 3] does not fit weight [5, 2]"
            case .matmulTransposedBackwardWeightGradient: return "matmulTransposedBackward: weight gradient [3, 5], expected [5, 3]"
            case .layerNormBackwardWeight:
                return "layerNormBackward: weight [3], weight gradient [4], bias gradient [4], expected [4] each"
            case .layerNormBackwardStatistics: return "layerNormBackward: 1 means and 2 rstds, expected 2 each"
            case .activationBackwardShape: return "activationBackward: output gradient [3], expected [4]"
            case .mixBackwardPattern: return "mixBackward: pattern [1, 1, 3, 3], expected [1, 1, 2, 2]"
            case .patternBackwardGradient: return "patternBackward: pattern gradient [1, 1, 3, 3], expected [1, 1, 2, 2]"
            case .scoresBackwardKey: return "scoresBackward: q [1, 2, 1, 4] and k [1, 3, 1, 4] must both be one [B, T, H, D]"
            case .headResultsBackwardWeight: return "headResultsBackward: W_O [5, 4], expected [6, C]"
            case .crossEntropyTargetPastVocabulary: return "CrossEntropy: target 4 outside the vocabulary 0..<4"
            case .crossEntropyTargetBelowIgnored: return "CrossEntropy: target -2 outside the vocabulary 0..<4"
            case .crossEntropyTargetCount: return "CrossEntropy: 1 targets, expected one per row (2)"
            case .adamWShapes: return "adamWUpdate: gradient [3], m [2], v [3], expected [3] each"
            case .adamWStepZero: return "adamWUpdate: step 0, steps count from 1"
            case .negativeChunkCount: return "parallelChunks: count -1 must be ≥ 0"
            case .zeroSizeSgemmProbe: return "SgemmProbe.gflops: m 0, n 4, k 4 and repetitions 1 must all be ≥ 1"
            case .emptyIntegerRange: return "nextInt(below:) needs a positive bound"
            }
        }

        /// Makes the call.
        func perform() {
            let (x43, table) = (Tensor(shape: [4, 3]), Tensor(shape: [3, 2]))
            var weightGradient = Tensor(shape: [3, 5])
            var noBias: Tensor?
            switch self {
            case .resizedTable:
                var resized = table
                resized.scalars = [1]
                _ = resized.gatherRows([2])
            case .negativeShape:
                _ = Tensor(shape: [2, -1])
            case .sliceOutOfRange:
                _ = Tensor(shape: [2, 3]).slice(2)
            case .differenceOfShapes:
                _ = Tensor(shape: [2, 3]).maxAbsDifference(Tensor(shape: [3, 2]))
            case .sumOfShapes:
                _ = Tensor(shape: [2, 3]) + Tensor(shape: [6])
            case .concatenateRows:
                _ = Tensor.concatenateLastDimension([Tensor(shape: [2, 3]), Tensor(shape: [3, 3])])
            case .gatherNegativeId:
                _ = table.gatherRows([0, -1])
            case .gatherIdPastTable:
                _ = table.gatherRows([2, 3])
            case .scatterIdPastTable:
                var gradient = table
                gradient.scatterAddRows([0, 3], outputGradient: Tensor(shape: [2, 2]))
            case .scatterGradientShape:
                var gradient = table
                gradient.scatterAddRows([0, 1], outputGradient: Tensor(shape: [2, 3]))
            case .matmulBackwardOutputGradient:
                _ = x43.matmulBackward(
                    weight: Tensor(shape: [3, 5]), outputGradient: Tensor(shape: [4, 4]),
                    weightGradient: &weightGradient, biasGradient: &noBias)
            case .matmulBackwardWeight:
                var gradient = Tensor(shape: [2, 5])
                _ = x43.matmulBackward(
                    weight: Tensor(shape: [2, 5]), outputGradient: Tensor(shape: [4, 5]),
                    weightGradient: &gradient, biasGradient: &noBias)
            case .matmulBackwardBiasGradient:
                var biasGradient: Tensor? = Tensor(shape: [4])
                _ = x43.matmulBackward(
                    weight: Tensor(shape: [3, 5]), outputGradient: Tensor(shape: [4, 5]),
                    weightGradient: &weightGradient, biasGradient: &biasGradient)
            case .matmulTransposedBackwardWeight:
                var gradient = Tensor(shape: [5, 2])
                _ = x43.matmulTransposedBackward(
                    weight: Tensor(shape: [5, 2]), outputGradient: Tensor(shape: [4, 5]), weightGradient: &gradient)
            case .matmulTransposedBackwardWeightGradient:
                _ = x43.matmulTransposedBackward(
                    weight: Tensor(shape: [5, 3]), outputGradient: Tensor(shape: [4, 5]), weightGradient: &weightGradient)
            case .layerNormBackwardWeight:
                var (dw, db) = (Tensor(shape: [4]), Tensor(shape: [4]))
                _ = Tensor(shape: [2, 4]).layerNormBackward(
                    outputGradient: Tensor(shape: [2, 4]), weight: Tensor(shape: [3]), mean: [0, 0], rstd: [1, 1],
                    weightGradient: &dw, biasGradient: &db)
            case .layerNormBackwardStatistics:
                var (dw, db) = (Tensor(shape: [4]), Tensor(shape: [4]))
                _ = Tensor(shape: [2, 4]).layerNormBackward(
                    outputGradient: Tensor(shape: [2, 4]), weight: Tensor(shape: [4]), mean: [0], rstd: [1, 1],
                    weightGradient: &dw, biasGradient: &db)
            case .activationBackwardShape:
                _ = Tensor(shape: [4]).activationBackward(.relu, outputGradient: Tensor(shape: [3]))
            case .mixBackwardPattern:
                _ = CausalAttention.mixBackward(
                    pattern: Tensor(shape: [1, 1, 3, 3]), value: Tensor(shape: [1, 2, 1, 4]), zGradient: Tensor(shape: [1, 2, 1, 4]))
            case .patternBackwardGradient:
                _ = CausalAttention.patternBackward(pattern: Tensor(shape: [1, 1, 2, 2]), patternGradient: Tensor(shape: [1, 1, 3, 3]))
            case .scoresBackwardKey:
                _ = CausalAttention.scoresBackward(
                    query: Tensor(shape: [1, 2, 1, 4]), key: Tensor(shape: [1, 3, 1, 4]), scale: 1,
                    scoresGradient: Tensor(shape: [1, 1, 2, 2]))
            case .headResultsBackwardWeight:
                var gradient = Tensor(shape: [5, 4])
                _ = CausalAttention.headResultsBackward(
                    z: Tensor(shape: [1, 2, 2, 3]), outputWeight: Tensor(shape: [5, 4]),
                    resultsGradient: Tensor(shape: [1, 2, 2, 4]), weightGradient: &gradient)
            case .crossEntropyTargetPastVocabulary:
                _ = CrossEntropy.lossAndGradient(logits: Tensor(shape: [2, 4]), targets: [1, 4])
            case .crossEntropyTargetBelowIgnored:
                _ = CrossEntropy.lossAndGradient(logits: Tensor(shape: [2, 4]), targets: [-2, 0])
            case .crossEntropyTargetCount:
                _ = CrossEntropy.lossAndGradient(logits: Tensor(shape: [2, 4]), targets: [1])
            case .adamWShapes:
                var (theta, m, v) = (Tensor(shape: [3]), Tensor(shape: [2]), Tensor(shape: [3]))
                theta.adamWUpdate(gradient: Tensor(shape: [3]), m: &m, v: &v, Self.adamStep(1))
            case .adamWStepZero:
                var (theta, m, v) = (Tensor(shape: [3]), Tensor(shape: [3]), Tensor(shape: [3]))
                theta.adamWUpdate(gradient: Tensor(shape: [3]), m: &m, v: &v, Self.adamStep(0))
            case .negativeChunkCount:
                parallelChunks(count: -1) { _ in }
            case .zeroSizeSgemmProbe:
                _ = SgemmProbe.gflops(m: 0, n: 4, k: 4, repetitions: 1)
            case .emptyIntegerRange:
                var random = SeededRandom(seed: 1)
                _ = random.nextInt(below: 0)
            }
        }

        static func adamStep(_ step: Int) -> AdamWStep {
            AdamWStep(learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0, step: step)
        }
    }

    @Test(arguments: Misuse.allCases)
    func misuseStopsWithAMessage(_ misuse: Misuse) async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [misuse] in
            misuse.perform()
        }
        let message = result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
        #expect(message.contains(misuse.message), "\(misuse): \(message)")
    }
}
