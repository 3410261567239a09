import Foundation

/// A stub endpoint's handler that answers HTTP 429 with `Retry-After: 1` to the first `first` requests,
/// then as `KeywordModel`: a rate-limited server, for tests of waiting instead of falling back.
public final class ThrottledChat: @unchecked Sendable {
    private let lock = NSLock()
    private var left: Int

    public init(first: Int) {
        left = first
    }

    public func reply(_ request: ChatStubServer.Request) -> ChatStubServer.Reply {
        lock.lock()
        let throttled = left > 0
        left -= 1
        lock.unlock()
        if throttled { return .init(status: 429, body: #"{"error":"rate limited"}"#, headers: ["Retry-After": "1"]) }
        return .chat(KeywordModel.answer(request.userMessage), for: request)
    }
}
