import LoupeCore

/// One prompt pair of a toy task, as token ids of the toy vocabulary.
///
/// `clean` and `corrupted` have the same length `T` and both start with `<|endoftext|>`; the model's
/// prediction is read at the last position (`T − 1`), right before the answer.
public struct TaskExample: Sendable, Equatable, Codable {
    /// The prompt (`[T]` ids, starting with `<|endoftext|>`), ending right before the answer.
    public var clean: [Int]
    /// The prompt with the task's mechanism removed (`[T]` ids); differs from `clean` where the task says.
    public var corrupted: [Int]
    /// Answer ids counted as correct: one id, except for greater-than (every year above the start year).
    public var correct: [Int]
    /// Answer ids counted as wrong (disjoint from `correct`).
    public var wrong: [Int]

    /// An example from its prompts and answer sets.
    public init(clean: [Int], corrupted: [Int], correct: [Int], wrong: [Int]) {
        self.clean = clean
        self.corrupted = corrupted
        self.correct = correct
        self.wrong = wrong
    }
}

/// A task of the toy world: a sentence template whose last word the model must infer from the rest.
///
/// The same draws start `example` and `sentence`: with two copies of one generator, the sentence begins
/// with the example's clean prompt (without `<|endoftext|>`) followed by a correct answer.
public protocol ToyTask: Sendable {
    /// The task's name (`ioi`, `greater_than`, `counting`, `induction`, `docstring`).
    static var taskName: String { get }
    /// The task's name, `taskName`.
    var name: String { get }
    /// A clean/corrupted prompt pair with its correct and wrong answers.
    func example(rng: inout SeededRandom) -> TaskExample
    /// The full sentence with its answer, as it appears in training documents (no `<|endoftext|>`).
    func sentence(rng: inout SeededRandom) -> [Int]
}

extension ToyTask {
    public var name: String { Self.taskName }

    /// `count` examples drawn one after another from `rng`.
    public func examples(count: Int, rng: inout SeededRandom) -> [TaskExample] {
        (0..<max(count, 0)).map { _ in example(rng: &rng) }
    }
}

/// Draws from the toy world's fixed, non-empty lists.
enum ToyDraw {
    /// A uniform element of `items` (which must not be empty).
    static func one<T>(_ items: [T], _ rng: inout SeededRandom) -> T {
        items[rng.nextInt(below: items.count)]
    }

    /// A uniform integer in `range` (which must not be empty).
    static func int(_ range: ClosedRange<Int>, _ rng: inout SeededRandom) -> Int {
        range.lowerBound + rng.nextInt(below: range.count)
    }

    /// `count` distinct elements of `items` in random order (partial Fisher–Yates); `count ≤ items.count`.
    static func distinct<T>(_ items: [T], count: Int, _ rng: inout SeededRandom) -> [T] {
        var pool = items
        let count = min(count, pool.count)
        for i in 0..<count {
            pool.swapAt(i, i + rng.nextInt(below: pool.count - i))
        }
        return Array(pool[0..<count])
    }

    /// A uniform element of `items` that is not in `excluded` (at least one must remain).
    static func other<T: Equatable>(_ items: [T], excluding excluded: [T], _ rng: inout SeededRandom) -> T {
        one(items.filter { !excluded.contains($0) }, &rng)
    }
}
