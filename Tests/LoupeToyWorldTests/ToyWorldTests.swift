import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeToyWorld

@Suite("ToyWorld: vocabulary, sequences, documents")
struct ToyWorldTests {
    let world = ToyWorld()

    @Test func vocabularyIsFixedAndDistinct() {
        #expect(world.vocabulary.count >= 250 && world.vocabulary.count <= 450)
        #expect(Set(world.vocabulary).count == world.vocabulary.count)
        #expect(world.vocabulary[0] == "<|endoftext|>")
        #expect(world.vocabulary == ToyWorld().vocabulary)
        #expect(world.tokenizer.tokens == world.vocabulary)
        #expect(world.tokenizer.vocabularySize == world.vocabulary.count)
        for word in world.vocabulary {
            #expect(!word.isEmpty && !word.unicodeScalars.contains { $0.properties.isWhitespace }, "\(word)")
        }
        for value in 0..<100 {
            #expect(world.tokenizer.id(for: String(format: "%02d", value)) != nil)
        }
        #expect(world.tasks.map(\.name) == ["ioi", "greater_than", "counting", "induction", "docstring"])
        #expect(world.task(named: "counting")?.name == "counting")
        #expect(world.task(named: "addition") == nil)
    }

    @Test func lexiconWordsAreAllTokens() {
        let lists: [[String]] = [
            ToyLexicon.names, ToyLexicon.letters, ToyLexicon.ioiPlaces, ToyLexicon.ioiObjects, ToyLexicon.ioiVerbs,
            ToyLexicon.greaterThanNouns, ToyLexicon.centuries, ToyLexicon.functionNames, ToyLexicon.argumentNames,
            ToyLexicon.functionObjects, ToyLexicon.inductionPool,
        ]
        for word in lists.joined() {
            #expect(world.tokenizer.id(for: word) != nil, "\(word)")
        }
        #expect(Set(ToyLexicon.inductionPool).count == ToyLexicon.inductionPool.count)
    }

    @Test func sequencesHaveExactLengthAndValidIDs() {
        var rng = SeededRandom(seed: 7)
        for length in [1, 2, 17, 64, 300] {
            let sequence = world.sequence(length: length, rng: &rng)
            #expect(sequence.count == length)
            #expect(sequence.first == 0)
            #expect(sequence.allSatisfy { $0 >= 0 && $0 < world.vocabulary.count })
            #expect(!sequence.contains(1), "no <unk> in generated text")
            #expect(!sequence.dropFirst().contains(0))
        }
        #expect(world.sequence(length: 0, rng: &rng).isEmpty)
    }

    @Test func sameSeedSameOutputDifferentSeedDifferentOutput() {
        func draw(_ seed: UInt64) -> ([Int], [String], [TaskExample]) {
            var rng = SeededRandom(seed: seed)
            let sequence = world.sequence(length: 200, rng: &rng)
            let documents = world.documents(count: 5, length: 64, rng: &rng)
            let examples = world.tasks.flatMap { $0.examples(count: 4, rng: &rng) }
            return (sequence, documents, examples)
        }
        let first = draw(42)
        let again = draw(42)
        let other = draw(43)
        #expect(first.0 == again.0)
        #expect(first.1 == again.1)
        #expect(first.2 == again.2)
        #expect(first.0 != other.0)
        #expect(first.1 != other.1)
        #expect(first.2 != other.2)
        // A fresh world gives the same output for the same seed.
        var rng = SeededRandom(seed: 42)
        #expect(ToyWorld().sequence(length: 200, rng: &rng) == first.0)
    }

    @Test func tasksAreFrequentInSequences() {
        var rng = SeededRandom(seed: 3)
        var taskSentences = 0
        var total = 0
        var perTask: [String: Int] = [:]
        for _ in 0..<2000 {
            var probe = rng
            let sentence = world.sentence(rng: &rng)
            total += 1
            // Replaying the same draws tells which kind of sentence was drawn.
            if Double(probe.nextUniform()) < ToyWorld.taskRate {
                taskSentences += 1
                let task = world.tasks[probe.nextInt(below: world.tasks.count)]
                perTask[task.name, default: 0] += 1
                #expect(task.sentence(rng: &probe) == sentence)
            }
        }
        let rate = Double(taskSentences) / Double(total)
        #expect(rate > 0.45 && rate < 0.55)
        for task in world.tasks {
            #expect(Double(perTask[task.name, default: 0]) > 0.15 * Double(taskSentences), "\(task.name)")
        }
    }

    @Test func documentsRoundTripThroughTheTokenizer() {
        var rng = SeededRandom(seed: 11)
        let documents = world.documents(count: 40, length: 64, rng: &rng)
        #expect(documents.count == 40)
        for text in documents {
            let ids = world.tokenizer.encode(text)
            #expect(!ids.isEmpty)
            #expect(!ids.contains(world.tokenizer.unknownID ?? -1))
            #expect(!ids.contains(0))
            #expect(ids.count <= 64 || !text.contains(" . "), "only a lone long sentence may exceed the length")
            #expect(world.tokenizer.decode(ids) == text)
            #expect(world.render(ids) == text)
            #expect(text.hasSuffix(".") || text.hasSuffix("\"\"\""))
        }
        let lengths = documents.map { world.tokenizer.encode($0).count }
        #expect(Double(lengths.reduce(0, +)) / Double(lengths.count) > 40)
    }
}
