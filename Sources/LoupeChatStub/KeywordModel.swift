/// A stand-in language model that reads Loupe's explanation prompts: it explains a feature as firing
/// on the first marked token of the strongest excerpt and judges by looking for that token — detection:
/// whether a text holds it; fuzzing: whether every marked token is it; simulation: 10 on it, 0 elsewhere.
/// Deterministic, so builds against it can be compared byte for byte.
public enum KeywordModel {
    /// The reply to a chat request's user message.
    public static func answer(_ user: String) -> String {
        let lines = user.components(separatedBy: "\n")
        if lines.first == "Strongest excerpts:" {
            let marked = lines.dropFirst().first.flatMap { firstMarked($0) } ?? "?"
            return "Fires on “\(marked)”."
        }
        let keyword = lines.first.flatMap { explained($0) } ?? ""
        let simulation = user.contains("predict the feature's activation")
        let fuzzing = user.contains("marked <<like this>>")
        return lines.drop { $0 != "Texts:" }.dropFirst().map { line -> String in
            let number = line.prefix { $0.isNumber }
            var words = line.dropFirst(number.count + 2).split(separator: " ").map(String.init)
            if simulation {
                if words.first?.hasPrefix("(") == true { words.removeFirst(2) }
                return "\(number): " + words.map { $0 == keyword ? "10" : "0" }.joined(separator: " ")
            }
            if fuzzing {
                let marks = words.filter { $0.hasPrefix("<<") }
                return "\(number): " + (!marks.isEmpty && marks.allSatisfy { $0 == "<<\(keyword)>>" } ? "yes" : "no")
            }
            return "\(number): " + (words.contains(keyword) ? "yes" : "no")
        }.joined(separator: "\n")
    }

    /// The token inside the first `<<…>>` of a line.
    static func firstMarked(_ line: Substring) -> String? { firstMarked(String(line)) }

    static func firstMarked(_ line: String) -> String? {
        guard let open = line.range(of: "<<"), let close = line.range(of: ">>", range: open.upperBound..<line.endIndex) else { return nil }
        return String(line[open.upperBound..<close.lowerBound])
    }

    /// The token quoted in `Explanation: Fires on “…”.`
    static func explained(_ line: String) -> String? {
        guard let open = line.range(of: "“"), let close = line.range(of: "”", options: .backwards), open.upperBound <= close.lowerBound else { return nil }
        return String(line[open.upperBound..<close.lowerBound])
    }
}
