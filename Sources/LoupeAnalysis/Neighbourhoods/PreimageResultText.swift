import LoupeFindings
import LoupeModel

extension PreimageResult {
    /// Tokens shown before a neighbour's matched token (within its model window).
    static let contextTokens = 8

    /// The result of a search: hits renumbered by the document's 0-based line in the corpus file, each
    /// with the decoded text of its model window's last few tokens up to and including the matched one.
    ///
    /// `windowStride` is the number of document tokens per window (the context length, less one with a BOS).
    public init(
        matches: PreimageMatches, query: PreimageQuery, distance: PreimageDistance, epsilon: Double,
        corpus: Corpus, tokenizer: any Tokenizer, windowStride: Int
    ) {
        var documentTokens: [Int: [Int]] = [:]
        let neighbours = matches.nearest.map { hit -> PreimageNeighbour in
            let tokens = documentTokens[hit.document] ?? tokenizer.encode(corpus.documents[hit.document])
            documentTokens[hit.document] = tokens
            let windowStart = hit.position / windowStride * windowStride
            let first = max(windowStart, hit.position - Self.contextTokens)
            let shown = hit.position < tokens.count ? Array(tokens[first...hit.position]) : []
            return PreimageNeighbour(
                document: corpus.sources[hit.document].line - 1, position: hit.position, distance: hit.distance,
                text: tokenizer.decode(shown))
        }
        self.init(
            hook: query.site.hook, head: query.site.head, distance: distance.rawValue, epsilon: epsilon,
            query: PreimageQueryTokens(tokens: query.tokens, position: query.position),
            candidates: matches.candidates, inside: matches.inside, neighbours: neighbours)
    }
}
