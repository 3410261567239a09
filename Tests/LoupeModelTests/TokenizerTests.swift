import Foundation
import Testing
@testable import LoupeModel

/// Reference data written by Hugging Face `tokenizers` into `Tests/Fixtures`.
enum TokenizerFixtures {
    /// One entry of a `cases.json`.
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let tokens: [String]
        let decoded: String
    }

    static func cases(_ directory: String) throws -> [Case] {
        let data = try Data(contentsOf: Fixtures.url("\(directory)/cases.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    }

    /// A fresh empty directory for one test.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("loupe-tokenizer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// Compares strings scalar by scalar (Swift's `==` treats canonically equivalent strings as equal).
private func scalars(_ text: String) -> [UInt32] {
    text.unicodeScalars.map(\.value)
}

private func scalars(_ texts: [String]) -> [[UInt32]] {
    texts.map { scalars($0) }
}


@Suite("Tokenizer: byte-level BPE against Hugging Face")
struct TokenizerReferenceTests {
    /// Checks every case of `cases` against `tokenizer`: ids, token strings, decoding.
    func check(_ tokenizer: any Tokenizer, _ cases: [TokenizerFixtures.Case], _ label: String) {
        for testCase in cases {
            let ids = tokenizer.encode(testCase.text)
            #expect(ids == testCase.ids, "\(label): ids of \(String(reflecting: testCase.text))")
            let tokens = testCase.ids.map { tokenizer.token(for: $0) ?? "<missing>" }
            #expect(scalars(tokens) == scalars(testCase.tokens), "\(label): tokens of \(String(reflecting: testCase.text))")
            #expect(scalars(tokenizer.decode(testCase.ids)) == scalars(testCase.decoded),
                    "\(label): decoding of \(String(reflecting: testCase.text))")
            for (id, token) in zip(testCase.ids, testCase.tokens) {
                #expect(tokenizer.id(for: token) == id, "\(label): id of token \(String(reflecting: token))")
            }
        }
    }

    @Test func tokenizerJSONMatchesReference() throws {
        let cases = try TokenizerFixtures.cases("tokenizer")
        #expect(cases.count > 50)
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
        #expect(!tokenizer.addsPrefixSpace)
        #expect(tokenizer.specialTokenIDs == [0])
        check(tokenizer, cases, "tokenizer.json")
    }

    @Test func vocabAndMergesMatchReference() throws {
        let tokenizer = try ByteLevelBPETokenizer(
            vocabulary: Fixtures.url("tokenizer/vocab.json"),
            merges: Fixtures.url("tokenizer/merges.txt"))
        #expect(tokenizer.specialTokenIDs == [0])
        check(tokenizer, try TokenizerFixtures.cases("tokenizer"), "vocab.json + merges.txt")
    }

    @Test func bothLoadersAgree() throws {
        let fromJSON = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
        let fromPair = try ByteLevelBPETokenizer(
            vocabulary: Fixtures.url("tokenizer/vocab.json"),
            merges: Fixtures.url("tokenizer/merges.txt"))
        #expect(fromJSON.vocabularySize == fromPair.vocabularySize)
        for id in 0..<fromJSON.vocabularySize {
            #expect(fromJSON.token(for: id) == fromPair.token(for: id))
            #expect(fromJSON.displayString(for: id) == fromPair.displayString(for: id))
        }
    }

    @Test func transformersDirectoryMatchesReference() throws {
        let tokenizer = try TokenizerLoader.load(directory: Fixtures.url("tokenizer/transformers"))
        check(tokenizer, try TokenizerFixtures.cases("tokenizer"), "transformers/tokenizer.json")
    }

    @Test func prefixSpaceTokenizerMatchesReference() throws {
        let cases = try TokenizerFixtures.cases("tokenizer-prefix")
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer-prefix/tokenizer.json"))
        #expect(tokenizer.addsPrefixSpace)
        #expect(tokenizer.specialTokenIDs == [0, 1])
        #expect(tokenizer.isSpecialToken(1))
        check(tokenizer, cases, "tokenizer-prefix/tokenizer.json")
    }

    @Test func loaderPrefersTokenizerJSON() throws {
        let tokenizer = try TokenizerLoader.load(directory: Fixtures.url("tokenizer"))
        #expect(tokenizer is ByteLevelBPETokenizer)
        check(tokenizer, try TokenizerFixtures.cases("tokenizer"), "loader")
    }

    @Test func decodeOfEncodeGivesTextBack() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
        for testCase in try TokenizerFixtures.cases("tokenizer") {
            #expect(scalars(tokenizer.decode(tokenizer.encode(testCase.text))) == scalars(testCase.text))
        }
    }

    @Test func longTextEncodesLikeItsParts() throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
        let cases = try TokenizerFixtures.cases("tokenizer")
        // Each case ends with a non-space followed by "\n\n" + a letter, so splitting there is stable.
        let texts = cases.map(\.text).filter { !$0.isEmpty && !$0.hasSuffix(" ") && !$0.contains("<|") }
        let separatorIDs = tokenizer.encode("\n\n")
        var text = ""
        var expected: [Int] = []
        for round in 0..<20 {
            for part in texts {
                let piece = "x\(round)" + part
                text += piece + "\n\n"
                expected += tokenizer.encode(piece) + separatorIDs
            }
        }
        let ids = tokenizer.encode(text)
        #expect(ids == expected)
        #expect(scalars(tokenizer.decode(ids)) == scalars(text))
    }

    @Test func concurrentEncodingIsConsistent() async throws {
        let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
        let cases = try TokenizerFixtures.cases("tokenizer")
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ok = true
                    for _ in 0..<20 {
                        for testCase in cases.shuffled() {
                            ok = ok && tokenizer.encode(testCase.text) == testCase.ids
                        }
                    }
                    return ok
                }
            }
            var all: [Bool] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

