/// One corpus position kept as a possible example, with the tokens around it.
///
/// `tokens` and `activations` (`n` values each) cover document positions `start ..< start + n`
/// of one model window; the focus token is `position` (for a non-activating window, its first
/// token). `region` is `position / windowStride`, the model window's number in its document.
public struct ExampleCandidate: Codable, Sendable, Equatable {
    /// Activation at the focus token (for a non-activating window, its largest activation).
    public var activation: Float
    /// Random priority of a sampled candidate (smaller is kept); 0 for strongest-first lists.
    public var priority: UInt64
    public var document: Int
    public var position: Int
    public var region: Int
    /// Document position of `tokens[0]`.
    public var start: Int
    /// Token ids around the focus.
    public var tokens: [Int]
    /// The feature's activation at each of `tokens`.
    public var activations: [Float]

    public init(
        activation: Float, priority: UInt64, document: Int, position: Int, region: Int, start: Int,
        tokens: [Int], activations: [Float]
    ) {
        self.activation = activation
        self.priority = priority
        self.document = document
        self.position = position
        self.region = region
        self.start = start
        self.tokens = tokens
        self.activations = activations
    }

    /// Index of the focus token in `tokens`.
    public var focus: Int { position - start }
}

/// The best `capacity` candidates with distinct keys, kept in rank order.
///
/// The rank is either strongest first (activation descending) or lowest priority first (a
/// seeded random priority: a uniform sample without replacement, as a reservoir gives); ties go
/// to the smaller (document, position). The key is the model window (`document`, `region`) or
/// the document: each key keeps only its best candidate. The kept set depends only on the set of
/// candidates offered, never on their order, so selections of disjoint shards `merge` exactly.
public struct CandidateSelection: Codable, Sendable, Equatable {
    /// How candidates are ranked.
    public enum Rank: String, Codable, Sendable {
        case strongest
        case lowestPriority
    }

    /// What makes two candidates duplicates.
    public enum Key: String, Codable, Sendable {
        case window
        case document
    }

    public let capacity: Int
    public let rank: Rank
    public let key: Key
    /// The kept candidates, best first.
    public private(set) var entries: [ExampleCandidate] = []

    public init(capacity: Int, rank: Rank, key: Key) {
        self.capacity = capacity
        self.rank = rank
        self.key = key
    }

    /// Whether `capacity` candidates are kept.
    public var isFull: Bool { entries.count >= capacity }

    /// Whether candidate `a` ranks before `b`.
    @inline(__always)
    func precedes(_ a: ExampleCandidate, _ b: ExampleCandidate) -> Bool {
        precedes(activation: a.activation, priority: a.priority, document: a.document, position: a.position, b)
    }

    @inline(__always)
    func precedes(activation: Float, priority: UInt64, document: Int, position: Int, _ b: ExampleCandidate) -> Bool {
        switch rank {
        case .strongest:
            if activation != b.activation { return activation > b.activation }
        case .lowestPriority:
            if priority != b.priority { return priority < b.priority }
        }
        return (document, position) < (b.document, b.position)
    }

    @inline(__always)
    private func sameKey(_ a: ExampleCandidate, _ b: ExampleCandidate) -> Bool {
        a.document == b.document && (key == .document || a.region == b.region)
    }

    /// Whether a candidate with these values could be kept (a cheap test before building it).
    @inline(__always)
    public func admits(activation: Float, priority: UInt64, document: Int, position: Int) -> Bool {
        guard capacity > 0 else { return false }
        guard let last = entries.last, isFull else { return true }
        return precedes(activation: activation, priority: priority, document: document, position: position, last)
    }

    /// Keeps `candidate` if it ranks among the best `capacity` distinct keys.
    public mutating func offer(_ candidate: ExampleCandidate) {
        guard capacity > 0 else { return }
        if let same = entries.firstIndex(where: { sameKey($0, candidate) }) {
            guard precedes(candidate, entries[same]) else { return }
            entries.remove(at: same)
        } else if isFull {
            guard let last = entries.last, precedes(candidate, last) else { return }
            entries.removeLast()
        }
        let slot = entries.firstIndex(where: { precedes(candidate, $0) }) ?? entries.count
        entries.insert(candidate, at: slot)
    }

    /// Adds the candidates of a selection over other rows (same capacity, rank and key).
    public mutating func merge(_ other: CandidateSelection) throws {
        guard other.capacity == capacity, other.rank == rank, other.key == key else {
            throw AtlasError.incompatibleShards(reason: "example selections differ in capacity, rank or key")
        }
        for candidate in other.entries { offer(candidate) }
    }

    /// The worst kept candidate's activation when full, else −∞ (for a strongest-first list).
    var activationThreshold: Float {
        guard capacity > 0 else { return .infinity }
        return isFull ? (entries.last?.activation ?? -.infinity) : -.infinity
    }
    /// The worst kept candidate's priority when full, else the largest priority.
    var priorityThreshold: UInt64 { isFull ? (entries.last?.priority ?? .max) : .max }
}
