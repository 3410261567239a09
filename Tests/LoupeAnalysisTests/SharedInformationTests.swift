import LoupeCore
import LoupeFindings
import LoupeToyWorld
import Testing
@testable import LoupeAnalysis

@Suite("Neighbourhoods: shared information")
struct SharedInformationTests {
    static func sample(_ tokens: [Int], _ matched: Int) -> NeighbourhoodSample {
        NeighbourhoodSample(tokens: tokens, matchedPosition: matched, distance: 0)
    }

    static let display: (Int) -> String = { "t\($0)" }

    /// Inside: matched token 50 and token 30 two before it; everything else varies.
    static let inside = [
        sample([1, 30, 11, 50], 3),
        sample([2, 3, 30, 12, 50, 7], 4),
        sample([30, 13, 50, 8, 9], 2),
    ]
    /// Outside: one sample with matched token 50, none with 30 two before; sample 0 shares −1 and −3 with
    /// one inside sample only.
    static let outside = [
        sample([1, 31, 11, 51], 3),
        sample([2, 32, 12, 52], 3),
        sample([5, 14, 15, 50], 3),
        sample([6, 33, 16, 53], 3),
    ]

    @Test("the matched token and the token 2 before, with exact sentences and support")
    func handMade() {
        let shared = SharedInformation.statements(inside: Self.inside, outside: Self.outside, display: Self.display)
        #expect(
            shared == [
                SharedStatement(
                    statement: "the token 2 before the matched one is “t30”", support: "3 of 3 inside ε; 0 of 4 outside"),
                SharedStatement(statement: "the matched token is “t50”", support: "3 of 3 inside ε; 1 of 4 outside"),
            ])
    }

    @Test("a property held as often outside as inside, or not often enough inside, is not stated")
    func equalShares() {
        // Every sample has matched token 9; only the token before it (7 inside, 8 outside) tells them apart.
        let inside = [Self.sample([1, 7, 9], 2), Self.sample([2, 7, 9], 2), Self.sample([3, 7, 9], 2)]
        let outside = [Self.sample([1, 8, 9], 2), Self.sample([2, 8, 9], 2)]
        let shared = SharedInformation.statements(inside: inside, outside: outside, display: Self.display)
        #expect(shared.map(\.statement) == ["the token before the matched one is “t7”"])
        #expect(shared.map(\.support) == ["3 of 3 inside ε; 0 of 2 outside"])

        // Token 7 before the matched one in 9 of 10 inside and 7 of 10 outside: a gap of 0.2 < 0.3.
        let nearInside = (0..<10).map { Self.sample([$0 == 0 ? 6 : 7, 9], 1) }
        let nearOutside = (0..<10).map { Self.sample([$0 < 7 ? 7 : 5, 9], 1) }
        #expect(SharedInformation.statements(inside: nearInside, outside: nearOutside, display: Self.display).isEmpty)
        // 7 of 10 inside and none outside: below the 80 % inside share.
        let fewInside = (0..<10).map { Self.sample([$0 < 7 ? 7 : 20 + $0, 9, 30 + $0], 1) }
        let fewOutside = (0..<10).map { Self.sample([5, 8, 40 + $0, 0], 1) }
        let few = SharedInformation.statements(inside: fewInside, outside: fewOutside, display: Self.display)
        #expect(few.map(\.statement) == ["the matched token is “t9”", "the input is 3 tokens long"])
    }

    @Test("statements are ordered by gap, ties by property, and capped")
    func orderingAndCap() {
        let inside = [Self.sample([1, 2, 3, 4, 5, 6, 7, 8, 9], 4), Self.sample([1, 2, 3, 4, 5, 6, 7, 8, 9], 4)]
        // One outside sample has matched token 5 (gap 0.75); every other property has gap 1.
        let outside = [Self.sample([0, 0, 0, 0, 5, 0, 0, 0, 0, 0], 4)]
            + (0..<3).map { _ in Self.sample(Array(repeating: 0, count: 10), 4) }
        let capped = SharedInformation.statements(inside: inside, outside: outside, display: Self.display)
        #expect(
            capped.map(\.statement) == [
                "the token before the matched one is “t4”",
                "the token 2 before the matched one is “t3”",
                "the token 3 before the matched one is “t2”",
                "the token 4 before the matched one is “t1”",
                "the token after the matched one is “t6”",
            ])
        let all = SharedInformation.statements(
            inside: inside, outside: outside, display: Self.display,
            options: SharedInformation.Options(maximumStatements: 20))
        #expect(all.count == 10)
        #expect(Array(all.prefix(5)) == capped)
        #expect(
            all.suffix(5).map(\.statement) == [
                "the token 2 after the matched one is “t7”",
                "the token 3 after the matched one is “t8”",
                "the token 4 after the matched one is “t9”",
                "the input is 9 tokens long",
                "the matched token is “t5”",
            ])
        #expect(all.last?.support == "2 of 2 inside ε; 1 of 4 outside")
        let two = SharedInformation.statements(
            inside: inside, outside: outside, display: Self.display,
            options: SharedInformation.Options(maximumStatements: 2))
        #expect(two == Array(capped.prefix(2)))
    }

    @Test("a leading BOS is not counted in the length")
    func lengthWithoutBOS() {
        let inside = [Self.sample([0, 1, 2], 2), Self.sample([0, 3, 4], 2)]
        let outside = [Self.sample([0, 5, 6, 7], 3)]
        let shared = SharedInformation.statements(
            inside: inside, outside: outside, display: Self.display, options: SharedInformation.Options(bos: 0))
        #expect(shared.map(\.statement) == ["the token 2 before the matched one is “t0”", "the input is 2 tokens long"])
    }

    @Test("a property the query does not hold is not stated")
    func queryMustHoldIt() {
        let query = Self.sample([2, 30, 3, 99, 50], 4)
        let shared = SharedInformation.statements(
            inside: Self.inside, outside: Self.outside, query: query, display: Self.display)
        #expect(shared.map(\.statement) == ["the matched token is “t50”"])
        let other = Self.sample([2, 3, 31, 99, 51], 4)
        #expect(
            SharedInformation.statements(inside: Self.inside, outside: Self.outside, query: other, display: Self.display)
                .isEmpty)
    }

    @Test("no inside samples, no statements")
    func noInside() {
        #expect(SharedInformation.statements(inside: [], outside: Self.outside, display: Self.display).isEmpty)
        #expect(SharedInformation.statements(inside: [], outside: [], display: Self.display).isEmpty)
    }

    @Test("the same input gives the same output, whatever the samples' order")
    func determinism() {
        let world = ToyWorld()
        var rng = SeededRandom(seed: 11)
        let samples = (0..<40).map { _ -> NeighbourhoodSample in
            let tokens = world.sequence(length: 24, rng: &rng)
            return Self.sample(tokens, 8 + rng.nextInt(below: 16))
        }
        let inside = Array(samples.prefix(12))
        let outside = Array(samples.suffix(28))
        let variables: (NeighbourhoodSample) -> [String: String] = {
            ToyTaskVariables.variables(of: $0.tokens, at: $0.matchedPosition)
        }
        let options = SharedInformation.Options(minimumInsideShare: 0.1, minimumGap: 0, maximumStatements: 50)
        func run(_ inside: [NeighbourhoodSample], _ outside: [NeighbourhoodSample]) -> [SharedStatement] {
            SharedInformation.statements(
                inside: inside, outside: outside, display: { world.vocabulary[$0] }, variables: variables,
                options: options)
        }
        let first = run(inside, outside)
        #expect(!first.isEmpty)
        #expect(run(inside, outside) == first)
        #expect(run(inside.reversed(), outside.reversed()) == first)
        #expect(
            SharedInformation.statements(inside: Self.inside, outside: Self.outside, display: Self.display)
                == SharedInformation.statements(
                    inside: Self.inside.reversed(), outside: Self.outside.reversed(), display: Self.display))
    }
}

