import Foundation

/// An error answered by the driver (the W3C WebDriver `error` code and its message), or a reply that is not WebDriver JSON.
struct WebDriverError: Error, CustomStringConvertible {
    let error: String
    let message: String

    var description: String { "WebDriver \(error): \(message.prefix(400))" }
}

/// A W3C WebDriver client over plain HTTP and JSON (`LoopbackHTTP`): one request per command, answering the reply's `value`.
struct WebDriver: Sendable {
    /// The driver's port on 127.0.0.1.
    let port: UInt16

    /// Sends `method /path` with `body` as JSON (an empty object for a POST without one) and returns the reply's `value`.
    @discardableResult
    func send(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        let payload = method == "POST" ? try JSONSerialization.data(withJSONObject: body ?? [:]) : nil
        let reply = try await LoopbackHTTP.send(method, port: port, path: "/" + path, body: payload)
        guard let object = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any] else {
            throw WebDriverError(error: "invalid reply", message: "HTTP \(reply.status): " + String(decoding: reply.body, as: UTF8.self))
        }
        let value = object["value"] ?? NSNull()
        if let object = value as? [String: Any], let error = object["error"] as? String {
            throw WebDriverError(error: error, message: object["message"] as? String ?? "")
        }
        return value
    }
}
