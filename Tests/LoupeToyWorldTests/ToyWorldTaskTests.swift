import LoupeCore
import LoupeModel
import Testing
@testable import LoupeToyWorld

@Suite("ToyWorld: task examples")
struct ToyWorldTaskTests {
    let world = ToyWorld()
    let count = 300

    func id(_ word: String) -> Int { world.tokenizer.id(for: word) ?? -1 }
    func ids(_ words: [String]) -> Set<Int> { Set(words.map(id)) }
    func task(_ name: String) throws -> any ToyTask { try #require(world.task(named: name)) }

    /// Positions where the clean and corrupted prompts differ.
    func differences(_ example: TaskExample) -> [Int] {
        zip(example.clean, example.corrupted).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
    }

    /// Checks that hold for every task; returns examples with the sentence drawn from the same state.
    func commonChecks(_ task: any ToyTask, seed: UInt64) -> [(TaskExample, [Int])] {
        var rng = SeededRandom(seed: seed)
        var pairs: [(TaskExample, [Int])] = []
        for _ in 0..<count {
            var sentenceRNG = rng
            let example = task.example(rng: &rng)
            let sentence = task.sentence(rng: &sentenceRNG)
            pairs.append((example, sentence))
            #expect(example.clean.count == example.corrupted.count)
            #expect(example.clean.first == 0 && example.corrupted.first == 0)
            #expect(example.clean.count <= 40)
            #expect(!example.correct.isEmpty && !example.wrong.isEmpty)
            #expect(Set(example.correct).isDisjoint(with: example.wrong))
            #expect(!differences(example).isEmpty)
            let all = example.clean + example.corrupted + example.correct + example.wrong + sentence
            #expect(all.allSatisfy { $0 >= 0 && $0 < world.vocabulary.count })
            #expect(!all.contains(1))
            #expect(!sentence.contains(0))
            // The sentence is the clean prompt followed by a correct answer.
            let prompt = Array(example.clean.dropFirst())
            #expect(Array(sentence.prefix(prompt.count)) == prompt, "\(task.name)")
            if sentence.count > prompt.count {
                #expect(example.correct.contains(sentence[prompt.count]), "\(task.name)")
            } else {
                Issue.record("\(task.name): sentence has no answer")
            }
        }
        return pairs
    }

    @Test func ioi() throws {
        let task = try task("ioi")
        let names = ids(ToyLexicon.names)
        var abba = 0
        for (example, sentence) in commonChecks(task, seed: 1) {
            let clean = example.clean
            #expect(clean.count == IOITask.promptLength)
            #expect(differences(example) == [IOITask.subjectPosition])
            let (first, second, subject) = (clean[2], clean[4], clean[10])
            #expect(names.isSuperset(of: [first, second, subject]))
            #expect(first != second)
            #expect(subject == first || subject == second)
            let io = subject == first ? second : first
            if io == first { abba += 1 }
            #expect(example.correct == [io] && example.wrong == [subject])
            let third = example.corrupted[10]
            #expect(names.contains(third) && third != first && third != second)
            #expect(world.tokenizer.decode(Array(clean[5...7])) == "went to the")
            #expect(world.tokenizer.decode(Array(sentence.suffix(2))) == "\(world.vocabulary[io]) .")
        }
        #expect(abba > count * 4 / 10 && abba < count * 6 / 10, "ABBA and BABA about equally often")
    }

    @Test func greaterThan() throws {
        let task = try task("greater_than")
        let years = (0..<100).map { String(format: "%02d", $0) }.map(id)
        for (example, sentence) in commonChecks(task, seed: 2) {
            let clean = example.clean
            #expect(clean.count == GreaterThanTask.promptLength)
            #expect(differences(example) == [GreaterThanTask.startYearPosition])
            #expect(example.corrupted[8] == id("01"))
            #expect(clean[7] == clean[12] && ids(ToyLexicon.centuries).contains(clean[7]))
            let start = try #require(years.firstIndex(of: clean[8]))
            #expect((2...98).contains(start))
            #expect(example.correct == Array(years[(start + 1)...]))
            #expect(example.wrong == Array(years[...start]))
            #expect(sentence.count == clean.count + 1 && sentence.last == id("."))
        }
    }

    @Test func counting() throws {
        let task = try task("counting")
        let letters = ids(ToyLexicon.letters)
        var counts: Set<Int> = []
        for (example, _) in commonChecks(task, seed: 3) {
            let clean = example.clean
            let length = clean.count - 4
            #expect(CountingTask.lengths.contains(length))
            #expect(clean[length + 1] == id("|") && clean[length + 3] == id(":"))
            let string = Array(clean[1...length])
            let target = clean[length + 2]
            #expect(string.allSatisfy(letters.contains) && letters.contains(target))
            let k = string.filter { $0 == target }.count
            counts.insert(k)
            #expect(k >= 1 && k <= 6)
            #expect(example.correct == [id(String(format: "%02d", k))])
            #expect(example.wrong == [id(String(format: "%02d", k - 1))])
            let changed = differences(example)
            #expect(changed.count == 1)
            if let position = changed.first {
                #expect((1...length).contains(position))
                #expect(clean[position] == target)
                #expect(letters.contains(example.corrupted[position]) && example.corrupted[position] != target)
            }
            #expect(Array(example.corrupted[1...length]).filter { $0 == target }.count == k - 1)
        }
        #expect(counts == Set(1...6))
    }

    @Test func induction() throws {
        let task = try task("induction")
        let pool = ids(ToyLexicon.inductionPool)
        for (example, sentence) in commonChecks(task, seed: 4) {
            let clean = example.clean
            let n = (sentence.count - 1) / 2
            #expect(InductionTask.lengths.contains(n))
            let first = Array(clean[1...n])
            #expect(Set(first).count == n && first.allSatisfy(pool.contains))
            let k = clean.count - 1 - n
            #expect(k >= 2 && k <= n - 1)
            #expect(Array(clean[(n + 1)...]) == Array(first[0..<k]))
            #expect(example.correct == [first[k]])
            #expect(example.wrong.count == 1 && first.contains(example.wrong[0]) && example.wrong[0] != first[k])
            #expect(differences(example) == [1 + k])
            let replacement = example.corrupted[1 + k]
            #expect(pool.contains(replacement) && !first.contains(replacement))
            #expect(sentence == first + first + [id(".")])
        }
    }

    @Test func docstring() throws {
        let task = try task("docstring")
        let arguments = ids(ToyLexicon.argumentNames)
        for (example, sentence) in commonChecks(task, seed: 5) {
            let clean = example.clean
            #expect(clean.count == DocstringTask.promptLength)
            let defined = DocstringTask.definitionPositions.map { clean[$0] }
            #expect(Set(defined).count == 3 && defined.allSatisfy(arguments.contains))
            #expect(clean[18] == defined[0] && clean[21] == defined[0])
            #expect(clean[25] == defined[1] && clean[28] == defined[1])
            #expect(clean[2] == clean[12])
            #expect(Array(clean.suffix(2)) == [id(":"), id("param")])
            #expect(example.correct == [defined[2]])
            #expect(example.wrong.count == 1 && defined[0..<2].contains(example.wrong[0]))
            #expect(differences(example) == DocstringTask.definitionPositions)
            let replaced = DocstringTask.definitionPositions.map { example.corrupted[$0] }
            #expect(Set(replaced).count == 3 && replaced.allSatisfy { arguments.contains($0) && !defined.contains($0) })
            #expect(world.tokenizer.decode(Array(sentence.suffix(6))) == "\(world.vocabulary[defined[2]]) : the \(world.vocabulary[defined[2]]) . \"\"\"")
        }
    }

    @Test func renderedPromptsReadAsDescribed() throws {
        var rng = SeededRandom(seed: 9)
        let ioi = try task("ioi").example(rng: &rng)
        let text = world.render(ioi.clean)
        #expect(text.hasPrefix("<|endoftext|> "))
        #expect(text.contains(" went to the ") && text.hasSuffix(" to"))
        let docstring = try task("docstring").example(rng: &rng)
        #expect(world.render(docstring.clean).hasPrefix("<|endoftext|> def "))
        #expect(world.tokenizer.encode(world.render(docstring.corrupted)) == docstring.corrupted)
    }
}
