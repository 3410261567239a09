import Foundation
import LoupeCore
import LoupeModel
import Testing
import LoupeAnalysis

/// Atlas throughput on random data; runs only with `LOUPE_ATLAS_BENCH=1` (build in release:
/// `swift test -c release -Xswiftc -enable-testing --filter AtlasBenchmark`).
@Suite("Atlas: benchmark", .enabled(if: ProcessInfo.processInfo.environment["LOUPE_ATLAS_BENCH"] == "1"))
struct AtlasBenchmarkTests {
    /// Random rows `[rows, width]` in chunks of 16k rows (windows of 128 tokens, no BOS).
    func chunks(rows: Int, width: Int, seed: UInt64) throws -> [ActivationChunk] {
        var rng = SeededRandom(seed: seed)
        var result: [ActivationChunk] = []
        var start = 0
        while start < rows {
            let count = min(16_384, rows - start)
            var values = [Float](repeating: 0, count: count * width)
            for i in values.indices { values[i] = rng.nextNormal() }
            let global = start..<(start + count)
            result.append(try ActivationChunk(
                activations: Tensor(shape: [count, width], scalars: values),
                documents: global.map { $0 / 512 }, positions: global.map { $0 % 512 },
                tokens: global.map { $0 % 40 }, special: Array(repeating: false, count: count), windowStride: 128))
            start += count
        }
        return result
    }

    func measure(rows: Int, width: Int, features: Int, bias: Float) throws {
        let data = try chunks(rows: rows, width: width, seed: 1)
        var rng = SeededRandom(seed: 2)
        var weight = Tensor(shape: [width, features])
        let scale = 1 / Float(width).squareRoot()
        for i in 0..<weight.count { weight.scalars[i] = rng.nextNormal() * scale }
        let biasTensor = Tensor(shape: [features], repeating: bias)
        var decoder = Tensor(shape: [features, width])
        for i in 0..<decoder.count { decoder.scalars[i] = rng.nextNormal() }
        let encoder: FeatureEncoder = { try $0.matmul(weight, bias: biasTensor).applying(.relu) }
        let tokenizer = try WordTokenizer(tokens: ["<|endoftext|>"] + (1...40).map { "w\($0)" })

        let clock = ContinuousClock()
        var encodeOnly = Duration.zero
        for chunk in data {
            let start = clock.now
            _ = try encoder(chunk.activations)
            encodeOnly += clock.now - start
        }
        var first = try FirstPassStatistics(hook: "h", featureCount: features, inputWidth: width)
        let t0 = clock.now
        for chunk in data { try first.add(chunk, encoder: encoder) }
        let t1 = clock.now
        var second = try SecondPassStatistics(first: first)
        for chunk in data { try second.add(chunk, encoder: encoder) }
        let t2 = clock.now
        let result = try AtlasBuilder().findings(first: first, second: second, tokenizer: tokenizer, decoder: decoder)
        let t3 = clock.now
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let total = seconds(t3 - t0)
        let density = result.features.reduce(0.0) { $0 + $1.density } / Double(features)
        let line = String(
            format: "atlas %d→%d over %d rows (density %.3f): pass 1 %.2f s, pass 2 %.2f s, findings %.2f s, total %.2f s; encode alone %.2f s per pass; %.3g token·features/s",
            width, features, rows, density, seconds(t1 - t0), seconds(t2 - t1), seconds(t3 - t2), total, seconds(encodeOnly),
            Double(rows) * Double(features) / total)
        print(line)
    }

    @Test func smallDictionary() throws {
        try measure(rows: 100_000, width: 128, features: 512, bias: 0)
        try measure(rows: 100_000, width: 128, features: 512, bias: -2)
    }

    @Test func largeDictionary() throws {
        try measure(rows: 65_536, width: 768, features: 4_096, bias: 0)
        try measure(rows: 65_536, width: 768, features: 4_096, bias: -2)
    }
}