@Suite("Neighbourhoods: toy-task variables")
struct SharedInformationToyVariablesTests {
    let world = ToyWorld()

    func number(_ id: Int) -> Int? { Int(world.vocabulary[id]) }
    func quoted(_ id: Int) -> String { "“\(world.vocabulary[id])”" }

    @Test("counting prompts: the count is the correct answer, the target the letter before the colon")
    func countingExamples() throws {
        let task = try #require(world.task(named: "counting"))
        var rng = SeededRandom(seed: 3)
        for example in task.examples(count: 200, rng: &rng) {
            let variables = ToyTaskVariables.variables(of: example.clean)
            #expect(variables["task"] == "counting")
            #expect(variables["count"].flatMap { Int($0) } == number(example.correct[0]))
            #expect(variables["target letter"] == quoted(example.clean[example.clean.count - 2]))
            #expect(variables["string length"] == String(example.clean.count - 4))
            // The corrupted prompt lost one occurrence: its count is the wrong answer.
            let corrupted = ToyTaskVariables.variables(of: example.corrupted)
            #expect(corrupted["count"].flatMap { Int($0) } == number(example.wrong[0]))
        }
    }

    @Test("IOI prompts: the indirect object is the correct answer, the subject the wrong one")
    func ioiExamples() throws {
        let task = try #require(world.task(named: "ioi"))
        var rng = SeededRandom(seed: 4)
        for example in task.examples(count: 200, rng: &rng) {
            let variables = ToyTaskVariables.variables(of: example.clean)
            #expect(variables["task"] == "IOI")
            #expect(variables["indirect object"] == quoted(example.correct[0]))
            #expect(variables["subject"] == quoted(example.wrong[0]))
            // No name repeats in the corrupted prompt: no instance.
            #expect(ToyTaskVariables.variables(of: example.corrupted).isEmpty)
        }
    }

