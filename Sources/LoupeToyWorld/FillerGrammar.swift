import LoupeCore

/// Ordinary sentences of the toy world (no task in them), from a few templates over small word lists:
/// `the cat sat on the mat .`, `Mary likes the park .`, `the small dog is very happy .`,
/// `John saw a red box in the garden .`, `Anna and Tom ate the cake at the market .`, `it was a cold day .`,
/// `the fox ate the bread .`, `they washed the car then went home .` Every sentence ends with `.`.
struct FillerGrammar: Sendable {
    let vocabulary: ToyVocabulary

    /// One sentence, template chosen uniformly.
    func sentence(rng: inout SeededRandom) -> [Int] {
        typealias L = ToyLexicon
        func pick(_ list: [String]) -> String { ToyDraw.one(list, &rng) }
        let words: [String]
        switch rng.nextInt(below: 8) {
        case 0:
            words = ["the", pick(L.animals), pick(L.restingVerbs), pick(L.prepositions), "the", pick(L.things)]
        case 1:
            words = [pick(L.names), pick(L.likingVerbs), "the", pick(L.ioiPlaces)]
        case 2:
            words = ["the", pick(L.adjectives), pick(L.animals), "is", "very", pick(L.adjectives)]
        case 3:
            words = [pick(L.names), pick(L.seeingVerbs), "a", pick(L.adjectives), pick(L.things), "in", "the", pick(L.ioiPlaces)]
        case 4:
            let pair = ToyDraw.distinct(L.names, count: 2, &rng)
            words = [pair[0], "and", pair[1], "ate", "the", pick(L.foods), "at", "the", pick(L.ioiPlaces)]
        case 5:
            words = ["it", "was", "a", pick(L.adjectives), "day"]
        case 6:
            words = ["the", pick(L.animals), "ate", "the", pick(L.foods)]
        default:
            words = ["they", pick(L.seeingVerbs), "the", pick(L.things), "then", "went", "home"]
        }
        return vocabulary.ids(words + ["."])
    }
}
