/// The findings section of the InversionView analysis: for chosen hook sites, heads and positions, the
/// corpus positions whose activations lie nearest a query activation (retrieved) and the inputs an
/// inversion decoder samples for it (decoded), every distance measured by running the model.
///
/// A report without this analysis has no section (`ReportFindings.neighbourhoods` is `nil`).
public struct NeighbourhoodFindings: Codable, Sendable, Equatable {
    /// `l2` (`‖q − z‖₂ / ‖q‖₂`) or `cosine` (`1 − cos(q, z)`).
    public var distance: String
    /// The ε of every preimage `{x : D(f(x), q) ≤ ε}`.
    public var epsilon: Double
    /// The decoder that sampled the decoded lists.
    public var decoder: DecoderSummary
    /// One entry per site, in the spec's order.
    public var sites: [NeighbourhoodSiteFindings]

    public init(distance: String, epsilon: Double, decoder: DecoderSummary, sites: [NeighbourhoodSiteFindings]) {
        self.distance = distance
        self.epsilon = epsilon
        self.decoder = decoder
        self.sites = sites
    }
}

/// The inversion decoder of a report: where it lives, how it was trained, how well it fits.
public struct DecoderSummary: Codable, Sendable, Equatable {
    /// The decoder directory, relative to the report.
    public var path: String
    /// Optimisation steps and examples (activation → input pairs) it was trained on.
    public var steps: Int, examples: Int
    /// Training loss (mean next-token cross-entropy) at evenly spaced steps, the last step last (`[≤ 100]`).
    public var lossCurve: [LossPoint]
    /// Mean cross-entropy per token on held-out pairs, over all sites.
    public var heldOutLoss: Double

    public init(path: String, steps: Int, examples: Int, lossCurve: [LossPoint], heldOutLoss: Double) {
        self.path = path
        self.steps = steps
        self.examples = examples
        self.lossCurve = lossCurve
        self.heldOutLoss = heldOutLoss
    }
}

/// One point of a training curve.
public struct LossPoint: Codable, Sendable, Equatable {
    public var step: Int
    public var loss: Double

    public init(step: Int, loss: Double) {
        self.step = step
        self.loss = loss
    }

    /// A loss curve of one value per step, averaged over at most `points` buckets of consecutive
    /// steps; each point is at its bucket's last step.
    public static func curve(_ losses: [Double], points: Int) -> [LossPoint] {
        let buckets = min(points, losses.count)
        return (0..<buckets).map { bucket in
            let range = (bucket * losses.count / buckets)..<((bucket + 1) * losses.count / buckets)
            return LossPoint(step: range.upperBound, loss: losses[range].reduce(0, +) / Double(range.count))
        }
    }
}

/// The neighbourhoods of one site: a hook, optionally one head of it.
public struct NeighbourhoodSiteFindings: Codable, Sendable, Equatable {
    /// The site's page folder name (`neighbourhoods/<slug>/`), e.g. `blocks.1.attn.hook_z.h2`.
    public var slug: String
    /// The TransformerLens hook name.
    public var hook: String
    /// The head, or nil for the whole row.
    public var head: Int?
    /// The decoder's held-out cross-entropy per token on pairs from this site.
    public var decoderLoss: Double
    /// Decoded samples inside ε over all samples of the site's queries.
    public var insideFraction: Double
    /// The site's queries, in the spec's order.
    public var queries: [NeighbourhoodQuery]

    public init(slug: String, hook: String, head: Int?, decoderLoss: Double, insideFraction: Double, queries: [NeighbourhoodQuery]) {
        self.slug = slug
        self.hook = hook
        self.head = head
        self.decoderLoss = decoderLoss
        self.insideFraction = insideFraction
        self.queries = queries
    }
}

/// One query activation and its neighbourhood.
public struct NeighbourhoodQuery: Codable, Sendable, Equatable {
    /// The query's page name within its site (`q1`, `q2`, …).
    public var id: String
    /// How the query was chosen, e.g. `text`, `top example 1 of feature 12 (blocks.2.hook_resid_post)`,
    /// `ioi prompt 2, position −1`.
    public var origin: String
    /// The atlas example the query is, when it was chosen as a feature's top example (the example's
    /// page links here).
    public var featureExample: FeatureExampleRef?
    /// Display strings of the query's tokens (`[T]`, a prepended BOS included).
    public var tokens: [String]
    /// Index into `tokens` of the query position.
    public var position: Int
    /// For a head site: the query row of the head's attention pattern (`[position + 1]`, weights over
    /// tokens 0…position); nil for other sites.
    public var attention: [Double]?
    /// Corpus positions compared, and those within ε.
    public var candidates: Int, inside: Int
    /// The nearest corpus positions, ascending by distance.
    public var retrieved: [RetrievedNeighbour]
    /// The decoder's samples, ascending by (re-measured) distance.
    public var samples: [DecodedSample]
    /// Samples inside ε over all samples.
    public var insideFraction: Double
    /// What the samples inside ε share that those outside do not.
    public var shared: [SharedStatement]