    @Test("inside a document, every position of an instance has its variables, filler has none")
    func sentencesInDocuments() throws {
        let filler = world.tokenizer.encode("the cat sat on the mat .")
        #expect(!filler.contains(1))
        for position in filler.indices {
            #expect(ToyTaskVariables.variables(of: filler, at: position).isEmpty)
        }
        for (name, seed) in [("counting", UInt64(5)), ("ioi", UInt64(6))] {
            let task = try #require(world.task(named: name))
            var rng = SeededRandom(seed: seed)
            for _ in 0..<50 {
                let sentence = task.sentence(rng: &rng)
                let answer = sentence[sentence.count - 2]
                let tokens = [world.endOfTextID] + filler + sentence + filler
                let span = (1 + filler.count)..<(1 + filler.count + sentence.count)
                for position in tokens.indices {
                    let variables = ToyTaskVariables.variables(of: tokens, at: position)
                    if !span.contains(position) {
                        #expect(variables.isEmpty)
                    } else if name == "counting" {
                        #expect(variables["count"].flatMap { Int($0) } == number(answer))
                    } else {
                        #expect(variables["indirect object"] == quoted(answer))
                    }
                }
            }
        }
    }

    @Test("inside samples with count 3, outside ones with other counts: the count is 3")
    func countEndToEnd() throws {
        let task = try #require(world.task(named: "counting"))
        var rng = SeededRandom(seed: 7)
        var inside: [NeighbourhoodSample] = []
        var outside: [NeighbourhoodSample] = []
        while inside.count < 8 || outside.count < 10 {
            let example = task.example(rng: &rng)
            let sample = NeighbourhoodSample(
                tokens: example.clean, matchedPosition: example.clean.count - 1, distance: 0)
            if number(example.correct[0]) == 3 {
                if inside.count < 8 { inside.append(sample) }
            } else if outside.count < 10 {
                outside.append(sample)
            }
        }
        let shared = SharedInformation.statements(
            inside: inside, outside: outside, display: { world.vocabulary[$0] },
            variables: { ToyTaskVariables.variables(of: $0.tokens, at: $0.matchedPosition) },
            options: SharedInformation.Options(bos: world.endOfTextID))
        #expect(shared.first == SharedStatement(statement: "the count is 3", support: "8 of 8 inside ε; 0 of 10 outside"))
        // Every sample is a counting prompt ending at `:`: that is not what the inside ones share.
        #expect(!shared.contains { $0.statement == "the task is counting" || $0.statement.hasPrefix("the matched token") })
    }
}
