import Foundation
import LoupeChatStub
import LoupeCore
import Testing
@testable import LoupeAnalysis

/// The stub's language model: `KeywordModel`, with the tokens the server counted.
enum KeywordReply {
    static func reply(_ request: ChatStubServer.Request) -> ChatStubServer.Reply {
        .chat(KeywordModel.answer(request.userMessage), for: request)
    }
}

@Suite("Explanations: language-model client, explainer and judge", .enabled(if: ChatStubServer.loopbackIsDirect))
struct ExplanationLLMTests {
    static func display(_ id: Int) -> String { "tok\(id)" }

    /// The feature fires on token 7 in random documents.
    static func sets() -> FeatureExampleSets {
        var rng = SeededRandom(seed: 33)
        let docs = ExplanationFixtures.randomDocuments(count: 40, length: 48, vocabulary: 2..<40, rng: &rng)
        return ExplanationFixtures.sets(documents: docs, windowLength: 12, rng: &rng) { tokens, p in
            tokens[p] == 7 ? ExplanationFixtures.strength(tokens, p) : 0
        }
    }

    func client(_ server: ChatStubServer, timeout: Double = 5) throws -> OpenAIChatClient {
        OpenAIChatClient(configuration: try LLMConfiguration(
            baseURL: server.baseURL, apiKey: "test-key", model: "stub-model", timeout: timeout))
    }

    /// A session that does not sleep between attempts, recording the waits it was asked for.
    func session(
        _ server: ChatStubServer, attempts: Int = 3, timeout: Double = 5, cache: LLMResponseCache? = nil, waits: WaitLog = WaitLog()
    ) throws -> LLMSession {
        LLMSession(client: try client(server, timeout: timeout), policy: LLMRetryPolicy(maxAttempts: attempts), cache: cache,
                   wait: { waits.record($0) })
    }

    final class WaitLog: @unchecked Sendable {
        private let lock = NSLock()
        private var seconds: [Double] = []
        func record(_ value: Double) {
            lock.lock()
            seconds.append(value)
            lock.unlock()
        }
        var all: [Double] {
            lock.lock()
            defer { lock.unlock() }
            return seconds
        }
    }

