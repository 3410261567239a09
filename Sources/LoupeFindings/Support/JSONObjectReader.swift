import Foundation

/// Typed access to one JSON object of a file (`config.json`, `cfg.json`, a tokenizer file, a
/// safetensors header), with every problem reported through the caller's own error type.
///
/// Accessors return `nil` when a key is absent or `null` and throw when its value has the wrong
/// kind. JSON `true`/`false` are never numbers and `1`/`0` are never booleans, although
/// `JSONSerialization` gives `NSNumber` for both: a boolean is the `NSNumber` subclass that
/// `NSNumber(value: true)` has (`__NSCFBoolean` in swift-corelibs-foundation as on Darwin).
/// Integers must be integral (`3.0` is 3, `2.5` is not an integer).
///
/// Errors name the key with the prefix of the nested object it is in (`metadata.hook_name`,
/// `added_tokens[2].id`) and a reason such as `expected an integer, found a boolean (true)`.
public struct JSONObjectReader {
    /// Makes the caller's error for a problem with `key` (nil for the file as a whole).
    public typealias ErrorFactory = (_ key: String?, _ reason: String) -> Error

    /// Why a file could not be read as a JSON object.
    public enum FileProblem: Equatable, Sendable {
        /// Nothing exists at the path.
        case missing
        /// The file exists but cannot be read; the system's explanation.
        case unreadable(String)
        /// The bytes are not valid JSON; the parser's explanation when it gives one.
        case notJSON(String?)
        /// The top-level value is not an object; what it is instead ("a list").
        case notObject(found: String)

        /// A short explanation for error messages ("file does not exist", "not valid JSON (…)").
        public var reason: String {
            switch self {
            case .missing: return "file does not exist"
            case let .unreadable(detail): return "file cannot be read (\(detail))"
            case let .notJSON(detail): return "not valid JSON" + (detail.map { " (\($0))" } ?? "")
            case let .notObject(found): return "top level is \(found), not a JSON object"
            }
        }
    }

    /// The object's members as `JSONSerialization` gives them.
    public let values: [String: Any]
    /// The file the object was read from, for error messages.
    public let path: String
    /// Put before every key in errors: empty at the top level, `"metadata."` inside `metadata`.
    public let keyPrefix: String
    private let makeError: ErrorFactory

    /// A reader of `values` from the file at `path`; errors go to `error` with `keyPrefix` before each key.
    public init(_ values: [String: Any], path: String, keyPrefix: String = "", error: @escaping ErrorFactory) {
        self.values = values
        self.path = path
        self.keyPrefix = keyPrefix
        self.makeError = error
    }

    // MARK: Reading files

    /// Reads and parses the file at `url`, whose top level must be an object.
    ///
    /// A missing, unreadable or unparsable file, or one whose top level is not an object, is reported
    /// through `fileError` when given, else through `error` with a nil key and the problem's `reason`.
    public static func read(
        _ url: URL, error: @escaping ErrorFactory, fileError: ((FileProblem) -> Error)? = nil
    ) throws -> JSONObjectReader {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch let readError {
            let problem: FileProblem = FileManager.default.fileExists(atPath: url.path)
                ? .unreadable(readError.localizedDescription) : .missing
            throw fileError?(problem) ?? error(nil, problem.reason)
        }
        return try parse(data, path: url.path, error: error, fileError: fileError)
    }

    /// Parses `data` (read from `path`), whose top level must be an object; problems are reported
    /// as for ``read(_:error:fileError:)``.
    public static func parse(
        _ data: Data, path: String, error: @escaping ErrorFactory, fileError: ((FileProblem) -> Error)? = nil
    ) throws -> JSONObjectReader {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch let parseError {
            let problem = FileProblem.notJSON((parseError as NSError).userInfo[NSDebugDescriptionErrorKey] as? String)
            throw fileError?(problem) ?? error(nil, problem.reason)
        }
        guard let object = parsed as? [String: Any] else {
            let problem = FileProblem.notObject(found: describe(parsed))
            throw fileError?(problem) ?? error(nil, problem.reason)
        }
        return JSONObjectReader(object, path: path, error: error)
    }

    // MARK: Members

    /// The keys of the object, sorted.
    public var keys: [String] { values.keys.sorted() }

    /// The value of `key` as `JSONSerialization` gives it, or nil when absent or `null`; for values
    /// that may legitimately be of several kinds (check them with ``booleanValue(_:)`` and friends).
    public func value(_ key: String) -> Any? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    /// The integer at `key`, or nil when absent or `null`; a boolean or a non-integral number is an error.
    public func integer(_ key: String) throws -> Int? {
        try convert(key, expected: "an integer", Self.integerValue)
    }

    /// The number at `key`, or nil when absent or `null`; a boolean is an error.
    public func number(_ key: String) throws -> Double? {
        try convert(key, expected: "a number", Self.numberValue)
    }

