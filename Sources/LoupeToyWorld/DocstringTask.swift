import LoupeCore

/// Docstring argument repetition: after documenting two of a function's three arguments, name the third.
///
/// `def load ( path , mode , size ) : """ load the file . : param path : the path . : param mode : the mode .
/// : param` → `size`. Prompt layout (positions in the clean prompt, `<|endoftext|>` at 0), always 32 tokens:
/// `1 def  2 function  3 (  4 A₁  5 ,  6 A₂  7 ,  8 A₃  9 )  10 :  11 """  12 function  13 the  14 object
/// 15 .`, then `: param A₁ : the A₁ .` at 16…22, `: param A₂ : the A₂ .` at 23…29, and `30 :  31 param`.
/// The three arguments are distinct names from a list of 16. `correct = [A₃]`; `wrong` = one of A₁, A₂
/// (already documented), drawn uniformly. The corrupted prompt replaces the three names of the `def` line
/// (positions 4, 6, 8) with three other distinct argument names, none of A₁ A₂ A₃, and differs from the
/// clean prompt there only. Training sentence: the prompt without `<|endoftext|>`, then `A₃ : the A₃ . """`.
public struct DocstringTask: ToyTask {
    /// The task's name.
    public static let taskName = "docstring"
    /// Length of every prompt, `<|endoftext|>` included.
    public static let promptLength = 32
    /// Positions of the argument names in the `def` line of the clean prompt (the corrupted positions).
    public static let definitionPositions = [4, 6, 8]

    let vocabulary: ToyVocabulary

    private func instance(_ rng: inout SeededRandom) -> (prompt: [Int], arguments: [Int]) {
        let function = ToyDraw.one(ToyLexicon.functionNames, &rng)
        let object = ToyDraw.one(ToyLexicon.functionObjects, &rng)
        let arguments = ToyDraw.distinct(ToyLexicon.argumentNames, count: 3, &rng)
        var words = [
            ToyLexicon.endOfText, "def", function, "(", arguments[0], ",", arguments[1], ",", arguments[2], ")", ":",
            "\"\"\"", function, "the", object, ".",
        ]
        for argument in arguments[0..<2] {
            words += [":", "param", argument, ":", "the", argument, "."]
        }
        words += [":", "param"]
        return (vocabulary.ids(words), vocabulary.ids(arguments))
    }

    public func example(rng: inout SeededRandom) -> TaskExample {
        let (prompt, arguments) = instance(&rng)
        let wrong = ToyDraw.one(Array(arguments[0..<2]), &rng)
        let replacements = ToyDraw.distinct(
            vocabulary.ids(ToyLexicon.argumentNames).filter { !arguments.contains($0) }, count: 3, &rng)
        var corrupted = prompt
        for (position, replacement) in zip(Self.definitionPositions, replacements) {
            corrupted[position] = replacement
        }
        return TaskExample(clean: prompt, corrupted: corrupted, correct: [arguments[2]], wrong: [wrong])
    }

    public func sentence(rng: inout SeededRandom) -> [Int] {
        let (prompt, arguments) = instance(&rng)
        let third = arguments[2]
        return Array(prompt.dropFirst()) + [third] + vocabulary.ids([":", "the"]) + [third]
            + vocabulary.ids([".", "\"\"\""])
    }
}
