import Foundation
import LoupeCore
import LoupeFindings

/// Scores an explanation with a language model on held-out windows only, several examples per request
/// (`ExplainerSettings.llmBatchSize`), each shown under its number in a shuffled order and answered by
/// number:
///
/// - detection: does the feature fire anywhere in this text? (`llmDetectionWindows` windows, half
///   activating) — balanced accuracy;
/// - fuzzing: are the marked tokens the ones it fires on? (`llmFuzzingWindows` activating windows, half
///   marked on their firing tokens, half on as many others) — balanced accuracy;
/// - simulation: its activation, 0–10, on every token of each text (`llmSimulationWindows` windows,
///   half activating) — Pearson correlation with the real activations over all those tokens.
///
/// The windows are drawn from `HeldOutWindows`, which holds no explanation window.
public struct LLMScorer {
    /// Where requests go.
    public var session: LLMSession
    /// The explanation being scored.
    public var explanation: String
    /// Display string of a token id.
    public var display: (Int) -> String
    public var settings: ExplainerSettings

    public init(session: LLMSession, explanation: String, display: @escaping (Int) -> String, settings: ExplainerSettings) {
        self.session = session
        self.explanation = explanation
        self.display = display
        self.settings = settings
    }

    /// The three scores' windows, drawn from `heldOut` with `rng`.
    public struct Selection: Sendable, Equatable {
        public var detection: [ScoredWindow]
        public var fuzzing: [ScoredWindow]
        public var simulation: [ScoredWindow]

        /// Every window any judge is shown.
        public var all: [ScoredWindow] { detection + fuzzing + simulation }
    }

    /// Draws the windows of each score from `heldOut` (cleaned, each list shuffled).
    public static func select(heldOut: HeldOutWindows, settings: ExplainerSettings, rng: inout SeededRandom) -> Selection {
        let activating = heldOut.activating.map(WindowCleaning.clean)
        let quiet = heldOut.nonActivating.map(WindowCleaning.clean)
        func balanced(_ total: Int) -> [ScoredWindow] {
            let half = (max(total, 0) + 1) / 2
            var firing = shuffled(activating, rng: &rng)
            var silent = shuffled(quiet, rng: &rng)
            let takeFiring = min(firing.count, max(half, total - silent.count))
            firing = Array(firing.prefix(takeFiring))
            silent = Array(silent.prefix(min(silent.count, total - takeFiring)))
            return shuffled(firing + silent, rng: &rng)
        }
        let detection = balanced(settings.llmDetectionWindows)
        let fuzzing = Array(shuffled(activating, rng: &rng).prefix(max(settings.llmFuzzingWindows, 0)))
        let simulation = balanced(settings.llmSimulationWindows)
        return Selection(detection: detection, fuzzing: fuzzing, simulation: simulation)
    }

    /// Detection, fuzzing and simulation on `selection`, and what the requests cost. Throws
    /// `LLMCallFailure` (with the cost so far) when a request gives no usable answer after retries.
    public func score(_ selection: Selection, rng: inout SeededRandom) throws -> (scores: ExplanationScores, cost: LLMCost) {
        var cost = LLMCost()
        let detection = try detectionScore(selection.detection, cost: &cost)
        let fuzzing = try fuzzingScore(selection.fuzzing, rng: &rng, cost: &cost)
        let simulation = try simulationScore(selection.simulation, cost: &cost)
        let scored = Set((selection.detection + selection.fuzzing + selection.simulation).map { WindowKey($0) }).count
        return (ExplanationScores(detection: detection, fuzzing: fuzzing, simulation: simulation, heldOutExamples: scored), cost)
    }

    static let systemPrompt = """
        You predict where a feature inside a language model fires, using only its explanation. Texts are \
        shown as tokens separated by spaces (␣ marks a space that belongs to a token), each after its number. \
        Answer every numbered text, one line per text, starting with its number, and nothing else.
        """

