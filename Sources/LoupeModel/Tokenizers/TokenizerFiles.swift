import Foundation
import LoupeFindings

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

    /// The top-level JSON object of `url`; errors name the member (`"model.vocab"`), and a top level
    /// that is not an object is reported as "top level is …, expected `contents`".
    static func reader(_ url: URL, contents: String = "a JSON object") throws -> JSONObjectReader {
        let path = url.path
        return try JSONObjectReader.read(
            url,
            error: { key, reason in
                ModelError.invalidTokenizer(path: path, reason: key.map { "\"\($0)\": \(reason)" } ?? reason)
            },
            fileError: { problem in
                if case let .notObject(found) = problem {
                    return ModelError.invalidTokenizer(path: path, reason: "top level is \(found), expected \(contents)")
                }
                return ModelError.invalidTokenizer(path: path, reason: problem.reason)
            })
    }

    /// The members of the top-level JSON object of `url`.
    static func jsonObject(_ url: URL) throws -> [String: Any] {
        try reader(url).values
    }

    /// The UTF-8 text of `url`.
    static func text(_ url: URL) throws -> String {
        let bytes = try data(url)
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw ModelError.invalidTokenizer(path: url.path, reason: "file is not valid UTF-8 text")
        }
        return text
    }

    /// A short description of a JSON value for error messages ("a list", "a string (\"x\")", …).
    static func describe(_ value: Any?) -> String {
        JSONObjectReader.describe(value)
    }

    /// Quotes a token for an error message, escaping control characters.
    static func quote(_ text: String) -> String {
        "\"" + text.unicodeScalars.map(escaped).joined() + "\""
    }

    /// One scalar of a quoted token: a quote, backslash, newline, tab or return escaped as in Swift
    /// source, another control character as `\u{…}` (hex), anything else as it is.
    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\"": "\\\""
        case "\\": "\\\\"
        case "\n": "\\n"
        case "\t": "\\t"
        case "\r": "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: "\\u{" + String(scalar.value, radix: 16) + "}"
        default: String(scalar)
        }
    }
}

extension TokenizerFile {
    /// Writes a `loupe_tokenizer.json` of the given `type` (the inverse of `TokenList(contentsOf:expectedType:)`).
    static func writeTokenList(_ url: URL, type: String, tokens: [String], unknown: String?) throws {
        let object: [String: Any] = [
            "type": type,
            "tokens": tokens,
            "unknown": unknown.map { $0 as Any } ?? NSNull(),
        ]
        do {
            let data = try JSONWriter.encode(object: object, layout: .pretty)
            try data.write(to: url, options: .atomic)
        } catch {
            throw ModelError.invalidTokenizer(path: url.path, reason: "cannot be written (\(error.localizedDescription))")
        }
    }
}
