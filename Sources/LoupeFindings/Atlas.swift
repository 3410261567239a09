// The feature atlas: per hook point, a dictionary's (or the neurons') statistics, examples,
// logit effects, neighbours and explanations.

/// The atlas of one dictionary (or of a hook's neurons) at one hook point.
public struct DictionaryFindings: Codable, Sendable, Equatable {
    /// A short identifier usable in file names (e.g. `blocks.2.hook_resid_post-topk`).
    public var id: String
    /// TransformerLens hook name.
    public var hook: String
    /// The dictionary's architecture, or `neurons` for the hook's own units.
    public var kind: DictionaryKind
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
    /// What the language model did for these explanations; nil when explanations are offline.
    public var languageModel: LanguageModelAccounting?

    public init(
        id: String, hook: String, kind: DictionaryKind, source: String, inputWidth: Int, width: Int,
        quality: DictionaryQuality?, medianDetection: Double?, medianSimulation: Double?, features: [FeatureFindings],
        languageModel: LanguageModelAccounting? = nil
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
        self.languageModel = languageModel
    }
}

/// The language model's part in one hook's explanations: how many it wrote, how many fell back to the
/// offline explanation and why, and what the requests cost. Costs of answers served from the response
/// cache are those recorded when they were obtained, so a rebuild from the cache states the same figures.
public struct LanguageModelAccounting: Codable, Sendable, Equatable {
    /// The model asked.
    public var model: String
    /// Features the model was asked to explain, those it explained, and those that fell back.
    public var asked: Int
    public var explained: Int
    public var fellBack: Int
    /// Fallbacks by kind of failure, most frequent first.
    public var fallbackReasons: [ReasonCount]
    /// HTTP requests (retries included), retries among them, and tokens the server counted.
    public var requests: Int
    public var retries: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public init(
        model: String, asked: Int, explained: Int, fellBack: Int, fallbackReasons: [ReasonCount],
        requests: Int, retries: Int, promptTokens: Int, completionTokens: Int
    ) {
        self.model = model
        self.asked = asked
        self.explained = explained
        self.fellBack = fellBack
        self.fallbackReasons = fallbackReasons
        self.requests = requests
        self.retries = retries
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    /// Share of asked features that fell back (0 when none was asked).
    public var fallbackShare: Double { asked > 0 ? Double(fellBack) / Double(asked) : 0 }

    /// The fallbacks' reasons as `HTTP 500 × 12, timeout × 3`.
    public var reasonsText: String { fallbackReasons.map { "\($0.reason) × \($0.count)" }.joined(separator: ", ") }
}

/// How often one reason occurred.
public struct ReasonCount: Codable, Sendable, Equatable {
    public var reason: String
    public var count: Int

    public init(reason: String, count: Int) {
        self.reason = reason
        self.count = count
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
    /// Fraction of features that never fire on the evaluated tokens.
    public var deadFraction: Double
    /// Next-token cross-entropy of the model as is, with the reconstruction spliced in at the hook,
    /// and with the hook zeroed.
    public var cleanLoss: Double
    public var reconstructedLoss: Double
    public var zeroAblatedLoss: Double
    /// (zero-ablated − reconstructed) / (zero-ablated − clean): 1 when the reconstruction loses nothing.
    public var lossRecovered: Double
    /// Corpus tokens these figures are measured on.
    public var tokens: Int

    public init(
        meanSquaredError: Double, fractionOfVarianceExplained: Double, meanL0: Double, deadFraction: Double,
        cleanLoss: Double, reconstructedLoss: Double, zeroAblatedLoss: Double, lossRecovered: Double, tokens: Int
    ) {
        self.meanSquaredError = meanSquaredError
        self.fractionOfVarianceExplained = fractionOfVarianceExplained
        self.meanL0 = meanL0
        self.deadFraction = deadFraction
        self.cleanLoss = cleanLoss
        self.reconstructedLoss = reconstructedLoss
        self.zeroAblatedLoss = zeroAblatedLoss
        self.lossRecovered = lossRecovered
        self.tokens = tokens
    }
}

/// What a hook's features are: the latents of a sparse dictionary of one SAELens architecture, or
/// the hook's own units.
public enum DictionaryKind: String, Codable, Sendable, CaseIterable {
    /// ReLU dictionary (SAELens `standard`).
    case standard
    /// TopK dictionary.
    case topk
    /// JumpReLU dictionary.
    case jumprelu
    /// The hook's own units (neurons), no dictionary.
    case neurons
}

/// Everything the atlas shows about one feature (a dictionary latent or a neuron).
public struct FeatureFindings: Codable, Sendable, Equatable {
    /// Index in the dictionary.
    public var index: Int
    /// Fraction of corpus tokens where the feature is non-zero.
    public var density: Double
    /// Largest activation on the corpus.
    public var maxActivation: Float
    /// Mean of the non-zero activations.
    public var meanActivation: Float
    /// Histogram of the non-zero activations.
    public var histogram: Histogram
    /// Strongest examples, one per document region, strongest first.
    public var topExamples: [ActivationExample]
    /// Examples grouped by activation interval between 0 (exclusive) and the maximum.
    public var intervals: [IntervalGroup]
    /// The decoder direction pushed through the final layer norm's scale and the unembedding;
    /// `nil` when the feature has no output direction in the residual stream.
    public var logitEffects: LogitEffects?
    /// Features with the most similar decoder directions (cosine similarity).
    public var neighbours: [FeatureLink]
    /// Features that fire on the same tokens most often (fraction of this feature's firing tokens
    /// on which the other fires too).
    public var coFiring: [FeatureLink]
    /// The explanation and its scores, if the feature fires often enough to be explained.
    public var explanation: Explanation?

