import LoupeFindings

/// One sample of a decoded neighbourhood: an input's token ids, the position whose activation is nearest
/// the query's, and that distance.
public struct NeighbourhoodSample: Sendable, Equatable {
    /// The input's token ids, a prepended BOS included when the model saw one.
    public var tokens: [Int]
    /// Index into `tokens` of the matched position.
    public var matchedPosition: Int
    /// Distance of the matched position's activation to the query activation.
    public var distance: Double

    public init(tokens: [Int], matchedPosition: Int, distance: Double) {
        self.tokens = tokens
        self.matchedPosition = matchedPosition
        self.distance = distance
    }
}

/// What the samples inside ε have in common that the samples outside do not ("what is shared").
///
/// Each sample has these properties, each with one value or none:
/// - the matched token;
/// - the token at each offset −`radius`…−1 and +1…+`radius` from the matched position (none when the
///   offset falls outside the sample);
/// - its length in tokens, a leading `bos` not counted;
/// - each toy-task variable the `variables` function gives it (name → value, e.g. `count` → `3`).
///
/// A property value is stated when at least `minimumInsideShare` of the inside samples hold it and the
/// share of outside samples holding it (0 when there are none) is at most the inside share less
/// `minimumGap`; when a query is given, the query must hold it too (the neighbourhood is the query's).
/// Statements are ordered by gap (inside share − outside share) descending, ties in the order of the list
/// above (offsets −1, −2, …, +1, +2, …; variables by name), then by value; at most `maximumStatements`.
/// No inside samples, no statements.
public enum SharedInformation {
    /// Thresholds of `statements`.
    public struct Options: Sendable, Equatable {
        /// Largest offset from the matched position whose token is a property.
        public var radius: Int
        /// Share of the inside samples that must hold a stated property, and least gap between the
        /// inside and the outside share of a stated property.
        public var minimumInsideShare, minimumGap: Double
        /// Most statements returned.
        public var maximumStatements: Int
        /// A BOS id not counted in a sample's length when it leads the sample, or nil.
        public var bos: Int?
        /// How the support names the two groups: `"29 of 31 inside ε; 4 of 33 outside"` by default.
        public var insideName, outsideName: String

        public init(
            radius: Int = 4, minimumInsideShare: Double = 0.8, minimumGap: Double = 0.3, maximumStatements: Int = 5,
            bos: Int? = nil, insideName: String = "inside ε", outsideName: String = "outside"
        ) {
            (self.radius, self.minimumInsideShare, self.minimumGap) = (radius, minimumInsideShare, minimumGap)
            (self.maximumStatements, self.bos) = (maximumStatements, bos)
            (self.insideName, self.outsideName) = (insideName, outsideName)
        }
    }

    /// A property of a sample, in tie order.
    enum Property: Hashable, Comparable {
        case matchedToken
        /// Offsets sort −1, −2, …, then +1, +2, ….
        case token(offset: Int)
        case length
        case variable(String)

        private var rank: (Int, Int, String) {
            switch self {
            case .matchedToken: (0, 0, "")
            case .token(let offset): offset < 0 ? (1, -offset, "") : (2, offset, "")
            case .length: (3, 0, "")
            case .variable(let name): (4, 0, name)
            }
        }

        static func < (a: Property, b: Property) -> Bool { a.rank < b.rank }
    }

    /// A property's value: a token id, a length, or a variable's phrased value.
    enum Value: Hashable, Comparable {
        case number(Int)
        case text(String)
    }

