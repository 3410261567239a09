import Foundation
import LoupeCore
import Testing
@testable import LoupeAnalysis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) answering each request with `handler`'s reply,
/// one connection at a time, `Connection: close`. It stops by itself after `lifetime` seconds or
/// `maxRequests` requests.
final class StubLLMServer: @unchecked Sendable {
    /// One received request.
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: String

        /// The user message of a chat-completion request body.
        var userMessage: String {
            guard let data = body.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let messages = object["messages"] as? [[String: Any]],
                  let user = messages.last?["content"] as? String
            else { return "" }
            return user
        }
    }

    /// The canned answer: status, body and how long to wait before sending it.
    struct Reply: Sendable {
        var status: Int
        var body: String
        var delay: Double = 0

        /// A 200 chat completion whose message is `content`.
        static func chat(_ content: String) -> Reply {
            let escaped = String(decoding: (try? JSONEncoder().encode(content)) ?? Data("\"\"".utf8), as: UTF8.self)
            return Reply(status: 200, body: """
                {"id":"stub","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":\(escaped)},"finish_reason":"stop"}]}
                """)
        }
    }

    enum Failure: Error { case socket(String) }

    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var received: [Request] = []

    init(lifetime: Double = 10, maxRequests: Int = 1_000, handler: @escaping @Sendable (Request) -> Reply) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure.socket("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw Failure.socket("bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw Failure.socket("getsockname")
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let deadline = Date().addingTimeInterval(lifetime)
        Thread.detachNewThread { [self] in
            run(until: deadline, maxRequests: maxRequests, handler: handler)
        }
    }

    /// The base URL clients should use.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Requests received so far.
    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    private func run(until deadline: Date, maxRequests: Int, handler: (Request) -> Reply) {
        var served = 0
        while Date() < deadline && served < maxRequests {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            serve(client, handler: handler)
            close(client)
            served += 1
        }
        close(listener)
    }

    private func serve(_ client: Int32, handler: (Request) -> Reply) {
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        func readMore() -> Bool {
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return false }
            bytes += buffer[0..<count]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            guard bytes.count < 1 << 20, readMore() else { return }
            headerEnd = bytes.indices.dropLast(3).first { Array(bytes[$0..<($0 + 4)]) == separator }
        }
        guard let headerEnd else { return }
        let head = String(decoding: bytes[0..<headerEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = (head.first ?? "").split(separator: " ").map(String.init)
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["expect"]?.lowercased() == "100-continue" {
            write(client, "HTTP/1.1 100 Continue\r\n\r\n")
        }
        let bodyLength = Int(headers["content-length"] ?? "") ?? 0
        while bytes.count - headerEnd - 4 < bodyLength {
            guard readMore() else { return }
        }
        let body = String(decoding: bytes[(headerEnd + 4)...], as: UTF8.self)
        let request = Request(method: requestLine.first ?? "", path: requestLine.count > 1 ? requestLine[1] : "",
                              headers: headers, body: body)
        lock.lock()
        received.append(request)
        lock.unlock()
        let reply = handler(request)
        if reply.delay > 0 { Thread.sleep(forTimeInterval: reply.delay) }
        let payload = Array(reply.body.utf8)
        write(client, "HTTP/1.1 \(reply.status) \(reply.status == 200 ? "OK" : "Error")\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
            + reply.body)
    }

    private func write(_ client: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            #if canImport(Glibc)
            let flags = Int32(MSG_NOSIGNAL)
            #else
            let flags: Int32 = 0
            #endif
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, flags) }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// Whether a request to 127.0.0.1 goes straight to it: no HTTP proxy is configured, or loopback is
    /// exempt from it. (libcurl, under URLSession on Linux, honours the proxy environment variables.)
    static let loopbackIsDirect: Bool = {
        let environment = ProcessInfo.processInfo.environment
        let proxies = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"].compactMap { environment[$0] }
            .filter { !$0.isEmpty }
        guard !proxies.isEmpty else { return true }
        let exempt = (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return exempt.contains("*") || exempt.contains("127.0.0.1")
    }()
}

