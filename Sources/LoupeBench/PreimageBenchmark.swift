import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeModel
import LoupeToyWorld

#if canImport(Glibc)
import Glibc
#endif

/// The retrieval benchmark of `make bench` (`--preimage`): exact ε-preimage search
/// (`PreimageSearch`, k 20, ε 0.1) next to the machine's memory bandwidth.
///
/// - Bandwidth: the best of 3 sums of a 1 GiB float buffer, on one core and on every core.
/// - Synthetic store: 1,000,000 rows × 768 normal floats (`SeededRandom`), 100 of them planted at
///   ‖z − q‖ ≈ 0.05‖q‖ around the query, written with `ActivationStore.write` in chunks of the size
///   `PreimageStore` gives a 768-wide hook. The query is `blocks.0.hook_resid_post` of the random
///   GPT-2-small model at the last of 16 random tokens. The first l2 query runs after the store's pages
///   were dropped from the page cache (`posix_fadvise`, no root needed); then medians of 3 l2 and
///   3 cosine queries from the page cache. The lower bound on a query is the store's bytes over the bandwidth.
/// - Demo store: the demo model, 4000 toy-world documents (seed 7), context 64 with a BOS, hook
///   `blocks.2.hook_resid_post`, built and searched through `PreimageStore` and `PreimageSearch` as
///   `loupe preimage` does (build once; median of 5 searches per distance).
///
/// Every file is written to a temporary folder that is deleted at the end.
struct PreimageBenchmark {
    struct Result {
        /// GB/s summing 1 GiB on one core, and on every core.
        var bandwidthOneCore, bandwidthAllCores: Double
        /// The synthetic store: bytes of its activation files, rows, seconds to generate and write it.
        var syntheticBytes, syntheticRows: Int
        var syntheticWriteSeconds: Double
        /// Seconds of the first l2 query (store evicted from the page cache) and the medians from the cache.
        var firstL2Seconds, l2Seconds, cosineSeconds: Double
        /// Rows within ε of the query (l2, cosine); 100 are planted.
        var inside: (l2: Int, cosine: Int)
        /// The demo store: rows, seconds to build, median seconds per search (l2, cosine).
        var demoRows: Int
        var demoBuildSeconds, demoL2Seconds, demoCosineSeconds: Double

        /// Seconds to read the synthetic store's bytes once at the all-core bandwidth.
        var boundSeconds: Double { Double(syntheticBytes) / (bandwidthAllCores * 1e9) }
    }

    let k = 20
    let epsilon = 0.1

    func run(model: GPT2Model, demoModel: URL) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-preimage-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        let (one, all) = (Self.bandwidth(threads: 1), Self.bandwidth(threads: ProcessInfo.processInfo.activeProcessorCount))
        progress("memory bandwidth \(format(one)) GB/s on one core, \(format(all)) GB/s on all")

        // Synthetic store.
        let site = try PreimageSite(hook: "blocks.0.hook_resid_post", head: nil, model: model)
        var rng = SeededRandom(seed: 13)
        let queryTokens = (0..<16).map { _ in rng.nextInt(below: model.config.vocabularySize) }
        let query = try PreimageQuery(model: model, site: site, tokens: queryTokens, position: -1, contextLength: 64)
        let directory = scratch.appendingPathComponent("synthetic")
        var store: ActivationStore?
        let writeSeconds = try seconds { store = try syntheticStore(query: query.activation, hook: site.hook, directory: directory, rng: &rng) }
        let files = try chunkFiles(store!)
        let bytes = try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        progress("synthetic store written in \(format(writeSeconds)) s; searching…")
        try evictFromPageCache(files)
        var inside = (l2: 0, cosine: 0)
        let first = try seconds { inside.l2 = try search(store!, query, .l2) }
        let l2 = median(try (0..<3).map { _ in try seconds { _ = try search(store!, query, .l2) } })
        let cosine = median(try (0..<3).map { _ in try seconds { inside.cosine = try search(store!, query, .cosine) } })
        try FileManager.default.removeItem(at: directory)

