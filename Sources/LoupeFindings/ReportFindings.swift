/// The findings of one report build: everything the site shows, as plain Codable values.
///
/// Findings are the contract between the analyses and the site: the site renders only these,
/// and a site can be rebuilt from saved findings without running the model.
///
/// Each analysis has its own section, defined in its own file: the feature atlas (`dictionaries`,
/// `Atlas.swift`), circuits (`Circuits.swift`), decoded neighbourhoods (`Neighbourhoods.swift`) and
/// subspaces (`Subspaces.swift`). A section an analysis did not run for is absent (`nil`) and is
/// left out of the JSON.
public struct ReportFindings: Codable, Sendable, Equatable {
    /// The version of this contract that `Report` and `SiteWriter` read and write. Saved findings of
    /// another version are recomputed, never reinterpreted.
    public static let currentSchemaVersion = 7

    /// The contract version these findings were written with.
    public var schemaVersion: Int
    /// Report name (the spec's folder name).
    public var name: String
    /// The model the report is about.
    public var model: ModelSummary
    /// The corpus the statistics come from.
    public var corpus: CorpusSummary
    /// The feature atlas: one per hook point and dictionary.
    public var dictionaries: [DictionaryFindings]
    /// Circuit reports, when the spec asks for them.
    public var circuits: CircuitFindings?
    /// Decoded neighbourhoods of activations, when the spec asks for them.
    public var neighbourhoods: NeighbourhoodFindings?
    /// Subspace pages, when the spec asks for them.
    public var subspaces: SubspaceFindings?

    public init(
        name: String, model: ModelSummary, corpus: CorpusSummary, dictionaries: [DictionaryFindings],
        circuits: CircuitFindings? = nil, neighbourhoods: NeighbourhoodFindings? = nil, subspaces: SubspaceFindings? = nil,
        schemaVersion: Int = ReportFindings.currentSchemaVersion
    ) {
        self.schemaVersion = schemaVersion
        self.name = name
        self.model = model
        self.corpus = corpus
        self.dictionaries = dictionaries
        self.circuits = circuits
        self.neighbourhoods = neighbourhoods
        self.subspaces = subspaces
    }
}

/// Shape of the model a report describes.
public struct ModelSummary: Codable, Sendable, Equatable {
    public var path: String
    public var layers: Int
    public var width: Int
    public var heads: Int
    public var vocabularySize: Int
    public var contextLength: Int

    public init(path: String, layers: Int, width: Int, heads: Int, vocabularySize: Int, contextLength: Int) {
        self.path = path
        self.layers = layers
        self.width = width
        self.heads = heads
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
    }
}

/// Size of the corpus a report ran over.
public struct CorpusSummary: Codable, Sendable, Equatable {
    /// Corpus files as given in the spec.
    public var files: [String]
    public var documents: Int
    public var tokens: Int
    /// Tokens per model context window.
    public var contextLength: Int

    public init(files: [String], documents: Int, tokens: Int, contextLength: Int) {
        self.files = files
        self.documents = documents
        self.tokens = tokens
        self.contextLength = contextLength
    }
}
