import LoupeCore
import LoupeModel

/// A corpus as token ids: `documents[i]` holds the ids of document `i` (possibly none).
public struct TokenizedCorpus: Sendable, Equatable {
    /// Token ids per document, indexed by document number.
    public var documents: [[Int]]

    public init(documents: [[Int]]) {
        self.documents = documents
    }

    /// Tokenizes every document of `corpus` (in parallel; the result does not depend on it).
    public init(corpus: Corpus, tokenizer: any Tokenizer) {
        let texts = corpus.documents
        var ids = [[Int]](repeating: [], count: texts.count)
        ids.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress
            parallelChunks(count: texts.count, minimumChunk: 16) { range in
                for index in range { base.map { ($0 + index).pointee = tokenizer.encode(texts[index]) } }
            }
        }
        self.documents = ids
    }

    /// Number of tokens over all documents.
    public var tokenCount: Int { documents.reduce(0) { $0 + $1.count } }

    /// Cuts every document into consecutive windows for the model.
    ///
    /// Each window holds at most `contextLength` tokens. With a `bos` id, every window starts
    /// with it (a special position, excluded from statistics) and holds up to `contextLength − 1`
    /// document tokens. Document `d`'s window `j` covers positions `[j·s, (j+1)·s)` of the
    /// document, with stride `s` = `windowStride(contextLength:bos:)`. Windows come in document
    /// order; documents without tokens give none.
    public func windows(contextLength: Int, bos: Int? = nil) throws -> [CorpusWindow] {
        let stride = try Self.windowStride(contextLength: contextLength, bos: bos)
        var result: [CorpusWindow] = []
        for (document, ids) in documents.enumerated() {
            var start = 0
            while start < ids.count {
                let end = min(ids.count, start + stride)
                let body = Array(ids[start..<end])
                result.append(CorpusWindow(document: document, start: start, tokens: bos.map { [$0] + body } ?? body, hasBOS: bos != nil))
                start = end
            }
        }
        return result
    }

    /// Document tokens per window: `contextLength`, less one with a BOS token.
    public static func windowStride(contextLength: Int, bos: Int?) throws -> Int {
        let needed = bos == nil ? 1 : 2
        guard contextLength >= needed else {
            throw CorpusError.invalidContextLength(
                contextLength: contextLength,
                reason: bos == nil ? "must be at least 1" : "must be at least 2 (one BOS token and one document token)")
        }
        return contextLength - (bos == nil ? 0 : 1)
    }
}

/// One model input cut from a document: `tokens` (`T` ids, at most the context length), the
/// document it comes from and the document position of its first document token.
///
/// With `hasBOS`, `tokens[0]` is the BOS id (a special position with no document position) and
/// `tokens[i]` is document position `start + i − 1`; otherwise `tokens[i]` is position `start + i`.
public struct CorpusWindow: Sendable, Equatable {
    /// Document index in the corpus, and document position of the first document token.
    public var document, start: Int
    /// The model input, BOS first when `hasBOS`.
    public var tokens: [Int]
    /// Whether `tokens[0]` is a prepended BOS id.
    public var hasBOS: Bool

    public init(document: Int, start: Int, tokens: [Int], hasBOS: Bool) {
        (self.document, self.start, self.tokens, self.hasBOS) = (document, start, tokens, hasBOS)
    }

    /// Number of model positions (`T`).
    public var count: Int { tokens.count }

    /// Number of document tokens (positions that are not special).
    public var documentTokenCount: Int { tokens.count - (hasBOS ? 1 : 0) }

    /// Whether window position `index` is special (the BOS token).
    public func isSpecial(_ index: Int) -> Bool { hasBOS && index == 0 }

    /// The document position of window position `index`, or nil for the BOS token.
    public func position(at index: Int) -> Int? {
        isSpecial(index) ? nil : start + index - (hasBOS ? 1 : 0)
    }
}
