import Foundation

/// Reading tokenizer files, with every problem reported as `ModelError.invalidTokenizer` naming the file.
enum TokenizerFile {
    /// The bytes of `url`, or an error saying why it cannot be read.
    static func data(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path)
                ? "file cannot be read (\(error.localizedDescription))"
                : "file does not exist"
            throw ModelError.invalidTokenizer(path: url.path, reason: reason)
        }
    }

    /// The parsed JSON value of `url`.
    static func json(_ url: URL) throws -> Any {
        let bytes = try data(url)
        do {
            return try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw ModelError.invalidTokenizer(
                path: url.path, reason: "not valid JSON" + (detail.map { " (\($0))" } ?? ""))
        }
    }

    /// The top-level JSON object of `url`.
    static func jsonObject(_ url: URL) throws -> [String: Any] {
        let value = try json(url)
        guard let object = value as? [String: Any] else {
            throw ModelError.invalidTokenizer(
                path: url.path, reason: "top level is \(describe(value)), expected a JSON object")
        }
        return object
    }

    /// The UTF-8 text of `url`.
    static func text(_ url: URL) throws -> String {
        let bytes = try data(url)
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw ModelError.invalidTokenizer(path: url.path, reason: "file is not valid UTF-8 text")
        }
        return text
    }

    /// A short description of a JSON value's kind, for error messages ("a list", "a string", …).
    static func describe(_ value: Any?) -> String {
        guard let value else { return "missing" }
        if value is NSNull { return "null" }
        if isBoolean(value) { return "a boolean" }
        if value is String { return "a string" }
        if value is NSNumber { return "a number" }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "an unexpected value"
    }

    /// The value as an integer, or nil if it is not an integral JSON number (booleans are not numbers).
    static func integer(_ value: Any?) -> Int? {
        guard let value, !isBoolean(value), let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double, let int = value as? Int else { return nil }
        return int
    }

    /// The value as a boolean, or nil if it is not a JSON boolean.
    static func boolean(_ value: Any?) -> Bool? {
        guard let value, isBoolean(value) else { return nil }
        return value as? Bool
    }

    /// Whether the value is null or absent.
    static func isNull(_ value: Any?) -> Bool {
        value == nil || value is NSNull
    }

    private static let booleanClass: AnyClass = type(of: NSNumber(value: true))

    private static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return type(of: number) == booleanClass
    }

    /// Quotes a token for an error message, escaping control characters.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension TokenizerFile {
    /// The `tokens` list and optional `unknown` token of a `loupe_tokenizer.json` whose `type` must
    /// be `expectedType`, with an error naming the file and the field for anything else.
    static func tokenList(_ url: URL, expectedType: String) throws -> (tokens: [String], unknown: String?) {
        func fail(_ reason: String) -> ModelError { .invalidTokenizer(path: url.path, reason: reason) }
        let root = try jsonObject(url)
        guard let type = root["type"] as? String else {
            throw fail("\"type\" is \(describe(root["type"])), expected \"\(expectedType)\"")
        }
        guard type == expectedType else {
            throw fail("type \(quote(type)) is not supported (expected \"\(expectedType)\")")
        }
        guard let list = root["tokens"] as? [Any] else {
            throw fail("\"tokens\" is \(describe(root["tokens"])), expected a list of strings")
        }
        var tokens: [String] = []
        tokens.reserveCapacity(list.count)
        for (index, entry) in list.enumerated() {
            guard let token = entry as? String else {
                throw fail("tokens[\(index)] is \(describe(entry)), expected a string")
            }
            tokens.append(token)
        }
        var unknown: String?
        if let value = root["unknown"], !isNull(value) {
            guard let string = value as? String else {
                throw fail("\"unknown\" is \(describe(value)), expected a string or null")
            }
            unknown = string
        }
        return (tokens, unknown)
    }

    /// Writes a `loupe_tokenizer.json` of the given `type` (the inverse of `tokenList`).
    static func writeTokenList(_ url: URL, type: String, tokens: [String], unknown: String?) throws {
        let object: [String: Any] = [
            "type": type,
            "tokens": tokens,
            "unknown": unknown.map { $0 as Any } ?? NSNull(),
        ]
        do {
            let data = try JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try data.write(to: url, options: .atomic)
        } catch {
            throw ModelError.invalidTokenizer(path: url.path, reason: "cannot be written (\(error.localizedDescription))")
        }
    }
}