    /// The statements for a neighbourhood; `display` gives a token id's display string (shown in curly
    /// quotes), `variables` a sample's toy-task variables (e.g. `ToyTaskVariables.variables(of:at:)`).
    public static func statements(
        inside: [NeighbourhoodSample], outside: [NeighbourhoodSample], query: NeighbourhoodSample? = nil,
        display: (Int) -> String, variables: ((NeighbourhoodSample) -> [String: String])? = nil,
        options: Options = Options()
    ) -> [SharedStatement] {
        guard !inside.isEmpty else { return [] }
        func count(_ samples: [NeighbourhoodSample]) -> [Property: [Value: Int]] {
            var counts: [Property: [Value: Int]] = [:]
            for sample in samples {
                for (property, value) in properties(of: sample, options: options, variables: variables) {
                    counts[property, default: [:]][value, default: 0] += 1
                }
            }
            return counts
        }
        let insideCounts = count(inside)
        let outsideCounts = count(outside)
        let queryProperties = query.map { properties(of: $0, options: options, variables: variables) }
        let (inTotal, outTotal) = (inside.count, outside.count)

        struct Candidate {
            var property: Property
            var value: Value
            var inCount: Int
            var outCount: Int
            /// The gap times `inTotal · max(outTotal, 1)`: exact, so ties are ties.
            var score: Int
        }
        var candidates: [Candidate] = []
        for (property, values) in insideCounts {
            for (value, inCount) in values {
                let outCount = outsideCounts[property]?[value] ?? 0
                let inShare = Double(inCount) / Double(inTotal)
                let outShare = outTotal == 0 ? 0 : Double(outCount) / Double(outTotal)
                let tolerance = 1e-9
                guard inShare >= options.minimumInsideShare - tolerance,
                    outShare <= inShare - options.minimumGap + tolerance
                else { continue }
                if let queryProperties, queryProperties[property] != value { continue }
                candidates.append(
                    Candidate(
                        property: property, value: value, inCount: inCount, outCount: outCount,
                        score: inCount * max(outTotal, 1) - outCount * inTotal))
            }
        }
        candidates.sort {
            ($0.score, $1.property, $1.value) > ($1.score, $0.property, $0.value)
        }
        return candidates.prefix(max(options.maximumStatements, 0)).map { candidate in
            SharedStatement(
                statement: sentence(candidate.property, candidate.value, display: display),
                support: "\(candidate.inCount) of \(inTotal) \(options.insideName); \(candidate.outCount) of \(outTotal) \(options.outsideName)")
        }
    }

    /// A sample's property values.
    static func properties(
        of sample: NeighbourhoodSample, options: Options, variables: ((NeighbourhoodSample) -> [String: String])?
    ) -> [Property: Value] {
        var properties: [Property: Value] = [:]
        let tokens = sample.tokens
        if tokens.indices.contains(sample.matchedPosition) {
            properties[.matchedToken] = .number(tokens[sample.matchedPosition])
        }
        for offset in -options.radius...options.radius where offset != 0 {
            let index = sample.matchedPosition + offset
            if tokens.indices.contains(index) { properties[.token(offset: offset)] = .number(tokens[index]) }
        }
        let leadingBOS = options.bos != nil && tokens.first == options.bos
        properties[.length] = .number(tokens.count - (leadingBOS ? 1 : 0))
        for (name, value) in variables?(sample) ?? [:] {
            properties[.variable(name)] = .text(value)
        }
        return properties
    }

    /// The sentence stating that a sample's `property` has `value`.
    static func sentence(_ property: Property, _ value: Value, display: (Int) -> String) -> String {
        switch (property, value) {
        case (.matchedToken, .number(let id)):
            return "the matched token is “\(display(id))”"
        case (.token(let offset), .number(let id)):
            let side = offset < 0 ? "before" : "after"
            let distance = abs(offset) == 1 ? "" : "\(abs(offset)) "
            return "the token \(distance)\(side) the matched one is “\(display(id))”"
        case (.length, .number(let length)):
            return "the input is \(length) token\(length == 1 ? "" : "s") long"
        case (.variable(let name), .text(let text)):
            return "the \(name) is \(text)"
        case (_, .number(let number)):
            return "\(property) is \(number)"
        case (_, .text(let text)):
            return "\(property) is \(text)"
        }
    }
}