@Suite("Tokenizer: display strings and decoding")
struct TokenizerDisplayTests {
    let tokenizer: ByteLevelBPETokenizer

    init() throws {
        tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: Fixtures.url("tokenizer/tokenizer.json"))
    }

    func display(_ token: String) -> String? {
        tokenizer.id(for: token).map { tokenizer.displayString(for: $0) }
    }

    @Test func whitespaceIsVisible() {
        #expect(display("Ġ") == "␣")
        #expect(display("ĠĠ") == "␣␣")
        #expect(display("Ġthe") == "␣the")
        #expect(display("Ċ") == "↵")
        #expect(display("ĉ") == "⇥")
        #expect(display("č") == "<0x0D>")
        #expect(display("Ā") == "<0x00>")
    }

    @Test func partialUTF8IsShownAsBytes() {
        #expect(display("â") == "<0xE2>")
        #expect(display("ðŁ") == "<0xF0><0x9F>")
        #expect(display("ĠðŁ") == "␣<0xF0><0x9F>")
        #expect(display("ĠÐ") == "␣<0xD0>")
        #expect(display("Ã©") == "é")
    }

    @Test func specialTokensShowTheirContent() {
        #expect(tokenizer.displayString(for: 0) == "<|endoftext|>")
        #expect(tokenizer.token(for: 0) == "<|endoftext|>")
        #expect(tokenizer.decode([0, 0]) == "<|endoftext|><|endoftext|>")
    }

    @Test func unknownIDs() {
        #expect(tokenizer.token(for: -1) == nil)
        #expect(tokenizer.token(for: tokenizer.vocabularySize) == nil)
        #expect(tokenizer.id(for: "no such token") == nil)
        #expect(tokenizer.decode([-5, 258, 1_000_000]) == "he")
        #expect(throws: ModelError.tokenOutOfRange(id: 400, vocabularySize: 400)) {
            try tokenizer.validate([258, 400])
        }
        #expect(tokenizer.vocabularySize == 400)
    }

    /// Expected strings from Python's `bytes.decode("utf-8", "replace")`, which Hugging Face's
    /// `String::from_utf8_lossy` agrees with.
    @Test func invalidUTF8DecodesLikeHuggingFace() throws {
        let cases: [([UInt8], String)] = [
            ([0xE2, 0x80], "\u{FFFD}"),
            ([0xF0, 0x9F, 0x98], "\u{FFFD}"),
            ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),
            ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),
            ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
            ([0x80, 0x80], "\u{FFFD}\u{FFFD}"),
            ([0xE2, 0x28, 0xA1], "\u{FFFD}(\u{FFFD}"),
            ([0xF0, 0x80, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
            ([0x61, 0xE2, 0x80, 0x94, 0x62], "a\u{2014}b"),
        ]
        for (bytes, expected) in cases {
            let ids = try bytes.map { byte in
                try #require(tokenizer.id(for: String(ByteLevelAlphabet.scalarOfByte[Int(byte)])))
            }
            #expect(scalars(tokenizer.decode(ids)) == scalars(expected), "bytes \(bytes)")
        }
    }

    @Test func displayOfBytes() {
        #expect(TokenDisplay.visible(utf8: [0xE2, 0x80]) == "<0xE2><0x80>")
        #expect(TokenDisplay.visible(utf8: [0x61, 0xE2, 0x80, 0x94, 0xE2]) == "a\u{2014}<0xE2>")
        #expect(TokenDisplay.visible(utf8: [0xED, 0xA0, 0x80]) == "<0xED><0xA0><0x80>")
        #expect(TokenDisplay.visible(utf8: [0xC2, 0x85, 0x20, 0x0A, 0x09, 0x7F]) == "<0xC2><0x85>␣↵⇥<0x7F>")
        #expect(TokenDisplay.visible("a\u{A0}b\u{3000}") == "a<U+00A0>b<U+3000>")
    }

    @Test func byteLevelAlphabet() {
        #expect(ByteLevelAlphabet.scalarOfByte[0x20] == "Ġ")
        #expect(ByteLevelAlphabet.scalarOfByte[0x0A] == "Ċ")
        #expect(ByteLevelAlphabet.scalarOfByte[0x41] == "A")
        #expect(ByteLevelAlphabet.scalarOfByte[0xAD] == "\u{143}")
        #expect(Set(ByteLevelAlphabet.scalarOfByte).count == 256)
        let all = (0...255).map(UInt8.init)
        #expect(ByteLevelAlphabet.decode(ByteLevelAlphabet.encode(all)) == all)
        #expect(ByteLevelAlphabet.decode("<| |>") == nil)
    }
}