    /// The boolean at `key`, or nil when absent or `null`; a number (even 0 or 1) is an error.
    public func boolean(_ key: String) throws -> Bool? {
        try convert(key, expected: "true or false", Self.booleanValue)
    }

    /// The string at `key`, or nil when absent or `null`.
    public func string(_ key: String) throws -> String? {
        try convert(key, expected: "a string") { $0 as? String }
    }

    /// The object at `key` as a reader whose errors name its keys `key.member`, or nil when absent or `null`.
    public func object(_ key: String) throws -> JSONObjectReader? {
        try convert(key, expected: "an object") { value in
            (value as? [String: Any]).map { nested($0, prefix: key + ".") }
        }
    }

    /// The list at `key`, or nil when absent or `null`.
    public func array(_ key: String) throws -> [Any]? {
        try convert(key, expected: "a list") { $0 as? [Any] }
    }

    /// The list of integers at `key`, or nil when absent or `null`; errors name an element `key[i]`.
    public func integers(_ key: String) throws -> [Int]? {
        try elements(key, expected: "an integer", Self.integerValue)
    }

    /// The list of strings at `key`, or nil when absent or `null`; errors name an element `key[i]`.
    public func strings(_ key: String) throws -> [String]? {
        try elements(key, expected: "a string") { $0 as? String }
    }

    /// The list of objects at `key` as readers whose errors name their keys `key[i].member`, or nil
    /// when absent or `null`.
    public func objects(_ key: String) throws -> [JSONObjectReader]? {
        guard let list = try array(key) else { return nil }
        return try list.enumerated().map { index, element in
            let place = "\(key)[\(index)]"
            guard let object = element as? [String: Any] else { throw mismatch(place, expected: "an object", found: element) }
            return nested(object, prefix: place + ".")
        }
    }

    /// What `read` gives for `key`, or a "missing" error when it gives nil:
    /// `try reader.required("n_layer", reader.integer)`.
    public func required<Value>(_ key: String, _ read: (String) throws -> Value?) throws -> Value {
        guard let value = try read(key) else { throw error(key, "missing") }
        return value
    }

    /// The caller's error for `key` of this object (named with the prefix) and `reason`, for checks
    /// the accessors do not make (ranges, allowed names).
    public func error(_ key: String, _ reason: String) -> Error {
        makeError(keyPrefix + key, reason)
    }

    // MARK: Values

    /// The value as a boolean when it is JSON `true` or `false` (not a number).
    public static func booleanValue(_ value: Any) -> Bool? {
        guard let number = value as? NSNumber, type(of: number) == booleanClass else { return nil }
        return number.boolValue
    }

    /// The value as an integer when it is an integral JSON number within `Int` (not a boolean).
    public static func integerValue(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, type(of: number) != booleanClass else { return nil }
        return Int(exactly: number)
    }

    /// The value as a double when it is a JSON number (not a boolean).
    public static func numberValue(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, type(of: number) != booleanClass else { return nil }
        return number.doubleValue
    }

    /// What a JSON value is, for error messages: `a boolean (true)`, `a number (2.5)`,
    /// `a string ("small")`, `a list`, `an object`, `null`, or `missing` for nil.
    public static func describe(_ value: Any?) -> String {
        guard let value else { return "missing" }
        if value is NSNull { return "null" }
        if let flag = booleanValue(value) { return "a boolean (\(flag))" }
        if let number = value as? NSNumber { return "a number (\(number))" }
        if let text = value as? String {
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "a string (\(String(reflecting: shown)))"
        }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "an unexpected value"
    }

    /// The class `JSONSerialization` (and `NSNumber(value:)`) gives booleans, distinct from other numbers.
    private static let booleanClass: AnyClass = type(of: NSNumber(value: true))

    private func nested(_ object: [String: Any], prefix: String) -> JSONObjectReader {
        JSONObjectReader(object, path: path, keyPrefix: keyPrefix + prefix, error: makeError)
    }

    private func mismatch(_ key: String, expected: String, found value: Any) -> Error {
        error(key, "expected \(expected), found \(Self.describe(value))")
    }

    private func convert<Value>(_ key: String, expected: String, _ convert: (Any) -> Value?) throws -> Value? {
        guard let value = value(key) else { return nil }
        guard let converted = convert(value) else { throw mismatch(key, expected: expected, found: value) }
        return converted
    }

    private func elements<Element>(_ key: String, expected: String, _ convert: (Any) -> Element?) throws -> [Element]? {
        guard let list = try array(key) else { return nil }
        return try list.enumerated().map { index, element in
            guard let converted = convert(element) else {
                throw mismatch("\(key)[\(index)]", expected: expected, found: element)
            }
            return converted
        }
    }
}