    public init(
        index: Int, density: Double, maxActivation: Float, meanActivation: Float, histogram: Histogram,
        topExamples: [ActivationExample], intervals: [IntervalGroup], logitEffects: LogitEffects?,
        neighbours: [FeatureLink], coFiring: [FeatureLink], explanation: Explanation?
    ) {
        self.index = index
        self.density = density
        self.maxActivation = maxActivation
        self.meanActivation = meanActivation
        self.histogram = histogram
        self.topExamples = topExamples
        self.intervals = intervals
        self.logitEffects = logitEffects
        self.neighbours = neighbours
        self.coFiring = coFiring
        self.explanation = explanation
    }
}

/// Counts of values in equal-width bins from `lower` to `upper`.
public struct Histogram: Codable, Sendable, Equatable {
    public var lower: Float
    public var upper: Float
    /// One count per bin; bin i covers [lower + i·w, lower + (i+1)·w) with w = (upper − lower)/count,
    /// the last bin closed at `upper`.
    public var counts: [Int]

    public init(lower: Float, upper: Float, counts: [Int]) {
        self.lower = lower
        self.upper = upper
        self.counts = counts
    }
}

/// A window of tokens around one position of a document, with the feature's activation at each.
public struct ActivationExample: Codable, Sendable, Equatable {
    /// Document index in the corpus.
    public var document: Int
    /// Position of the window's focus token in the document.
    public var position: Int
    /// Display strings of the window's tokens.
    public var tokens: [String]
    /// The feature's activation at each token of the window.
    public var activations: [Float]
    /// Index of the focus token inside the window.
    public var focus: Int

    public init(document: Int, position: Int, tokens: [String], activations: [Float], focus: Int) {
        self.document = document
        self.position = position
        self.tokens = tokens
        self.activations = activations
        self.focus = focus
    }

    /// The activation at the focus token.
    public var activation: Float { activations[focus] }
}

/// Examples whose focus activation lies in `(lower, upper]`.
public struct IntervalGroup: Codable, Sendable, Equatable {
    public var lower: Float
    public var upper: Float
    public var examples: [ActivationExample]

    public init(lower: Float, upper: Float, examples: [ActivationExample]) {
        self.lower = lower
        self.upper = upper
        self.examples = examples
    }
}

/// A token and a weight (a logit effect).
public struct TokenWeight: Codable, Sendable, Equatable {
    public var token: String
    public var weight: Float

    public init(token: String, weight: Float) {
        self.token = token
        self.weight = weight
    }
}

/// The direct effect of a feature's decoder direction on the logits.
public struct LogitEffects: Codable, Sendable, Equatable {
    /// Tokens most promoted, strongest first.
    public var top: [TokenWeight]
    /// Tokens most suppressed, strongest first.
    public var bottom: [TokenWeight]
    /// Histogram of the effect over the whole vocabulary.
    public var histogram: Histogram

    public init(top: [TokenWeight], bottom: [TokenWeight], histogram: Histogram) {
        self.top = top
        self.bottom = bottom
        self.histogram = histogram
    }
}

/// A link to another feature of the same dictionary with a score.
public struct FeatureLink: Codable, Sendable, Equatable {
    public var index: Int
    public var score: Float

    public init(index: Int, score: Float) {
        self.index = index
        self.score = score
    }
}

/// An explanation of a feature and its scores on held-out examples.
public struct Explanation: Codable, Sendable, Equatable {
    /// One sentence.
    public var text: String
    /// `offline` (a fitted rule) or the name of the language model that wrote it.
    public var source: String
    /// Balanced accuracy of predicting whether held-out examples fire.
    public var detection: Double
    /// Balanced accuracy of predicting whether highlighted held-out tokens fire.
    public var fuzzing: Double
    /// Pearson correlation of predicted and real per-token activations on held-out examples.
    public var simulation: Double
    /// Examples scored (activating + non-activating).
    public var heldOutExamples: Int
    /// Why a language model asked for this explanation gave none (`HTTP 500`, `timeout`, …), so the
    /// offline explanation stands in; nil otherwise.
    public var fallback: String?

    public init(
        text: String, source: String, detection: Double, fuzzing: Double, simulation: Double, heldOutExamples: Int,
        fallback: String? = nil
    ) {
        self.text = text
        self.source = source
        self.detection = detection
        self.fuzzing = fuzzing
        self.simulation = simulation
        self.heldOutExamples = heldOutExamples
        self.fallback = fallback
    }
}