@Suite("Tokenizer: GPT-2 pre-tokenizer")
struct TokenizerPreTokenizerTests {
    /// Inputs and the pieces Python's `regex` module gives for the GPT-2 pattern (Hugging Face's
    /// ByteLevel pre-tokenizer gives the same pieces for all of them).
    static let table: [(String, [String])] = [
        ("Hello world", ["Hello", " world"]),
        ("  leading", [" ", " leading"]),
        ("trailing  ", ["trailing", "  "]),
        ("a  b", ["a", " ", " b"]),
        ("a \tb", ["a", " ", "\t", "b"]),
        ("a\t b", ["a", "\t", " b"]),
        ("a\t\tb", ["a", "\t", "\t", "b"]),
        (" \n ", [" \n "]),
        ("\n\n", ["\n\n"]),
        ("\r\n", ["\r\n"]),
        ("   ", ["   "]),
        (" ", [" "]),
        ("tab\t", ["tab", "\t"]),
        ("x\u{A0}y", ["x", "\u{A0}", "y"]),
        ("x\u{A0}\u{A0}y", ["x", "\u{A0}", "\u{A0}", "y"]),
        ("a \u{A0}b", ["a", " ", "\u{A0}", "b"]),
        ("\u{3000}x", ["\u{3000}", "x"]),
        ("x\u{3000}", ["x", "\u{3000}"]),
        ("\u{85}a", ["\u{85}", "a"]),
        ("\u{1C}a\u{1F}", ["\u{1C}", "a", "\u{1F}"]),
        ("\u{180E}", ["\u{180E}"]),
        ("\u{FEFF}", ["\u{FEFF}"]),
        ("\u{2028}\u{2029}", ["\u{2028}\u{2029}"]),
        ("'s'S'll'LL'", ["'s", "'", "S", "'ll", "'", "LL", "'"]),
        ("they're", ["they", "'re"]),
        ("''s", ["''", "s"]),
        (" 's", [" '", "s"]),
        ("  'll", [" ", " '", "ll"]),
        ("'sam", ["'s", "am"]),
        ("'t've're'm'd", ["'t", "'ve", "'re", "'m", "'d"]),
        ("rock'n'roll", ["rock", "'", "n", "'", "roll"]),
        ("I'M", ["I", "'", "M"]),
        ("'ve've", ["'ve", "'ve"]),
        ("it\u{2019}s", ["it", "\u{2019}", "s"]),
        ("!'s", ["!'", "s"]),
        ("123abc", ["123", "abc"]),
        (" 123 456", [" 123", " 456"]),
        ("abc123", ["abc", "123"]),
        ("  123", [" ", " 123"]),
        ("!!!", ["!!!"]),
        (" !!!", [" !!!"]),
        ("a!b", ["a", "!", "b"]),
        ("a !b", ["a", " !", "b"]),
        ("a ! b", ["a", " !", " b"]),
        ("x++ --y", ["x", "++", " --", "y"]),
        ("\u{E9}", ["\u{E9}"]),
        ("e\u{301}", ["e", "\u{301}"]),
        ("e\u{301}\u{301}x", ["e", "\u{301}\u{301}", "x"]),
        ("\u{65E5}\u{672C}\u{8A9E} \u{30C6}\u{30AD}\u{30B9}\u{30C8}", ["\u{65E5}\u{672C}\u{8A9E}", " \u{30C6}\u{30AD}\u{30B9}\u{30C8}"]),
        ("\u{1C5}ab", ["\u{1C5}ab"]),
        ("\u{2B0}x", ["\u{2B0}x"]),
        ("\u{216B}\u{2162}", ["\u{216B}\u{2162}"]),
        ("\u{BD} 3\u{BC}", ["\u{BD}", " 3\u{BC}"]),
        ("\u{663}\u{664}", ["\u{663}\u{664}"]),
        ("x\u{B2}", ["x", "\u{B2}"]),
        ("\u{1F600}\u{1F600}", ["\u{1F600}\u{1F600}"]),
        (" \u{1F600}", [" \u{1F600}"]),
        ("a\u{200D}b", ["a", "\u{200D}", "b"]),
        ("\u{1F468}\u{200D}\u{1F469}", ["\u{1F468}\u{200D}\u{1F469}"]),
        ("\u{1D538}\u{1D539}", ["\u{1D538}\u{1D539}"]),
        ("\u{20000}", ["\u{20000}"]),
        ("end   x", ["end", "  ", " x"]),
        ("end \n x", ["end", " \n", " x"]),
        ("  \t\n  x", ["  \t\n ", " x"]),
    ]

