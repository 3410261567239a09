import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LoupeFindings

/// One chat request: a system and a user message, answered at temperature 0.
public struct LLMRequest: Codable, Sendable, Hashable {
    public var system, user: String
    /// Most tokens the answer may have.
    public var maxTokens: Int

    public init(system: String, user: String, maxTokens: Int) {
        (self.system, self.user, self.maxTokens) = (system, user, maxTokens)
    }
}

/// The assistant's answer to one request and the tokens the server counted for it (`usage`; 0 when
/// the server does not say).
public struct LLMReply: Codable, Sendable, Equatable {
    public var content: String
    public var promptTokens, completionTokens: Int

    public init(content: String, promptTokens: Int = 0, completionTokens: Int = 0) {
        (self.content, self.promptTokens, self.completionTokens) = (content, promptTokens, completionTokens)
    }
}

/// A chat model behind one endpoint. `send` makes exactly one attempt; retries, the response cache
/// and the bound on requests in flight are `LLMSession`'s.
public protocol LLMClient: Sendable {
    /// The model's name, recorded as an explanation's `source`.
    var model: String { get }
    /// Where requests go, as part of every response-cache key.
    var endpoint: String { get }
    /// The assistant's reply, or `LLMError` for any failure (transport, HTTP status, timeout, a body
    /// that is not a chat completion, a refusal).
    func send(_ request: LLMRequest) throws -> LLMReply
}

/// Why a language-model request gave no usable answer.
public enum LLMError: Error, Equatable, CustomStringConvertible {
    /// `LOUPE_LLM_BASE_URL` is not set.
    case notConfigured
    /// The base URL is not an http(s) URL.
    case invalidBaseURL(String)
    /// An environment variable tuning requests has a value that is not a positive number.
    case invalidSetting(name: String, value: String)
    /// The request could not be sent or its connection failed.
    case transport(String)
    /// No answer within the timeout.
    case timeout(seconds: Double)
    /// The server answered with a non-2xx status; `retryAfter` is its `Retry-After` in seconds.
    case http(status: Int, body: String, retryAfter: Double? = nil)
    /// The body is not a chat completion with a message.
    case malformedResponse(String)
    /// The model declined to answer.
    case refusal(String)
    /// The answer is not of the requested form (one sentence, or yes/no).
    case unusableAnswer(String)

    /// What went wrong, in one line, with server and model text shortened.
    public var description: String {
        switch self {
        case .notConfigured: return "LOUPE_LLM_BASE_URL is not set"
        case .invalidBaseURL(let url): return "LOUPE_LLM_BASE_URL \(LLMText.excerpt(url)) is not an http(s) URL"
        case .invalidSetting(let name, let value): return "\(name) \(LLMText.excerpt(value)) is not a positive number"
        case .transport(let reason): return "request failed: \(reason)"
        case .timeout(let seconds): return "no answer within \(seconds) s"
        case .http(let status, let body, _): return "HTTP \(status): \(LLMText.excerpt(body))"
        case .malformedResponse(let reason): return "malformed response: \(reason)"
        case .refusal(let text): return "the model refused: \(LLMText.excerpt(text))"
        case .unusableAnswer(let text): return "unusable answer \(LLMText.excerpt(text))"
        }
    }
}

extension LLMError {
    /// Whether another attempt may succeed: transport errors, timeouts, 429, 5xx and bodies that are
    /// not chat completions. Other 4xx, refusals and unusable answers are not retried here.
    public var isTransient: Bool {
        switch self {
        case .transport, .timeout, .malformedResponse: return true
        case .http(let status, _, _): return status == 429 || status == 408 || (500..<600).contains(status)
        case .notConfigured, .invalidBaseURL, .invalidSetting, .refusal, .unusableAnswer: return false
        }
    }

    /// The seconds the server asked to wait (`Retry-After`), if it did.
    public var retryAfter: Double? {
        if case .http(_, _, let seconds) = self { return seconds }
        return nil
    }

