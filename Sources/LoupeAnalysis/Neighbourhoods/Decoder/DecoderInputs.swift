import LoupeCore
import LoupeModel
import LoupeToyWorld

/// Where a decoder's training inputs come from: fresh toy-world documents (for models of the toy
/// world) or windows of a tokenised corpus.
public enum DecoderInputSource: Sendable, Equatable {
    /// `<|endoftext|>` and 1…`sentences` toy-world sentences, each with probability `taskShare` an
    /// instance of one of `tasks` (names; all five when empty), else filler, cut to the probed context.
    /// With probability `readoutShare` a task instance is its prompt alone and the input is cut at
    /// its readout position (the last prompt token, where the model predicts the answer), so the
    /// decoder sees often the positions that task queries read.
    case toyWorld(sentences: Int, taskShare: Double, readoutShare: Double, tasks: [String])
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
        case let .toyWorld(_, _, _, tasks):
            let names = ToyWorld().tasks.map(\.name)
            if let unknown = tasks.first(where: { !names.contains($0) }) {
                throw DecoderError.invalidSetting(name: "data.tasks", reason: "'\(unknown)' is not a toy task (\(names.joined(separator: ", ")))")
            }
            windows = []
        case let .corpus(corpus):
            windows = try corpus.windows(contextLength: probed.config.contextLength, bos: bos).map(\.tokens).filter { $0.count > (bos == nil ? 0 : 1) }
            guard !windows.isEmpty else { throw DecoderError.invalidSetting(name: "corpus", reason: "the corpus has no token to train on") }
        }
    }

    /// One probed input and, when it ends at a task's readout position, that position.
    private func input(_ rng: inout SeededRandom) -> (tokens: [Int], readout: Int?) {
        switch source {
        case let .toyWorld(sentences, taskShare, readoutShare, names):
            let tasks = names.isEmpty ? world.tasks : world.tasks.filter { names.contains($0.name) }
            var ids = bos.map { [$0] } ?? []
            for _ in 0...rng.nextInt(below: max(1, sentences)) {
                guard Double(rng.nextUniform()) < taskShare else {
                    ids += world.filler(rng: &rng)
                    continue
                }
                let task = tasks[rng.nextInt(below: tasks.count)]
                if readoutShare > 0, Double(rng.nextUniform()) < readoutShare {
                    ids += task.example(rng: &rng).clean.dropFirst()
                    guard ids.count <= probed.config.contextLength else { break }
                    return (ids, ids.count - 1)
                }
                ids += task.sentence(rng: &rng)
            }
            return (Array(ids.prefix(probed.config.contextLength)), nil)
        case .corpus:
            return (windows[rng.nextInt(below: windows.count)], nil)
        }
    }

    /// Inputs run through the probed model together (grouped by the block their site needs and by
    /// length, so the pass stops early and little is padding).
    static let probedBatch = 256

    /// `count` examples: for each, an input, a site and a non-BOS position (the readout position of an
    /// input that has one) drawn from `rng`, the input cut after that position (activations are causal,
    /// so the cut input gives the same ones).
    public func examples(count: Int, rng: inout SeededRandom) throws -> [DecoderExample] {
        guard count > 0 else { return [] }
        let first = bos == nil ? 0 : 1
        let drawn = (0..<count).map { _ -> (tokens: [Int], site: Int) in
            let (tokens, readout) = input(&rng)
            let site = rng.nextInt(below: sites.count)
            let position = readout ?? first + rng.nextInt(below: max(1, tokens.count - first))
            return (Array(tokens[...position]), site)
        }
        let depths = sites.map { HookPoint($0.hook)?.lastBlock(layers: probed.config.layers) ?? 0 }
        let padding = bos ?? 0
        var examples = [DecoderExample?](repeating: nil, count: count)
        let byDepth = Dictionary(grouping: drawn.indices) { depths[drawn[$0].site] }
        for depth in byDepth.keys.sorted() {
            let order = byDepth[depth]!.sorted { (drawn[$0].tokens.count, $0) < (drawn[$1].tokens.count, $1) }
            for start in stride(from: 0, to: order.count, by: Self.probedBatch) {
                let group = Array(order[start..<min(order.count, start + Self.probedBatch)])
                let length = group.map { drawn[$0].tokens.count }.max()!
                let pass = try probed.forward(
                    group.map { drawn[$0].tokens + Array(repeating: padding, count: length - drawn[$0].tokens.count) },
                    ForwardRequest(cache: Set(group.map { sites[drawn[$0].site].hook }), computeLogits: false))
                for (item, index) in group.enumerated() {
                    let (tokens, choice) = drawn[index]
                    let site = sites[choice]
                    let row = (item * length + tokens.count - 1) * site.rowWidth
                    let value = pass.cache[site.hook]!
                    examples[index] = DecoderExample(
                        site: choice, activation: Array(value.scalars[(row + site.columns.lowerBound)..<(row + site.columns.upperBound)]),
                        tokens: tokens)
                }
            }
        }
        return examples.map { $0! }
    }
}
