import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An OpenAI-compatible chat endpoint on 127.0.0.1 (an ephemeral port) answering every request with
/// its handler's reply, each connection on a thread of its own (`Connection: close`): the language
/// model of the tests and benchmarks of the explanation path. It stops by itself after `lifetime`
/// seconds or `maxRequests` requests, or when `stop` is called.
public final class ChatStubServer: @unchecked Sendable {
    /// One received request.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: String

        /// The user message of a chat-completion request body.
        public var userMessage: String { message("user") }
        /// The system message of a chat-completion request body.
        public var systemMessage: String { message("system") }

        private func message(_ role: String) -> String {
            guard let data = body.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let messages = object["messages"] as? [[String: Any]],
                  let text = messages.last(where: { $0["role"] as? String == role })?["content"] as? String
            else { return "" }
            return text
        }
    }

    /// The answer: status, body, extra headers and how long to wait before sending it.
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
        public var headers: [String: String]
        public var delay: Double

        public init(status: Int, body: String, headers: [String: String] = [:], delay: Double = 0) {
            self.status = status
            self.body = body
            self.headers = headers
            self.delay = delay
        }

        /// A 200 chat completion whose message is `content`, with `usage` counting a token per four
        /// bytes of `request`'s messages and of `content`.
        public static func chat(_ content: String, for request: Request? = nil, delay: Double = 0) -> Reply {
            let escaped = String(decoding: (try? JSONEncoder().encode(content)) ?? Data("\"\"".utf8), as: UTF8.self)
            let prompt = request.map { ($0.systemMessage.utf8.count + $0.userMessage.utf8.count + 3) / 4 } ?? 0
            let completion = (content.utf8.count + 3) / 4
            return Reply(status: 200, body: """
                {"id":"stub","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":\(escaped)},"finish_reason":"stop"}],"usage":{"prompt_tokens":\(prompt),"completion_tokens":\(completion),"total_tokens":\(prompt + completion)}}
                """, delay: delay)
        }
    }

    public enum Failure: Error { case socket(String) }

    public let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var received: [Request] = []
    private var stopped = false

    public init(lifetime: Double = 60, maxRequests: Int = 1_000_000, handler: @escaping @Sendable (Request) -> Reply) throws {
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
        guard bound == 0, listen(fd, 64) == 0 else {
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
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Requests received so far.
    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Stops accepting connections (within 50 ms).
    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func run(until deadline: Date, maxRequests: Int, handler: @escaping @Sendable (Request) -> Reply) {
        var accepted = 0
        while Date() < deadline && accepted < maxRequests && !isStopped {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            accepted += 1
            Thread.detachNewThread { [self] in
                serve(client, handler: handler)
                close(client)
            }
        }
        close(listener)
    }

    private func serve(_ client: Int32, handler: (Request) -> Reply) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        func readMore() -> Bool {
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return false }
            bytes += buffer[0..<count]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        var searched = 0
        while headerEnd == nil {
            guard bytes.count < 1 << 22, readMore() else { return }
            headerEnd = bytes.indices.dropFirst(max(0, searched - 3)).dropLast(3).first { Array(bytes[$0..<($0 + 4)]) == separator }
            searched = bytes.count
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
        let extra = reply.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
        write(client, "HTTP/1.1 \(reply.status) \(reply.status == 200 ? "OK" : "Error")\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n\(extra)Connection: close\r\n\r\n"
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
    public static let loopbackIsDirect: Bool = {
        let environment = ProcessInfo.processInfo.environment
        let proxies = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"].compactMap { environment[$0] }
            .filter { !$0.isEmpty }
        guard !proxies.isEmpty else { return true }
        let exempt = (environment["no_proxy"] ?? environment["NO_PROXY"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return exempt.contains("*") || exempt.contains("127.0.0.1")
    }()
}