    @Test func matchesPythonRegex() {
        for (input, expected) in Self.table {
            let pieces = GPT2PreTokenizer.split(input)
            #expect(scalars(pieces) == scalars(expected), "pieces of \(String(reflecting: input))")
        }
    }

    /// Letters added in Unicode 17.0 are not letters for Hugging Face's regex engine (pieces from
    /// `tokenizers` 0.23.3; Python's `regex`, with newer Unicode data, treats them as letters).
    @Test func unicode17LettersMatchHuggingFace() {
        let table: [(String, [String])] = [
            ("a\u{10940}b", ["a", "\u{10940}", "b"]),
            ("\u{10940}\u{10941} x", ["\u{10940}\u{10941}", " x"]),
            (" \u{10940}", [" \u{10940}"]),
            ("x\u{11DE0}\u{11DE1}", ["x", "\u{11DE0}\u{11DE1}"]),
        ]
        for (input, expected) in table {
            #expect(scalars(GPT2PreTokenizer.split(input)) == scalars(expected), "pieces of \(String(reflecting: input))")
        }
    }

    @Test func piecesCoverTheText() {
        let text = "Mixed  text:\t'quotes' ’curly’ 123 ½ e\u{301} \u{1F600}\u{200D}\u{1F469}\n\n  end "
        #expect(scalars(GPT2PreTokenizer.split(text).joined()) == scalars(text))
        #expect(GPT2PreTokenizer.split("").isEmpty)
    }
}