    /// Balanced accuracy of "fires somewhere in this text" over `windows`.
    func detectionScore(_ windows: [ScoredWindow], cost: inout LLMCost) throws -> Double {
        let texts = windows.map { $0.tokens.map(display).joined(separator: " ") }
        let answers = try ask(texts, question: "Does the feature fire on any token of the text? Answer `<number>: yes` or `<number>: no`.",
                              tokensPerAnswer: 6, cost: &cost, parse: Self.yesOrNo)
        let truth = windows.map { $0.activations.contains { $0 > settings.firingThreshold } }
        return Self.balancedAccuracy(answers, truth)
    }

    /// Balanced accuracy of "the marked tokens are where it fires" over `windows`, half marked right.
    func fuzzingScore(_ windows: [ScoredWindow], rng: inout SeededRandom, cost: inout LLMCost) throws -> Double {
        var texts: [String] = []
        var truth: [Bool] = []
        for (index, window) in windows.enumerated() {
            let firing = window.activations.indices.filter { window.activations[$0] > settings.firingThreshold }
            let other = window.activations.indices.filter { !(window.activations[$0] > settings.firingThreshold) }
            let marks = ExplanationScorer.sample(firing, count: min(firing.count, max(settings.maxHighlightsPerWindow, 1)), rng: &rng)
            let right = index % 2 == 0 || other.isEmpty
            let marked = Set(right ? marks : ExplanationScorer.sample(other, count: min(marks.count, other.count), rng: &rng))
            texts.append(window.tokens.enumerated().map { position, token in
                marked.contains(position) ? "<<\(display(token))>>" : display(token)
            }.joined(separator: " "))
            truth.append(right)
        }
        let order = Self.shuffled(Array(texts.indices), rng: &rng)
        let answers = try ask(order.map { texts[$0] },
                              question: "Some tokens of each text are marked <<like this>>. Is the feature active on the marked tokens? Answer `<number>: yes` or `<number>: no`.",
                              tokensPerAnswer: 6, cost: &cost, parse: Self.yesOrNo)
        return Self.balancedAccuracy(answers, order.map { truth[$0] })
    }

    /// Pearson correlation of the simulated 0–10 activations with the real ones over every token of `windows`.
    func simulationScore(_ windows: [ScoredWindow], cost: inout LLMCost) throws -> Double {
        let texts = windows.map { window in
            "(\(window.tokens.count) tokens) " + window.tokens.map(display).joined(separator: " ")
        }
        var predicted: [Double] = []
        var real: [Double] = []
        for batch in Self.batches(windows.count, size: settings.llmBatchSize) {
            let lengths = windows[batch].map(\.tokens.count)
            let values = try ask(Array(texts[batch]),
                                 question: "For each text, predict the feature's activation on every token, in order, as an integer from 0 (not active) to 10 (most active). Answer `<number>: ` followed by one integer per token, separated by spaces.",
                                 tokensPerAnswer: 2 * (lengths.max() ?? 0) + 6, cost: &cost) { answer, index in
                try Self.levels(answer, count: lengths[index])
            }
            for (offset, levels) in values.enumerated() {
                predicted += levels
                real += windows[batch.lowerBound + offset].activations.map(Double.init)
            }
        }
        return ExplanationScorer.pearson(predicted, real)
    }

    /// Asks `question` about `texts` in batches, parsing each numbered answer with `parse`.
    private func ask<Answer>(
        _ texts: [String], question: String, tokensPerAnswer: Int, cost: inout LLMCost, parse: @escaping (String) throws -> Answer
    ) throws -> [Answer] {
        var answers: [Answer] = []
        for batch in Self.batches(texts.count, size: settings.llmBatchSize) {
            answers += try ask(Array(texts[batch]), question: question, tokensPerAnswer: tokensPerAnswer, cost: &cost) { answer, _ in
                try parse(answer)
            }
        }
        return answers
    }

