import LoupeCore

/// Indirect-object identification: `when Mary and John went to the store , John gave a drink to` → `Mary`.
///
/// Prompt layout (positions in the clean prompt, `<|endoftext|>` at 0), always 15 tokens:
/// `0 <|endoftext|>  1 opener  2 name  3 and  4 name  5 went  6 to  7 the  8 place  9 ,  10 S  11 verb
/// 12 a  13 object  14 to`. The indirect object (IO) and the subject (S) are the two names at 2 and 4, in
/// the order IO S (ABBA) or S IO (BABA), each with probability ½; position 10 repeats S.
/// `correct = [IO]`, `wrong = [S]`. The corrupted prompt replaces S at position 10 with a third name C
/// (distinct from IO and S), so no name is repeated and there is nothing to copy; it differs from the
/// clean prompt at position 10 only. Training sentence: the prompt without `<|endoftext|>`, then `IO .`.
public struct IOITask: ToyTask {
    /// The task's name.
    public static let taskName = "ioi"
    /// Position of the second mention of the subject in the clean prompt (the only corrupted position).
    public static let subjectPosition = 10
    /// Length of every prompt, `<|endoftext|>` included.
    public static let promptLength = 15

    let vocabulary: ToyVocabulary

    private func instance(_ rng: inout SeededRandom) -> (prompt: [Int], indirectObject: Int, subject: Int) {
        let v = vocabulary
        let opener = ToyDraw.one(ToyLexicon.ioiOpeners, &rng)
        let pair = ToyDraw.distinct(ToyLexicon.names, count: 2, &rng)
        let (io, s) = (pair[0], pair[1])
        let abba = rng.nextInt(below: 2) == 0
        let place = ToyDraw.one(ToyLexicon.ioiPlaces, &rng)
        let verb = ToyDraw.one(ToyLexicon.ioiVerbs, &rng)
        let object = ToyDraw.one(ToyLexicon.ioiObjects, &rng)
        let first = abba ? io : s
        let second = abba ? s : io
        let words = [
            ToyLexicon.endOfText, opener, first, "and", second, "went", "to", "the", place, ",",
            s, verb, "a", object, "to",
        ]
        return (v.ids(words), v.id(io), v.id(s))
    }

    public func example(rng: inout SeededRandom) -> TaskExample {
        let drawn = instance(&rng)
        let names = vocabulary.ids(ToyLexicon.names)
        let third = ToyDraw.other(names, excluding: [drawn.indirectObject, drawn.subject], &rng)
        var corrupted = drawn.prompt
        corrupted[Self.subjectPosition] = third
        return TaskExample(
            clean: drawn.prompt, corrupted: corrupted, correct: [drawn.indirectObject], wrong: [drawn.subject])
    }

    public func sentence(rng: inout SeededRandom) -> [Int] {
        let drawn = instance(&rng)
        return Array(drawn.prompt.dropFirst()) + [drawn.indirectObject, vocabulary.id(".")]
    }
}
