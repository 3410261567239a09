import Foundation
import LoupeFindings

/// The language model's accounting in words, for the build's last lines and the summary.
public enum LanguageModelText {
    /// `372 of 380 explanations from stub-model; 8 fell back to the offline explanation (HTTP 500 × 5,
    /// timeout × 3); 1,900 requests (312 retries), 1,234,567 prompt and 23,456 completion tokens`.
    public static func sentence(_ accounting: LanguageModelAccounting) -> String {
        let fallback = accounting.fellBack == 0
            ? "none fell back to the offline explanation"
            : "\(integer(accounting.fellBack)) fell back to the offline explanation (\(accounting.reasonsText))"
        return "\(integer(accounting.explained)) of \(integer(accounting.asked)) explanations from \(accounting.model); \(fallback); "
            + "\(integer(accounting.requests)) requests (\(integer(accounting.retries)) retries), "
            + "\(integer(accounting.promptTokens)) prompt and \(integer(accounting.completionTokens)) completion tokens"
    }

    /// Why the build fails for `findings` under `maxFallback`: one line per hook whose share of
    /// fallbacks is above it; empty when none is.
    public static func shortfalls(_ findings: ReportFindings, maxFallback: Double) -> [String] {
        findings.dictionaries.compactMap { dictionary in
            guard let accounting = dictionary.languageModel, accounting.fallbackShare > maxFallback else { return nil }
            return "\(dictionary.hook): \(accounting.fellBack) of \(accounting.asked) explanations "
                + "(\(String(format: "%.1f", 100 * accounting.fallbackShare)) %) fell back to the offline explanation "
                + "(\(accounting.reasonsText)), more than llm.max_fallback (\(String(format: "%g", 100 * maxFallback)) %)"
        }
    }

    /// `1234567` as `1,234,567`.
    static func integer(_ value: Int) -> String {
        let digits = String(abs(value))
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }
}
