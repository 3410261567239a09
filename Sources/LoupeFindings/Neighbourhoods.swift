/// The findings section of the InversionView analysis: for chosen hook sites, heads and positions, the inputs whose activations lie within ε of a query activation, decoded and re-measured.
///
/// A report without this analysis has no section (`ReportFindings.neighbourhoods` is `nil`); the section
/// grows its fields with the analysis that fills it, and `ReportFindings.currentSchemaVersion` with them.
public struct NeighbourhoodFindings: Codable, Sendable, Equatable {
    public init() {}
}

/// The nearest corpus positions to one query activation at one hook site (`loupe preimage`): the
/// retrieved half of a decoded neighbourhood, written as JSON with snake_case keys.
///
/// Distances are `‖q − z‖₂ / ‖q‖₂` (`l2`) or `1 − cos(q, z)` (`cosine`) between the query's row `q`
/// and a candidate's row `z` (both `[w]`: the hook's row, or one head's slice of it).
public struct PreimageResult: Codable, Sendable, Equatable {
    /// The TransformerLens hook name.
    public var hook: String
    /// The head whose slice of the hook's row is compared, or nil for the whole row (encoded as `null`).
    public var head: Int?
    /// `l2` or `cosine`.
    public var distance: String
    /// The ε of the preimage `{x : D(f(x), q) ≤ ε}`.
    public var epsilon: Double
    /// The query's tokens and position.
    public var query: PreimageQueryTokens
    /// Corpus positions compared (every non-BOS position of every window).
    public var candidates: Int
    /// Candidates with a distance of at most ε.
    public var inside: Int
    /// The nearest candidates, ascending by distance, ties by (document, position).
    public var neighbours: [PreimageNeighbour]

    public init(
        hook: String, head: Int?, distance: String, epsilon: Double, query: PreimageQueryTokens, candidates: Int, inside: Int,
        neighbours: [PreimageNeighbour]
    ) {
        self.hook = hook
        self.head = head
        self.distance = distance
        self.epsilon = epsilon
        self.query = query
        self.candidates = candidates
        self.inside = inside
        self.neighbours = neighbours
    }

    private enum CodingKeys: String, CodingKey {
        case hook, head, distance, epsilon, query, candidates, inside, neighbours
    }

    /// Writes every key, `head` as `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hook, forKey: .hook)
        if let head { try container.encode(head, forKey: .head) } else { try container.encodeNil(forKey: .head) }
        try container.encode(distance, forKey: .distance)
        try container.encode(epsilon, forKey: .epsilon)
        try container.encode(query, forKey: .query)
        try container.encode(candidates, forKey: .candidates)
        try container.encode(inside, forKey: .inside)
        try container.encode(neighbours, forKey: .neighbours)
    }
}

/// The query of a `PreimageResult`: its token ids (BOS included when prepended) and the resolved,
/// non-negative index of the query position among them.
public struct PreimageQueryTokens: Codable, Sendable, Equatable {
    public var tokens: [Int]
    public var position: Int

    public init(tokens: [Int], position: Int) {
        self.tokens = tokens
        self.position = position
    }
}

/// One retrieved corpus position.
public struct PreimageNeighbour: Codable, Sendable, Equatable {
    /// 0-based line of the document in the corpus file (blank lines counted).
    public var document: Int
    /// 0-based token index within the document (a prepended BOS not counted).
    public var position: Int
    /// Distance to the query activation (computed in double precision).
    public var distance: Double
    /// Decoded tokens of the position's model window ending with the matched token (at most 9).
    public var text: String

    public init(document: Int, position: Int, distance: Double, text: String) {
        self.document = document
        self.position = position
        self.distance = distance
        self.text = text
    }
}

/// One thing the samples inside ε have in common that the samples outside do not (an entry of a
/// neighbourhood's `shared` list): a short sentence and how many samples on each side hold it.
public struct SharedStatement: Codable, Sendable, Equatable {
    /// The property, e.g. `the token 2 before the matched one is “ a”` or `the count is 3`.
    public var statement: String
    /// Its support, exactly `"29 of 31 inside ε; 4 of 33 outside"`.
    public var support: String

    public init(statement: String, support: String) {
        self.statement = statement
        self.support = support
    }
}
