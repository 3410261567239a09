import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP/1.1 to a server on 127.0.0.1, one request per connection, over a plain TCP socket.
///
/// FoundationNetworking's `URLSession` on Linux fails every reply of `chromedriver` with "Failed writing
/// header": chromedriver writes header lines without a space after the colon (`Content-Length:252`),
/// which HTTP allows and that parser refuses. This client reads such lines.
enum LoopbackHTTP {
    /// A request that could not be sent or whose reply could not be read.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends `method path` with `body` to `127.0.0.1:port` and returns the reply's status and body,
    /// waiting at most `timeout` seconds for each read. Runs off the concurrency pool's threads.
    static func send(_ method: String, port: UInt16, path: String, body: Data?, timeout: Int = 300) async throws -> (status: Int, body: Data) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try exchange(method, port: port, path: path, body: body, timeout: timeout) })
            }
        }
    }

    private static func exchange(_ method: String, port: UInt16, path: String, body: Data?, timeout: Int) throws -> (status: Int, body: Data) {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(descriptor) }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw Failure(description: "cannot connect to 127.0.0.1:\(port)") }

        let payload = body ?? Data()
        var request = Data("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n".utf8)
        if body != nil { request.append(Data("Content-Type: application/json; charset=utf-8\r\n".utf8)) }
        request.append(Data("Content-Length: \(payload.count)\r\n\r\n".utf8))
        request.append(payload)
        try request.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var sent = 0
            while sent < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + sent, bytes.count - sent)
                guard count > 0 else { throw Failure(description: "writing to 127.0.0.1:\(port) failed") }
                sent += count
            }
        }

        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var head: (status: Int, bodyStart: Int, length: Int?)?
        while true {
            if head == nil, let end = reply.range(of: Data("\r\n\r\n".utf8)) {
                head = try parseHead(reply[reply.startIndex..<end.lowerBound], bodyStart: end.upperBound)
            }
            if let head, let length = head.length, reply.count - head.bodyStart >= length { break }
            let count = read(descriptor, &buffer, buffer.count)
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "no reply from 127.0.0.1:\(port) within \(timeout) s (\(method) \(path))") }
            reply.append(contentsOf: buffer[0..<count])
        }
        guard let head else { throw Failure(description: "a reply without headers from 127.0.0.1:\(port)") }
        let end = head.length.map { head.bodyStart + $0 } ?? reply.count
        return (head.status, reply.subdata(in: head.bodyStart..<min(end, reply.count)))
    }

    /// The status and `Content-Length` of a reply's head (status line and header lines, without the blank line).
    private static func parseHead(_ head: Data, bodyStart: Int) throws -> (status: Int, bodyStart: Int, length: Int?) {
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let statusWords = lines.first?.split(separator: " ") ?? []
        guard statusWords.count >= 2, let status = Int(statusWords[1]) else {
            throw Failure(description: "not an HTTP status line: \(lines.first ?? "")")
        }
        let length = lines.dropFirst().compactMap { line -> Int? in
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "content-length" else { return nil }
            return Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }.first
        return (status, bodyStart, length)
    }
}
