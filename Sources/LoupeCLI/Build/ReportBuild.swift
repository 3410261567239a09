import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel

/// The steps of a report build, from spec to findings: load and check every input, run the corpus
/// through the model once into an activation store, then per hook load or train the dictionary,
/// measure its quality, compute the atlas, and explain every feature that fires.
struct ReportBuild {
    let spec: ReportSpec
    let quiet: Bool

    var findingsDirectory: URL { spec.directory.appendingPathComponent("findings") }

    private func log(_ message: String) {
        if !quiet { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }

    /// The report's findings: from the cache when its fingerprint matches, else computed and cached.
    func findings(force: Bool) throws -> ReportFindings {
        let model = try GPT2Model.load(directory: spec.model)
        let tokenizer = try TokenizerLoader.load(directory: spec.model)
        let hookWidths = try checkHooks(model: model)
        let dictionaries = try loadDictionaries(hookWidths: hookWidths)
        let before = try fingerprint()
        let cached = findingsDirectory.appendingPathComponent("findings-\(before).json")
        if !force, let data = try? Data(contentsOf: cached), let findings = try? JSONDecoder().decode(ReportFindings.self, from: data) {
            log("inputs unchanged: reusing \(cached.path)")
            return findings
        }
        let findings = try compute(model: model, tokenizer: tokenizer, dictionaries: dictionaries, hookWidths: hookWidths)
        let after = try fingerprint()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileManager.default.createDirectory(at: findingsDirectory, withIntermediateDirectories: true)
            let name = "findings-\(after).json"
            try encoder.encode(findings).write(to: findingsDirectory.appendingPathComponent(name), options: .atomic)
            // Findings of earlier inputs can never match again.
            for stale in try FileManager.default.contentsOfDirectory(atPath: findingsDirectory.path)
            where stale.hasPrefix("findings-") && stale.hasSuffix(".json") && stale != name {
                try? FileManager.default.removeItem(at: findingsDirectory.appendingPathComponent(stale))
            }
        } catch {
            throw CLIError.unwritableOutput(path: findingsDirectory.path, reason: (error as NSError).localizedDescription)
        }
        return findings
    }

    /// Every hook exists in the model and gives one row per token; returns each hook's width.
    private func checkHooks(model: GPT2Model) throws -> [String: Int] {
        let known = Set(model.hookNames)
        for (index, entry) in spec.hooks.enumerated() {
            guard known.contains(entry.hook) else {
                throw CLIError.invalidSpec(path: spec.specURL.path, key: "hooks[\(index)].hook",
                                           reason: "the model at \(spec.model.path) has no hook point '\(entry.hook)'")
            }
            if entry.hook.hasSuffix("hook_pattern") || entry.hook.hasSuffix("hook_attn_scores") {
                throw CLIError.invalidSpec(path: spec.specURL.path, key: "hooks[\(index)].hook",
                                           reason: "'\(entry.hook)' has no row per token; atlas a per-token hook")
            }
        }
        let probe = try model.forward([[0]], ForwardRequest(cache: Set(spec.hooks.map(\.hook)), computeLogits: false))
        var widths: [String: Int] = [:]
        for entry in spec.hooks {
            let shape = probe.cache[entry.hook]?.shape ?? []
            widths[entry.hook] = shape.dropFirst(2).reduce(1, *)
        }
        return widths
    }

    /// SAELens dictionaries (checked against their hook's width now, before any computation) and
    /// previously trained dictionaries found at their paths.
    private func loadDictionaries(hookWidths: [String: Int]) throws -> [Int: SparseDictionary] {
        var loaded: [Int: SparseDictionary] = [:]
        for (index, entry) in spec.hooks.enumerated() {
            let directory: URL
            switch entry.source {
            case .neurons: continue
            case let .saelens(url): directory = url
            case let .trainTopK(_, _, _, _, path):
                guard FileManager.default.fileExists(atPath: path.appendingPathComponent("cfg.json").path) else { continue }
                directory = path
            }
            let dictionary = try SparseDictionary.load(directory: directory)
            let width = hookWidths[entry.hook] ?? 0
            guard dictionary.inputWidth == width else {
                throw CLIError.invalidSpec(
                    path: spec.specURL.path, key: "hooks[\(index)].dictionary",
                    reason: "\(directory.path) has d_in \(dictionary.inputWidth), but '\(entry.hook)' is \(width) wide")
            }
            loaded[index] = dictionary
        }
        return loaded
    }

