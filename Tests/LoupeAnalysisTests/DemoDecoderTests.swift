import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld
import Testing

/// The demo's inversion decoder (`Reports/demo/decoder`) reads what the demo model's activations know:
/// on counting prompts it has not seen, at the last block's output at `:`, its samples inside ε = 0.45
/// carry the prompt's count while their letter strings differ; at the embeddings the count is not what
/// the samples share.
@Suite struct DemoDecoderTests {
    static let demo = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Reports/demo")

    /// Counting prompts (`<|endoftext|>`, the letters, `|`, the target, `:`) of lengths 5–12 and counts 1–4.
    static func prompts(world: ToyWorld) -> [(tokens: [Int], count: Int)] {
        let letters = ["b", "c", "d", "e", "f", "g"]
        var rng = SeededRandom(seed: 2026)
        return [(5, 1), (7, 3), (9, 2), (12, 4)].map { length, count in
            let target = letters[rng.nextInt(below: letters.count)]
            let others = letters.filter { $0 != target }
            var slots = Set<Int>()
            while slots.count < count { slots.insert(rng.nextInt(below: length)) }
            let string = (0..<length).map { slots.contains($0) ? target : others[rng.nextInt(below: others.count)] }
            let text = (string + ["|", target, ":"]).joined(separator: " ")
            return ([world.endOfTextID] + world.tokenizer.encode(text), count)
        }
    }

    /// The letters before `|` in a counting sequence ending at `position` (the `:`).
    static func letterString(_ tokens: [Int], position: Int) -> [Int] {
        Array(tokens[1..<max(1, position - 2)])
    }

    @Test func samplesInsideEpsilonCarryTheCountAtTheLastBlockButNotAtTheEmbeddings() throws {
        let model = try GPT2Model.load(directory: Self.demo.appendingPathComponent("model"))
        let decoder = try InversionDecoder.load(directory: Self.demo.appendingPathComponent("decoder"))
        #expect(decoder.config.probedModelFingerprint == (try ModelFingerprint.of(directory: Self.demo.appendingPathComponent("model"))))
        let world = ToyWorld()
        var settings = DecodeSettings()
        settings.epsilon = 0.45
        let last = "blocks.\(model.config.layers - 1).hook_resid_post"
        for (tokens, count) in Self.prompts(world: world) {
            let query = try PreimageQuery(
                model: model, site: try PreimageSite(hook: last, head: nil, model: model), tokens: tokens, position: -1, contextLength: 64)
            let result = try DecodedNeighbourhood.run(decoder: decoder, probed: model, tokenizer: world.tokenizer, query: query, settings: settings)
            let inside = result.samples.filter { $0.distance <= 0.45 }
            let counted = inside.filter { ToyTaskVariables.variables(of: $0.tokens, at: $0.matchedPosition)["count"] == String(count) }
            let otherStrings = counted.filter { Self.letterString($0.tokens, position: $0.matchedPosition) != Self.letterString(tokens, position: tokens.count - 1) }
            #expect(result.samples.count == 64)
            #expect(inside.count * 2 >= 64, "\(world.render(tokens)): \(inside.count) of 64 inside")
            #expect(counted.count * 10 >= inside.count * 9, "\(world.render(tokens)): \(counted.count) of \(inside.count) carry the count")
            #expect(otherStrings.count * 2 >= counted.count, "\(world.render(tokens)): \(otherStrings.count) of \(counted.count) differ")
            #expect(result.shared.contains { $0.statement.contains("count") })

            let early = try PreimageQuery(
                model: model, site: try PreimageSite(hook: "blocks.0.hook_resid_pre", head: nil, model: model), tokens: tokens, position: -1,
                contextLength: 64)
            let embeddings = try DecodedNeighbourhood.run(decoder: decoder, probed: model, tokenizer: world.tokenizer, query: early, settings: settings)
            #expect(!embeddings.shared.contains { $0.statement.contains("count") }, "\(embeddings.shared)")
        }
    }
}
