import Foundation
import LoupeFindings

/// Hand-made neighbourhood findings for the site tests: one residual site (two queries, the first a
/// top example of feature 1 of the fixture atlas) and one head site (`blocks.1.attn.hook_z`, head 0,
/// read by circuit node `a1.h0`), with hostile strings in tokens, origins and shared statements.
enum NeighbourhoodFixtures {
    static let epsilon = 0.1
    static let residualSlug = "blocks.1.hook_resid_post"
    static let headSlug = "blocks.1.attn.hook_z.h0"

    /// Retrieved distances, out of order: two inside ε (0.05, 0.08), two outside.
    static let retrievedDistances = [0.05, 0.2, 0.08, 0.15]
    /// Decoded distances, out of order: three inside ε (0.02, 0.09 and exactly ε), two outside.
    static let sampleDistances = [0.3, 0.02, 0.1, 0.12, 0.09]

    /// A query of `tokens` at `position`, with retrieved windows and decoded samples at the fixed distances.
    static func query(
        id: String, origin: String, featureExample: FeatureExampleRef?, tokens: [String], position: Int, attention: [Double]?
    ) -> NeighbourhoodQuery {
        let retrieved = retrievedDistances.enumerated().map { i, distance in
            RetrievedNeighbour(document: 10 + i, position: 3 + i, tokens: ["<bos>", " the", " cat", " r\(i)"], distance: distance)
        }
        let samples = sampleDistances.enumerated().map { i, distance in
            DecodedSample(
                tokenIDs: [0, 5, 6 + i, 7], tokens: ["<bos>", " When", i == 0 ? "<script>alert(1)</script>" : " s\(i)", " went"],
                matchedPosition: 2, distance: distance, positionDistances: [nil, distance + 0.4, distance, distance + 0.2],
                shading: [0, 0.35, -0.6, 1], temperature: [0.5, 1, 2][i % 3], noise: i % 2 == 0 ? 0 : 0.05)
        }
        return NeighbourhoodQuery(
            id: id, origin: origin, featureExample: featureExample, tokens: tokens, position: position, attention: attention,
            candidates: 64_000, inside: 37, retrieved: retrieved, samples: samples, insideFraction: 0.625,
            shared: [
                SharedStatement(statement: "the token 1 before the matched one is “ When” <b>bold</b>", support: "29 of 31 inside ε; 4 of 33 outside"),
                SharedStatement(statement: "the count is 3", support: "20 of 31 inside ε; 2 of 33 outside"),
            ])
    }

    static var findings: NeighbourhoodFindings {
        let tokens = ["<bos>", " When", " Mary", "<script>alert(1)</script>", " and", " John"]
        let residual = NeighbourhoodSiteFindings(
            slug: residualSlug, hook: "blocks.1.hook_resid_post", head: nil, decoderLoss: 1.375, insideFraction: 0.6,
            queries: [
                query(id: "q1", origin: "top example 1 of feature 1 (blocks.1.hook_resid_post)",
                      featureExample: FeatureExampleRef(hook: "blocks.1.hook_resid_post", feature: 1, example: 0),
                      tokens: tokens, position: 3, attention: nil),
                query(id: "q2", origin: "text \(SiteFixtures.hostile[1])",
                      featureExample: FeatureExampleRef(hook: "blocks.1.hook_resid_post", feature: 3, example: 25),
                      tokens: tokens, position: 5, attention: nil),
                query(id: "q3", origin: "top example 1 of feature 1 at another hook",
                      featureExample: FeatureExampleRef(hook: "blocks.0.hook_resid_post", feature: 1, example: 0),
                      tokens: tokens, position: 2, attention: nil),
            ])
        let head = NeighbourhoodSiteFindings(
            slug: headSlug, hook: "blocks.1.attn.hook_z", head: 0, decoderLoss: 1.5, insideFraction: 0.55,
            queries: [
                query(id: "q1", origin: "ioi prompt 2, position −1", featureExample: nil, tokens: tokens, position: 4,
                      attention: [0.05, 0.1, 0.75, 0.02, 0.08]),
            ])
        return NeighbourhoodFindings(
            distance: "l2", epsilon: epsilon,
            decoder: DecoderSummary(
                path: "Reports/demo/decoder", steps: 2000, examples: 64_000,
                lossCurve: (0...10).map { LossPoint(step: $0 * 200, loss: 5 * exp(-Double($0) / 3) + 1) }, heldOutLoss: 1.42),
            sites: [residual, head])
    }
}
