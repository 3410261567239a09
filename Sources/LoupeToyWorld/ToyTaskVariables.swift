/// The variables of the toy-task instance at a position of a toy-world token sequence: what a decoded
/// neighbourhood's samples may have in common beyond their tokens.
///
/// A sequence is read with the fixed toy vocabulary (`ToyWorld().tokenizer`); it may be a task prompt
/// (`TaskExample.clean`), a training sentence or sequence, or a document, with or without `<|endoftext|>`.
/// The instance is the one whose span holds `position`: its prompt, then (when present) its answer and
/// the closing `.`. It is found by the exact layouts of `CountingTask` and `IOITask`:
///
/// - counting: a maximal run of 3…12 letters (no letter right before it), `|`, the target letter, `:`.
///   Variables `task` = `counting`, `count` = occurrences of the target in the run (the task's correct
///   answer, e.g. `3`), `target letter` (e.g. `“b”`), `string length` (e.g. `7`).
/// - IOI: opener, name, `and`, another name, `went to the`, place, `,`, one of the two names again (S),
///   verb, `a`, object, `to`. Variables `task` = `IOI`, `indirect object` (the name not repeated, e.g.
///   `“Mary”`) and `subject` (e.g. `“John”`). A corrupted prompt (a third name at S) is not an instance.
///
/// Values are phrased for sentences such as “the count is 3”: numbers as digits, tokens in curly quotes.
/// Anything else (filler, other tasks, a cut instance) has no variables: the result is empty.
public enum ToyTaskVariables {
    private static let vocabulary = ToyVocabulary(tokens: ToyLexicon.vocabulary)
    private static let letters = Set(vocabulary.ids(ToyLexicon.letters))
    private static let names = Set(vocabulary.ids(ToyLexicon.names))
    private static let openers = Set(vocabulary.ids(ToyLexicon.ioiOpeners))
    private static let places = Set(vocabulary.ids(ToyLexicon.ioiPlaces))
    private static let verbs = Set(vocabulary.ids(ToyLexicon.ioiVerbs))
    private static let objects = Set(vocabulary.ids(ToyLexicon.ioiObjects))
    /// Tokens from an instance's first token to its closing `.`, at most: counting 12 letters + `| x : k .`.
    private static let longestSpan = CountingTask.lengths.upperBound + 5

    /// The variables of the counting or IOI instance whose span holds `position` (an index into `tokens`),
    /// or an empty dictionary when there is none.
    public static func variables(of tokens: [Int], at position: Int) -> [String: String] {
        guard tokens.indices.contains(position) else { return [:] }
        for start in stride(from: position, through: max(0, position - longestSpan), by: -1) {
            if let found = counting(tokens, start: start), position <= found.end { return found.variables }
            if let found = ioi(tokens, start: start), position <= found.end { return found.variables }
        }
        return [:]
    }

    /// The variables of the instance at the end of `tokens` (its last position): for a task prompt.
    public static func variables(of tokens: [Int]) -> [String: String] {
        variables(of: tokens, at: tokens.count - 1)
    }

    private static func token(_ tokens: [Int], _ index: Int) -> Int? {
        tokens.indices.contains(index) ? tokens[index] : nil
    }

    private static func quoted(_ id: Int) -> String { "“\(vocabulary.tokens[id])”" }

    /// The last position of an instance whose prompt ends at `promptEnd`: the answer and `.` when present.
    private static func end(_ tokens: [Int], promptEnd: Int) -> Int {
        token(tokens, promptEnd + 2) == vocabulary.id(".") ? promptEnd + 2 : min(promptEnd + 1, tokens.count - 1)
    }

    private static func counting(_ tokens: [Int], start: Int) -> (end: Int, variables: [String: String])? {
        if let before = token(tokens, start - 1), letters.contains(before) { return nil }
        var length = 0
        while let next = token(tokens, start + length), letters.contains(next) { length += 1 }
        guard CountingTask.lengths.contains(length),
            token(tokens, start + length) == vocabulary.id("|"),
            let target = token(tokens, start + length + 1), letters.contains(target),
            token(tokens, start + length + 2) == vocabulary.id(":")
        else { return nil }
        let count = tokens[start..<(start + length)].filter { $0 == target }.count
        let variables = [
            "task": CountingTask.taskName, "count": String(count), "target letter": quoted(target),
            "string length": String(length),
        ]
        return (end(tokens, promptEnd: start + length + 2), variables)
    }

    private static func ioi(_ tokens: [Int], start: Int) -> (end: Int, variables: [String: String])? {
        let v = vocabulary
        func at(_ offset: Int, in set: Set<Int>) -> Int? {
            guard let id = token(tokens, start + offset), set.contains(id) else { return nil }
            return id
        }
        func at(_ offset: Int, is word: String) -> Bool { token(tokens, start + offset) == v.id(word) }
        guard at(0, in: openers) != nil, let first = at(1, in: names), at(2, is: "and"),
            let second = at(3, in: names), second != first,
            at(4, is: "went"), at(5, is: "to"), at(6, is: "the"), at(7, in: places) != nil, at(8, is: ","),
            let subject = at(9, in: [first, second]), at(10, in: verbs) != nil, at(11, is: "a"),
            at(12, in: objects) != nil, at(13, is: "to")
        else { return nil }
        let indirectObject = subject == first ? second : first
        let variables = [
            "task": "IOI", "indirect object": quoted(indirectObject), "subject": quoted(subject),
        ]
        return (end(tokens, promptEnd: start + 13), variables)
    }
}
