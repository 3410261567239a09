import Foundation

/// Turns data strings (tokens, explanations, hook names, paths) into text that is safe to show.
///
/// Escaping for HTML is done by the templates (`{{ }}`) or by `escapeHTML` for markup built in Swift;
/// this type makes invisible and reordering characters visible, so a token holding U+202E cannot flip
/// the rest of the page and a token holding a newline does not break an example's line.
enum DisplayText {
    /// Characters that change text direction or are invisible; they are shown as `⟨U+XXXX⟩`.
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true           // C0 and C1 controls
        case 0x061C, 0x200B, 0x200E, 0x200F: return true       // Arabic letter mark, zero-width space, LRM, RLM
        case 0x2028, 0x2029: return true                       // line and paragraph separators
        case 0x202A...0x202E: return true                      // embeddings and overrides
        case 0x2060...0x2069: return true                      // word joiner, invisible operators, isolates
        case 0xFEFF: return true                               // zero-width no-break space
        default: return false
        }
    }

    /// `⟨U+202E⟩` for a scalar.
    static func visibleEscape(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩"
    }

    /// Prose from data (explanations, paths, names): line breaks and tabs become spaces, every other
    /// hidden character becomes a visible escape.
    static func text(_ string: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(string.unicodeScalars.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\n", "\t", "\r": out.unicodeScalars.append(" ")
            case _ where isHidden(scalar): out += visibleEscape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A token as shown in an example: `↵` for a newline, `⇥` for a tab, visible escapes for other
    /// hidden characters; spaces are kept (examples are shown with `white-space: pre`).
    static func token(_ string: String) -> String {
        var out = ""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\n": out += "↵"
            case "\t": out += "⇥"
            case "\r": out += "␍"
            case _ where isHidden(scalar): out += visibleEscape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Escapes `& < > " '` for HTML text and attribute values (the same set Mustache's `{{ }}` escapes).
    static func escapeHTML(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Deterministic, locale-independent number formatting for pages.
enum NumberText {
    /// Fixed decimals (rounded half away from zero), `n/a` for NaN and infinities. Pure Swift: pages
    /// format thousands of numbers, and `String(format:)` is slow on Linux.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "n/a" }
        let places = max(0, min(decimals, 15))
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded()
        guard scaled < 9e15 else { return String(format: "%.\(places)f", value) }
        var digits = String(UInt64(scaled))
        if places > 0 {
            if digits.count <= places { digits = String(repeating: "0", count: places + 1 - digits.count) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
        }
        return (value < 0 && scaled != 0 ? "-" : "") + digits
    }

    /// Three significant digits without exponent for ordinary magnitudes (`0.00123`, `12.3`, `4560`).
    static func significant(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return "n/a" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e6 || magnitude < 1e-4 { return String(format: "%.\(digits - 1)e", value) }
        let exponent = Int(floor(log10(magnitude)))
        let decimals = max(0, digits - 1 - exponent)
        return fixed(value, decimals)
    }

    /// A fraction in [0, 1] as a percentage with three significant digits (`0.0123` → `1.23%`).
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "n/a" }
        return significant(fraction * 100) + "%"
    }

    /// An integer with thin grouping (`1 234 567`).
    static func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return (value < 0 ? "−" : "") + groups.joined(separator: "\u{202F}")
    }

    /// Counts for axis labels (`950`, `1.2k`, `3.4M`).
    static func count(_ value: Int) -> String {
        let v = Double(value)
        if value < 1000 { return String(value) }
        if value < 1_000_000 { return significant(v / 1000, digits: 2) + "k" }
        return significant(v / 1_000_000, digits: 2) + "M"
    }

    /// A score in [0, 1] with two decimals, or `n/a`.
    static func score(_ value: Double?) -> String {
        guard let value else { return "n/a" }
        return fixed(value, 2)
    }
}
