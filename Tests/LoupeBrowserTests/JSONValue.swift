import Foundation

/// Reading the JSON values WebDriver answers (`JSONSerialization` objects) as Swift values.
enum JSONValue {
    /// `value` as a number, whether it arrived as `Int`, `Double` or `NSNumber`; `nil` for anything else.
    static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as Int: return Double(number)
        case let number as Double: return number
        case let number as NSNumber: return number.doubleValue
        default: return nil
        }
    }

    /// `value` as an array of integers (the elements that are numbers).
    static func integers(_ value: Any?) -> [Int] {
        (value as? [Any] ?? []).compactMap { number($0).map { Int($0) } }
    }

    /// `value` as an array of strings (the elements that are strings).
    static func strings(_ value: Any?) -> [String] {
        (value as? [Any] ?? []).compactMap { $0 as? String }
    }
}
