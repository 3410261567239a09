import Foundation
import LoupeChatStub
import LoupeCore
import LoupeFindings
import LoupeReport
import Testing

/// A chat endpoint that fails some requests and answers the rest as `KeywordModel`.
///
/// `flaky`: the first attempt at one prompt in three (by the prompt's hash) fails, alternately with
/// HTTP 500 and a body that is not a chat completion; every retry succeeds. `broken`: explanation
/// prompts whose hash is divisible by 25 always get HTTP 503, and judge prompts whose hash is divisible
/// by 40 always get a malformed body.
final class FailingChatModel: @unchecked Sendable {
    enum Pattern { case flaky, broken }

    private let pattern: Pattern
    private let lock = NSLock()
    private var seen = Set<String>()
    private var failures = 0

    init(_ pattern: Pattern) {
        self.pattern = pattern
    }

    func reply(_ request: ChatStubServer.Request) -> ChatStubServer.Reply {
        let key = SHA256.hex(request.userMessage)
        let hash = Int(key.prefix(12), radix: 16) ?? 0
        lock.lock()
        let firstAttempt = seen.insert(key).inserted
        lock.unlock()
        let malformed = ChatStubServer.Reply(status: 200, body: #"{"choices": [ {"message": "#)
        switch pattern {
        case .flaky where firstAttempt && hash % 3 == 0:
            lock.lock()
            failures += 1
            let odd = failures % 2 == 1
            lock.unlock()
            return odd ? .init(status: 500, body: #"{"error":"overloaded"}"#) : malformed
        case .broken where request.userMessage.hasPrefix("Strongest excerpts:") && hash % 25 == 0:
            return .init(status: 503, body: #"{"error":"unavailable"}"#)
        case .broken where request.userMessage.hasPrefix("Explanation:") && hash % 40 == 0:
            return malformed
        default:
            return .chat(KeywordModel.answer(request.userMessage), for: request)
        }
    }
}

/// The demo build (on a smaller toy-world corpus) with its features explained by a language model
/// behind a stub endpoint on loopback.
@Suite("Report: language-model explanations", .serialized, .enabled(if: ChatStubServer.loopbackIsDirect))
struct LanguageModelReportTests {
    static func environment(_ server: ChatStubServer) -> [String: String] {
        ["LOUPE_LLM_BASE_URL": server.baseURL, "LOUPE_LLM_MODEL": "stub-model", "LOUPE_LLM_BACKOFF_SECONDS": "0.01"]
    }

    func build(_ report: URL, environment: [String: String]) throws -> ReportFindings {
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        let findings = try Report.build(spec: spec, force: true, environment: environment)
        try Report.render(findings: findings, title: spec.title, to: spec.siteDirectory)
        return findings
    }

    @Test func aFlakyEndpointIsRetriedAndACachedRebuildSendsNothing() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 400))
        defer { ReportFixtures.remove(report) }
        let model = FailingChatModel(.flaky)
        let server = try ChatStubServer(lifetime: 600, handler: { model.reply($0) })
        defer { server.stop() }
        let findings = try build(report, environment: Self.environment(server))
        let accounting = try #require(findings.dictionaries.first?.languageModel)
        let sent = server.requests.count
        #expect(accounting.asked > 100)
        #expect(Double(accounting.explained) >= 0.95 * Double(accounting.asked), "\(accounting)")
        #expect(accounting.requests == sent && accounting.retries > 0)
        #expect(Double(sent) / Double(accounting.explained) <= 8, "\(sent) requests for \(accounting.explained) explanations")
        #expect(accounting.promptTokens > 0 && accounting.completionTokens > 0)
        let explanations = findings.dictionaries[0].features.compactMap(\.explanation)
        #expect(explanations.filter { $0.source == "stub-model" }.count == accounting.explained)

        let site = report.appendingPathComponent("site")
        let summary = try String(contentsOf: site.appendingPathComponent("summary.md"), encoding: .utf8)
        let sentence = LanguageModelText.sentence(accounting)
        #expect(summary.contains("Language model: "))
        #expect(summary.contains("\(accounting.explained) of \(accounting.asked) explanations from stub\\-model"), "\(summary)")
        let index = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(index.contains("\(accounting.explained) of \(accounting.asked) explanations from stub-model"))
        #expect(sentence.contains("\(accounting.retries) retries"))

        // A second build asks the cache, not the endpoint, and writes the same site.
        let first = try ReportFixtures.files(site)
        let again = try build(report, environment: Self.environment(server))
        #expect(server.requests.count == sent, "the rebuild sent \(server.requests.count - sent) requests")
        #expect(again.dictionaries.first?.languageModel == accounting)
        #expect(try ReportFixtures.files(site) == first)
    }