    public init(
        id: String, origin: String, featureExample: FeatureExampleRef?, tokens: [String], position: Int, attention: [Double]?,
        candidates: Int, inside: Int, retrieved: [RetrievedNeighbour], samples: [DecodedSample], insideFraction: Double,
        shared: [SharedStatement]
    ) {
        self.id = id
        self.origin = origin
        self.featureExample = featureExample
        self.tokens = tokens
        self.position = position
        self.attention = attention
        self.candidates = candidates
        self.inside = inside
        self.retrieved = retrieved
        self.samples = samples
        self.insideFraction = insideFraction
        self.shared = shared
    }
}

/// One top example of an atlas feature: the dictionary's hook, the feature and the example's rank
/// (0-based, as in `FeatureFindings.topExamples`).
public struct FeatureExampleRef: Codable, Sendable, Equatable {
    public var hook: String
    public var feature: Int
    public var example: Int

    public init(hook: String, feature: Int, example: Int) {
        self.hook = hook
        self.feature = feature
        self.example = example
    }
}

/// A retrieved corpus position, shown with its context.
public struct RetrievedNeighbour: Codable, Sendable, Equatable {
    /// 0-based document and token index within it (BOS not counted).
    public var document: Int, position: Int
    /// Display strings of the window's tokens up to and including the matched one (at most 12).
    public var tokens: [String]
    /// Distance to the query activation.
    public var distance: Double

    public init(document: Int, position: Int, tokens: [String], distance: Double) {
        self.document = document
        self.position = position
        self.tokens = tokens
        self.distance = distance
    }
}

/// A decoded sample: an input the decoder generated for the query activation, run back through the model.
public struct DecodedSample: Codable, Sendable, Equatable {
    /// Token ids and their display strings (`[T]` each, a leading BOS included when the model sees one).
    public var tokenIDs: [Int]
    public var tokens: [String]
    /// The position whose activation lies nearest the query's, and that distance (re-measured).
    public var matchedPosition: Int
    public var distance: Double
    /// Per position, the distance of its activation to the query's (`[T]`; nil at a BOS).
    public var positionDistances: [Double?]
    /// Per position, `p(token | query activation) − p(token | reference activation)` under the decoder
    /// (`[T]`, in [−1, 1]): how much the query activation made the decoder choose this token.
    public var shading: [Double]
    /// The sampling temperature and the activation-noise level it was drawn with.
    public var temperature: Double, noise: Double

    public init(
        tokenIDs: [Int], tokens: [String], matchedPosition: Int, distance: Double, positionDistances: [Double?],
        shading: [Double], temperature: Double, noise: Double
    ) {
        self.tokenIDs = tokenIDs
        self.tokens = tokens
        self.matchedPosition = matchedPosition
        self.distance = distance
        self.positionDistances = positionDistances
        self.shading = shading
        self.temperature = temperature
        self.noise = noise
    }
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

/// The samples a decoder draws for one query activation (`loupe decode`), each re-measured, written as
/// JSON with snake_case keys.
public struct DecodeResult: Codable, Sendable, Equatable {
    /// The query's tokens and position.
    public var query: PreimageQueryTokens
    /// The TransformerLens hook name.
    public var hook: String
    /// The head, or nil for the whole row (encoded as `null`).
    public var head: Int?
    /// `l2` or `cosine`.
    public var distance: String
    public var epsilon: Double
    /// Ascending by distance.
    public var samples: [DecodeSample]
    /// Samples with distance ≤ ε over all samples.
    public var insideFraction: Double
    public var shared: [SharedStatement]

    public init(
        query: PreimageQueryTokens, hook: String, head: Int?, distance: String, epsilon: Double, samples: [DecodeSample],
        insideFraction: Double, shared: [SharedStatement]
    ) {
        self.query = query
        self.hook = hook
        self.head = head
        self.distance = distance
        self.epsilon = epsilon
        self.samples = samples
        self.insideFraction = insideFraction
        self.shared = shared
    }

    private enum CodingKeys: String, CodingKey {
        case query, hook, head, distance, epsilon, samples, shared
        case insideFraction = "inside_fraction"
    }

    /// Writes every key, `head` as `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(query, forKey: .query)
        try container.encode(hook, forKey: .hook)
        if let head { try container.encode(head, forKey: .head) } else { try container.encodeNil(forKey: .head) }
        try container.encode(distance, forKey: .distance)
        try container.encode(epsilon, forKey: .epsilon)
        try container.encode(samples, forKey: .samples)
        try container.encode(insideFraction, forKey: .insideFraction)
        try container.encode(shared, forKey: .shared)
    }
}

/// One decoded sample of a `DecodeResult`.
public struct DecodeSample: Codable, Sendable, Equatable {
    /// The probed model's input ids (a leading BOS included when the decoder prepends one) and their text.
    public var tokens: [Int]
    public var text: String
    /// Re-measured: the minimum over the sample's non-BOS positions.
    public var distance: Double
    /// The position where that minimum is reached (an index into `tokens`).
    public var matchedPosition: Int
    public var temperature: Double
    public var noise: Double

    public init(tokens: [Int], text: String, distance: Double, matchedPosition: Int, temperature: Double, noise: Double) {
        self.tokens = tokens
        self.text = text
        self.distance = distance
        self.matchedPosition = matchedPosition
        self.temperature = temperature
        self.noise = noise
    }

    private enum CodingKeys: String, CodingKey {
        case tokens, text, distance, temperature, noise
        case matchedPosition = "matched_position"
    }
}
