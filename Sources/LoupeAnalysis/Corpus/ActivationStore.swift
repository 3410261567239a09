import Foundation
import LoupeCore
import LoupeFindings
import LoupeModel

/// How an activation store is built.
public struct ActivationStoreOptions: Sendable, Equatable {
    /// Most rows per chunk file (a chunk holds whole windows; at least one window), and most tokens
    /// per forward batch, padding included.
    public var chunkRows, batchTokens: Int
    /// Windows share a batch, padded at the end to the longest of it, when the shortest is at least
    /// this fraction of the longest (causal attention: padding never reaches a window's own rows);
    /// 1 batches only windows of equal length.
    public var minimumLengthRatio: Double
    /// Document tokens per window of the whole corpus, when the windows stored are a slice of it (a
    /// shard), whose longest window may be shorter; nil: the longest window's.
    public var windowStride: Int?

    public init(chunkRows: Int = 16_384, batchTokens: Int = 2_048, minimumLengthRatio: Double = 0.75, windowStride: Int? = nil) {
        (self.chunkRows, self.batchTokens) = (chunkRows, batchTokens)
        (self.minimumLengthRatio, self.windowStride) = (minimumLengthRatio, windowStride)
    }
}

/// What an activation store holds, saved as `manifest.json` in its directory.
public struct ActivationStoreManifest: Codable, Sendable, Equatable {
    /// Always `loupe-activation-store`.
    public var format: String
    /// Layout version (1).
    public var version: Int
    /// Hook names, sorted.
    public var hooks: [String]
    /// Row width `d` of each hook (same order as `hooks`).
    public var widths: [Int]
    /// Document tokens per model window.
    public var windowStride: Int
    /// The BOS id prepended to every window, if any.
    public var bos: Int?
    /// Distinct documents with at least one window.
    public var documents: Int
    /// Model windows.
    public var windows: Int
    /// Rows over all chunks (special rows included).
    public var rows: Int
    /// Non-special rows (corpus tokens).
    public var tokens: Int
    /// Rows of each chunk, in order.
    public var chunkRows: [Int]

    static let formatName = "loupe-activation-store"
}

/// Activations of a corpus at one or more hooks, on disk in chunks so that corpora larger than
/// memory work.
///
/// Layout of the directory:
/// - `manifest.json` (`ActivationStoreManifest`), written last;
/// - `chunk-NNNNN/index.safetensors`: I32 `[R]` tensors `document`, `position` (−1 on special
///   rows), `token`, `special` (0 or 1);
/// - `chunk-NNNNN/<hook>.safetensors`: F32 `activations` `[R, d]`.
///
/// Every model window lies inside one chunk. Rows come in forward-batch order (longest windows
/// first); every statistic keys rows by (document, position), never by row order.
public struct ActivationStore: Sendable {
    /// The store directory.
    public let directory: URL
    /// What the store holds.
    public let manifest: ActivationStoreManifest
    /// The folder of each chunk, in order (in one store's directory, or in several for a union).
    private let chunkDirectories: [URL]

