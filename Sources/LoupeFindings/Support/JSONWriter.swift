import Foundation

/// Loupe's one way of writing JSON: keys sorted, slashes not escaped, so equal values give equal
/// bytes (findings, site data files, model and dictionary configs, command output lines).
///
/// Values are encoded with `JSONEncoder` (for `Encodable` types) or `JSONSerialization` (for
/// `[String: Any]` trees of the Hugging Face and SAELens file formats), never by concatenating strings.
public enum JSONWriter {
    /// How the text is laid out.
    public enum Layout: Sendable {
        /// One line, no spaces.
        case compact
        /// Indented, one key per line (for files people read).
        case pretty
    }

    /// `value` as JSON.
    public static func encode<T: Encodable>(_ value: T, layout: Layout = .compact) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = layout == .pretty
            ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// A tree of dictionaries, arrays, strings, numbers, booleans and `NSNull` as JSON.
    public static func encode(object: Any, layout: Layout = .compact) throws -> Data {
        guard JSONSerialization.isValidJSONObject(object) else {
            throw EncodingError.invalidValue(object, .init(codingPath: [], debugDescription: "not a JSON object tree"))
        }
        let options: JSONSerialization.WritingOptions = layout == .pretty
            ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return try JSONSerialization.data(withJSONObject: object, options: options)
    }

    /// `value` as one line of JSON text (for JSON Lines output).
    public static func line<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}
