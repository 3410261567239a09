/// Predicts from a window's token ids alone where a feature fires and how strongly.
///
/// The scorers (`ExplanationScorer`) accept any predictor: detection asks whether it fires anywhere in a
/// window, fuzzing whether it fires at a highlighted token, simulation compares its activations with the
/// real ones.
public protocol ActivationPredictor: Sendable {
    /// Whether the predictor says the feature fires at each token of `tokens` (same count).
    func predictedFiring(tokens: [Int]) -> [Bool]
    /// The predicted activation at each token of `tokens` (same count); 0 where it does not fire.
    func predictedActivations(tokens: [Int]) -> [Double]
}

/// One member of a token-set rule: the token and the activation predicted on it.
public struct RuleToken: Codable, Sendable, Equatable {
    /// Token id.
    public var token: Int
    /// Predicted activation wherever the token occurs (its mean activation in the explanation windows).
    public var activation: Double
}

/// A simple rule for where a feature fires, fitted on explanation windows by `RuleExplainer`.
///
/// Each rule predicts a fixed activation (the mean activation of the tokens it matches in the explanation
/// windows) on the tokens it matches and 0 elsewhere. Context is looked for inside the window only.
public enum ExplanationRule: Codable, Sendable, Equatable, ActivationPredictor {
    /// Fires on every occurrence of the listed tokens.
    case tokenSet([RuleToken])
    /// Fires on the last token of the n-gram `tokens` (2 or 3 ids, in text order).
    case nGram(tokens: [Int], activation: Double)
    /// Fires on `token` when `context` occurs within the `distance` tokens before it.
    case tokenInContext(token: Int, context: Int, distance: Int, activation: Double)

    /// How complex the rule is: the number of tokens it names; a token-in-context rule counts 3.5 (two
    /// tokens and a distance, more than any n-gram). Multiplied by the penalty when rules are compared.
    public var complexity: Double {
        switch self {
        case .tokenSet(let members): return Double(members.count)
        case .nGram(let tokens, _): return Double(tokens.count)
        case .tokenInContext: return 3.5
        }
    }

    /// Whether the rule matches at each token of `tokens`.
    public func predictedFiring(tokens: [Int]) -> [Bool] {
        switch self {
        case .tokenSet(let members):
            return tokens.map { token in members.contains { $0.token == token } }
        case .nGram(let gram, _):
            guard !gram.isEmpty else { return Array(repeating: false, count: tokens.count) }
            return tokens.indices.map { end in
                end + 1 >= gram.count && Array(tokens[(end + 1 - gram.count)...end]) == gram
            }
        case .tokenInContext(let token, let context, let distance, _):
            return tokens.indices.map { position in
                guard tokens[position] == token, distance > 0 else { return false }
                let first = max(0, position - distance)
                return tokens[first..<position].contains(context)
            }
        }
    }

    /// The rule's activation where it matches, 0 elsewhere.
    public func predictedActivations(tokens: [Int]) -> [Double] {
        let firing = predictedFiring(tokens: tokens)
        switch self {
        case .tokenSet(let members):
            return zip(tokens, firing).map { token, fires in
                fires ? (members.first { $0.token == token }?.activation ?? 0) : 0
            }
        case .nGram(_, let activation), .tokenInContext(_, _, _, let activation):
            return firing.map { $0 ? activation : 0 }
        }
    }

    /// The rule as one sentence, tokens quoted with their display strings, e.g.
    /// `Fires on “year” after “the”.`
    public func sentence(display: (Int) -> String) -> String {
        func quote(_ id: Int) -> String { "“\(display(id))”" }
        switch self {
        case .tokenSet(let members):
            if members.count == 1, let only = members.first {
                return "Fires on the token \(quote(only.token))."
            }
            return "Fires on \(members.map { quote($0.token) }.joined(separator: ", "))."
        case .nGram(let gram, _):
            guard let last = gram.last else { return "Fires on no token." }
            return "Fires on \(quote(last)) after \(gram.dropLast().map(quote).joined(separator: " "))."
        case .tokenInContext(let token, let context, let distance, _):
            if distance == 1 {
                return "Fires on \(quote(token)) right after \(quote(context))."
            }
            return "Fires on \(quote(token)) when \(quote(context)) occurred within the previous \(distance) tokens."
        }
    }
}
