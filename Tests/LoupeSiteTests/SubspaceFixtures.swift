import LoupeFindings

/// Hand-written subspace findings for the site tests: one site with three subspaces and one task
/// (`ioi`, the circuit fixtures' task), tokens and statements full of hostile strings.
enum SubspaceFixtures {
    static let slug = "blocks.0.hook_resid_post"

    static func token(_ tokens: [String], index: Int, similarity: Double, document: Int) -> SubspaceToken {
        SubspaceToken(document: document, position: index + 3, tokens: tokens, index: index, similarity: similarity)
    }

    static let findings: SubspaceFindings = {
        let hostile = SiteFixtures.hostile
        let query = SubspaceQuery(
            query: token([" When", " Mary", hostile[0], " John"], index: 2, similarity: 1, document: 4),
            inside: 12, compared: 999,
            neighbours: [
                token([" Then", hostile[1], " gave"], index: 1, similarity: 0.97, document: 8),
                token([" and", " Mary"], index: 1, similarity: 0.86, document: 9),
            ],
            shared: [SharedStatement(statement: "the matched token is “ Mary” <i>x</i>", support: "11 of 12 above the threshold; 3 of 200 below")])
        let empty = SubspaceQuery(
            query: token([" the", " cat"], index: 1, similarity: 1, document: 1), inside: 0, compared: 999, neighbours: [], shared: [])
        let effects = [0.82, 0.05, -0.1]
        return SubspaceFindings(similarity: 0.85, sites: [
            SubspaceSiteFindings(
                slug: slug, hook: "blocks.0.hook_resid_post", width: 16, path: "subspaces/resid0",
                training: SubspaceTrainingSummary(
                    samples: 1000, blockSize: 4, threshold: 0.04, steps: 600, converged: true,
                    lossCurve: [LossPoint(step: 300, loss: 0.5), LossPoint(step: 600, loss: 0.4)],
                    rounds: [
                        SubspaceMergeRound(step: 300, sizesBefore: [4, 4, 4, 4], sizesAfter: [8, 4, 4], largestNormalised: 0.2, merged: [0.2]),
                        SubspaceMergeRound(step: 600, sizesBefore: [8, 4, 4], sizesAfter: [8, 4, 4], largestNormalised: 0.01, merged: []),
                    ]),
                subspaces: [
                    SubspaceBlock(number: 1, size: 8, variance: 0.5, effects: [effects[0]], queries: [query]),
                    SubspaceBlock(number: 2, size: 4, variance: 0.3, effects: [effects[1]], queries: [empty]),
                    SubspaceBlock(number: 3, size: 4, variance: 0.2, effects: [effects[2]], queries: []),
                ],
                tasks: [SubspaceTaskFindings(task: "ioi", pairs: 24, cleanMetric: 3.25, corruptedMetric: -1.5, bases: [
                    SubspaceBasisEffects(basis: "ndm", effects: effects, gini: 0.6),
                    SubspaceBasisEffects(basis: "identity", effects: [0.3, 0.3, 0.3], gini: 0),
                    SubspaceBasisEffects(basis: "random", effects: [0.4, 0.2, 0.3], gini: 0.15),
                    SubspaceBasisEffects(basis: "pca", effects: [0.6, 0.2, 0.1], gini: 0.4),
                ])]),
        ])
    }()
}
