import LoupeCore
import LoupeModel

/// The toy world: a small synthetic language, one token per word, punctuation mark, letter and two-digit
/// number, whose documents mix filler sentences with instances of five tasks (`ioi`, `greater_than`,
/// `counting`, `induction`, `docstring`), each also available as clean/corrupted prompt pairs.
///
/// The vocabulary is fixed (id 0 is `<|endoftext|>`, id 1 `<unk>`); every random choice comes from the
/// `SeededRandom` passed in, so a seed determines every sequence, document and example on every machine.
public struct ToyWorld: Sendable {
    /// The tokens, id = index.
    public let vocabulary: [String]
    /// The word-level tokenizer of `vocabulary`.
    public let tokenizer: WordTokenizer
    /// The five tasks in fixed order: ioi, greater_than, counting, induction, docstring.
    public let tasks: [any ToyTask]
    /// Probability that a document sentence is a task instance rather than filler.
    public static let taskRate = 0.5

    private let filler: FillerGrammar

    /// The world with its fixed vocabulary.
    public init() {
        let words = ToyVocabulary(tokens: ToyLexicon.vocabulary)
        vocabulary = words.tokens
        do {
            tokenizer = try WordTokenizer(tokens: words.tokens, unknown: ToyLexicon.unknown)
        } catch {
            preconditionFailure("the fixed toy vocabulary is not a valid word vocabulary: \(error)")
        }
        tasks = [
            IOITask(vocabulary: words), GreaterThanTask(vocabulary: words), CountingTask(vocabulary: words),
            InductionTask(vocabulary: words), DocstringTask(vocabulary: words),
        ]
        filler = FillerGrammar(vocabulary: words)
    }

    /// The longest task prompt plus its answer, in tokens: the shortest context a model needs for
    /// every task (docstring: 32 + 1; counting: `<|endoftext|>`, up to 12 letters, `|`, target, `:`
    /// and the answer; induction: `<|endoftext|>`, up to 10 tokens and 9 of their repeat, and the answer).
    public static var longestTaskLength: Int {
        max(DocstringTask.promptLength, IOITask.promptLength, GreaterThanTask.promptLength,
            1 + CountingTask.lengths.upperBound + 3, 1 + 2 * InductionTask.lengths.upperBound - 1) + 1
    }

    /// The id of `<|endoftext|>` (0).
    public var endOfTextID: Int { 0 }

    /// The task called `name`, if any.
    public func task(named name: String) -> (any ToyTask)? {
        tasks.first { $0.name == name }
    }

    /// One sentence of a document (no `<|endoftext|>`): with probability `taskRate` an instance of a task
    /// chosen uniformly, with its answer; otherwise a filler sentence.
    public func sentence(rng: inout SeededRandom) -> [Int] {
        if Double(rng.nextUniform()) < Self.taskRate {
            return ToyDraw.one(tasks, &rng).sentence(rng: &rng)
        }
        return filler.sentence(rng: &rng)
    }

    /// One filler sentence (no task instance, no `<|endoftext|>`).
    public func filler(rng: inout SeededRandom) -> [Int] {
        filler.sentence(rng: &rng)
    }

    /// One training sequence of exactly `length` ids (`[length]`, empty when `length ≤ 0`):
    /// `<|endoftext|>`, then sentences, the last one cut at `length`.
    public func sequence(length: Int, rng: inout SeededRandom) -> [Int] {
        guard length > 0 else { return [] }
        var ids = [endOfTextID]
        while ids.count < length {
            ids += sentence(rng: &rng)
        }
        return Array(ids.prefix(length))
    }

    /// `count` documents as text (tokens joined by single spaces, no `<|endoftext|>`), for corpora.
    /// Each holds whole sentences, as many as fit in `length` tokens (at least one, which may be longer).
    /// A sentence that does not fit ends the document and is discarded.
    public func documents(count: Int, length: Int, rng: inout SeededRandom) -> [String] {
        (0..<max(count, 0)).map { _ in
            var ids: [Int] = []
            while true {
                let next = sentence(rng: &rng)
                if !ids.isEmpty && ids.count + next.count > length { break }
                ids += next
                if ids.count >= length { break }
            }
            return tokenizer.decode(ids)
        }
    }

    /// The text of `ids` (tokens joined by single spaces).
    public func render(_ ids: [Int]) -> String { tokenizer.decode(ids) }
}
