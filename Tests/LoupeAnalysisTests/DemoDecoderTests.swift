import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld
import Testing

/// The demo's inversion decoder (`Reports/demo/decoder`) on counting queries at `:` (the one the demo
/// report shows, `c b e b b | b :`, and a longer one with a higher count): at the last block's output
/// its samples inside ε = 0.45 are at least half of 64 and nine in ten of them carry the prompt's count
/// while at least half have another letter string, and what they share names the count; at the
/// embeddings it does not.
@Suite struct DemoDecoderTests {
    static let demo = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Reports/demo")

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
        let prompts = [("c b e b b | b :", 3), ("c c d e f c g c b e | c :", 4)].map { ([world.endOfTextID] + world.tokenizer.encode($0), $1) }
        for (tokens, count) in prompts {
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
            #expect(result.shared.contains { $0.statement.hasPrefix("the count is") })
            guard tokens == prompts[0].0 else { continue }

            let early = try PreimageQuery(
                model: model, site: try PreimageSite(hook: "blocks.0.hook_resid_pre", head: nil, model: model), tokens: tokens, position: -1,
                contextLength: 64)
            let embeddings = try DecodedNeighbourhood.run(decoder: decoder, probed: model, tokenizer: world.tokenizer, query: early, settings: settings)
            #expect(!embeddings.shared.contains { $0.statement.hasPrefix("the count is") }, "\(embeddings.shared)")
        }
    }
}
