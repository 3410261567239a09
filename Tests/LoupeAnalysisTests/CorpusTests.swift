import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeAnalysis

/// A fresh temporary directory, removed when the value is released.
final class CorpusTemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let path = url.appendingPathComponent(name)
        try Data(bytes).write(to: path)
        return path
    }

    func file(_ name: String, _ text: String) throws -> URL {
        try file(name, Array(text.utf8))
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("Corpus: reading files and cutting windows")
struct CorpusTests {
    @Test func textFilesGiveOneDocumentPerNonEmptyLine() throws {
        let dir = try CorpusTemporaryDirectory()
        let url = try dir.file("a.txt", "\u{FEFF}hello world\n\n   \nsecond line\r\nthird")
        let corpus = try Corpus.read(file: url)
        #expect(corpus.documents == ["hello world", "second line", "third"])
        #expect(corpus.sources.map(\.line) == [1, 4, 5])
        #expect(corpus.sources.allSatisfy { $0.file == url.path })
        #expect(corpus.files == [url.path])
    }

    @Test func jsonlFilesReadTheTextField() throws {
        let dir = try CorpusTemporaryDirectory()
        let first = try dir.file("a.jsonl", "{\"text\": \"alpha\", \"id\": 3}\n\n{\"meta\": {\"x\": 1}, \"text\": \"beta\\ngamma\"}\n{\"text\": \"\"}\n")
        let second = try dir.file("b.txt", "delta\n")
        let corpus = try Corpus.read(files: [first, second])
        #expect(corpus.documents == ["alpha", "beta\ngamma", "delta"])
        #expect(corpus.sources == [
            DocumentSource(file: first.path, line: 1), DocumentSource(file: first.path, line: 3),
            DocumentSource(file: second.path, line: 1),
        ])
    }

    @Test func badJSONLinesNameTheFileAndLine() throws {
        let dir = try CorpusTemporaryDirectory()
        let bad = try dir.file("bad.jsonl", "{\"text\": \"ok\"}\n{not json\n")
        #expect(throws: CorpusError.invalidJSONLine(path: bad.path, line: 2, reason: "not valid JSON (expected one JSON object per line)")) {
            try Corpus.read(file: bad)
        }
        let array = try dir.file("array.jsonl", "[1, 2]\n")
        #expect(throws: CorpusError.invalidJSONLine(path: array.path, line: 1, reason: "expected a JSON object with a \"text\" string, found a list")) {
            try Corpus.read(file: array)
        }
        let missing = try dir.file("missing.jsonl", "{\"text\": \"ok\"}\n\n{\"title\": \"no text\"}\n")
        #expect(throws: CorpusError.missingText(path: missing.path, line: 3, reason: "the object has no \"text\" field")) {
            try Corpus.read(file: missing)
        }
        let number = try dir.file("number.jsonl", "{\"text\": 5}\n")
        #expect(throws: CorpusError.missingText(path: number.path, line: 1, reason: "\"text\" is a number (5), expected a string")) {
            try Corpus.read(file: number)
        }
        let message = CorpusError.invalidJSONLine(path: "/x/bad.jsonl", line: 2, reason: "not valid JSON").description
        #expect(message.contains("/x/bad.jsonl:2"))
    }

    @Test func emptyCorporaAreRefused() throws {
        let dir = try CorpusTemporaryDirectory()
        let blank = try dir.file("blank.txt", "\n  \n\n")
        let empty = try dir.file("empty.jsonl", "")
        #expect(throws: CorpusError.emptyCorpus(paths: [blank.path, empty.path])) {
            try Corpus.read(files: [blank, empty])
        }
        #expect(throws: CorpusError.emptyCorpus(paths: [])) { try Corpus.read(files: []) }
        let missing = dir.url.appendingPathComponent("nowhere.txt")
        #expect(throws: CorpusError.self) { try Corpus.read(file: missing) }
        do {
            _ = try Corpus.read(file: missing)
        } catch let error as CorpusError {
            guard case .unreadableFile(let path, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(path == missing.path)
        }
        let csv = try dir.file("data.csv", "a,b\n")
        #expect(throws: CorpusError.unsupportedFormat(path: csv.path, fileExtension: "csv")) { try Corpus.read(file: csv) }
    }

    @Test func invalidUTF8IsDecodedLossily() throws {
        let dir = try CorpusTemporaryDirectory()
        let text = try dir.file("broken.txt", Array("ok\n".utf8) + [0xFF, 0xFE] + Array("bad\nfine \u{E9}".utf8) + [0xC3])
        let corpus = try Corpus.read(file: text)
        #expect(corpus.documents == ["ok", "\u{FFFD}\u{FFFD}bad", "fine \u{E9}\u{FFFD}"])
        let json = try dir.file("broken.jsonl", Array("{\"text\": \"a".utf8) + [0xFF] + Array("b\"}\n".utf8))
        #expect(try Corpus.read(file: json).documents == ["a\u{FFFD}b"])
    }

    @Test func windowsCoverEveryTokenOnceInOrder() throws {
        let tokens = TokenizedCorpus(documents: [[1, 2, 3, 4, 5], [], [6, 7]])
        #expect(tokens.tokenCount == 7)
        let plain = try tokens.windows(contextLength: 2)
        #expect(plain == [
            CorpusWindow(document: 0, start: 0, tokens: [1, 2], hasBOS: false),
            CorpusWindow(document: 0, start: 2, tokens: [3, 4], hasBOS: false),
            CorpusWindow(document: 0, start: 4, tokens: [5], hasBOS: false),
            CorpusWindow(document: 2, start: 0, tokens: [6, 7], hasBOS: false),
        ])
        #expect(plain[1].position(at: 1) == 3)
        #expect(!plain[1].isSpecial(0))

        let marked = try tokens.windows(contextLength: 3, bos: 9)
        #expect(marked.map(\.tokens) == [[9, 1, 2], [9, 3, 4], [9, 5], [9, 6, 7]])
        #expect(marked.map(\.start) == [0, 2, 4, 0])
        #expect(marked.allSatisfy { $0.isSpecial(0) && !$0.isSpecial(1) && $0.position(at: 0) == nil })
        #expect(marked[1].position(at: 1) == 2 && marked[1].position(at: 2) == 3)
        #expect(marked[2].documentTokenCount == 1)
        #expect(throws: CorpusError.self) { try tokens.windows(contextLength: 1, bos: 9) }
        #expect(throws: CorpusError.self) { try tokens.windows(contextLength: 0) }
    }

    @Test func tokenizingMatchesTheTokenizerPerDocument() throws {
        let corpus = Corpus(documents: (0..<40).map { "document number \($0) says hi" })
        let tokenizer = try CharacterTokenizer(coveringScalarsOf: corpus.documents.joined())
        let tokens = TokenizedCorpus(corpus: corpus, tokenizer: tokenizer)
        #expect(tokens.documents == corpus.documents.map { tokenizer.encode($0) })
    }
}
