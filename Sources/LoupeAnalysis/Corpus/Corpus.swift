import Foundation
import LoupeFindings

/// Where one corpus document was read from: the file as given and its 1-based line.
public struct DocumentSource: Codable, Sendable, Equatable {
    public var file: String
    public var line: Int
}

/// A text corpus: its documents in file order, then line order.
///
/// Formats, by file extension:
/// - `.txt`: one document per non-empty line (lines of only whitespace are skipped; a trailing
///   `\r` is dropped);
/// - `.jsonl` (or `.ndjson`): one JSON object per non-empty line whose string field `text` is the
///   document (other fields are ignored; objects with an empty `text` are skipped).
///
/// Bytes that are not valid UTF-8 become U+FFFD, line by line, so a damaged line never hides
/// its neighbours. A UTF-8 byte-order mark at the start of a file is dropped.
/// Document `i` is `documents[i]`, read from `sources[i]`; both arrays have the same count.
public struct Corpus: Sendable, Equatable {
    /// The files read, as given.
    public var files: [String]
    /// Document texts, indexed by document number.
    public var documents: [String]
    /// File and line of each document.
    public var sources: [DocumentSource]

    /// A corpus from documents already in memory (`sources` default to line numbers of a file
    /// named `<memory>`).
    public init(documents: [String], sources: [DocumentSource]? = nil, files: [String] = []) {
        self.documents = documents
        self.sources = sources ?? documents.indices.map { DocumentSource(file: "<memory>", line: $0 + 1) }
        self.files = files
    }

    /// Reads every file in order; throws `CorpusError.emptyCorpus` when they hold no document.
    public static func read(files urls: [URL]) throws -> Corpus {
        var documents: [String] = []
        var sources: [DocumentSource] = []
        for url in urls {
            for (line, text) in try readDocuments(url) {
                documents.append(text)
                sources.append(DocumentSource(file: url.path, line: line))
            }
        }
        guard !documents.isEmpty else { throw CorpusError.emptyCorpus(paths: urls.map(\.path)) }
        return Corpus(documents: documents, sources: sources, files: urls.map(\.path))
    }

    /// Reads one file.
    public static func read(file url: URL) throws -> Corpus {
        try read(files: [url])
    }

    /// The documents of one file with their 1-based line numbers.
    static func readDocuments(_ url: URL) throws -> [(line: Int, text: String)] {
        let path = url.path
        let format = url.pathExtension.lowercased()
        guard format == "txt" || format == "jsonl" || format == "ndjson" else {
            throw CorpusError.unsupportedFormat(path: path, fileExtension: url.pathExtension)
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let nsError = error as NSError
            let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription
            throw CorpusError.unreadableFile(path: path, reason: underlying ?? nsError.localizedDescription)
        }
        var result: [(line: Int, text: String)] = []
        for (number, text) in lines(of: data) {
            if text.allSatisfy(\.isWhitespace) { continue }
            if format == "txt" {
                result.append((number, text))
            } else if let document = try jsonText(text, path: path, line: number) {
                result.append((number, document))
            }
        }
        return result
    }

    /// Splits bytes at `\n`, decodes each line lossily and drops a trailing `\r` (and a
    /// byte-order mark before the first line).
    static func lines(of data: Data) -> [(number: Int, text: String)] {
        var result: [(number: Int, text: String)] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
            var number = 1
            var index = start
            while start < bytes.count {
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
                var end = index
                if end > start && bytes[end - 1] == 0x0D { end -= 1 }
                result.append((number, String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)))
                number += 1
                index += 1
                start = index
            }
        }
        return result
    }

    /// The `text` field of one JSONL line, or nil when it is empty.
    private static func jsonText(_ line: String, path: String, line number: Int) throws -> String? {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            throw CorpusError.invalidJSONLine(path: path, line: number, reason: "not valid JSON (expected one JSON object per line)")
        }
        guard let fields = object as? [String: Any] else {
            throw CorpusError.invalidJSONLine(
                path: path, line: number, reason: "expected a JSON object with a \"text\" string, found \(JSONObjectReader.describe(object))")
        }
        guard let value = fields["text"] else {
            throw CorpusError.missingText(path: path, line: number, reason: "the object has no \"text\" field")
        }
        guard let text = value as? String else {
            throw CorpusError.missingText(path: path, line: number, reason: "\"text\" is \(JSONObjectReader.describe(value)), expected a string")
        }
        return text.allSatisfy(\.isWhitespace) ? nil : text
    }
}
