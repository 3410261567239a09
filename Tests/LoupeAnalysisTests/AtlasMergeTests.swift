import Foundation
import LoupeCore
import LoupeModel
import Testing
@testable import LoupeAnalysis

@Suite("Atlas: shards, example sets, determinism, logit effects")
struct AtlasMergeTests {
    @Test func mergingTwoShardsEqualsOnePass() throws {
        let features = 7
        let a = try AtlasData.random(documents: 0..<70, features: features, seed: 21)
        let b = try AtlasData.random(documents: 70..<150, features: features, seed: 22)
        let whole = try ActivationChunk(
            activations: Tensor(shape: [a.rowCount + b.rowCount, features], scalars: a.activations.scalars + b.activations.scalars),
            documents: a.documents + b.documents, positions: a.positions + b.positions, tokens: a.tokens + b.tokens,
            special: a.special + b.special, windowStride: 8)
        var options = AtlasOptions()
        options.encodeRows = 64

        var one = try FirstPassStatistics(hook: "h", featureCount: features, inputWidth: features, options: options)
        try one.add(whole, encoder: AtlasBuilder.identity)
        var left = try FirstPassStatistics(hook: "h", featureCount: features, inputWidth: features, options: options)
        try left.add(a, encoder: AtlasBuilder.identity)
        var right = try FirstPassStatistics(hook: "h", featureCount: features, inputWidth: features, options: options)
        try right.add(b, encoder: AtlasBuilder.identity)
        var merged = left
        try merged.merge(right)
        var reversed = right
        try reversed.merge(left)
        #expect(merged == one)
        #expect(reversed == one)

        var secondOne = try SecondPassStatistics(first: one)
        try secondOne.add(whole, encoder: AtlasBuilder.identity)
        var secondLeft = try SecondPassStatistics(first: merged)
        try secondLeft.add(a, encoder: AtlasBuilder.identity)
        var secondRight = try SecondPassStatistics(first: merged)
        try secondRight.add(b, encoder: AtlasBuilder.identity)
        var secondMerged = secondRight
        try secondMerged.merge(secondLeft)
        #expect(secondMerged == secondOne)

        let builder = AtlasBuilder(options: options)
        let tokenizer = try AtlasData.tokenizer()
        #expect(try builder.findings(first: merged, second: secondMerged, tokenizer: tokenizer)
            == builder.findings(first: one, second: secondOne, tokenizer: tokenizer))

