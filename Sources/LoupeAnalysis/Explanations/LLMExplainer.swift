import Foundation
import LoupeFindings

/// Asks a language model for a one-sentence explanation of a feature from its explanation windows.
///
/// The prompt shows the `llmTopWindows` strongest explanation windows, then up to `llmIntervalWindows`
/// windows spread evenly over the weaker rest (by peak activation), as display strings separated by
/// spaces with firing tokens marked `<<token>>` and, under each window, every firing token's
/// activation on a 0–10 scale (10 is the strongest activation shown); then the tokens with the most
/// activation. Only the windows passed in are shown.
public enum LLMExplainer {
    /// Instructions sent as the system message.
    static let systemPrompt = """
        You explain what a feature inside a language model responds to. You are shown text excerpts as \
        tokens separated by spaces (␣ marks a space that belongs to a token); tokens on which the feature \
        fires are marked <<like this>>, and each excerpt's activations are listed under it on a scale from \
        0 to 10. Reply with exactly one sentence that starts with "Fires on" and quotes tokens as they are \
        shown, for example: Fires on “␣when” and “␣after” at the start of a clause.
        """

    /// The request for `explanationWindows`.
    public static func request(explanationWindows: [ScoredWindow], display: (Int) -> String, settings: ExplainerSettings) -> LLMRequest {
        LLMRequest(system: systemPrompt, user: prompt(explanationWindows: explanationWindows, display: display, settings: settings), maxTokens: 120)
    }

    /// The windows shown: the strongest, then a spread of the others, each list strongest first.
    static func shown(_ windows: [ScoredWindow], settings: ExplainerSettings) -> (top: [ScoredWindow], spread: [ScoredWindow]) {
        let ordered = windows.map(WindowCleaning.clean)
            .enumerated()
            .sorted { a, b in a.element.peak != b.element.peak ? a.element.peak > b.element.peak : a.offset < b.offset }
            .map(\.element)
        let top = Array(ordered.prefix(max(settings.llmTopWindows, 1)))
        let rest = Array(ordered.dropFirst(top.count))
        let wanted = min(max(settings.llmIntervalWindows, 0), rest.count)
        guard wanted > 0 else { return (top, []) }
        let spread = (0..<wanted).map { i in
            rest[wanted == 1 ? 0 : Int((Double(i) * Double(rest.count - 1) / Double(wanted - 1)).rounded())]
        }
        return (top, spread)
    }

    /// The user message for `explanationWindows`.
    static func prompt(explanationWindows: [ScoredWindow], display: (Int) -> String, settings: ExplainerSettings) -> String {
        let (top, spread) = shown(explanationWindows, settings: settings)
        let threshold = settings.firingThreshold
        let scale = (top + spread).map(\.peak).max() ?? 0
        func level(_ activation: Float) -> Int {
            scale > 0 ? max(1, min(10, Int((Double(activation) / Double(scale) * 10).rounded()))) : 0
        }
        var lines: [String] = []
        func add(_ windows: [ScoredWindow], heading: String, from first: Int) {
            guard !windows.isEmpty else { return }
            lines.append(heading)
            for (offset, window) in windows.enumerated() {
                let pairs = Array(zip(window.tokens, window.activations))
                let text = pairs.map { token, activation in
                    activation > threshold ? "<<\(display(token))>>" : display(token)
                }.joined(separator: " ")
                lines.append("\(first + offset). \(text)")
                let firing = pairs.filter { $0.1 > threshold }.map { "“\(display($0.0))” \(level($0.1))" }
                if !firing.isEmpty { lines.append("   activations: " + firing.joined(separator: ", ")) }
            }
        }
        add(top, heading: "Strongest excerpts:", from: 1)
        add(spread, heading: "Excerpts across weaker activations:", from: top.count + 1)
        var mass: [Int: Double] = [:]
        for window in top + spread {
            for (token, activation) in zip(window.tokens, window.activations) where activation > threshold {
                mass[token, default: 0] += Double(activation)
            }
        }
        let strongest = mass.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.prefix(8)
        if !strongest.isEmpty {
            lines.append("Tokens with the most activation: " + strongest.map { "“\(display($0.key))”" }.joined(separator: ", "))
        }
        lines.append("One sentence: what does the feature fire on?")
        return lines.joined(separator: "\n")
    }

    /// The first non-empty line of `reply`, without surrounding quotes, at most 300 characters;
    /// `LLMError.refusal` or `unusableAnswer` when it is not an explanation.
    static func sentence(from reply: String) throws -> String {
        let line = reply.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty } ?? ""
        var text = line.trimmingCharacters(in: CharacterSet(charactersIn: "\"'` "))
        guard !text.isEmpty else { throw LLMError.unusableAnswer(reply) }
        let lowered = text.lowercased()
        let refusals = ["i'm sorry", "i am sorry", "i cannot", "i can't", "i can’t", "i'm unable", "i am unable", "as an ai"]
        if refusals.contains(where: { lowered.hasPrefix($0) }) { throw LLMError.refusal(text) }
        if text.count > 300 { text = String(text.prefix(300)) + "…" }
        return text
    }
}