    @Test func clientSendsAChatCompletionRequest() throws {
        let server = try ChatStubServer(maxRequests: 1) { .chat("Fires on “tok7”.", for: $0) }
        let reply = try client(server).send(LLMRequest(system: "system text", user: "user text", maxTokens: 12))
        #expect(reply.content == "Fires on “tok7”.")
        #expect(reply.promptTokens == 5 && reply.completionTokens == 5)
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.path == "/v1/chat/completions")
        #expect(request.headers["authorization"] == "Bearer test-key")
        #expect(request.headers["content-type"] == "application/json")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
        #expect(body["model"] as? String == "stub-model")
        #expect(body["max_tokens"] as? Int == 12)
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "system text"], ["role": "user", "content": "user text"]])
    }

    @Test func languageModelExplainsAndJudgesInBatches() throws {
        let server = try ChatStubServer { KeywordReply.reply($0) }
        let sets = Self.sets()
        var rng = SeededRandom(seed: 8)
        var seen: [(FeatureExplainer.Stage, [ScoredWindow])] = []
        let llm = try session(server)
        let result = FeatureExplainer.explain(
            sets: sets, display: Self.display, session: llm, settings: ExplainerSettings(), rng: &rng
        ) { stage, windows in seen.append((stage, windows)) }
        #expect(result.warnings.isEmpty)
        let explanation = try #require(result.explanation)
        #expect(explanation.text == "Fires on “tok7”.")
        #expect(explanation.source == "stub-model" && explanation.fallback == nil)
        #expect(explanation.detection == 1 && explanation.fuzzing == 1, "\(explanation)")
        #expect(explanation.simulation > 0.8, "\(explanation)")

        // The offline draws are the same as without a model.
        var offlineRNG = SeededRandom(seed: 8)
        let offline = try #require(FeatureExplainer.explain(sets: sets, display: Self.display, rng: &offlineRNG).explanation)
        #expect(offline.source == "offline")
        #expect(rng.next() == offlineRNG.next())

        // One request for the sentence, two for detection (20 windows, 10 per request), one for
        // fuzzing and one for simulation; the explainer saw only explanation windows, the judges only held-out ones.
        let requests = server.requests
        #expect(requests.count == 5)
        #expect(result.cost.requests == 5 && result.cost.retries == 0)
        #expect(result.cost.promptTokens == requests.map { ($0.systemMessage.utf8.count + $0.userMessage.utf8.count + 3) / 4 }.reduce(0, +))
        #expect(requests.first?.userMessage.hasPrefix("Strongest excerpts:") == true)
        #expect(seen.filter { $0.0 == .explainer }.allSatisfy { $0.1 == sets.explanation })
        let judged = seen.filter { $0.0 == .scorer }.flatMap(\.1)
        #expect(!judged.isEmpty && judged.allSatisfy { DocumentSplit.isHeldOut(document: $0.document) })
        let shown = Set(sets.explanation.map { $0.tokens.map(Self.display).joined(separator: " ") })
        for request in requests.dropFirst() {
            #expect(request.userMessage.hasPrefix("Explanation: Fires on “tok7”."))
            #expect(!shown.contains { request.userMessage.contains($0) }, "a judge was shown an explanation window")
        }
        let detection = requests[1].userMessage.components(separatedBy: "\n").drop { $0 != "Texts:" }.dropFirst()
        #expect(detection.count == 10 && detection.first?.hasPrefix("1. ") == true && detection.last?.hasPrefix("10. ") == true)
    }

    @Test func answersAreCachedAndReused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-llm-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = LLMResponseCache(directory: folder)
        let server = try ChatStubServer { KeywordReply.reply($0) }
        var rng = SeededRandom(seed: 8)
        let first = FeatureExplainer.explain(sets: Self.sets(), display: Self.display, session: try session(server, cache: cache), rng: &rng)
        #expect(server.requests.count == 5)
        rng = SeededRandom(seed: 8)
        let again = try session(server, cache: cache)
        let second = FeatureExplainer.explain(sets: Self.sets(), display: Self.display, session: again, rng: &rng)
        #expect(server.requests.count == 5, "the cache answered nothing")
        #expect(second.explanation == first.explanation && second.cost == first.cost)
        #expect(again.counts == LLMSession.Counters(sent: 0, retries: 0, fromCache: 5))
        rng = SeededRandom(seed: 8)
        let refreshed = LLMSession(client: try client(server), cache: cache, refresh: true)
        _ = FeatureExplainer.explain(sets: Self.sets(), display: Self.display, session: refreshed, rng: &rng)
        #expect(server.requests.count == 10 && refreshed.counts.sent == 5)
    }

    /// Explains with a server answering `reply` and expects the offline explanation with `reason`
    /// after `requests` requests.
    func expectFallback(
        _ reply: @escaping @Sendable (ChatStubServer.Request) -> ChatStubServer.Reply, attempts: Int = 3, timeout: Double = 5,
        reason: String, warningContains: String, requests: Int
    ) throws {
        let server = try ChatStubServer(handler: reply)
        let sets = Self.sets()
        var rng = SeededRandom(seed: 8)
        let result = FeatureExplainer.explain(
            sets: sets, display: Self.display, session: try session(server, attempts: attempts, timeout: timeout), rng: &rng)
        var offlineRNG = SeededRandom(seed: 8)
        var offline = try #require(FeatureExplainer.explain(sets: sets, display: Self.display, rng: &offlineRNG).explanation)
        offline.fallback = reason
        #expect(result.explanation == offline)
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains(warningContains) == true, "\(result.warnings)")
        #expect(result.warnings.first?.hasSuffix("using the offline explanation") == true)
        #expect(server.requests.count == requests)
        #expect(result.cost.requests == requests)
    }

    @Test func serverErrorsAreRetriedThenFallBack() throws {
        try expectFallback({ _ in .init(status: 500, body: #"{"error":"boom"}"#) }, reason: "HTTP 500", warningContains: "HTTP 500", requests: 3)
        try expectFallback({ _ in .init(status: 200, body: #"{"choices": [ {"message": "#) }, attempts: 2,
                           reason: "malformed response", warningContains: "malformed response", requests: 2)
    }

    @Test func clientErrorsAreNotRetried() throws {
        try expectFallback({ _ in .init(status: 400, body: #"{"error":"bad request"}"#) }, reason: "HTTP 400", warningContains: "HTTP 400", requests: 1)
    }

    @Test func timeoutFallsBackToOffline() throws {
        try expectFallback({ .chat("Fires on “tok7”.", for: $0, delay: 2.5) }, attempts: 1, timeout: 1,
                           reason: "timeout", warningContains: "no answer within 1", requests: 1)
    }

    @Test func refusalFallsBackToOffline() throws {
        try expectFallback({ _ in
            .init(status: 200, body: """
                {"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}
                """)
        }, reason: "refusal", warningContains: "refused", requests: 1)
        // A refusal in words is asked once more, like any answer not of the requested form.
        try expectFallback({ .chat("I'm sorry, I cannot describe this.", for: $0) }, reason: "refusal", warningContains: "refused", requests: 2)
    }

    @Test func unusableJudgeAnswerIsAskedOnceMore() throws {
        try expectFallback({ request in
            .chat(request.userMessage.hasPrefix("Strongest excerpts:") ? "Fires on “tok7”." : "Perhaps.", for: request)
        }, reason: "unusable answer", warningContains: "unusable answer \"Perhaps.\"", requests: 3)
    }

    @Test func unreachableServerFallsBackToOffline() throws {
        // A server that closes its port at once: the connection is refused.
        let server = try ChatStubServer(lifetime: 0) { .chat("", for: $0) }
        Thread.sleep(forTimeInterval: 0.1)
        var rng = SeededRandom(seed: 8)
        let waits = WaitLog()
        let result = FeatureExplainer.explain(sets: Self.sets(), display: Self.display, session: try session(server, waits: waits), rng: &rng)
        #expect(result.explanation?.source == "offline")
        #expect(result.explanation?.fallback == "transport error")
        #expect(waits.all.count == 2)
    }

    @Test func retryAfterIsWaitedOut() throws {
        let throttle = ThrottledChat(first: 2)
        let throttling = try ChatStubServer { throttle.reply($0) }
        let waits = WaitLog()
        var rng = SeededRandom(seed: 8)
        let result = FeatureExplainer.explain(
            sets: Self.sets(), display: Self.display, session: try session(throttling, attempts: 6, waits: waits), rng: &rng)
        #expect(result.explanation?.source == "stub-model")
        #expect(waits.all == [1, 1])
        #expect(throttling.requests.count == 7 && result.cost.retries == 2)
    }
}

@Suite("Explanations: language-model configuration and answers")
struct ExplanationLLMConfigurationTests {
    @Test func configurationComesFromTheEnvironment() throws {
        #expect(throws: LLMError.notConfigured) { try LLMConfiguration.fromEnvironment([:]) }
        #expect(throws: LLMError.invalidBaseURL("ftp://example")) {
            try LLMConfiguration.fromEnvironment(["LOUPE_LLM_BASE_URL": "ftp://example"])
        }
        let plain = try LLMConfiguration.fromEnvironment(["LOUPE_LLM_BASE_URL": "http://127.0.0.1:9/"])
        #expect(plain.model == "gpt-4o-mini" && plain.apiKey == nil)
        #expect(plain.endpoint.absoluteString == "http://127.0.0.1:9/v1/chat/completions")
        let full = try LLMConfiguration.fromEnvironment([
            "LOUPE_LLM_BASE_URL": "https://llm.invalid/v1", "LOUPE_LLM_API_KEY": "k", "LOUPE_LLM_MODEL": "m",
        ], timeout: 4)
        #expect(full.apiKey == "k" && full.model == "m" && full.timeout == 4)
        #expect(full.endpoint.absoluteString == "https://llm.invalid/v1/chat/completions")
    }

    @Test func sessionSettingsComeFromTheEnvironment() throws {
        #expect(try LLMSession.requested(by: [:], cache: nil, refresh: false) == nil)
        let base = ["LOUPE_LLM_BASE_URL": "http://127.0.0.1:9"]
        let plain = try #require(try LLMSession.requested(by: base, cache: nil, refresh: false))
        #expect(plain.concurrency == 8 && plain.policy == LLMRetryPolicy() && plain.model == "gpt-4o-mini")
        let tuned = try #require(try LLMSession.requested(
            by: base.merging(["LOUPE_LLM_CONCURRENCY": "3", "LOUPE_LLM_MAX_ATTEMPTS": "2", "LOUPE_LLM_BACKOFF_SECONDS": "0.25"]) { $1 },
            cache: nil, refresh: true))
        #expect(tuned.concurrency == 3 && tuned.policy.maxAttempts == 2 && tuned.policy.baseDelay == 0.25 && tuned.refresh)
        #expect(throws: LLMError.invalidSetting(name: "LOUPE_LLM_CONCURRENCY", value: "many")) {
            try LLMSession.requested(by: base.merging(["LOUPE_LLM_CONCURRENCY": "many"]) { $1 }, cache: nil, refresh: false)
        }
        #expect(throws: LLMError.invalidSetting(name: "LOUPE_LLM_MAX_ATTEMPTS", value: "0")) {
            try LLMSession.requested(by: base.merging(["LOUPE_LLM_MAX_ATTEMPTS": "0"]) { $1 }, cache: nil, refresh: false)
        }
    }

    @Test func retriesBackOffExponentiallyAndHonourRetryAfter() {
        let policy = LLMRetryPolicy(maxAttempts: 6, baseDelay: 1, maxDelay: 5)
        let error = LLMError.http(status: 503, body: "")
        #expect(policy.delay(beforeRetry: 1, after: error, jitter: 1) == 1)
        #expect(policy.delay(beforeRetry: 3, after: error, jitter: 0.5) == 2)
        #expect(policy.delay(beforeRetry: 9, after: error, jitter: 1) == 5)
        #expect(policy.delay(beforeRetry: 1, after: .http(status: 429, body: "", retryAfter: 7), jitter: 1.4) == 7)
        #expect(OpenAIChatClient.seconds(retryAfter: "2") == 2)
        let now = Date(timeIntervalSince1970: 1_000_000_000)
        #expect(OpenAIChatClient.seconds(retryAfter: "Sun, 09 Sep 2001 01:46:50 GMT", now: now) == 10)
        #expect(OpenAIChatClient.seconds(retryAfter: "soon") == nil)
        #expect(LLMError.http(status: 429, body: "").isTransient && LLMError.http(status: 502, body: "").isTransient)
        #expect(!LLMError.http(status: 404, body: "").isTransient && !LLMError.refusal("no").isTransient)
        #expect(LLMError.timeout(seconds: 1).isTransient && LLMError.malformedResponse("x").isTransient)
    }

    @Test func answersAreParsed() throws {
        #expect(try LLMScorer.yesOrNo("Yes.") == true)
        #expect(try LLMScorer.yesOrNo(" **no**") == false)
        #expect(throws: LLMError.self) { try LLMScorer.yesOrNo("maybe") }
        #expect(try LLMScorer.numberedAnswers("Sure:\n2: no\n1. yes\n**3)** yes", numbers: 1..<4) == ["yes", "no", "yes"])
        #expect(throws: LLMError.self) { try LLMScorer.numberedAnswers("1: yes\n3: no", numbers: 1..<4) }
        #expect(throws: LLMError.self) { try LLMScorer.numberedAnswers("1: yes\n1: no", numbers: 1..<2) }
        #expect(try LLMScorer.levels("0 3 10 12", count: 4) == [0, 3, 10, 10])
        #expect(throws: LLMError.self) { try LLMScorer.levels("0 3", count: 3) }
        #expect(throws: LLMError.self) { try LLMScorer.levels("0 x 3", count: 3) }
        #expect(try LLMExplainer.sentence(from: "\n  \"Fires on “␣the”.\"\nMore text") == "Fires on “␣the”.")
        #expect(throws: LLMError.self) { try LLMExplainer.sentence(from: "  \n ") }
        #expect(throws: LLMError.refusal("I cannot help.")) { try LLMExplainer.sentence(from: "I cannot help.") }
        #expect(throws: LLMError.self) { try OpenAIChatClient.answer(from: Data("[]".utf8)) }
        #expect(throws: LLMError.malformedResponse("no choices")) {
            try OpenAIChatClient.answer(from: Data(#"{"choices":[]}"#.utf8))
        }
        #expect(try OpenAIChatClient.answer(from: Data(#"{"choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":7,"completion_tokens":2}}"#.utf8))
            == LLMReply(content: "ok", promptTokens: 7, completionTokens: 2))
    }

    @Test func cacheKeysNameTheWholeRequest() {
        let request = LLMRequest(system: "s", user: "u", maxTokens: 5)
        let key = LLMResponseCache.key(endpoint: "http://a/v1/chat/completions", model: "m", request: request)
        #expect(key.count == 64)
        #expect(key == LLMResponseCache.key(endpoint: "http://a/v1/chat/completions", model: "m", request: request))
        #expect(key != LLMResponseCache.key(endpoint: "http://b/v1/chat/completions", model: "m", request: request))
        #expect(key != LLMResponseCache.key(endpoint: "http://a/v1/chat/completions", model: "n", request: request))
        #expect(key != LLMResponseCache.key(endpoint: "http://a/v1/chat/completions", model: "m", request: LLMRequest(system: "s", user: "u", maxTokens: 6)))
        #expect(key != LLMResponseCache.key(endpoint: "http://a/v1/chat/completions", model: "m", request: LLMRequest(system: "s", user: "v", maxTokens: 5)))
    }

    @Test func explainerPromptShowsTopAndSpreadWindowsWithActivations() {
        let windows = [
            ScoredWindow(document: 0, start: 0, tokens: [1, 2, 3], activations: [0, 0.5, 0]),
            ScoredWindow(document: 2, start: 4, tokens: [4, 2], activations: [0, 2]),
            ScoredWindow(document: 3, start: 0, tokens: [5, 6], activations: [1, 0]),
            ScoredWindow(document: 4, start: 0, tokens: [7], activations: [0.2]),
        ]
        var settings = ExplainerSettings()
        settings.llmTopWindows = 1
        settings.llmIntervalWindows = 2
        let prompt = LLMExplainer.prompt(explanationWindows: windows, display: { "t\($0)" }, settings: settings)
        #expect(prompt == """
            Strongest excerpts:
            1. t4 <<t2>>
               activations: “t2” 10
            Excerpts across weaker activations:
            2. <<t5>> t6
               activations: “t5” 5
            3. <<t7>>
               activations: “t7” 1
            Tokens with the most activation: “t2”, “t5”, “t7”
            One sentence: what does the feature fire on?
            """)
    }
}
