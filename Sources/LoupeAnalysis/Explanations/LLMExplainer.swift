import Foundation
import LoupeFindings

/// Asks a language model for a one-sentence explanation of a feature from its explanation windows.
///
/// The prompt shows up to `ExplainerSettings.llmPromptWindows` explanation windows (highest peak first)
/// as display strings separated by spaces, with firing tokens marked `<<token>>`, and the tokens with the
/// most activation. Only the windows passed in are shown.
public enum LLMExplainer {
    /// Instructions sent as the system message.
    static let systemPrompt = """
        You explain what a feature inside a language model responds to. You are shown text excerpts as \
        tokens separated by spaces (␣ marks a space that belongs to a token); tokens on which the feature \
        fires are marked <<like this>>. Reply with exactly one sentence that starts with "Fires on" and \
        quotes tokens as they are shown, for example: Fires on “␣when” and “␣after” at the start of a clause.
        """

    /// The one-sentence explanation the model gives, or `LLMError` (transport, refusal, or an empty or
    /// non-sentence answer).
    public static func explain(
        explanationWindows: [ScoredWindow], display: (Int) -> String, client: any LLMClient,
        settings: ExplainerSettings = ExplainerSettings()
    ) throws -> String {
        let reply = try client.complete(
            system: systemPrompt,
            user: prompt(explanationWindows: explanationWindows, display: display, settings: settings),
            maxTokens: 120)
        return try sentence(from: reply)
    }

    /// The user message for `explanationWindows`.
    static func prompt(explanationWindows: [ScoredWindow], display: (Int) -> String, settings: ExplainerSettings) -> String {
        let windows = explanationWindows.map(WindowCleaning.clean)
            .enumerated()
            .sorted { a, b in a.element.peak != b.element.peak ? a.element.peak > b.element.peak : a.offset < b.offset }
            .prefix(max(settings.llmPromptWindows, 1))
            .map(\.element)
        var lines = ["Excerpts:"]
        for (number, window) in windows.enumerated() {
            let text = zip(window.tokens, window.activations).map { token, activation in
                activation > settings.firingThreshold ? "<<\(display(token))>>" : display(token)
            }.joined(separator: " ")
            lines.append("\(number + 1). \(text)")
        }
        var mass: [Int: Double] = [:]
        for window in windows {
            for (token, activation) in zip(window.tokens, window.activations) where activation > settings.firingThreshold {
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

/// A language model asked, per held-out window, whether an explanation predicts the feature fires
/// there (detection) or on the highlighted token (fuzzing), answering yes or no.
///
/// Windows are shown as display strings separated by spaces; the fuzzing token is marked `<<token>>`.
public struct LLMJudge: DetectionJudge, FuzzingJudge {
    /// The model asked.
    public var client: any LLMClient
    /// The explanation the judge predicts from.
    public var explanation: String
    /// Display string of a token id.
    public var display: @Sendable (Int) -> String

    /// A judge of `explanation` using `client`.
    public init(client: any LLMClient, explanation: String, display: @escaping @Sendable (Int) -> String) {
        self.client = client
        self.explanation = explanation
        self.display = display
    }

    static let systemPrompt = """
        You predict where a feature inside a language model fires, using only its explanation. Text is shown \
        as tokens separated by spaces (␣ marks a space that belongs to a token). Answer with one word: yes or no.
        """

    /// Asks whether the explanation predicts firing anywhere in `tokens`.
    public func predictsFiring(in tokens: [Int]) throws -> Bool {
        let text = tokens.map(display).joined(separator: " ")
        let user = """
            Explanation: \(explanation)
            Text: \(text)
            Does the feature fire on any token of this text? Answer yes or no.
            """
        return try Self.yesOrNo(client.complete(system: Self.systemPrompt, user: user, maxTokens: 5))
    }

    /// Asks whether the explanation predicts firing on `tokens[index]`, shown marked `<<token>>`.
    public func predictsFiring(at index: Int, in tokens: [Int]) throws -> Bool {
        let text = tokens.enumerated().map { position, token in
            position == index ? "<<\(display(token))>>" : display(token)
        }.joined(separator: " ")
        let user = """
            Explanation: \(explanation)
            Text: \(text)
            Is the token marked <<like this>> one the feature fires on? Answer yes or no.
            """
        return try Self.yesOrNo(client.complete(system: Self.systemPrompt, user: user, maxTokens: 5))
    }

    /// `true` for an answer starting with "yes", `false` for "no"; `LLMError.unusableAnswer` otherwise.
    static func yesOrNo(_ reply: String) throws -> Bool {
        let word = reply.lowercased()
            .drop { !$0.isLetter }
            .prefix { $0.isLetter }
        switch word {
        case "yes", "y", "true": return true
        case "no", "n", "false": return false
        default: throw LLMError.unusableAnswer(reply)
        }
    }
}