    /// One request about `texts` (numbered from 1); the answers in text order.
    private func ask<Answer>(
        _ texts: [String], question: String, tokensPerAnswer: Int, cost: inout LLMCost,
        parse: (String, Int) throws -> Answer
    ) throws -> [Answer] {
        guard !texts.isEmpty else { return [] }
        var lines = ["Explanation: \(explanation)", "", question, "", "Texts:"]
        for (offset, text) in texts.enumerated() { lines.append("\(offset + 1). \(text)") }
        let request = LLMRequest(system: Self.systemPrompt, user: lines.joined(separator: "\n"),
                                 maxTokens: texts.count * tokensPerAnswer + 16)
        do {
            let (answers, spent) = try session.complete(request) { reply in
                let byNumber = try Self.numberedAnswers(reply, numbers: 1..<(texts.count + 1))
                return try byNumber.enumerated().map { try parse($1, $0) }
            }
            cost += spent
            return answers
        } catch let failure as LLMCallFailure {
            var spent = failure.cost
            spent += cost
            throw LLMCallFailure(error: failure.error, cost: spent)
        }
    }

    /// The answer after each number of `numbers`, in order: lines `<number>: <answer>` (also `.`, `)` or
    /// `-` after the number); `LLMError.unusableAnswer` when a number is missing or repeated.
    static func numberedAnswers(_ reply: String, numbers: Range<Int>) throws -> [String] {
        var found: [Int: String] = [:]
        for line in reply.split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces).drop { "*#`".contains($0) }
            let digits = text.prefix { $0.isNumber }
            guard let number = Int(digits), numbers.contains(number) else { continue }
            var rest = text.dropFirst(digits.count).drop { $0 == "*" || $0 == " " }
            guard let mark = rest.first, ":.)-".contains(mark) else { continue }
            rest = rest.dropFirst()
            guard found[number] == nil else { throw LLMError.unusableAnswer(reply) }
            found[number] = rest.trimmingCharacters(in: CharacterSet(charactersIn: " *\t"))
        }
        return try numbers.map { number in
            guard let answer = found[number] else { throw LLMError.unusableAnswer(reply) }
            return answer
        }
    }

    /// `true` for an answer starting with "yes", `false` for "no"; `LLMError.unusableAnswer` otherwise.
    static func yesOrNo(_ reply: String) throws -> Bool {
        let word = reply.lowercased().drop { !$0.isLetter }.prefix { $0.isLetter }
        switch word {
        case "yes", "y", "true": return true
        case "no", "n", "false": return false
        default: throw LLMError.unusableAnswer(reply)
        }
    }

    /// `count` integers 0–10 from an answer; `LLMError.unusableAnswer` for another count or a non-number.
    static func levels(_ answer: String, count: Int) throws -> [Double] {
        let words = answer.split { $0 == " " || $0 == "," || $0 == "\t" }
        let values = words.compactMap { Int($0) }
        guard values.count == words.count, values.count == count else { throw LLMError.unusableAnswer(answer) }
        return values.map { Double(min(10, max(0, $0))) }
    }

    static func balancedAccuracy(_ said: [Bool], _ truth: [Bool]) -> Double {
        var (truePositives, positives, trueNegatives, negatives) = (0, 0, 0, 0)
        for (answer, real) in zip(said, truth) {
            if real {
                positives += 1
                if answer { truePositives += 1 }
            } else {
                negatives += 1
                if !answer { trueNegatives += 1 }
            }
        }
        return ExplanationScorer.balancedAccuracy(
            truePositives: truePositives, positives: positives, trueNegatives: trueNegatives, negatives: negatives)
    }

    /// Consecutive ranges of at most `size` (≥ 1) covering `0..<count`.
    static func batches(_ count: Int, size: Int) -> [Range<Int>] {
        let step = max(size, 1)
        return stride(from: 0, to: count, by: step).map { $0..<min(count, $0 + step) }
    }

    /// `values` in a random order (Fisher–Yates).
    static func shuffled<T>(_ values: [T], rng: inout SeededRandom) -> [T] {
        var result = values
        guard result.count > 1 else { return result }
        for i in stride(from: result.count - 1, to: 0, by: -1) { result.swapAt(i, rng.nextInt(below: i + 1)) }
        return result
    }
}

/// A window's identity (document and start), to count distinct windows.
private struct WindowKey: Hashable {
    let document: Int
    let start: Int
    init(_ window: ScoredWindow) {
        document = window.document
        start = window.start
    }
}
