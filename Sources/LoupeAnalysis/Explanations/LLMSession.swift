import Foundation
import LoupeCore

/// When and how often a failed request is tried again.
///
/// Transient failures (`LLMError.isTransient`: transport errors, timeouts, 429, 5xx, a body that is
/// not a chat completion) are retried up to `maxAttempts` attempts in all, after
/// `min(maxDelay, baseDelay · 2^(n−1))` seconds times a random factor in [0.5, 1.5) before the n-th retry,
/// or after the server's `Retry-After` (at most `maxRetryAfter`) when it gives one. Other 4xx statuses
/// and refusals are not retried. An answer that is not of the requested form is asked once more.
public struct LLMRetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 1, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.maxRetryAfter = max(0, maxRetryAfter)
    }

    /// Seconds to wait before retry number `retry` (1, 2, …) after `error`; `jitter` in [0.5, 1.5).
    public func delay(beforeRetry retry: Int, after error: LLMError, jitter: Double) -> Double {
        if let seconds = error.retryAfter { return min(seconds, maxRetryAfter) }
        return min(maxDelay, baseDelay * pow(2, Double(max(retry, 1) - 1))) * jitter
    }
}

/// What answering requests cost: HTTP requests (retries included), retries, and the tokens the server
/// counted.
public struct LLMCost: Codable, Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var promptTokens = 0
    public var completionTokens = 0

    public init() {}

    public static func += (lhs: inout LLMCost, rhs: LLMCost) {
        lhs.requests += rhs.requests
        lhs.retries += rhs.retries
        lhs.promptTokens += rhs.promptTokens
        lhs.completionTokens += rhs.completionTokens
    }
}

/// A request that still failed after its retries: the last error and what the attempts cost.
public struct LLMCallFailure: Error, Sendable {
    public var error: LLMError
    public var cost: LLMCost
}

/// A language model as the explanation step uses it: at most `concurrency` requests in flight,
/// retries by `policy`, answers kept in and served from `cache` (unless `refresh`), and counts of what
/// this session sent. Safe to use from many threads.
public final class LLMSession: @unchecked Sendable {
    /// Default number of requests in flight (`LOUPE_LLM_CONCURRENCY`).
    public static let defaultConcurrency = 8

    public let client: any LLMClient
    public let policy: LLMRetryPolicy
    public let cache: LLMResponseCache?
    /// Whether cached answers are ignored (they are still replaced by new ones).
    public let refresh: Bool
    /// Most requests in flight at once.
    public let concurrency: Int

    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var counters = Counters()
    private let wait: @Sendable (Double) -> Void

    /// What this session did (not what cached answers once cost).
    public struct Counters: Sendable, Equatable {
        /// HTTP requests sent, retries among them, and requests answered from the cache.
        public var sent = 0
        public var retries = 0
        public var fromCache = 0
    }

    /// A session over `client`; `wait` sleeps between attempts (replaceable in tests).
    public init(
        client: any LLMClient, policy: LLMRetryPolicy = LLMRetryPolicy(), cache: LLMResponseCache? = nil,
        refresh: Bool = false, concurrency: Int = defaultConcurrency,
        wait: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
    ) {
        self.client = client
        self.policy = policy
        self.cache = cache
        self.refresh = refresh
        self.concurrency = max(1, concurrency)
        self.slots = DispatchSemaphore(value: max(1, concurrency))
        self.wait = wait
    }

    /// The model's name.
    public var model: String { client.model }

    /// What the session has done so far.
    public var counts: Counters {
        lock.lock()
        defer { lock.unlock() }
        return counters
    }