        // Demo store, through the API `loupe preimage` uses.
        let demo = try GPT2Model.load(directory: demoModel)
        let tokenizer = try TokenizerLoader.load(directory: demoModel)
        let bos = tokenizer.id(for: "<|endoftext|>")
        var textRng = SeededRandom(seed: 7)
        let texts = ToyWorld().documents(count: 4000, length: 63, rng: &textRng)
        let corpusURL = scratch.appendingPathComponent("toy-world.txt")
        try (texts.joined(separator: "\n") + "\n").write(to: corpusURL, atomically: true, encoding: .utf8)
        let corpus = try Corpus.read(file: corpusURL)
        let inputs = PreimageStore.Inputs(model: demoModel, corpus: corpusURL, contextLength: 64, bos: bos, hook: "blocks.2.hook_resid_post")
        var demoStore: ActivationStore?
        let buildSeconds = try seconds {
            demoStore = try PreimageStore.prepare(inputs: inputs, model: demo, tokenizer: tokenizer, corpus: corpus, root: scratch).store
        }
        let demoSite = try PreimageSite(hook: inputs.hook, head: nil, model: demo)
        let demoQuery = try PreimageQuery(
            model: demo, site: demoSite, tokens: [bos!] + tokenizer.encode(texts[0]).prefix(63), position: -1, contextLength: 64)
        func demoSeconds(_ distance: PreimageDistance) throws -> Double {
            median(try (0..<5).map { _ in
                try seconds { _ = try PreimageSearch.run(store: demoStore!, query: demoQuery, distance: distance, k: k, epsilon: epsilon, excluding: bos) }
            })
        }
        return Result(
            bandwidthOneCore: one, bandwidthAllCores: all, syntheticBytes: bytes, syntheticRows: store!.manifest.rows,
            syntheticWriteSeconds: writeSeconds, firstL2Seconds: first, l2Seconds: l2, cosineSeconds: cosine, inside: inside,
            demoRows: demoStore!.manifest.rows, demoBuildSeconds: buildSeconds, demoL2Seconds: try demoSeconds(.l2),
            demoCosineSeconds: try demoSeconds(.cosine))
    }

    /// One search over `store`; returns the rows found within ε.
    private func search(_ store: ActivationStore, _ query: PreimageQuery, _ distance: PreimageDistance) throws -> Int {
        try PreimageSearch.run(store: store, query: query, distance: distance, k: k, epsilon: epsilon, excluding: nil).inside
    }

    /// 1,000,000 rows of `query.count` standard normal values in documents of 64 positions, 100 random
    /// rows replaced by `query` plus noise of norm about 0.05‖query‖.
    private func syntheticStore(query: [Float], hook: String, directory: URL, rng: inout SeededRandom) throws -> ActivationStore {
        let (rows, width, stride) = (1_000_000, query.count, 64)
        // What `ActivationStore.build` writes for `PreimageStore`'s 2²⁴ / 768 = 21,845-row limit and
        // 4096-token batches of 64-token windows: chunks of 5 batches.
        let chunkRows = 20_480
        let planted = Set((0..<100).map { _ in rng.nextInt(below: rows) })
        let noise = 0.05 * query.reduce(0) { $0 + $1 * $1 }.squareRoot() / Float(width).squareRoot()
        var start = 0
        return try ActivationStore.write(hook: hook, width: width, windowStride: stride, bos: nil, directory: directory) {
            guard start < rows else { return nil }
            let range = start..<min(rows, start + chunkRows)
            start = range.upperBound
            var activations = Tensor(shape: [range.count, width])
            activations.scalars.withUnsafeMutableBufferPointer { values in
                for index in 0..<values.count { values[index] = rng.nextNormal() }
                for row in range where planted.contains(row) {
                    let base = (row - range.lowerBound) * width
                    for column in 0..<width { values[base + column] = query[column] + noise * rng.nextNormal() }
                }
            }
            return try ActivationChunk(
                activations: activations, documents: range.map { $0 / stride }, positions: range.map { $0 % stride },
                tokens: range.map { _ in 1 + rng.nextInt(below: 50_000) }, special: Array(repeating: false, count: range.count),
                windowStride: stride)
        }
    }

    /// The chunk files (index and activations) of a store.
    private func chunkFiles(_ store: ActivationStore) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: store.directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("chunk-") }
            .flatMap { try FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: [.fileSizeKey]) }
    }

    /// Flushes `files` to disk and asks the kernel to drop their pages from the page cache.
    private func evictFromPageCache(_ files: [URL]) throws {
        for file in files {
            let descriptor = open(file.path, O_RDONLY)
            guard descriptor >= 0 else { continue }
            fsync(descriptor)
            _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
            close(descriptor)
        }
    }

    /// GB/s reading a 1 GiB float buffer (best of 3), split evenly over `threads` threads.
    static func bandwidth(threads: Int) -> Double {
        let count = 1 << 28
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        let base = UnsafePointer(buffer.baseAddress!)
        var sums = [Float](repeating: 0, count: threads)
        let best = (0..<3).map { _ in
            seconds {
                sums.withUnsafeMutableBufferPointer { out in
                    let out = out
                    DispatchQueue.concurrentPerform(iterations: threads) { part in
                        let share = count / threads
                        out[part] = sum(base + part * share, count: part == threads - 1 ? count - part * share : share)
                    }
                }
            }
        }.min()!
        precondition(sums.reduce(0, +) > 0)
        return Double(count * MemoryLayout<Float>.size) / best / 1e9
    }

    /// The sum of `count` floats, four 16-lane accumulators wide.
    private static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        let raw = UnsafeRawPointer(values)
        var (a, b, c, d) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
        var index = 0
        while index + 64 <= count {
            a += raw.loadUnaligned(fromByteOffset: 4 * index, as: SIMD16<Float>.self)
            b += raw.loadUnaligned(fromByteOffset: 4 * (index + 16), as: SIMD16<Float>.self)
            c += raw.loadUnaligned(fromByteOffset: 4 * (index + 32), as: SIMD16<Float>.self)
            d += raw.loadUnaligned(fromByteOffset: 4 * (index + 48), as: SIMD16<Float>.self)
            index += 64
        }
        var total = (a + b + c + d).sum()
        while index < count {
            total += values[index]
            index += 1
        }
        return total
    }


    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
