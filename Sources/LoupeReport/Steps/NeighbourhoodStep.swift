import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel

/// The `decoder` and `neighbourhoods(site)` steps: the inversion decoder (trained first when the spec
/// asks and none exists yet), then for every query of every site its nearest corpus positions
/// (exact search over the activation store) and the decoder's samples, each re-measured, with what the
/// samples inside ε share.
struct NeighbourhoodStep {
    let context: BuildContext
    let inputs: ReportInputs

    /// Tokens of a retrieved neighbour's window shown, the matched one last.
    static let retrievedContext = 12
    /// Points of the decoder's loss curve kept in the findings.
    static let curvePoints = 100

    /// The query tokens and position of each query source, with its origin and atlas example.
    struct ResolvedQuery {
        var tokens: [Int]
        var position: Int
        var origin: String
        var featureExample: FeatureExampleRef?
    }

    func run(
        _ spec: NeighbourhoodSpec, store: ActivationStore, windows: [CorpusWindow], dictionaries: [DictionaryFindings]
    ) throws -> NeighbourhoodFindings {
        let decoderURL = spec.decoderDirectory
        let decoder = try withStep(.decoder, path: decoderURL.path) { () -> InversionDecoder in
            if case let .train(training) = spec.decoder, !FileManager.default.fileExists(atPath: decoderURL.appendingPathComponent(ModelFiles.config).path) {
                let progress = context.track(.decoder, "training the decoder", total: training.settings.steps, unit: "steps")
                defer { progress.finish() }
                return try DecoderTraining.run(spec: training) { step, _, record in
                    progress.update(step, detail: String(format: "loss %.3f", record.loss))
                }
            }
            let decoder = try InversionDecoder.load(directory: decoderURL)
            let fingerprint = try ModelFingerprint.of(directory: context.spec.model)
            guard decoder.config.probedModelFingerprint == fingerprint else {
                throw DecoderError.otherModel(decoder: decoderURL.path, expected: decoder.config.probedModelFingerprint, found: fingerprint)
            }
            return decoder
        }
        let summary = try withStep(.decoder, path: decoderURL.path) { try decoderSummary(decoder, directory: decoderURL) }
        var slugs: Set<String> = []
        let located = WindowIndex(windows: windows)
        let sites = try spec.sites.map { site -> NeighbourhoodSiteFindings in
            let slug = Self.slug(hook: site.hook, head: site.head, taken: slugs)
            slugs.insert(slug)
            let step = BuildStep.neighbourhoods(site: slug)
            return try withStep(step, path: context.spec.specURL.path) {
                try analyse(site, slug: slug, spec: spec, decoder: decoder, store: store, windows: located, dictionaries: dictionaries)
            }
        }
        return NeighbourhoodFindings(distance: spec.distance.rawValue, epsilon: spec.epsilon, decoder: summary, sites: sites)
    }

    private func analyse(
        _ site: NeighbourhoodSpec.Site, slug: String, spec: NeighbourhoodSpec, decoder: InversionDecoder, store: ActivationStore,
        windows: WindowIndex, dictionaries: [DictionaryFindings]
    ) throws -> NeighbourhoodSiteFindings {
        let model = inputs.model
        let tokenizer = inputs.tokenizer
        let preimageSite = try PreimageSite(hook: site.hook, head: site.head, model: model)
        let siteIndex = try decoder.config.siteIndex(hook: site.hook, head: site.head)
        let queries = try site.queries.flatMap { try resolve($0, windows: windows, dictionaries: dictionaries) }
        let bos = tokenizer.id(for: BeginningOfSequence.token)
        let progress = context.track(.neighbourhoods(site: slug), "decoding", total: queries.count, unit: "queries")
        defer { progress.finish() }
        var found: [NeighbourhoodQuery] = []
        var inside = 0, total = 0
        for (number, resolved) in queries.enumerated() {
            let query = try PreimageQuery(
                model: model, site: preimageSite, tokens: resolved.tokens, position: resolved.position, contextLength: model.config.contextLength)
            let matches = try PreimageSearch.run(
                store: store, query: query, distance: spec.distance, k: spec.retrieved, epsilon: spec.epsilon, excluding: bos)
            var settings = DecodeSettings()
            settings.samples = spec.samples
            settings.epsilon = spec.epsilon
            settings.distance = spec.distance
            settings.seed = context.spec.seed &* 1_000_003 &+ UInt64(siteIndex * 10_007 + number)
            let decoded = try DecodedNeighbourhood.run(decoder: decoder, probed: model, tokenizer: tokenizer, query: query, settings: settings)
            let shading = try DecodedNeighbourhood.shading(
                decoder: decoder, samples: decoded.samples.map(\.tokens), activation: query.activation, siteIndex: siteIndex)
            inside += decoded.samples.filter { $0.distance <= spec.epsilon }.count
            total += decoded.samples.count
            found.append(NeighbourhoodQuery(
                id: "q\(number + 1)", origin: resolved.origin, featureExample: resolved.featureExample,
                tokens: tokenizer.displayStrings(for: query.tokens), position: query.position,
                attention: try attention(site: preimageSite, query: query), candidates: matches.candidates, inside: matches.inside,
                retrieved: matches.nearest.map { hit in
                    RetrievedNeighbour(
                        document: hit.document, position: hit.position,
                        tokens: tokenizer.displayStrings(for: Self.context(of: hit, windows: windows)), distance: hit.distance)
                },
                samples: zip(decoded.samples, shading).map { sample, shades in
                    DecodedSample(
                        tokenIDs: sample.tokens, tokens: tokenizer.displayStrings(for: sample.tokens), matchedPosition: sample.matchedPosition,
                        distance: sample.distance, positionDistances: sample.positionDistances, shading: shades,
                        temperature: sample.temperature, noise: sample.noise)
                },
                insideFraction: decoded.insideFraction, shared: decoded.shared))
            progress.update(found.count)
        }
        return NeighbourhoodSiteFindings(
            slug: slug, hook: site.hook, head: site.head, decoderLoss: decoder.config.fit?.siteLosses[siteIndex] ?? .nan,
            insideFraction: total == 0 ? 0 : Double(inside) / Double(total), queries: found)
    }

