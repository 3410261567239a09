/// The findings of one report build: everything the site shows, as plain Codable values.
///
/// Findings are the contract between the analyses and the site: the site renders only these,
/// and a site can be rebuilt from saved findings without running the model.
public struct ReportFindings: Codable, Sendable, Equatable {
    /// Report name (the spec's folder name).
    public var name: String
    /// The model the report is about.
    public var model: ModelSummary
    /// The corpus the statistics come from.
    public var corpus: CorpusSummary
    /// One atlas per hook point and dictionary.
    public var dictionaries: [DictionaryFindings]

    public init(name: String, model: ModelSummary, corpus: CorpusSummary, dictionaries: [DictionaryFindings]) {
        self.name = name
        self.model = model
        self.corpus = corpus
        self.dictionaries = dictionaries
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

/// The atlas of one dictionary (or of a hook's neurons) at one hook point.
public struct DictionaryFindings: Codable, Sendable, Equatable {
    /// A short identifier usable in file names (e.g. `blocks.2.hook_resid_post-topk`).
    public var id: String
    /// TransformerLens hook name.
    public var hook: String
    /// `topk`, `relu`, `jumprelu` (dictionaries) or `neurons` (the hook's own units).
    public var kind: String
    /// Where the dictionary came from (a SAELens directory, `trained by Loupe`, or `neurons`).
    public var source: String
    /// Input width (the hook's last dimension).
    public var inputWidth: Int
    /// Number of features.
    public var width: Int
    /// Reconstruction quality; `nil` for neurons.
    public var quality: DictionaryQuality?
    /// Median detection and simulation scores over the explained features.
    public var medianDetection: Double?
    public var medianSimulation: Double?
    /// One entry per feature, in index order.
    public var features: [FeatureFindings]

    public init(
        id: String, hook: String, kind: String, source: String, inputWidth: Int, width: Int,
        quality: DictionaryQuality?, medianDetection: Double?, medianSimulation: Double?, features: [FeatureFindings]
    ) {
        self.id = id
        self.hook = hook
        self.kind = kind
        self.source = source
        self.inputWidth = inputWidth
        self.width = width
        self.quality = quality
        self.medianDetection = medianDetection
        self.medianSimulation = medianSimulation
        self.features = features
    }
}

/// How well a dictionary reconstructs its hook, over the corpus.
public struct DictionaryQuality: Codable, Sendable, Equatable {
    /// Mean squared error per value.
    public var meanSquaredError: Double
    /// 1 − (residual variance / activation variance).
    public var fractionOfVarianceExplained: Double
    /// Mean number of active features per token.
    public var meanL0: Double
    /// Fraction of features that never fire on the corpus.
    public var deadFraction: Double
    /// Next-token cross-entropy of the model as is, with the reconstruction spliced in at the hook,
    /// and with the hook zeroed.
    public var cleanLoss: Double
    public var reconstructedLoss: Double
    public var zeroAblatedLoss: Double
    /// (zero-ablated − reconstructed) / (zero-ablated − clean): 1 when the reconstruction loses nothing.
    public var lossRecovered: Double

    public init(
        meanSquaredError: Double, fractionOfVarianceExplained: Double, meanL0: Double, deadFraction: Double,
        cleanLoss: Double, reconstructedLoss: Double, zeroAblatedLoss: Double, lossRecovered: Double
    ) {
        self.meanSquaredError = meanSquaredError
        self.fractionOfVarianceExplained = fractionOfVarianceExplained
        self.meanL0 = meanL0
        self.deadFraction = deadFraction
        self.cleanLoss = cleanLoss
        self.reconstructedLoss = reconstructedLoss
        self.zeroAblatedLoss = zeroAblatedLoss
        self.lossRecovered = lossRecovered
    }
}
