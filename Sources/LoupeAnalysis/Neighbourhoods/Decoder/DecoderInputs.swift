import LoupeCore
import LoupeModel
import LoupeToyWorld

/// Where a decoder's training inputs come from: fresh toy-world documents (for models of the toy
/// world) or windows of a tokenised corpus.
public enum DecoderInputSource: Sendable, Equatable {
    /// `<|endoftext|>` and 1…`sentences` toy-world sentences, each a task instance with probability
    /// `taskShare` (else filler), cut to the probed context.
    case toyWorld(sentences: Int, taskShare: Double)
    /// Windows of the probed model's context cut from these documents (a BOS first when the decoder
    /// prepends one).
    case corpus(TokenizedCorpus)
}

/// Makes (activation → input) pairs: runs the probed model on inputs from a source and reads every
/// site's row at one random non-BOS position of each, keeping the input up to that position.
public struct DecoderExampleMaker: Sendable {
    public let probed: GPT2Model
    /// The decoder's sites, as preimage sites of the probed model.
    public let sites: [PreimageSite]
    public let source: DecoderInputSource
    /// The BOS id starting every input, or nil.
    public let bos: Int?
    private let windows: [[Int]]
    private let world = ToyWorld()

    public init(probed: GPT2Model, sites: [PreimageSite], source: DecoderInputSource, bos: Int?) throws {
        self.probed = probed
        self.sites = sites
        self.source = source
        self.bos = bos
        switch source {
        case .toyWorld:
            windows = []
        case let .corpus(corpus):
            windows = try corpus.windows(contextLength: probed.config.contextLength, bos: bos).map(\.tokens).filter { $0.count > (bos == nil ? 0 : 1) }
            guard !windows.isEmpty else { throw DecoderError.invalidSetting(name: "corpus", reason: "the corpus has no token to train on") }
        }
    }

    /// One probed input.
    private func input(_ rng: inout SeededRandom) -> [Int] {
        switch source {
        case let .toyWorld(sentences, taskShare):
            var ids = bos.map { [$0] } ?? []
            for _ in 0...rng.nextInt(below: max(1, sentences)) {
                ids += Double(rng.nextUniform()) < taskShare
                    ? world.tasks[rng.nextInt(below: world.tasks.count)].sentence(rng: &rng) : world.sentence(rng: &rng)
            }
            return Array(ids.prefix(probed.config.contextLength))
        case .corpus:
            return windows[rng.nextInt(below: windows.count)]
        }
    }

    /// `count` examples: for each, an input, a site and a non-BOS position drawn from `rng`, the
    /// input cut after that position. Inputs run through the probed model together.
    public func examples(count: Int, rng: inout SeededRandom) throws -> [DecoderExample] {
        guard count > 0 else { return [] }
        let inputs = (0..<count).map { _ in input(&rng) }
        let choices = inputs.map { tokens -> (site: Int, position: Int) in
            let first = bos == nil ? 0 : 1
            return (rng.nextInt(below: sites.count), first + rng.nextInt(below: max(1, tokens.count - first)))
        }
        let length = inputs.map(\.count).max()!
        let padding = bos ?? 0
        let hooks = Set(sites.map(\.hook))
        let pass = try probed.forward(
            inputs.map { $0 + Array(repeating: padding, count: length - $0.count) }, ForwardRequest(cache: hooks, computeLogits: false))
        return zip(inputs, choices).enumerated().map { item, pair in
            let (tokens, choice) = pair
            let site = sites[choice.site]
            let value = pass.cache[site.hook]!
            let row = (item * length + choice.position) * site.rowWidth
            return DecoderExample(
                site: choice.site, activation: Array(value.scalars[(row + site.columns.lowerBound)..<(row + site.columns.upperBound)]),
                tokens: Array(tokens[...choice.position]))
        }
    }
}