    /// The kind of failure, for counting fallbacks by reason: `HTTP 500`, `timeout`, `transport error`,
    /// `malformed response`, `refusal`, `unusable answer`, `not configured`.
    public var category: String {
        switch self {
        case .notConfigured, .invalidBaseURL, .invalidSetting: return "not configured"
        case .transport: return "transport error"
        case .timeout: return "timeout"
        case .http(let status, _, _): return "HTTP \(status)"
        case .malformedResponse: return "malformed response"
        case .refusal: return "refusal"
        case .unusableAnswer: return "unusable answer"
        }
    }
}

/// Where and how to reach an OpenAI-compatible chat endpoint.
public struct LLMConfiguration: Sendable, Equatable {
    /// Default model when `LOUPE_LLM_MODEL` is not set.
    public static let defaultModel = "gpt-4o-mini"
    /// Default request timeout in seconds.
    public static let defaultTimeout: Double = 30

    /// Server base URL; requests go to `{base}/v1/chat/completions` (or `{base}/chat/completions` when
    /// the base already ends in `/v1`).
    public var baseURL: URL
    /// Bearer token; no `Authorization` header when nil (e.g. a local server).
    public var apiKey: String?
    /// Model name sent with each request.
    public var model: String
    /// Seconds before a request is abandoned.
    public var timeout: Double

    /// A configuration from its parts; `LLMError.invalidBaseURL` unless `baseURL` is an http(s) URL with a host.
    public init(baseURL: String, apiKey: String?, model: String = defaultModel, timeout: Double = defaultTimeout) throws {
        let trimmed = baseURL.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw LLMError.invalidBaseURL(baseURL) }
        self.baseURL = url
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.model = model.isEmpty ? Self.defaultModel : model
        self.timeout = timeout > 0 && timeout.isFinite ? timeout : Self.defaultTimeout
    }

    /// The environment variable that names the endpoint; without it, explanations are offline.
    public static let baseURLVariable = "LOUPE_LLM_BASE_URL"

    /// The configuration from `LOUPE_LLM_BASE_URL`, `LOUPE_LLM_API_KEY` and `LOUPE_LLM_MODEL` (default
    /// `gpt-4o-mini`); `LLMError.notConfigured` without a base URL, `invalidBaseURL` for a bad one.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, timeout: Double = defaultTimeout
    ) throws -> LLMConfiguration {
        guard let base = environment[baseURLVariable], !base.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LLMError.notConfigured
        }
        return try LLMConfiguration(
            baseURL: base, apiKey: environment["LOUPE_LLM_API_KEY"],
            model: environment["LOUPE_LLM_MODEL"] ?? defaultModel, timeout: timeout)
    }

    /// The chat-completions endpoint.
    public var endpoint: URL {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let path = base.hasSuffix("/v1") ? "/chat/completions" : "/v1/chat/completions"
        return URL(string: base + path) ?? baseURL
    }
}

/// An OpenAI-compatible chat client (`POST /v1/chat/completions`) over `URLSession`, blocking the caller
/// until the answer arrives or the timeout passes. Temperature 0; the first choice's message is the answer.
public final class OpenAIChatClient: LLMClient, @unchecked Sendable {
    /// Where requests go.
    public let configuration: LLMConfiguration
    private let session: URLSession

    /// The configured model name.
    public var model: String { configuration.model }
    /// The chat-completions URL.
    public var endpoint: String { configuration.endpoint.absoluteString }