    /// Fingerprint of the spec, model directory, corpus files and dictionary directories.
    private func fingerprint() throws -> String {
        var fingerprint = InputFingerprint()
        fingerprint.add("loupe-findings-2")
        try fingerprint.addFiles(at: spec.specURL)
        try fingerprint.addFiles(at: spec.model.appendingPathComponent("config.json"))
        try fingerprint.addFiles(at: spec.model.appendingPathComponent("model.safetensors"))
        for name in ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "loupe_tokenizer.json"] {
            try fingerprint.addFiles(at: spec.model.appendingPathComponent(name))
        }
        if case let .files(files) = spec.corpus {
            for file in files { try fingerprint.addFiles(at: file) }
        }
        for entry in spec.hooks {
            switch entry.source {
            case .neurons: fingerprint.add("neurons")
            case let .saelens(url): try fingerprint.addFiles(at: url)
            case let .trainTopK(_, _, _, _, path): try fingerprint.addFiles(at: path)
            }
        }
        return fingerprint.hex
    }

    /// The corpus documents as text.
    private func corpus() throws -> Corpus {
        switch spec.corpus {
        case let .files(urls):
            return try Corpus.read(files: urls)
        case let .toyWorld(documents, seed):
            var rng = SeededRandom(seed: seed)
            let texts = ToyWorld().documents(count: documents, length: max(1, spec.contextLength - 1), rng: &rng)
            return Corpus(documents: texts, files: ["toy world (seed \(seed))"])
        }
    }

    private func compute(
        model: GPT2Model, tokenizer: any Tokenizer, dictionaries loaded: [Int: SparseDictionary], hookWidths: [String: Int]
    ) throws -> ReportFindings {
        let corpus = try corpus()
        let tokenized = TokenizedCorpus(corpus: corpus, tokenizer: tokenizer)
        let bos = spec.prependBos ? tokenizer.id(for: "<|endoftext|>") : nil
        let windows = try tokenized.windows(contextLength: min(spec.contextLength, model.config.contextLength), bos: bos)
        guard !windows.isEmpty else {
            throw CLIError.invalidSpec(path: spec.specURL.path, key: "corpus", reason: "the corpus holds no tokens")
        }
        let storeDirectory = findingsDirectory.appendingPathComponent("activations")
        defer { try? FileManager.default.removeItem(at: storeDirectory) }
        let storeProgress = ProgressLine("running the model", total: windows.count, unit: "windows", quiet: quiet)
        let store = try ActivationStore.build(
            model: model, windows: windows, hooks: spec.hooks.map(\.hook), directory: storeDirectory,
            progress: { done, _ in storeProgress.update(done) })
        storeProgress.finish()

        var results: [DictionaryFindings] = []
        for (index, entry) in spec.hooks.enumerated() {
            results.append(try atlas(
                entry: entry, index: index, dictionary: loaded[index], store: store, model: model,
                tokenizer: tokenizer, windows: windows))
        }
        let summary = ModelSummary(
            path: relativePath(spec.model),
            layers: model.config.layers, width: model.config.width, heads: model.config.heads,
            vocabularySize: model.config.vocabularySize, contextLength: model.config.contextLength)
        let corpusSummary = CorpusSummary(
            files: corpusLabels(corpus), documents: corpus.documents.count, tokens: tokenized.tokenCount, contextLength: spec.contextLength)
        return ReportFindings(name: spec.name, model: summary, corpus: corpusSummary, dictionaries: results)
    }

    /// The atlas of one hook entry.
    private func atlas(
        entry: ReportSpec.HookEntry, index: Int, dictionary loaded: SparseDictionary?, store: ActivationStore,
        model: GPT2Model, tokenizer: any Tokenizer, windows: [CorpusWindow]
    ) throws -> DictionaryFindings {
        var dictionary = loaded
        var source = "neurons of the hook"
        switch entry.source {
        case .neurons:
            break
        case let .saelens(url):
            source = "SAELens dictionary \(url.lastPathComponent)"
        case let .trainTopK(width, k, steps, seed, path):
            source = "TopK dictionary trained by Loupe (width \(width), k \(k))"
            if dictionary == nil {
                dictionary = try trainDictionary(hook: entry.hook, store: store, width: width, k: k, steps: steps, seed: seed, path: path)
            }
        }
        let inputWidth = try store.width(of: entry.hook)
        var quality: DictionaryQuality?
        if let dictionary {
            log("measuring reconstruction quality at \(entry.hook)")
            let evaluationWindows = windows.filter { $0.count == windows[0].count }.prefix(256).map(\.tokens)
            let batches = stride(from: 0, to: evaluationWindows.count, by: 32).map { Array(evaluationWindows[$0..<min($0 + 32, evaluationWindows.count)]) }
            quality = try DictionaryEvaluation.evaluate(dictionary: dictionary, model: model, batches: batches)
        }
        let featureCount = dictionary?.width ?? inputWidth
        let encoder: FeatureEncoder = dictionary.map { d in { try d.encode($0) } } ?? AtlasBuilder.identity
        var options = AtlasOptions()
        options.topK = spec.topExamples
        options.intervals = spec.intervals
        options.examplesPerInterval = spec.intervalExamples
        options.seed = spec.seed
        let progress = ProgressLine("atlas of \(entry.hook)", total: 2 * store.chunkCount, unit: "chunk passes", quiet: quiet)
        var result = try AtlasBuilder(options: options).build(
            store: store, hook: entry.hook, featureCount: featureCount, encoder: encoder, tokenizer: tokenizer,
            decoder: dictionary?.decoderDirections, model: model,
            progress: { progress.update(($0.pass - 1) * $0.total + $0.done) })
        progress.finish()
        if var measured = quality {
            measured.deadFraction = Double(result.features.filter { $0.density == 0 }.count) / Double(max(1, featureCount))
            quality = measured
        }
        if spec.explain { try explain(&result, tokenizer: tokenizer, minimumFiringTokens: spec.minimumFiringTokens) }
        let explained = result.features.compactMap(\.explanation)
        let kind: String
        switch entry.source {
        case .neurons: kind = "neurons"
        default: kind = dictionary?.architecture.rawValue ?? "topk"
        }
        return DictionaryFindings(
            id: "\(entry.hook)-\(kind)", hook: entry.hook, kind: kind, source: source, inputWidth: inputWidth,
            width: featureCount, quality: quality,
            medianDetection: explained.isEmpty ? nil : Self.median(explained.map(\.detection)),
            medianSimulation: explained.isEmpty ? nil : Self.median(explained.map(\.simulation)),
            features: result.features)
    }

    /// Trains a TopK dictionary on the hook's stored activations and saves it at `path`.
    private func trainDictionary(
        hook: String, store: ActivationStore, width: Int, k: Int, steps: Int, seed: UInt64, path: URL
    ) throws -> SparseDictionary {
        var rows: [Float] = []
        var count = 0
        try store.forEachChunk(hook: hook) { chunk in
            for row in 0..<chunk.rowCount where !chunk.special[row] {
                rows.append(contentsOf: chunk.activations.scalars[(row * chunk.width)..<((row + 1) * chunk.width)])
                count += 1
            }
        }
        let data = try Tensor(shape: [count, try store.width(of: hook)], scalars: rows)
        var settings = TopKTrainingSettings()
        settings.width = width
        settings.k = k
        settings.epochs = max(1, (steps * settings.batchSize + count - 1) / max(1, count))
        log("training a TopK dictionary at \(hook): \(count) rows, width \(width), k \(k), \(settings.epochs) epochs")
        var rng = SeededRandom(seed: seed)
        var trainer = try TopKTrainer(hookName: hook, rows: data, settings: settings, rng: &rng)
        let progress = ProgressLine("training the dictionary", total: settings.epochs * ((count + settings.batchSize - 1) / settings.batchSize), quiet: quiet)
        _ = try trainer.train(rows: data, rng: &rng, progress: { report in
            progress.update(report.step, detail: String(format: "mse %.4f, dead %.1f %%", report.meanSquaredError, 100 * report.deadFraction))
        })
        progress.finish()
        try trainer.dictionary().save(to: path)
        // Use the saved dictionary itself (saving folds the input scaling into the weights), so this
        // build and every later one that loads it compute from the same numbers.
        return try SparseDictionary.load(directory: path)
    }

    /// Explains every feature that fires on at least `minimumFiringTokens` corpus tokens (rarer ones
    /// give too few examples to fit a rule on some documents and score it on others), in parallel,
    /// each with its own seeded generator.
    private func explain(_ result: inout AtlasResult, tokenizer: any Tokenizer, minimumFiringTokens: Int) throws {
        let count = result.features.count
        var display: [String] = []
        for id in 0..<tokenizer.vocabularySize { display.append(tokenizer.displayString(for: id)) }
        let (client, warning) = ProcessInfo.processInfo.environment["LOUPE_LLM_BASE_URL"] == nil
            ? (nil, nil) : OpenAIChatClient.fromEnvironment()
        if let warning { log("warning: \(warning)") }
        let tokens = Double(result.tokens)
        let sets = result.exampleSets.enumerated().map { index, sets in
            (result.features[index].density * tokens).rounded() >= Double(minimumFiringTokens)
                ? sets : FeatureExampleSets(explanation: [], heldOutActivating: [], heldOutNonActivating: [])
        }
        let seed = spec.seed
        let progress = ProgressLine("explaining features", total: count, unit: "features", quiet: quiet)
        let explanations = ExplanationBatch.run(count: count) { index in
            var rng = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
            return FeatureExplainer.explain(
                sets: sets[index], display: { $0 >= 0 && $0 < display.count ? display[$0] : "<\($0)>" },
                llm: client, rng: &rng)
        } progress: { progress.update($0) }
        progress.finish()
        var warned = Set<String>()
        for index in 0..<count {
            result.features[index].explanation = explanations[index].explanation
            for message in explanations[index].warnings where warned.insert(message).inserted {
                log("warning (feature \(index)): \(message)")
            }
        }
    }

    /// The corpus files relative to the report folder, or the toy world's description.
    private func corpusLabels(_ corpus: Corpus) -> [String] {
        guard case .files = spec.corpus else { return corpus.files }
        return corpus.files.map { relativePath(URL(fileURLWithPath: $0)) }
    }

    /// `url` relative to the report folder when inside it (so findings do not depend on where the
    /// report lives), else as given.
    private func relativePath(_ url: URL) -> String {
        let base = spec.directory.standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Runs independent per-feature jobs on every core, keeping results in index order.
enum ExplanationBatch {
    static func run<Result>(count: Int, _ job: (Int) -> Result, progress: (Int) -> Void) -> [Result] {
        let lock = NSLock()
        var results = [Result?](repeating: nil, count: count)
        var done = 0
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let value = job(index)
            lock.lock()
            results[index] = value
            done += 1
            let finished = done
            lock.unlock()
            if Thread.isMainThread { progress(finished) }
        }
        return results.compactMap { $0 }
    }
}