    /// The queries a source names.
    private func resolve(
        _ source: NeighbourhoodSpec.QuerySource, windows: WindowIndex, dictionaries: [DictionaryFindings]
    ) throws -> [ResolvedQuery] {
        let spec = context.spec
        let tokenizer = inputs.tokenizer
        switch source {
        case let .text(text, position):
            var tokens = tokenizer.encode(text)
            if spec.prependBos, let bos = tokenizer.id(for: BeginningOfSequence.token) { tokens.insert(bos, at: 0) }
            return [ResolvedQuery(tokens: tokens, position: position, origin: "text", featureExample: nil)]
        case let .task(task, examples, positions):
            let pairs = try CircuitTask.pairs(
                task, model: inputs.model, modelDirectory: spec.model, examples: examples, seed: spec.seed, prependBOS: spec.prependBos)
            return pairs.enumerated().flatMap { number, pair in
                positions.map { ResolvedQuery(tokens: pair.clean, position: $0, origin: "\(task) prompt \(number + 1), position \($0)", featureExample: nil) }
            }
        case let .features(features, top, hook):
            guard let dictionary = dictionaries.first(where: { $0.hook == hook }) else {
                throw BuildError(step: .spec, path: spec.specURL.path, reason: "key 'neighbourhoods': the report atlases no hook '\(hook)'")
            }
            return try features.flatMap { feature -> [ResolvedQuery] in
                guard let found = dictionary.features.first(where: { $0.index == feature }) else {
                    throw BuildError(step: .spec, path: spec.specURL.path, reason: "key 'neighbourhoods': the dictionary at \(hook) has no feature \(feature)")
                }
                return found.topExamples.prefix(top).enumerated().compactMap { rank, example in
                    guard let located = windows.locate(document: example.document, position: example.position) else { return nil }
                    return ResolvedQuery(
                        tokens: Array(located.window.tokens[...located.index]), position: located.index,
                        origin: "top example \(rank + 1) of feature \(feature) (\(hook))",
                        featureExample: FeatureExampleRef(hook: hook, feature: feature, example: rank))
                }
            }
        }
    }

    /// For a head site of an attention hook, the query row of the head's pattern (weights over tokens 0…position).
    private func attention(site: PreimageSite, query: PreimageQuery) throws -> [Double]? {
        guard let head = site.head, let point = HookPoint(site.hook), let layer = point.layer else { return nil }
        let name = "blocks.\(layer).attn.hook_pattern"
        let pattern = try inputs.model.forward([query.tokens], ForwardRequest(cache: [name], computeLogits: false)).cache[name]!
        let t = query.tokens.count
        let row = (head * t + query.position) * t
        return (0...query.position).map { Double(pattern.scalars[row + $0]) }
    }

    /// A retrieved neighbour's window tokens up to the matched one (at most `retrievedContext`).
    static func context(of hit: PreimageHit, windows: WindowIndex) -> [Int] {
        windows.context(document: hit.document, position: hit.position, before: retrievedContext - 1, after: 0).ids
    }

    /// The decoder as the findings show it: its path, training size, loss curve and held-out loss.
    private func decoderSummary(_ decoder: InversionDecoder, directory: URL) throws -> DecoderSummary {
        let url = directory.appendingPathComponent(DecoderFiles.log)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw BuildError(step: .decoder, path: url.path, reason: "missing: the decoder's training log")
        }
        let losses = try String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().enumerated().map { index, line -> Double in
            let fields = line.split(separator: ",")
            guard fields.count == 5, let loss = Double(fields[1]) else {
                throw BuildError(step: .decoder, path: url.path, reason: "line \(index + 2) is not step,loss,learning_rate,gradient_norm,tokens_per_second")
            }
            return loss
        }
        guard let fit = decoder.config.fit else {
            throw BuildError(step: .decoder, path: directory.appendingPathComponent(ModelFiles.config).path, reason: "the decoder has no training record")
        }
        let curve = LossPoint.curve(losses, points: Self.curvePoints)
        return DecoderSummary(
            path: context.relativePath(directory), steps: fit.steps, examples: fit.examples, lossCurve: curve, heldOutLoss: fit.heldOutLoss)
    }

    /// A page folder name for a site: the hook, `.h<head>` for a head, made unique among `taken`.
    static func slug(hook: String, head: Int?, taken: Set<String>) -> String {
        PageSlug.unique(hook + (head.map { ".h\($0)" } ?? ""), taken: taken)
    }
}