    /// A client for `configuration`.
    public init(configuration: LLMConfiguration) {
        self.configuration = configuration
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = configuration.timeout
        sessionConfiguration.timeoutIntervalForResource = configuration.timeout
        sessionConfiguration.urlCache = nil
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: sessionConfiguration)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// Sends one chat completion request and returns the first choice's message and the usage.
    public func send(_ chat: LLMRequest) throws -> LLMReply {
        let body = ChatRequest(
            model: configuration.model,
            messages: [ChatMessage(role: "system", content: chat.system), ChatMessage(role: "user", content: chat.user)],
            temperature: 0, max_tokens: max(chat.maxTokens, 1))
        var request = URLRequest(url: configuration.endpoint, cachePolicy: .reloadIgnoringLocalCacheData,
                                 timeoutInterval: configuration.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let key = configuration.apiKey {
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        }
        do {
            request.httpBody = try JSONWriter.encode(body)
        } catch {
            throw LLMError.transport("could not encode the request: \(error)")
        }
        let (data, response) = try send(request)
        guard let http = response as? HTTPURLResponse else {
            throw LLMError.malformedResponse("not an HTTP response")
        }
        guard (200..<300).contains(http.statusCode) else {
            throw LLMError.http(
                status: http.statusCode, body: String(decoding: data, as: UTF8.self),
                retryAfter: Self.seconds(retryAfter: http.value(forHTTPHeaderField: "Retry-After")))
        }
        return try Self.answer(from: data)
    }

    /// Seconds to wait from a `Retry-After` value: a number of seconds or an HTTP date (nil for
    /// anything else).
    static func seconds(retryAfter value: String?, now: Date = Date()) -> Double? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// The first choice's message content and the usage of a chat-completion body.
    static func answer(from data: Data) throws -> LLMReply {
        let reply: ChatResponse
        do {
            reply = try JSONDecoder().decode(ChatResponse.self, from: data)
        } catch {
            throw LLMError.malformedResponse("\(LLMText.excerpt(String(decoding: data, as: UTF8.self))) is not a chat completion")
        }
        guard let choice = reply.choices.first else { throw LLMError.malformedResponse("no choices") }
        if let refusal = choice.message?.refusal, !refusal.isEmpty { throw LLMError.refusal(refusal) }
        if choice.finish_reason == "content_filter" { throw LLMError.refusal("stopped by the content filter") }
        guard let content = choice.message?.content else { throw LLMError.malformedResponse("the message has no content") }
        return LLMReply(
            content: content, promptTokens: reply.usage?.prompt_tokens ?? 0, completionTokens: reply.usage?.completion_tokens ?? 0)
    }

    private func send(_ request: URLRequest) throws -> (Data, URLResponse) {
        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.set(.failure(error))
            } else if let response {
                box.set(.success((data ?? Data(), response)))
            } else {
                box.set(.failure(LLMError.malformedResponse("no response")))
            }
            semaphore.signal()
        }
        task.resume()
        // URLSession enforces the timeout itself; the extra half second only guards against a task that
        // never calls back.
        if semaphore.wait(timeout: .now() + configuration.timeout + 0.5) == .timedOut {
            task.cancel()
            throw LLMError.timeout(seconds: configuration.timeout)
        }
        switch box.get() {
        case .success(let value)?:
            return value
        case .failure(let error as LLMError)?:
            throw error
        case .failure(let error as URLError)? where error.code == .timedOut:
            throw LLMError.timeout(seconds: configuration.timeout)
        case .failure(let error)?:
            throw LLMError.transport(error.localizedDescription)
        case nil:
            throw LLMError.transport("no result")
        }
    }
}

/// The result of one data task, handed from URLSession's queue to the waiting caller.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<(Data, URLResponse), Error>?

    func set(_ value: Result<(Data, URLResponse), Error>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() -> Result<(Data, URLResponse), Error>? {
        lock.lock()
        defer { lock.unlock() }
        return result
    }
}

/// Request body of `POST /v1/chat/completions`.
private struct ChatRequest: Encodable {
    var model: String
    var messages: [ChatMessage]
    var temperature: Double
    var max_tokens: Int
}

/// One chat message.
private struct ChatMessage: Codable {
    var role: String
    var content: String
}

/// The parts of a chat completion that are read.
private struct ChatResponse: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable {
            var content: String?
            var refusal: String?
        }
        var message: Message?
        var finish_reason: String?
    }
    struct Usage: Decodable {
        var prompt_tokens: Int?
        var completion_tokens: Int?
    }
    var choices: [Choice]
    var usage: Usage?
}

/// Short quoted excerpts of model and server text for messages.
enum LLMText {
    static func excerpt(_ text: String, limit: Int = 120) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        let cut = flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
        return "\"\(cut)\""
    }
}