    /// The parsed answer to `request` and what obtaining it cost (a cached answer's recorded cost).
    /// A cached answer is used unless `refresh`; an answer `parse` rejects is asked once more with the
    /// same request; a usable new answer is cached. Throws `LLMCallFailure` when no usable answer came.
    public func complete<Value>(_ request: LLMRequest, parse: (String) throws -> Value) throws -> (value: Value, cost: LLMCost) {
        let (endpoint, model) = (client.endpoint, client.model)
        if !refresh, let entry = cache?.entry(endpoint: endpoint, model: model, request: request),
           let value = try? parse(entry.reply.content) {
            count { $0.fromCache += 1 }
            return (value, entry.cost)
        }
        var cost = LLMCost()
        var reply = try send(request, cost: &cost)
        let value: Value
        do {
            value = try parse(reply.content)
        } catch {
            cost.retries += 1
            count { $0.retries += 1 }
            reply = try send(request, cost: &cost)
            do {
                value = try parse(reply.content)
            } catch {
                throw LLMCallFailure(error: error as? LLMError ?? .unusableAnswer(reply.content), cost: cost)
            }
        }
        // A failure to write the cache costs a future rebuild a request, not this answer.
        try? cache?.store(LLMResponseCache.Entry(
            endpoint: endpoint, model: model, request: request, reply: reply, cost: cost))
        return (value, cost)
    }

    /// One answer by `policy`'s attempts, adding them to `cost`.
    private func send(_ request: LLMRequest, cost: inout LLMCost) throws -> LLMReply {
        var attempt = 1
        while true {
            slots.wait()
            let result = Result { try client.send(request) }
            slots.signal()
            cost.requests += 1
            count { $0.sent += 1 }
            switch result {
            case .success(let reply):
                cost.promptTokens += reply.promptTokens
                cost.completionTokens += reply.completionTokens
                return reply
            case .failure(let failure):
                let error = failure as? LLMError ?? .transport("\(failure)")
                guard error.isTransient, attempt < policy.maxAttempts else { throw LLMCallFailure(error: error, cost: cost) }
                wait(policy.delay(beforeRetry: attempt, after: error, jitter: Double.random(in: 0.5..<1.5)))
                attempt += 1
                cost.retries += 1
                count { $0.retries += 1 }
            }
        }
    }

    private func count(_ change: (inout Counters) -> Void) {
        lock.lock()
        change(&counters)
        lock.unlock()
    }
}

extension LLMSession {
    /// The variables that tune a session: requests in flight, attempts per request, the first retry's delay.
    public static let concurrencyVariable = "LOUPE_LLM_CONCURRENCY"
    public static let attemptsVariable = "LOUPE_LLM_MAX_ATTEMPTS"
    public static let backoffVariable = "LOUPE_LLM_BACKOFF_SECONDS"
    public static let timeoutVariable = "LOUPE_LLM_TIMEOUT_SECONDS"

    /// The session the environment asks for: nil when `LOUPE_LLM_BASE_URL` is not set; else an
    /// `OpenAIChatClient` (`LLMConfiguration.fromEnvironment`) with `LOUPE_LLM_CONCURRENCY` requests in
    /// flight (default 8), `LOUPE_LLM_MAX_ATTEMPTS` attempts (default 6), a first retry after
    /// `LOUPE_LLM_BACKOFF_SECONDS` (default 1) and a timeout of `LOUPE_LLM_TIMEOUT_SECONDS` (default 30).
    /// Throws `LLMError.invalidSetting` for a value that is not a positive number, `invalidBaseURL` for a bad URL.
    public static func requested(
        by environment: [String: String], cache: LLMResponseCache?, refresh: Bool
    ) throws -> LLMSession? {
        guard let base = environment[LLMConfiguration.baseURLVariable], !base.trimmingCharacters(in: .whitespaces).isEmpty else {
            return nil
        }
        func number(_ name: String, default value: Double, integer: Bool) throws -> Double {
            guard let text = environment[name] else { return value }
            guard let parsed = Double(text.trimmingCharacters(in: .whitespaces)), parsed.isFinite,
                  integer ? parsed >= 1 && parsed == parsed.rounded() : parsed >= 0
            else { throw LLMError.invalidSetting(name: name, value: text) }
            return parsed
        }
        let timeout = try number(timeoutVariable, default: LLMConfiguration.defaultTimeout, integer: false)
        let configuration = try LLMConfiguration.fromEnvironment(environment, timeout: timeout)
        let policy = LLMRetryPolicy(
            maxAttempts: Int(try number(attemptsVariable, default: 6, integer: true)),
            baseDelay: try number(backoffVariable, default: 1, integer: false))
        return LLMSession(
            client: OpenAIChatClient(configuration: configuration), policy: policy, cache: cache, refresh: refresh,
            concurrency: Int(try number(concurrencyVariable, default: Double(defaultConcurrency), integer: true)))
    }
}