@Suite("Explanations: language-model client, explainer and judge", .enabled(if: StubLLMServer.loopbackIsDirect))
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

    /// A model that explains "fires on tok7" and judges by looking for tok7.
    static func sensibleModel(_ request: StubLLMServer.Request) -> StubLLMServer.Reply {
        let user = request.userMessage
        if user.hasPrefix("Excerpts:") { return .chat("Fires on the token “tok7”.\nIt marks one token.") }
        let text = user.components(separatedBy: "\n").first { $0.hasPrefix("Text: ") } ?? ""
        let words = text.dropFirst("Text: ".count).split(separator: " ")
        if user.contains("Is the token marked") { return .chat(words.contains("<<tok7>>") ? "Yes." : "No") }
        return .chat(words.contains("tok7") ? "yes" : "no")
    }

    func client(_ server: StubLLMServer, timeout: Double = 5) throws -> OpenAIChatClient {
        OpenAIChatClient(configuration: try LLMConfiguration(
            baseURL: server.baseURL, apiKey: "test-key", model: "stub-model", timeout: timeout))
    }

    @Test func clientSendsAChatCompletionRequest() throws {
        let server = try StubLLMServer(maxRequests: 1) { _ in .chat("Fires on “tok7”.") }
        let answer = try client(server).complete(system: "system text", user: "user text", maxTokens: 12)
        #expect(answer == "Fires on “tok7”.")
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

    @Test func languageModelExplainsAndJudges() throws {
        let server = try StubLLMServer { Self.sensibleModel($0) }
        let sets = Self.sets()
        var rng = SeededRandom(seed: 8)
        var seen: [(FeatureExplainer.Stage, [ScoredWindow])] = []
        let result = FeatureExplainer.explain(
            sets: sets, display: Self.display, llm: try client(server), settings: ExplainerSettings(), rng: &rng
        ) { stage, windows in seen.append((stage, windows)) }
        #expect(result.warnings.isEmpty)
        let explanation = try #require(result.explanation)
        #expect(explanation.text == "Fires on the token “tok7”.")
        #expect(explanation.source == "stub-model")
        #expect(explanation.detection > 0.95 && explanation.fuzzing > 0.95, "\(explanation)")
        #expect(explanation.heldOutExamples == sets.heldOutActivating.count + sets.heldOutNonActivating.count)

        // Simulation is the offline rule's, and the fuzzing items are the same draws as offline.
        var offlineRNG = SeededRandom(seed: 8)
        let offline = try #require(FeatureExplainer.explain(sets: sets, display: Self.display, rng: &offlineRNG).explanation)
        #expect(explanation.simulation == offline.simulation)
        #expect(offline.text == "Fires on the token “tok7”." && offline.source == "offline")
        #expect(rng.next() == offlineRNG.next())

        // One request for the sentence, then one per held-out window and fuzzing item; the explainer
        // prompt holds only explanation windows.
        let requests = server.requests
        var itemRNG = SeededRandom(seed: 8)
        let items = ExplanationScorer.fuzzingItems(heldOut: HeldOutWindows(sets: sets), rng: &itemRNG)
        #expect(requests.count == 1 + sets.heldOutActivating.count + sets.heldOutNonActivating.count + items.count)
        #expect(requests.first?.userMessage.hasPrefix("Excerpts:") == true)
        #expect(seen.filter { $0.0 == .explainer }.allSatisfy { $0.1 == sets.explanation })
        #expect(seen.filter { $0.0 == .scorer }.flatMap(\.1).allSatisfy { DocumentSplit.isHeldOut(document: $0.document) })
        #expect(requests.allSatisfy { $0.path == "/v1/chat/completions" })
    }

    func expectOfflineFallback(_ reply: @escaping @Sendable (StubLLMServer.Request) -> StubLLMServer.Reply,
                               timeout: Double = 5, warningContains: String) throws {
        let server = try StubLLMServer(maxRequests: 1, handler: reply)
        let sets = Self.sets()
        var rng = SeededRandom(seed: 8)
        let started = Date()
        let result = FeatureExplainer.explain(sets: sets, display: Self.display, llm: try client(server, timeout: timeout), rng: &rng)
        let elapsed = Date().timeIntervalSince(started)
        var offlineRNG = SeededRandom(seed: 8)
        let offline = FeatureExplainer.explain(sets: sets, display: Self.display, rng: &offlineRNG)
        #expect(result.explanation == offline.explanation)
        #expect(result.explanation?.source == "offline")
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains(warningContains) == true, "\(result.warnings)")
        #expect(result.warnings.first?.hasSuffix("using the offline explanation") == true)
        #expect(elapsed < timeout + 3, "took \(elapsed) s")
        #expect(server.requests.count == 1)
    }

    @Test func http500FallsBackToOffline() throws {
        try expectOfflineFallback({ _ in StubLLMServer.Reply(status: 500, body: #"{"error":"boom"}"#) },
                                  warningContains: "HTTP 500")
    }

    @Test func malformedJSONFallsBackToOffline() throws {
        try expectOfflineFallback({ _ in StubLLMServer.Reply(status: 200, body: #"{"choices": [ {"message": "#) },
                                  warningContains: "malformed response")
    }

    @Test func timeoutFallsBackToOffline() throws {
        try expectOfflineFallback({ _ in
            var reply = StubLLMServer.Reply.chat("Fires on “tok7”.")
            reply.delay = 2.5
            return reply
        }, timeout: 1, warningContains: "no answer within 1")
    }

    @Test func refusalFallsBackToOffline() throws {
        try expectOfflineFallback({ _ in
            StubLLMServer.Reply(status: 200, body: """
                {"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}
                """)
        }, warningContains: "refused")
        try expectOfflineFallback({ _ in .chat("I'm sorry, I cannot describe this.") }, warningContains: "refused")
    }

    @Test func judgeFailureMidwayFallsBackToOffline() throws {
        let server = try StubLLMServer { request in
            request.userMessage.hasPrefix("Excerpts:") ? .chat("Fires on “tok7”.") : .chat("Perhaps.")
        }
        let sets = Self.sets()
        var rng = SeededRandom(seed: 8)
        let result = FeatureExplainer.explain(sets: sets, display: Self.display, llm: try client(server), rng: &rng)
        #expect(result.explanation?.source == "offline")
        #expect(result.warnings.first?.contains("unusable answer \"Perhaps.\"") == true, "\(result.warnings)")
        #expect(server.requests.count == 2)
    }

    @Test func unreachableServerFallsBackToOffline() throws {
        // A server that closes its port at once: the connection is refused or reset.
        let server = try StubLLMServer(lifetime: 0) { _ in .chat("") }
        let base = server.baseURL
        let client = OpenAIChatClient(configuration: try LLMConfiguration(baseURL: base, apiKey: nil, timeout: 2))
        var rng = SeededRandom(seed: 8)
        let result = FeatureExplainer.explain(sets: Self.sets(), display: Self.display, llm: client, rng: &rng)
        #expect(result.explanation?.source == "offline")
        #expect(result.warnings.count == 1)
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
        let missing = OpenAIChatClient.fromEnvironment([:])
        #expect(missing.client == nil)
        #expect(missing.warning == "language-model explanations unavailable (LOUPE_LLM_BASE_URL is not set); using offline explanations")
        #expect(OpenAIChatClient.fromEnvironment(["LOUPE_LLM_BASE_URL": "http://127.0.0.1:9"]).client?.model == "gpt-4o-mini")
    }

    @Test func answersAreParsed() throws {
        #expect(try LLMJudge.yesOrNo("Yes.") == true)
        #expect(try LLMJudge.yesOrNo(" **no**") == false)
        #expect(throws: LLMError.self) { try LLMJudge.yesOrNo("maybe") }
        #expect(throws: LLMError.self) { try LLMJudge.yesOrNo("") }
        #expect(try LLMExplainer.sentence(from: "\n  \"Fires on “␣the”.\"\nMore text") == "Fires on “␣the”.")
        #expect(throws: LLMError.self) { try LLMExplainer.sentence(from: "  \n ") }
        #expect(throws: LLMError.refusal("I cannot help.")) { try LLMExplainer.sentence(from: "I cannot help.") }
        #expect(throws: LLMError.self) { try OpenAIChatClient.answer(from: Data("[]".utf8)) }
        #expect(throws: LLMError.malformedResponse("no choices")) {
            try OpenAIChatClient.answer(from: Data(#"{"choices":[]}"#.utf8))
        }
        #expect(try OpenAIChatClient.answer(from: Data(#"{"choices":[{"message":{"content":"ok"}}]}"#.utf8)) == "ok")
    }

    @Test func explainerPromptMarksFiringTokens() {
        let windows = [
            ScoredWindow(document: 0, start: 0, tokens: [1, 2, 3], activations: [0, 0.5, 0]),
            ScoredWindow(document: 2, start: 4, tokens: [4, 2], activations: [0, 2]),
        ]
        let prompt = LLMExplainer.prompt(explanationWindows: windows, display: { "t\($0)" }, settings: ExplainerSettings())
        #expect(prompt == """
            Excerpts:
            1. t4 <<t2>>
            2. t1 <<t2>> t3
            Tokens with the most activation: “t2”
            One sentence: what does the feature fire on?
            """)
    }
}
