import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoupeCore
import LoupeFindings

/// Every answered language-model request of a report, one JSON file per request under
/// `<report>/findings/llm-cache/<2 hex>/<sha256>.json`, so a rebuild or a resumed build pays for no
/// request twice.
///
/// A request's key is the SHA-256 of (endpoint, model, system and user messages, maximum tokens,
/// temperature). An entry keeps the request (a look-up checks it, so a key collision is a miss), the
/// reply and what obtaining it cost (`cost`), so accounting read from the cache equals the
/// accounting of the build that paid. Files are written to a temporary name and renamed, so a killed
/// build leaves whole entries only. Only usable answers are stored.
public struct LLMResponseCache: Sendable {
    /// One stored answer.
    public struct Entry: Codable, Sendable, Equatable {
        public var endpoint: String
        public var model: String
        public var request: LLMRequest
        public var reply: LLMReply
        /// What obtaining the answer cost: HTTP requests (retries included), retries, and the tokens of
        /// every answered attempt.
        public var cost: LLMCost
    }

    /// The cache folder.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The key of `request` sent to `model` at `endpoint`: 64 hex digits.
    public static func key(endpoint: String, model: String, request: LLMRequest) -> String {
        struct Keyed: Encodable {
            var endpoint: String
            var model: String
            var system: String
            var user: String
            var max_tokens: Int
            var temperature: Int
        }
        let keyed = Keyed(endpoint: endpoint, model: model, system: request.system, user: request.user,
                          max_tokens: request.maxTokens, temperature: 0)
        let bytes = (try? JSONWriter.encode(keyed)).map { [UInt8]($0) } ?? Array("\(keyed)".utf8)
        return SHA256.hex(bytes)
    }

    /// The file of `key`.
    public func file(key: String) -> URL {
        directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".json")
    }

    /// The stored answer to `request` at `endpoint` and `model`, nil when there is none (or the file is
    /// unreadable or holds another request).
    public func entry(endpoint: String, model: String, request: LLMRequest) -> Entry? {
        let key = Self.key(endpoint: endpoint, model: model, request: request)
        guard let data = try? Data(contentsOf: file(key: key)),
              let entry = try? JSONDecoder().decode(Entry.self, from: data),
              entry.endpoint == endpoint, entry.model == model, entry.request == request
        else { return nil }
        return entry
    }

    /// Stores `entry` (replacing an older answer to the same request).
    public func store(_ entry: Entry) throws {
        let target = file(key: Self.key(endpoint: entry.endpoint, model: entry.model, request: entry.request))
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).tmp")
        do {
            try JSONWriter.encode(entry).write(to: temporary)
            guard rename(temporary.path, target.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}