    @Test func fallbacksAreCountedByReasonAndFailTheBuildAboveTheLimit() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 200) + "\nllm: {max_fallback: 0.01}\n")
        defer { ReportFixtures.remove(report) }
        let model = FailingChatModel(.broken)
        let server = try ChatStubServer(lifetime: 600, handler: { model.reply($0) })
        defer { server.stop() }
        var environment = Self.environment(server)
        environment["LOUPE_LLM_MAX_ATTEMPTS"] = "2"
        let (status, stderr) = try ReportLibraryTests().runLoupe(["build", report.appendingPathComponent("report.yaml").path, "--quiet"], environment: environment)
        #expect(status == 3, "\(stderr)")
        #expect(stderr.contains("more than llm.max_fallback (1 %); the site was written"), "\(stderr)")

        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        let cached = try #require(try FileManager.default.contentsOfDirectory(atPath: spec.findingsDirectory.path).first { $0.hasPrefix("findings-") })
        let findings = try JSONDecoder().decode(ReportFindings.self, from: Data(contentsOf: spec.findingsDirectory.appendingPathComponent(cached)))
        let accounting = try #require(findings.dictionaries.first?.languageModel)
        #expect(accounting.fellBack > 0 && accounting.explained + accounting.fellBack == accounting.asked)
        #expect(Set(accounting.fallbackReasons.map(\.reason)).isSubset(of: ["HTTP 503", "malformed response"]))
        #expect(accounting.fallbackReasons.map(\.count).reduce(0, +) == accounting.fellBack)
        let fallen = findings.dictionaries[0].features.compactMap(\.explanation).filter { $0.fallback != nil }
        #expect(fallen.count == accounting.fellBack && fallen.allSatisfy { $0.source == "offline" })
        #expect(stderr.contains(LanguageModelText.sentence(accounting)))

        let site = report.appendingPathComponent("site")
        let summary = try String(contentsOf: site.appendingPathComponent("summary.md"), encoding: .utf8)
        let index = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        let reasons = accounting.fallbackReasons.map { "\($0.reason) × \($0.count)" }
        for reason in reasons {
            #expect(index.contains(reason), "index lacks \(reason)")
        }
        #expect(summary.contains("\(accounting.fellBack) fell back to the offline explanation"))
        #expect(LanguageModelText.shortfalls(findings, maxFallback: 1).isEmpty)
        #expect(LanguageModelText.shortfalls(findings, maxFallback: 0.01).count == 1)
    }

    @Test func aThrottlingEndpointIsWaitedOut() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 40))
        defer { ReportFixtures.remove(report) }
        let throttled = ThrottledChat(first: 4)
        let server = try ChatStubServer(lifetime: 600, handler: { throttled.reply($0) })
        defer { server.stop() }
        let started = Date()
        let findings = try build(report, environment: Self.environment(server))
        let accounting = try #require(findings.dictionaries.first?.languageModel)
        #expect(accounting.fellBack == 0 && accounting.explained == accounting.asked && accounting.asked > 0, "\(accounting)")
        #expect(accounting.retries >= 4)
        #expect(Date().timeIntervalSince(started) >= 1, "Retry-After: 1 was not waited for")
    }
}
