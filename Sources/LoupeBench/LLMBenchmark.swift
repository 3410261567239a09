import Foundation
import LoupeAnalysis
import LoupeChatStub
import LoupeCore
import LoupeFindings

/// Language-model explanations of `features` features against a stub endpoint on loopback that answers
/// every request after `latency` seconds (as `KeywordModel`), with the session's defaults (8 requests in
/// flight, no cache): requests, tokens (the stub counts a token per four bytes) and wall time.
///
/// Each feature's examples have the atlas's default shape: 20 strongest and 10 interval-sampled
/// explanation windows, 10 strongest and 10 interval-sampled held-out activating windows and 20
/// non-activating ones, 16 tokens each, over a vocabulary of 5,000 word-like tokens.
struct LLMBenchmark {
    var features = 100
    var latency = 0.3

    struct Result {
        var features, explained, requests, promptTokens, completionTokens: Int
        var seconds: Double
    }

    func run() throws -> Result {
        let server = try ChatStubServer(lifetime: 3_600) { request in
            .chat(KeywordModel.answer(request.userMessage), for: request, delay: latency)
        }
        defer { server.stop() }
        let session = LLMSession(client: OpenAIChatClient(configuration: try LLMConfiguration(
            baseURL: server.baseURL, apiKey: nil, model: "stub-model")))
        let sets = (0..<features).map { Self.exampleSets(feature: $0) }
        let display: @Sendable (Int) -> String = { "w\($0)" }
        var explained = 0
        var cost = LLMCost()
        let elapsed = seconds {
            let results = sets.indices.concurrentMap(workers: session.concurrency) { index in
                var rng = SeededRandom(seed: UInt64(index))
                return FeatureExplainer.explain(sets: sets[index], display: display, session: session, rng: &rng)
            }
            for result in results {
                cost += result.cost
                if result.explanation?.source == "stub-model" { explained += 1 }
            }
        }
        return Result(features: features, explained: explained, requests: cost.requests, promptTokens: cost.promptTokens,
                      completionTokens: cost.completionTokens, seconds: elapsed)
    }

    /// Windows of one feature that fires, with a random strength, on its own token and on a few others.
    static func exampleSets(feature: Int) -> FeatureExampleSets {
        var rng = SeededRandom(seed: 1_000 + UInt64(feature))
        let keyword = 5 + feature
        func window(document: Int, firing: Bool) -> ScoredWindow {
            var tokens = (0..<16).map { _ in 10 + rng.nextInt(below: 5_000) }
            var activations = [Float](repeating: 0, count: 16)
            if firing {
                let focus = 11
                tokens[focus] = rng.nextInt(below: 4) == 0 ? 10 + rng.nextInt(below: 5_000) : keyword
                activations[focus] = 1 + 9 * rng.nextUniform()
                activations[focus - 3] = rng.nextInt(below: 3) == 0 ? rng.nextUniform() : 0
            }
            return ScoredWindow(document: document, start: 0, tokens: tokens, activations: activations)
        }
        // Even documents are shown to the explainer, odd ones held out.
        return FeatureExampleSets(
            explanation: (0..<30).map { window(document: 2 * $0, firing: true) },
            heldOutActivating: (0..<20).map { window(document: 2 * $0 + 1, firing: true) },
            heldOutNonActivating: (20..<40).map { window(document: 2 * $0 + 1, firing: false) })
    }
}