        // Shards of other dictionaries or maxima do not merge.
        var other = try FirstPassStatistics(hook: "h", featureCount: features + 1, inputWidth: features, options: options)
        #expect(throws: AtlasError.self) { try other.merge(one) }
        var stale = try SecondPassStatistics(first: left)
        #expect(throws: AtlasError.self) { try stale.merge(secondOne) }
        #expect(throws: AtlasError.self) { try builder.findings(first: one, second: stale, tokenizer: tokenizer) }
    }

    /// Co-firing counted from codes files in blocks of features (as for dictionaries too wide for dense
    /// `[F, F]` counts) gives the dense counts' links, in one pass or merged from shards and written to
    /// disk the way a sharded build leaves them.
    @Test func coFiringFromCodesEqualsDenseCounts() throws {
        let features = 11
        let a = try AtlasData.random(documents: 0..<60, features: features, seed: 41)
        let b = try AtlasData.random(documents: 60..<130, features: features, seed: 42, dense: true)
        var options = AtlasOptions()
        options.encodeRows = 48
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cofiring-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Blocks of 3 features (3 · 11 · 4 bytes), so counting takes four blocks.
        let memory = 3 * features * 4
        func first(_ chunks: [ActivationChunk], codes: URL?, memory: Int = FirstPassStatistics.defaultCoFiringMemory) throws -> FirstPassStatistics {
            var statistics = try FirstPassStatistics(
                hook: "h", featureCount: features, inputWidth: features, options: options, coFiringCodes: codes, coFiringMemory: memory)
            for chunk in chunks { try statistics.add(chunk, encoder: AtlasBuilder.identity) }
            return statistics
        }
        let dense = try first([a, b], codes: nil)
        #expect(dense.coFiringCodes.isEmpty && dense.coFiring.count == features * features)
        let reference = try dense.coFiringLinks(capacity: 4)
        #expect(reference.contains { $0.count == 4 })

        let whole = try first([a, b], codes: folder.appendingPathComponent("whole.codes"), memory: memory)
        #expect(whole.coFiring.isEmpty && whole.coFiringCodes == [folder.appendingPathComponent("whole.codes").path])
        #expect(try whole.coFiringLinks(capacity: 4) == reference)

        try first([a], codes: FirstPassStatistics.coFiringCodesFile(folder, "left"), memory: memory).write(to: folder, name: "left")
        let right = try first([b], codes: nil, memory: memory)
        try right.write(to: folder, name: "right")
        right.removeCoFiringCodes()
        var merged = try FirstPassStatistics.read(from: folder, name: "left")
        try merged.merge(FirstPassStatistics.read(from: folder, name: "right"))
        #expect(merged.coFiringCodes.count == 2)
        #expect(try merged.coFiringLinks(capacity: 4) == reference)

        func findings(_ first: FirstPassStatistics) throws -> AtlasResult {
            var second = try SecondPassStatistics(first: first)
            for chunk in [a, b] { try second.add(chunk, encoder: AtlasBuilder.identity) }
            return try AtlasBuilder(options: options).findings(first: first, second: second, tokenizer: try AtlasData.tokenizer())
        }
        #expect(try findings(whole) == findings(dense))

        // A damaged codes file is refused, naming it.
        let damaged = folder.appendingPathComponent("whole.codes")
        let bytes = try Data(contentsOf: damaged)
        try bytes.dropLast(2).write(to: damaged)
        #expect { try whole.coFiringLinks(capacity: 4) } throws: { "\($0)".contains(damaged.path) }
        whole.removeCoFiringCodes()
        #expect(!FileManager.default.fileExists(atPath: damaged.path))
    }

    @Test func resultsDoNotDependOnChunkingOrBlockSize() throws {
        let features = 5
        let a = try AtlasData.random(documents: 0..<50, features: features, seed: 31)
        let b = try AtlasData.random(documents: 50..<90, features: features, seed: 32)
        var small = AtlasOptions()
        small.encodeRows = 10
        let reference = try AtlasData.run([a, b], features: features)
        #expect(try AtlasData.run([b, a], features: features) == reference)
        #expect(try AtlasData.run([a, b], features: features, options: small).features == reference.features)
    }

    @Test func exampleSetsKeepExplanationAndHeldOutDocumentsApart() throws {
        let features = 6
        let chunk = try AtlasData.random(documents: 0..<300, features: features, seed: 41)
        let result = try AtlasData.run([chunk], features: features)
        for (f, sets) in result.exampleSets.enumerated() {
            let explanationDocuments = Set(sets.explanation.map(\.document))
            let heldOutDocuments = Set((sets.heldOutActivating + sets.heldOutNonActivating).map(\.document))
            #expect(explanationDocuments.isDisjoint(with: heldOutDocuments))
            #expect(explanationDocuments.allSatisfy { !DocumentSplit.isHeldOut(document: $0) })
            #expect(heldOutDocuments.allSatisfy { DocumentSplit.isHeldOut(document: $0) })
            #expect(sets.explanation.count >= 20 && sets.explanation.count <= 30)
            #expect(sets.heldOutActivating.count >= 10 && sets.heldOutActivating.count <= 20)
            #expect(sets.heldOutNonActivating.count <= 20)
            #expect(Set(sets.heldOutNonActivating.map(\.document)).count == sets.heldOutNonActivating.count)
            for window in sets.explanation + sets.heldOutActivating {
                #expect(window.peak > 0)
                #expect(window.tokens.count <= 16 && window.tokens.count == window.activations.count)
            }
            for window in sets.heldOutNonActivating {
                #expect(window.activations.allSatisfy { $0 <= 0 })
                #expect(window.tokens.count <= 16)
            }
            let keys = (sets.explanation).map { [$0.document, ($0.start + $0.tokens.count - 1) / 8] }
            #expect(Set(keys).count == keys.count)
            // Every window shows the real tokens and activations of its document positions.
            let all = AtlasData.values(chunk, feature: f)
            for window in sets.explanation + sets.heldOutActivating + sets.heldOutNonActivating {
                for (offset, value) in window.activations.enumerated() {
                    let position = window.start + offset
                    #expect(position / 8 == window.start / 8)
                    #expect(all.first { $0.document == window.document && $0.position == position }?.value == value)
                    #expect(window.tokens[offset] == AtlasData.token(document: window.document, position: position))
                }
            }
            // The explanation's strongest windows are the strongest of the explanation documents.
            let strongest = all.filter { $0.value > 0 && !DocumentSplit.isHeldOut(document: $0.document) }.map(\.value).max()
            #expect(sets.explanation.first?.peak == strongest)
        }
    }

    @Test func nonActivatingWindowsNeedAFeatureThatIsSometimesSilent() throws {
        let chunk = try AtlasData.random(documents: 0..<80, features: 3, seed: 7, dense: true)
        let result = try AtlasData.run([chunk], features: 3)
        #expect(result.exampleSets.allSatisfy { $0.heldOutNonActivating.isEmpty })
        #expect(result.exampleSets.allSatisfy { !$0.heldOutActivating.isEmpty && !$0.explanation.isEmpty })
    }

    @Test func theWholePipelineIsDeterministic() throws {
        func build() throws -> (AtlasResult, Data) {
            let fixture = try CorpusFixture(documents: 40, contextLength: 12, seed: 8)
            let windows = try fixture.tokens.windows(contextLength: 12, bos: 0)
            let dir = try CorpusTemporaryDirectory()
            let hook = "blocks.0.hook_resid_post"
            let store = try ActivationStore.build(
                model: fixture.model, windows: windows, hooks: [hook, "blocks.0.mlp.hook_post"], directory: dir.url,
                options: ActivationStoreOptions(chunkRows: 64, batchTokens: 36))
            var rng = SeededRandom(seed: 2)
            let (width, features) = (16, 24)
            var encoderWeight = Tensor(shape: [width, features])
            for i in 0..<encoderWeight.count { encoderWeight.scalars[i] = rng.nextNormal() }
            var decoder = Tensor(shape: [features, width])
            for i in 0..<decoder.count { decoder.scalars[i] = rng.nextNormal() }
            let encoder: FeatureEncoder = { try $0.matmul(encoderWeight).applying(.relu) }
            var progress: [AtlasProgress] = []
            let result = try AtlasBuilder().build(
                store: store, hook: hook, featureCount: features, encoder: encoder, tokenizer: fixture.tokenizer,
                decoder: decoder, model: fixture.model) { progress.append($0) }
            #expect(progress.count == 2 * store.chunkCount)
            #expect(progress.last == AtlasProgress(pass: 2, done: store.chunkCount, total: store.chunkCount))
            #expect(result.features.count == features && result.exampleSets.count == features)
            #expect(result.tokens == fixture.tokens.tokenCount)
            #expect(result.features.allSatisfy { $0.logitEffects != nil && $0.neighbours.count == 5 })
            let neurons = try AtlasBuilder().build(
                store: store, hook: "blocks.0.mlp.hook_post", featureCount: 64, encoder: AtlasBuilder.identity,
                tokenizer: fixture.tokenizer)
            #expect(neurons.features.allSatisfy { $0.logitEffects == nil && $0.neighbours.isEmpty })
            let encoderJSON = JSONEncoder()
            encoderJSON.outputFormatting = [.sortedKeys]
            return (result, try encoderJSON.encode(result.features) + encoderJSON.encode(result.exampleSets) + encoderJSON.encode(neurons.features))
        }
        let (first, firstBytes) = try build()
        let (second, secondBytes) = try build()
        #expect(first == second)
        #expect(firstBytes == secondBytes)
    }

    @Test func logitEffectsMatchADirectComputation() throws {
        let fixture = try CorpusFixture(documents: 10)
        var model = fixture.model
        var rng = SeededRandom(seed: 12)
        for k in 0..<model.config.width { model.weights.finalNormWeight.scalars[k] = 0.5 + rng.nextUniform() }
        let (features, width) = (5, model.config.width)
        var decoder = Tensor(shape: [features, width])
        for i in 0..<decoder.count { decoder.scalars[i] = rng.nextNormal() }
        var options = AtlasOptions()
        options.logitTokens = 4
        let effects = try DecoderGeometry.logitEffects(decoder, model: model, tokenizer: fixture.tokenizer, options: options)
        let unembedding = model.weights.unembedding
        let vocabulary = unembedding.shape[0]
        for f in 0..<features {
            var direct: [Double] = []
            for v in 0..<vocabulary {
                var sum = 0.0
                for k in 0..<width {
                    sum += Double(decoder.scalars[f * width + k]) * Double(model.weights.finalNormWeight.scalars[k]) * Double(unembedding.scalars[v * width + k])
                }
                direct.append(sum)
            }
            let order = direct.indices.sorted { (direct[$0], -$0) > (direct[$1], -$1) }
            let top = order.prefix(4)
            let bottom = direct.indices.sorted { (direct[$0], $0) < (direct[$1], $1) }.prefix(4)
            #expect(effects[f].top.map(\.token) == top.map { fixture.tokenizer.displayString(for: $0) })
            #expect(effects[f].bottom.map(\.token) == bottom.map { fixture.tokenizer.displayString(for: $0) })
            for (entry, id) in zip(effects[f].top + effects[f].bottom, Array(top) + Array(bottom)) {
                #expect(abs(Double(entry.weight) - direct[id]) < 1e-5)
            }
            let histogram = effects[f].histogram
            #expect(abs(Double(histogram.lower) - (direct.min() ?? 0)) < 1e-5 && abs(Double(histogram.upper) - (direct.max() ?? 0)) < 1e-5)
            #expect(histogram.counts.count == 24 && histogram.counts.reduce(0, +) == vocabulary)
            #expect(histogram.counts.first ?? 0 >= 1 && histogram.counts.last ?? 0 >= 1)
        }

        // Only residual-stream hooks get logit effects.
        #expect(AtlasBuilder.isResidualHook("blocks.1.hook_resid_post") && AtlasBuilder.isResidualHook("blocks.0.hook_mlp_out"))
        #expect(!AtlasBuilder.isResidualHook("blocks.0.mlp.hook_post") && !AtlasBuilder.isResidualHook("blocks.0.attn.hook_z"))
        let chunk = try AtlasData.handMade()
        let small = try Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(throws: AtlasError.modelWidth(hook: "blocks.0.hook_resid_post", decoderWidth: 3, modelWidth: 16)) {
            try AtlasData.run([chunk], features: 3, decoder: small, model: model)
        }
        let notResidual = try AtlasData.run([chunk], features: 3, decoder: small, model: model, hook: "blocks.0.mlp.hook_post")
        #expect(notResidual.features.allSatisfy { $0.logitEffects == nil && !$0.neighbours.isEmpty })
    }
}
