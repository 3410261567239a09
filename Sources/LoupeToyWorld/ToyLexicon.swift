/// The fixed word lists of the toy world. Every entry is one token; the vocabulary is their union in the
/// order listed here, so ids never change between runs.
enum ToyLexicon {
    static let endOfText = "<|endoftext|>"
    static let unknown = "<unk>"

    static let punctuation = [".", ",", "(", ")", ":", "|", "\"\"\""]
    /// "00" … "99": years, centuries and counts.
    static let twoDigit = (0..<100).map { $0 < 10 ? "0\($0)" : "\($0)" }
    /// The alphabet of the counting task (no letter is also a word).
    static let letters = ["b", "c", "d", "e", "f", "g"]

    static let names = [
        "Mary", "John", "Tom", "Anna", "James", "Sarah", "David", "Emma", "Paul", "Lisa",
        "Mark", "Kate", "Peter", "Laura", "Jack", "Alice", "Sam", "Rose", "Mike", "Julia",
    ]

    // Indirect-object identification.
    static let ioiOpeners = ["when", "after", "while"]
    static let ioiPlaces = ["store", "park", "school", "garden", "office", "beach", "market", "library", "station", "museum"]
    static let ioiVerbs = ["gave", "handed", "passed", "sent", "brought", "showed"]
    static let ioiObjects = ["drink", "book", "ball", "gift", "letter", "pen", "key", "ring", "card", "flower"]
    static let ioiWords = ["and", "went", "to", "the", "a"]

    // Greater-than.
    static let greaterThanNouns = ["war", "strike", "trip", "reign", "drought", "siege", "journey", "festival", "project", "famine"]
    static let greaterThanWords = ["lasted", "from", "year"]
    /// Century tokens of the greater-than task.
    static let centuries = ["15", "16", "17", "18", "19"]

    // Docstring.
    static let docstringWords = ["def", "param"]
    static let functionNames = ["load", "save", "read", "write", "parse", "send", "open", "close", "check", "build", "find", "sort"]
    static let functionObjects = ["file", "data", "table", "image", "list", "page", "record"]
    static let argumentNames = [
        "path", "mode", "size", "name", "key", "value", "index", "count",
        "text", "limit", "step", "rate", "depth", "width", "color", "order",
    ]

    // Filler sentences.
    static let animals = ["cat", "dog", "bird", "fish", "horse", "cow", "mouse", "fox", "bear", "frog", "duck", "goat"]
    static let things = [
        "mat", "box", "chair", "bed", "tree", "hill", "river", "road", "car", "boat", "hat", "coat",
        "shoe", "cup", "door", "window", "lamp", "clock", "bag", "rock",
    ]
    static let foods = ["cake", "bread", "milk", "tea", "soup", "rice", "pie", "cheese", "fruit", "salad"]
    static let adjectives = [
        "big", "small", "red", "blue", "green", "happy", "sad", "quiet", "loud", "warm",
        "cold", "dark", "bright", "tall", "soft", "new",
    ]
    static let restingVerbs = ["sat", "slept", "stood", "waited", "lay", "played"]
    static let seeingVerbs = ["saw", "found", "lost", "kept", "washed", "painted", "moved", "wanted"]
    static let likingVerbs = ["likes", "loves", "visits", "leaves"]
    static let prepositions = ["on", "under", "near", "by", "behind", "beside"]
    static let fillerWords = ["is", "was", "very", "in", "at", "ate", "it", "day", "they", "then", "home"]

    /// Every token, id = index: `<|endoftext|>` is id 0 and `<unk>` id 1; repeated words keep their first place.
    static let vocabulary: [String] = {
        let groups: [[String]] = [
            [endOfText, unknown], punctuation, twoDigit, letters, names,
            ioiOpeners, ioiWords, ioiPlaces, ioiVerbs, ioiObjects,
            greaterThanWords, greaterThanNouns, centuries,
            docstringWords, functionNames, functionObjects, argumentNames,
            animals, things, foods, adjectives, restingVerbs, seeingVerbs, likingVerbs, prepositions, fillerWords,
        ]
        var seen: Set<String> = []
        var tokens: [String] = []
        for word in groups.joined() where seen.insert(word).inserted {
            tokens.append(word)
        }
        return tokens
    }()

    /// The ordinary word tokens induction sequences are drawn from.
    static let inductionPool: [String] = animals + things + foods + adjectives
}

/// Word → id lookup over the toy vocabulary.
struct ToyVocabulary: Sendable {
    let tokens: [String]
    private let ids: [String: Int]

    init(tokens: [String]) {
        self.tokens = tokens
        var ids: [String: Int] = [:]
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        self.ids = ids
    }

    /// The id of `word`; words outside the vocabulary (never the case for lexicon words) map to `<unk>`.
    func id(_ word: String) -> Int { ids[word] ?? ids[ToyLexicon.unknown] ?? 0 }

    func ids(_ words: [String]) -> [Int] { words.map(id) }

    /// The id of the two-digit token of `value` (0 … 99).
    func number(_ value: Int) -> Int { id(ToyLexicon.twoDigit[min(max(value, 0), 99)]) }
}