    /// Opens a store written by `build`, checking its manifest.
    public init(directory: URL) throws {
        let url = directory.appendingPathComponent("manifest.json")
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CorpusError.corruptStore(path: url.path, reason: "manifest.json is missing or unreadable (the store may be incomplete)")
        }
        let manifest: ActivationStoreManifest
        do {
            manifest = try JSONDecoder().decode(ActivationStoreManifest.self, from: data)
        } catch {
            throw CorpusError.corruptStore(path: url.path, reason: "manifest.json does not describe an activation store")
        }
        guard manifest.format == ActivationStoreManifest.formatName, manifest.version == 1 else {
            throw CorpusError.corruptStore(path: url.path, reason: "format '\(manifest.format)' version \(manifest.version) is not loupe-activation-store version 1")
        }
        guard manifest.hooks.count == manifest.widths.count, manifest.windowStride > 0,
              manifest.chunkRows.reduce(0, +) == manifest.rows, manifest.chunkRows.allSatisfy({ $0 > 0 })
        else {
            throw CorpusError.corruptStore(path: url.path, reason: "manifest counts are inconsistent")
        }
        self.directory = directory
        self.manifest = manifest
        chunkDirectories = (0..<manifest.chunkRows.count).map { Self.chunkDirectory(directory, $0) }
    }

    /// The stores of disjoint slices of one corpus (the shards of a build) read as one store under
    /// `directory`: their chunks in the order of `parts`, counts added. Every statistic keys rows by
    /// (document, position), so the union reads as the store of the whole corpus would.
    public init(union parts: [ActivationStore], directory: URL) throws {
        guard let first = parts.first else { throw CorpusError.invalidStoreOption(name: "union", reason: "no store was given") }
        for part in parts.dropFirst() {
            let m = part.manifest
            guard m.hooks == first.manifest.hooks, m.widths == first.manifest.widths,
                  m.windowStride == first.manifest.windowStride, m.bos == first.manifest.bos
            else {
                throw CorpusError.corruptStore(
                    path: part.directory.path,
                    reason: "holds hooks \(m.hooks) (widths \(m.widths), window stride \(m.windowStride)), unlike \(first.directory.path)")
            }
        }
        var manifest = first.manifest
        manifest.documents = parts.reduce(0) { $0 + $1.manifest.documents }
        manifest.windows = parts.reduce(0) { $0 + $1.manifest.windows }
        manifest.rows = parts.reduce(0) { $0 + $1.manifest.rows }
        manifest.tokens = parts.reduce(0) { $0 + $1.manifest.tokens }
        manifest.chunkRows = parts.flatMap(\.manifest.chunkRows)
        self.directory = directory
        self.manifest = manifest
        chunkDirectories = parts.flatMap(\.chunkDirectories)
    }

    /// Number of chunks.
    public var chunkCount: Int { manifest.chunkRows.count }

    /// Hooks the store holds, sorted.
    public var hooks: [String] { manifest.hooks }

    /// Row width `d` of `hook`.
    public func width(of hook: String) throws -> Int {
        guard let index = manifest.hooks.firstIndex(of: hook) else {
            throw CorpusError.hookNotInStore(path: directory.path, hook: hook, available: manifest.hooks)
        }
        return manifest.widths[index]
    }

    /// Chunk `index` at `hook`: activations `[R, d]` with their row information.
    public func chunk(_ index: Int, hook: String) throws -> ActivationChunk {
        let width = try self.width(of: hook)
        guard index >= 0 && index < chunkCount else {
            throw CorpusError.corruptStore(path: directory.path, reason: "chunk \(index) does not exist (the store has \(chunkCount))")
        }
        let rows = manifest.chunkRows[index]
        let folder = chunkDirectories[index]
        let indexFile = try Self.open(folder.appendingPathComponent("index.safetensors"))
        let hookFile = try Self.open(folder.appendingPathComponent(Self.fileName(hook: hook)))
        do {
            func column(_ name: String) throws -> [Int] {
                guard let entry = indexFile.entries[name], entry.shape == [rows] else {
                    throw CorpusError.corruptStore(path: indexFile.path, reason: "tensor '\(name)' is missing or not [\(rows)]")
                }
                return try indexFile.integers(name)
            }
            let activations = try hookFile.tensor("activations", shape: [rows, width])
            return try ActivationChunk(
                activations: activations, documents: try column("document"), positions: try column("position"),
                tokens: try column("token"), special: try column("special").map { $0 != 0 },
                windowStride: manifest.windowStride)
        } catch let error as CoreError {
            throw CorpusError.corruptStore(path: hookFile.path, reason: error.description)
        } catch let error as CorpusError {
            if case .invalidChunk(let reason) = error { throw CorpusError.corruptStore(path: folder.path, reason: reason) }
            throw error
        }
    }

    /// Calls `body` with every chunk at `hook`, in order (one chunk in memory at a time).
    public func forEachChunk(hook: String, _ body: (ActivationChunk) throws -> Void) throws {
        _ = try width(of: hook)
        for index in 0..<chunkCount {
            try body(try chunk(index, hook: hook))
        }
    }

    /// Runs `windows` through `model` once, capturing every hook in `hooks`, and writes the
    /// activations to `directory` in chunks.
    ///
    /// Windows are batched longest first, each batch padded at the end to its longest window
    /// (`options`), and run with `ForwardRequest(cache: hooks, computeLogits: false, lengths:)`, so each
    /// pass stops at the deepest hook and every window's activations are those it has alone, however
    /// it is batched. `progress(done, total)` is called after every batch with the number
    /// of windows processed. Files of an earlier store in `directory` (`manifest.json`, `chunk-*`) are
    /// replaced; other files are left alone. Hooks must have one row per token (`[B, T, …]`):
    /// attention scores and patterns are refused.
    @discardableResult
    public static func build(
        model: GPT2Model, windows: [CorpusWindow], hooks: [String], directory: URL,
        options: ActivationStoreOptions = ActivationStoreOptions(),
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> ActivationStore {
        try build(model: model, windows: windows, hooks: hooks, directory: directory, options: options, evaluating: nil, progress: progress).store
    }

    /// `build`, with the windows of an evaluation `sample` batched among themselves and run on to the
    /// next-token loss: the store is the same, and the sweep's passes over the sample are returned as
    /// the clean half of the dictionary evaluation (`EvaluationPass`, one per batch).
    public static func build(
        model: GPT2Model, windows: [CorpusWindow], hooks: [String], directory: URL,
        options: ActivationStoreOptions = ActivationStoreOptions(), evaluating sample: EvaluationSample?,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> (store: ActivationStore, evaluation: [EvaluationPass]) {
        let hookNames = Array(Set(hooks)).sorted()
        guard !hookNames.isEmpty else { throw CorpusError.invalidStoreOption(name: "hooks", reason: "no hook was given") }
        for name in hookNames { try checkHook(name, model: model) }
        guard options.chunkRows > 0 else {
            throw CorpusError.invalidStoreOption(name: "chunkRows", reason: "must be positive, got \(options.chunkRows)")
        }
        guard options.batchTokens > 0 else {
            throw CorpusError.invalidStoreOption(name: "batchTokens", reason: "must be positive, got \(options.batchTokens)")
        }
        guard options.minimumLengthRatio > 0 && options.minimumLengthRatio <= 1 else {
            throw CorpusError.invalidStoreOption(name: "minimumLengthRatio", reason: "must be in (0, 1], got \(options.minimumLengthRatio)")
        }
        let stride = try checkWindows(windows, model: model, stride: options.windowStride)
        let bos = windows.first(where: \.hasBOS)?.tokens.first
        let evaluated = sample?.windows ?? [:]
        if let outside = evaluated.keys.first(where: { !windows.indices.contains($0) }) {
            throw CorpusError.invalidStoreOption(name: "evaluation", reason: "window \(outside) is not one of the \(windows.count) windows")
        }

        try prepare(directory)
        let order = windows.indices.sorted { (windows[$1].count, $0) < (windows[$0].count, $1) }
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        let batches = (batches(order.filter { evaluated[$0] != nil }, windows, options) + batches(order.filter { evaluated[$0] == nil }, windows, options))
            .sorted { rank[$0[0]]! < rank[$1[0]]! }
        let longest = windows.map(\.count).max() ?? 1
        let chunkLimit = max(options.chunkRows, longest)
        var writer = ChunkWriter(directory: directory, hooks: hookNames)
        var passes: [EvaluationPass] = []
        var done = 0
        for indices in batches {
            let batch = indices.map { windows[$0] }
            let length = batch[0].count
            let padding = batch[0].tokens[0]
            let tokens = batch.map { $0.tokens + Array(repeating: padding, count: length - $0.count) }
            let cache: ActivationCache
            if let sample, evaluated[indices[0]] != nil {
                let (pass, passCache) = try EvaluationPass.run(
                    model: model, tokens: tokens, lengths: batch.map(\.count), counted: indices.map { evaluated[$0]! },
                    hooks: sample.hooks, extra: Set(hookNames))
                passes.append(pass)
                cache = passCache
            } else {
                cache = try model.forward(tokens, ForwardRequest(cache: Set(hookNames), computeLogits: false, lengths: batch.map(\.count))).cache
            }
            var captured: [Tensor] = []
            for name in hookNames {
                guard let tensor = cache[name], tensor.rank >= 3, tensor.shape[0] == batch.count, tensor.shape[1] == length else {
                    throw CorpusError.unsupportedHook(name: name, reason: "the forward pass did not give one row per token")
                }
                captured.append(tensor)
            }
            for (item, window) in batch.enumerated() {
                if writer.rows > 0 && writer.rows + window.count > chunkLimit { try writer.flush() }
                writer.append(window, item: item, of: captured)
            }
            done += batch.count
            progress?(done, windows.count)
        }
        try writer.flush()
        let store = try finish(
            writer, directory: directory, windowStride: stride, bos: bos, documents: Set(windows.map(\.document)).count,
            windows: windows.count)
        return (store, passes)
    }

    /// The passes `build` returns for `sample` over `windows`, without storing anything: the same
    /// batches of the sample's windows, run on to the next-token loss (for a build whose store already
    /// exists, or whose store is the union of shard stores).
    public static func evaluate(
        model: GPT2Model, windows: [CorpusWindow], sample: EvaluationSample, options: ActivationStoreOptions = ActivationStoreOptions()
    ) throws -> [EvaluationPass] {
        _ = try checkWindows(windows, model: model, stride: options.windowStride)
        let evaluated = sample.windows
        if let outside = evaluated.keys.first(where: { !windows.indices.contains($0) }) {
            throw CorpusError.invalidStoreOption(name: "evaluation", reason: "window \(outside) is not one of the \(windows.count) windows")
        }
        let order = windows.indices.sorted { (windows[$1].count, $0) < (windows[$0].count, $1) }
        return try batches(order.filter { evaluated[$0] != nil }, windows, options).map { indices in
            let batch = indices.map { windows[$0] }
            let length = batch[0].count
            let tokens = batch.map { $0.tokens + Array(repeating: batch[0].tokens[0], count: length - $0.count) }
            return try EvaluationPass.run(
                model: model, tokens: tokens, lengths: batch.map(\.count), counted: indices.map { evaluated[$0]! }, hooks: sample.hooks).pass
        }
    }

    /// `indices` (windows longest first) in forward batches: each the longest remaining window and
    /// those after it at least `minimumLengthRatio` of its length, at most `batchTokens` tokens padded.
    private static func batches(_ indices: [Int], _ windows: [CorpusWindow], _ options: ActivationStoreOptions) -> [[Int]] {
        var batches: [[Int]] = []
        var cursor = 0
        while cursor < indices.count {
            let length = windows[indices[cursor]].count
            let perBatch = max(1, options.batchTokens / length)
            let shortest = Int((options.minimumLengthRatio * Double(length)).rounded(.up))
            var end = cursor
            while end < indices.count && end - cursor < perBatch && windows[indices[end]].count >= shortest { end += 1 }
            batches.append(Array(indices[cursor..<end]))
            cursor = end
        }
        return batches
    }

    /// Writes a one-hook store from chunks the caller already holds (rows no model sweep here
    /// produced: imported activations, or synthetic rows for benchmarks), in the layout `build` writes.
    ///
    /// `nextChunk()` gives the chunks in order and nil after the last; each becomes one chunk file, so
    /// it must hold whole windows of `windowStride` document tokens, rows of `width` values and that
    /// `windowStride`. The manifest counts the distinct documents and windows (document, position /
    /// `windowStride`) of non-special rows. Earlier store files in `directory` are replaced as by `build`.
    @discardableResult
    public static func write(
        hook: String, width: Int, windowStride: Int, bos: Int?, directory: URL, nextChunk: () throws -> ActivationChunk?
    ) throws -> ActivationStore {
        guard width > 0 else { throw CorpusError.invalidStoreOption(name: "width", reason: "must be positive, got \(width)") }
        try prepare(directory)
        var writer = ChunkWriter(directory: directory, hooks: [hook])
        writer.widths = [width]
        var documents = Set<Int>()
        var windows = Set<SIMD2<Int>>()
        while let chunk = try nextChunk() {
            guard chunk.activations.shape[1] == width, chunk.windowStride == windowStride, chunk.rowCount > 0 else {
                throw CorpusError.invalidChunk(
                    reason: "chunk \(writer.chunkRows.count) holds \(chunk.rowCount) rows of \(chunk.activations.shape[1]) values with window stride \(chunk.windowStride); the store needs at least one row of \(width) values, stride \(windowStride)")
            }
            for row in 0..<chunk.rowCount where !chunk.special[row] {
                documents.insert(chunk.documents[row])
                windows.insert(SIMD2(chunk.documents[row], chunk.positions[row] / windowStride))
            }
            writer.append(chunk)
            try writer.flush()
        }
        guard writer.totalRows > 0 else { throw CorpusError.invalidWindows(reason: "there are no rows") }
        return try finish(writer, directory: directory, windowStride: windowStride, bos: bos, documents: documents.count, windows: windows.count)
    }

    /// Writes the manifest of the chunks `writer` wrote (last, so an interrupted store has none) and opens the store.
    private static func finish(
        _ writer: ChunkWriter, directory: URL, windowStride: Int, bos: Int?, documents: Int, windows: Int
    ) throws -> ActivationStore {
        let manifest = ActivationStoreManifest(
            format: ActivationStoreManifest.formatName, version: 1, hooks: writer.hooks, widths: writer.widths,
            windowStride: windowStride, bos: bos, documents: documents, windows: windows,
            rows: writer.totalRows, tokens: writer.totalTokens, chunkRows: writer.chunkRows)
        let url = directory.appendingPathComponent("manifest.json")
        do {
            try JSONWriter.encode(manifest, layout: .pretty).write(to: url, options: .atomic)
        } catch {
            throw CorpusError.unwritableStore(path: url.path, reason: "\(error)")
        }
        return try ActivationStore(directory: directory)
    }

    /// File name of a hook's activations inside a chunk directory.
    static func fileName(hook: String) -> String {
        hook.replacingOccurrences(of: "/", with: "_") + ".safetensors"
    }

    static func chunkDirectory(_ directory: URL, _ index: Int) -> URL {
        let digits = String(index)
        return directory.appendingPathComponent("chunk-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits)
    }

    private static func open(_ url: URL) throws -> SafetensorsFile {
        do {
            return try SafetensorsFile(url: url)
        } catch let error as CoreError {
            throw CorpusError.corruptStore(path: url.path, reason: error.description)
        }
    }

    private static func checkHook(_ name: String, model: GPT2Model) throws {
        do {
            _ = try model.rowWidth(ofHook: name)
        } catch ModelError.noRowPerToken {
            throw CorpusError.unsupportedHook(name: name, reason: "attention scores and patterns are [B, H, T, T], not one row per token")
        } catch {
            throw CorpusError.unsupportedHook(name: name, reason: "the model has no such hook point")
        }
    }

    /// Checks the windows and returns their common stride (document tokens per full window).
    /// The windows' stride (`given`, or the longest window's document tokens), after checking them.
    private static func checkWindows(_ windows: [CorpusWindow], model: GPT2Model, stride given: Int?) throws -> Int {
        guard !windows.isEmpty else { throw CorpusError.invalidWindows(reason: "there are no windows (the corpus has no tokens)") }
        guard windows.allSatisfy({ $0.hasBOS == windows[0].hasBOS }) else {
            throw CorpusError.invalidWindows(reason: "some windows start with a BOS token and others do not")
        }
        let stride = given ?? windows.map(\.documentTokenCount).max() ?? 0
        guard stride > 0 else { throw CorpusError.invalidStoreOption(name: "windowStride", reason: "must be positive, got \(stride)") }
        for (index, window) in windows.enumerated() {
            if window.documentTokenCount == 0 || window.documentTokenCount > stride {
                throw CorpusError.invalidWindows(reason: "window \(index) holds \(window.documentTokenCount) document tokens (1 to the stride \(stride))")
            }
            if window.count > model.config.contextLength {
                throw CorpusError.invalidContextLength(
                    contextLength: window.count, reason: "window \(index) is longer than the model's context of \(model.config.contextLength)")
            }
            if window.start % stride != 0 {
                throw CorpusError.invalidWindows(
                    reason: "window \(index) starts at position \(window.start), not a multiple of the stride \(stride) (cut windows with TokenizedCorpus.windows)")
            }
        }
        return stride
    }

    private static func prepare(_ directory: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            for name in try manager.contentsOfDirectory(atPath: directory.path).sorted()
            where name == "manifest.json" || name.hasPrefix("chunk-") {
                try manager.removeItem(at: directory.appendingPathComponent(name))
            }
        } catch {
            throw CorpusError.unwritableStore(path: directory.path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Collects rows until a chunk is full, then writes it.
private struct ChunkWriter {
    let directory: URL
    let hooks: [String]
    var widths: [Int] = []
    var buffers: [[Float]] = []
    var documents: [Int32] = []
    var positions: [Int32] = []
    var tokens: [Int32] = []
    var special: [Int32] = []
    var chunkRows: [Int] = []
    var totalRows = 0
    var totalTokens = 0

    init(directory: URL, hooks: [String]) {
        self.directory = directory
        self.hooks = hooks
        self.buffers = Array(repeating: [], count: hooks.count)
    }

    var rows: Int { documents.count }

    /// Appends `window`, item `item` of a batch whose activations (`[B, L, …]` per hook, `L` at least
    /// the window's length) are `activations`: its own rows, not the padding after them.
    mutating func append(_ window: CorpusWindow, item: Int, of activations: [Tensor]) {
        if widths.isEmpty { widths = activations.map { $0.count / ($0.shape[0] * $0.shape[1]) } }
        for (hook, tensor) in activations.enumerated() {
            let start = item * tensor.shape[1] * widths[hook]
            buffers[hook].append(contentsOf: tensor.scalars[start..<(start + window.count * widths[hook])])
        }
        for index in 0..<window.count {
            documents.append(Int32(truncatingIfNeeded: window.document))
            positions.append(Int32(truncatingIfNeeded: window.position(at: index) ?? -1))
            tokens.append(Int32(truncatingIfNeeded: window.tokens[index]))
            special.append(window.isSpecial(index) ? 1 : 0)
        }
        totalTokens += window.documentTokenCount
    }

    /// Appends the rows of a one-hook chunk as they are.
    mutating func append(_ chunk: ActivationChunk) {
        buffers[0].append(contentsOf: chunk.activations.scalars)
        documents.append(contentsOf: chunk.documents.map { Int32(truncatingIfNeeded: $0) })
        positions.append(contentsOf: chunk.positions.map { Int32(truncatingIfNeeded: $0) })
        tokens.append(contentsOf: chunk.tokens.map { Int32(truncatingIfNeeded: $0) })
        special.append(contentsOf: chunk.special.map { $0 ? 1 : 0 })
        totalTokens += chunk.special.filter { !$0 }.count
    }

    mutating func flush() throws {
        guard rows > 0 else { return }
        let folder = ActivationStore.chunkDirectory(directory, chunkRows.count)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let count = [rows]
            try SafetensorsWriter.write(
                ["document": .int32(shape: count, values: documents), "position": .int32(shape: count, values: positions),
                 "token": .int32(shape: count, values: tokens), "special": .int32(shape: count, values: special)],
                to: folder.appendingPathComponent("index.safetensors"))
            for (index, hook) in hooks.enumerated() {
                let tensor = try Tensor(shape: [rows, widths[index]], scalars: buffers[index])
                try SafetensorsWriter.write(["activations": .float32(tensor)], to: folder.appendingPathComponent(ActivationStore.fileName(hook: hook)))
            }
        } catch let error as CoreError {
            throw CorpusError.unwritableStore(path: folder.path, reason: error.description)
        } catch {
            throw CorpusError.unwritableStore(path: folder.path, reason: (error as NSError).localizedDescription)
        }
        chunkRows.append(rows)
        totalRows += rows
        buffers = Array(repeating: [], count: hooks.count)
        documents = []
        positions = []
        tokens = []
        special = []
    }
}
