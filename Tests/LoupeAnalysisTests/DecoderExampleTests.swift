import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld
import Testing

/// The (activation → input) pairs a decoder trains on, made from the demo model on toy-world inputs:
/// each activation is the one a pass over that input alone gives at its last position, whichever
/// block the site sits in, and readout inputs end where their task is read.
@Suite struct DecoderExampleTests {
    static let model = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Reports/demo/model")

    @Test func activationsAreThoseOfTheCutInputAndReadoutInputsEndAtTheReadout() throws {
        let model = try GPT2Model.load(directory: Self.model)
        let world = ToyWorld()
        let sites = [
            try PreimageSite(hook: "blocks.0.hook_resid_pre", head: nil, model: model),
            try PreimageSite(hook: "blocks.1.attn.hook_z", head: 2, model: model),
            try PreimageSite(hook: "blocks.3.hook_resid_post", head: nil, model: model),
        ]
        let colon = world.tokenizer.encode(":")
        for readoutShare in [0.0, 1.0] {
            let maker = try DecoderExampleMaker(
                probed: model, sites: sites, source: .toyWorld(sentences: 1, taskShare: 1, readoutShare: readoutShare, tasks: ["counting"]),
                bos: world.endOfTextID)
            var rng = SeededRandom(seed: 5)
            let examples = try maker.examples(count: 40, rng: &rng)
            #expect(Set(examples.map(\.site)).count == sites.count)
            var endsAtColon = 0
            for example in examples {
                let site = sites[example.site]
                let pass = try model.forward([example.tokens], ForwardRequest(cache: [site.hook], computeLogits: false))
                let row = (example.tokens.count - 1) * site.rowWidth
                let expected = Array(pass.cache[site.hook]!.scalars[(row + site.columns.lowerBound)..<(row + site.columns.upperBound)])
                // Equal up to float rounding: batch shapes change the order of BLAS sums.
                let worst = zip(example.activation, expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                #expect(worst < 1e-4, "\(world.render(example.tokens)) at \(site.hook)")
                if Array(example.tokens.suffix(colon.count)) == colon { endsAtColon += 1 }
            }
            if readoutShare == 1 {
                #expect(endsAtColon == examples.count)
            } else {
                #expect(endsAtColon < examples.count / 2)
            }
        }
    }
}
