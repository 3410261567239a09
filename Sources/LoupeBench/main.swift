import Foundation
import LoupeAnalysis
import LoupeCore
import LoupeFindings
import LoupeModel

/// `loupe-bench`: forward-pass throughput of a GPT-2-small-shaped model next to the machine's
/// raw sgemm rate, and training-step throughput at the demo and GPT-2-small shapes (PyTorch's
/// figures with `--peer FILE` / `--peer-train FILE`, the outputs of `Tools/bench_torch.py` and
/// `Tools/bench_torch_train.py`).
/// `--build` adds `loupe build` end to end on a user-shaped input (see `BuildBenchmark`), `--circuits`
/// adds the wall time of every circuit method (see `CircuitBenchmark`), `--preimage` the
/// retrieval benchmark (see `PreimageBenchmark`), `--decoder` decoder training and sampling (see
/// `DecoderBenchmark`), `--llm` language-model explanations against a stub endpoint (see
/// `LLMBenchmark`), `--subspaces` NDM training and its causal check on the demo model (see
/// `SubspaceBenchmark`), `--decoder-generalisation N` alone the demo decoder's
/// generalisation over N random counting queries (see `DecoderGeneralisation`), `--no-atlas` leaves out the atlas benchmark. `--breakdown` adds
/// the time of each kernel at this shape. Prints human-readable lines and one JSON line with every figure.

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Writes an indented progress line to stderr.
func progress(_ line: String) {
    FileHandle.standardError.write("  \(line)\n".data(using: .utf8)!)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Floating-point operations of one forward pass as performed (matrix products only; attention
/// products over the full T×T square).
func forwardFlops(_ config: GPT2Config, batch: Int, tokens: Int) -> Double {
    let (c, m, v, l) = (Double(config.width), Double(config.mlpWidth), Double(config.vocabularySize), Double(config.layers))
    let n = Double(batch * tokens)
    let perLayer = 2 * n * (c * 3 * c + c * c + 2 * c * m) + 4 * n * Double(tokens) * c
    return l * perLayer + 2 * n * c * v
}

let arguments = CommandLine.arguments
BenchArguments.validate(arguments)
ProcessSetup.prepare()
func buildBenchmark() -> BuildBenchmark {
    var bench = BuildBenchmark()
    if let flag = arguments.firstIndex(of: "--build-tokens"), let value = Int(arguments[flag + 1]) { bench.tokens = value }
    if let flag = arguments.firstIndex(of: "--build-features"), let value = Int(arguments[flag + 1]) { bench.features = value }
    return bench
}
if let flag = arguments.firstIndex(of: "--write-build-input") {
    let directory = URL(fileURLWithPath: arguments[flag + 1])
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let documents = try buildBenchmark().writeInput(to: directory)
    print("\(directory.appendingPathComponent("report.yaml").path): \(documents) documents")
    exit(0)
}
if let flag = arguments.firstIndex(of: "--decoder-generalisation"), let queries = Int(arguments[flag + 1]) {
    let rows = try DecoderGeneralisation(queries: queries).run(demo: URL(fileURLWithPath: "Reports/demo"))
    for row in rows {
        print("\(row.passes ? "pass" : "fail")  \(row.text)  inside \(row.inside), count \(row.counted), another string \(row.otherStrings); preimage \(row.preimageCounted) of \(row.preimageInside) with the count")
    }
    let determined = rows.filter(\.countIsDetermined)
    let undetermined = rows.filter { !$0.countIsDetermined }
    print("\(rows.filter(\.passes).count) of \(rows.count) queries pass")
    print("\(determined.filter(\.passes).count) of the \(determined.count) whose exact ε-preimage pins the count down pass")
    print("\(undetermined.filter(\.passes).count) of the \(undetermined.count) others pass")
    exit(0)
}
let repetitions = arguments.contains("--quick") ? 1 : 3
let config = GPT2Config(vocabularySize: 50257, contextLength: 1024, width: 768, heads: 12, layers: 12)
let (batch, length) = (8, 128)
FileHandle.standardError.write("building a random GPT-2-small model…\n".data(using: .utf8)!)
let model = GPT2Model(config: config, weights: GPT2Weights.random(config: config, seed: 0))
var rng = SeededRandom(seed: 7)
let tokens = (0..<batch).map { _ in (0..<length).map { _ in rng.nextInt(below: config.vocabularySize) } }

let probes = [
    ("2048×2048×2048", SgemmProbe.gflops(m: 2048, n: 2048, k: 2048)),
    ("4096×4096×4096", SgemmProbe.gflops(m: 4096, n: 4096, k: 4096)),
    ("1024×3072×768 (MLP in)", SgemmProbe.gflops(m: 1024, n: 3072, k: 768)),
]
let peak = probes.map(\.1).max()!
_ = try model.forward(tokens)
var times: [Double] = []
for _ in 0..<repetitions {
    times.append(try seconds { _ = try model.forward(tokens) })
}
let forwardSeconds = median(times)
let flops = forwardFlops(config, batch: batch, tokens: length)
let achieved = flops / forwardSeconds / 1e9
let tokensPerSecond = Double(batch * length) / forwardSeconds

for (shape, rate) in probes { print("sgemm \(shape): \(String(format: "%.1f", rate)) GFLOP/s") }
print("sgemm peak (best of the above, bands of rows on \(SgemmProbe.threads) cores): \(String(format: "%.1f", peak)) GFLOP/s")
print("forward GPT-2 small, batch \(batch)×\(length): \(String(format: "%.3f", forwardSeconds)) s, \(String(format: "%.0f", tokensPerSecond)) tokens/s, \(String(format: "%.1f", achieved)) GFLOP/s = \(String(format: "%.0f", 100 * achieved / peak))% of sgemm peak")
var peerTokensPerSecond: Double?
if let flag = arguments.firstIndex(of: "--peer"), flag + 1 < arguments.count,
   let data = FileManager.default.contents(atPath: arguments[flag + 1]),
   let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
   let peer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
   let results = peer["results"] as? [String: [String: Any]] {
    // The faster of PyTorch's attention implementations is the figure to beat.
    peerTokensPerSecond = results.values.compactMap { $0["tokens_per_s"] as? Double }.max()
}
if let peerTokensPerSecond {
    print("PyTorch on the same shape: \(String(format: "%.0f", peerTokensPerSecond)) tokens/s; Loupe / PyTorch = \(String(format: "%.2f", tokensPerSecond / peerTokensPerSecond))")
}
var figures: [String: Double] = [
    "sgemm_gflops": peak, "forward_seconds": forwardSeconds, "forward_tokens_per_second": tokensPerSecond,
    "forward_gflops": achieved, "forward_fraction_of_sgemm": achieved / peak,
]
/// Median seconds of one training step (forward, cross-entropy, backward, AdamW) after a warm-up.
func trainingStepSeconds(_ config: GPT2Config, batch: Int, tokens: Int, runs: Int) throws -> Double {
    var rng = SeededRandom(seed: 11)
    let sequences = (0..<batch).map { _ in (0...tokens).map { _ in rng.nextInt(below: config.vocabularySize) } }
    let inputs = sequences.map { Array($0.dropLast()) }, targets = sequences.map { Array($0.dropFirst()) }
    var settings = OptimizerSettings()
    settings.totalSteps = runs + 1
    settings.warmupSteps = 1
    var trainer = Trainer(model: GPT2Model(config: config, weights: .random(config: config, seed: 2)), settings: settings)
    try trainer.step(inputs: inputs, targets: targets)
    return median(try (0..<runs).map { _ in try seconds { try trainer.step(inputs: inputs, targets: targets) } })
}

var peerTraining: [String: Double] = [:]
if let flag = arguments.firstIndex(of: "--peer-train"), flag + 1 < arguments.count,
   let data = FileManager.default.contents(atPath: arguments[flag + 1]),
   let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
   let peer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
   let results = peer["results"] as? [String: [String: Any]] {
    for (shape, result) in results { peerTraining[shape] = result["tokens_per_s"] as? Double }
}
let demoConfig = GPT2Config(vocabularySize: 311, contextLength: 64, width: 128, heads: 4, layers: 4, mlpWidth: 512)
let trainingShapes: [(String, GPT2Config, Int, Int, Int)] = [
    ("demo", demoConfig, 32, 64, repetitions == 1 ? 3 : 10),
    ("gpt2-small", config, 8, 128, repetitions == 1 ? 1 : 3),
]
for (name, shapeConfig, shapeBatch, shapeTokens, runs) in trainingShapes {
    let step = try trainingStepSeconds(shapeConfig, batch: shapeBatch, tokens: shapeTokens, runs: runs)
    let rate = Double(shapeBatch * shapeTokens) / step
    var line = "training step \(name), batch \(shapeBatch)×\(shapeTokens): \(String(format: "%.3f", step)) s, \(String(format: "%.0f", rate)) tokens/s"
    figures["train_\(name)_tokens_per_second"] = rate
    if let peer = peerTraining[name] {
        line += "; PyTorch \(String(format: "%.0f", peer)) tokens/s; Loupe / PyTorch = \(String(format: "%.2f", rate / peer))"
        figures["torch_train_\(name)_tokens_per_second"] = peer
    }
    print(line)
}

/// The atlas step's tokens and seconds (sweep, statistics, pages), when it ran.
var atlasStep: (tokens: Int, seconds: Double)?
if !arguments.contains("--no-atlas") {
    FileHandle.standardError.write("atlas benchmark…\n".data(using: .utf8)!)
    let result = try AtlasBenchmark(windows: repetitions == 1 ? 128 : 1024).run(model: model)
    atlasStep = (result.tokens, result.storeSeconds + result.atlasSeconds + result.siteSeconds)
    let rate = Double(result.tokens) * Double(result.features) / result.atlasSeconds
    print("atlas \(result.features) features × \(result.tokens) tokens at blocks.6.hook_resid_pre: model sweep \(String(format: "%.1f", result.storeSeconds)) s, encode + statistics \(String(format: "%.1f", result.atlasSeconds)) s (\(String(format: "%.2e", rate)) token·features/s), \(result.features) pages in \(String(format: "%.1f", result.siteSeconds)) s")
    print("feature pages: median \(result.medianPageBytes / 1024) KB, largest \(result.largestPageBytes / 1024) KB")
    figures["atlas_token_features_per_second"] = rate
    figures["atlas_seconds_total"] = result.storeSeconds + result.atlasSeconds + result.siteSeconds
    figures["site_median_page_bytes"] = Double(result.medianPageBytes)
    figures["site_largest_page_bytes"] = Double(result.largestPageBytes)
}

if arguments.contains("--build") {
    let bench = buildBenchmark()
    let r = try bench.run()
    let f = { (value: Double, digits: Int) in String(format: "%.\(digits)f", value) }
    print("loupe build, user-shaped input (GPT-2-small shape, \(r.documents) documents of 20–400 tokens = \(r.tokens) tokens, context \(BuildBenchmark.context), SAELens TopK \(bench.features) at \(BuildBenchmark.hook)), phases:")
    print(r.timings.table(), terminator: "")
    let atlasPhase = r.timings.phases.first { $0.phase == "atlas(\(BuildBenchmark.hook))" }?.seconds ?? 0
    let limit = r.sweepFlops / peak / 1e9
    print("  end to end \(f(r.wallSeconds, 1)) s (site and process start included), peak RSS of the build's phases \(r.timings.peakResidentBytes / 1_048_576) MB; compute limit (the sweep's \(f(r.sweepFlops / 1e12, 2)) TFLOP at the sgemm peak) \(f(limit, 1)) s")
    if let atlasStep, atlasStep.tokens == r.tokens {
        print("  end to end / the atlas step above (same tokens, same run): \(f(r.wallSeconds / atlasStep.seconds, 2))×")
        figures["build_over_atlas_step"] = r.wallSeconds / atlasStep.seconds
    }
    figures["build_seconds"] = r.wallSeconds
    figures["build_peak_resident_bytes"] = Double(r.timings.peakResidentBytes)
    figures["build_atlas_phase_seconds"] = atlasPhase
    figures["build_compute_limit_seconds"] = limit
    for phase in r.timings.phases { figures["build_phase_\(phase.phase)_seconds"] = phase.seconds }
}

if arguments.contains("--circuits") {
    FileHandle.standardError.write("circuit benchmark…\n".data(using: .utf8)!)
    let bench = CircuitBenchmark()
    let rows = try bench.demo(modelDirectory: URL(fileURLWithPath: "Reports/demo/model")) + [try bench.gpt2Small(model: model)]
    print("circuit methods, seconds (" + CircuitMethod.allCases.map(\.rawValue).joined(separator: ", ") + "):")
    for row in rows {
        print("  \(row.label): " + row.seconds.map { String(format: "%.2f", $0) }.joined(separator: ", "))
    }
    for (index, method) in CircuitMethod.allCases.enumerated() {
        figures["circuit_gpt2_small_\(method.rawValue)_seconds"] = rows.last!.seconds[index]
    }
}

if arguments.contains("--subspaces") {
    FileHandle.standardError.write("subspace benchmark…\n".data(using: .utf8)!)
    var bench = SubspaceBenchmark()
    if let flag = arguments.firstIndex(of: "--subspace-site") { bench.site = arguments[flag + 1] }
    let r = try bench.run(demoModel: URL(fileURLWithPath: "Reports/demo/model"))
    func f(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
    print("subspaces (NDM), demo model at \(bench.site), 16,384 activations: store \(f(r.storeSeconds, 1)) s, training \(r.steps) steps \(f(r.trainingSeconds, 1)) s (median step \(f(r.stepSeconds * 1000, 1)) ms), final sizes \(r.sizes)")
    print("  IOI causal check (NDM + 3 baselines) \(f(r.checkSeconds, 1)) s; Gini " + r.gini.map { "\($0.0) \(f($0.1))" }.joined(separator: ", "))
    print("  NDM effects: " + r.effects.map { f($0) }.joined(separator: " "))
    print("  nearest-neighbour search of one step (256 × 4096 over \(r.sizes.count) blocks, \(r.sizes.reduce(0, +)) columns): \(f(r.searchGflops, 1)) GFLOP/s = "
        + "\(f(100 * r.searchGflops / peak, 0))% of sgemm peak, \(f(100 * r.searchGflops / r.sgemmGflops, 0))% of one [256, \(r.sizes.reduce(0, +))]·[\(r.sizes.reduce(0, +)), 4096] sgemm (\(f(r.sgemmGflops, 1)) GFLOP/s)")
    figures["subspace_step_seconds"] = r.stepSeconds
    figures["subspace_training_seconds"] = r.trainingSeconds
    figures["subspace_search_fraction_of_sgemm_peak"] = r.searchGflops / peak
    figures["subspace_ndm_gini"] = r.gini[0].1
}

if arguments.contains("--preimage") {
    FileHandle.standardError.write("preimage benchmark…\n".data(using: .utf8)!)
    let r = try PreimageBenchmark().run(model: model, demoModel: URL(fileURLWithPath: "Reports/demo/model"))
    func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
    print("memory bandwidth (sum of 1 GiB, best of 3): \(f(r.bandwidthOneCore, 1)) GB/s on one core, \(f(r.bandwidthAllCores, 1)) GB/s on all cores")
    print("preimage, synthetic store \(r.syntheticRows) × 768 (\(f(Double(r.syntheticBytes) / 1e9)) GB, written in \(f(r.syntheticWriteSeconds, 1)) s), k 20, ε 0.1:")
    print("  l2: first query (store evicted from the page cache) \(f(r.firstL2Seconds)) s, median of 3 from the cache \(f(r.l2Seconds)) s; inside \(r.inside.l2) (100 planted)")
    print("  cosine: median of 3 from the cache \(f(r.cosineSeconds)) s; inside \(r.inside.cosine)")
    print("  bound (store bytes / all-core bandwidth) \(f(r.boundSeconds)) s; l2 / bound \(f(r.l2Seconds / r.boundSeconds, 1))×, cosine / bound \(f(r.cosineSeconds / r.boundSeconds, 1))×")
    print("preimage, demo store (4000 toy-world documents, context 64 with BOS, blocks.2.hook_resid_post, \(r.demoRows) rows): build \(f(r.demoBuildSeconds)) s, search median of 5 l2 \(f(r.demoL2Seconds, 3)) s, cosine \(f(r.demoCosineSeconds, 3)) s")
    figures["memory_bandwidth_one_core_gb_per_second"] = r.bandwidthOneCore
    figures["memory_bandwidth_gb_per_second"] = r.bandwidthAllCores
    figures["preimage_synthetic_store_bytes"] = Double(r.syntheticBytes)
    figures["preimage_synthetic_first_l2_seconds"] = r.firstL2Seconds
    figures["preimage_synthetic_l2_seconds"] = r.l2Seconds
    figures["preimage_synthetic_cosine_seconds"] = r.cosineSeconds
    figures["preimage_synthetic_bound_seconds"] = r.boundSeconds
    figures["preimage_demo_build_seconds"] = r.demoBuildSeconds
    figures["preimage_demo_l2_seconds"] = r.demoL2Seconds
    figures["preimage_demo_cosine_seconds"] = r.demoCosineSeconds
}

if arguments.contains("--decoder") {
    FileHandle.standardError.write("decoder benchmark…\n".data(using: .utf8)!)
    let r = try DecoderBenchmark(steps: repetitions == 1 ? 20 : 100).run(demo: URL(fileURLWithPath: "Reports/demo"))
    print("decoder training (demo decoder shape, pairs from the demo model on toy-world inputs), \(r.trainingSteps) steps: \(String(format: "%.0f", r.trainingTokensPerSecond)) tokens/s")
    print("decode (demo decoder, 64 distinct samples re-measured): \(String(format: "%.2f", r.decodeSeconds)) s, \(String(format: "%.0f", r.samplesPerSecond)) samples/s")
    figures["decoder_training_tokens_per_second"] = r.trainingTokensPerSecond
    figures["decode_samples_per_second"] = r.samplesPerSecond
}

if arguments.contains("--llm") {
    FileHandle.standardError.write("language-model explanation benchmark…\n".data(using: .utf8)!)
    let bench = LLMBenchmark()
    let r = try bench.run()
    let scale = 16_384 / Double(r.features)
    // gpt-4o-mini list prices, US$ per million tokens.
    let (inputPrice, outputPrice) = (0.15, 0.60)
    let cost = (Double(r.promptTokens) * inputPrice + Double(r.completionTokens) * outputPrice) / 1e6
    print("language-model explanations, \(r.features) features against a stub answering after \(Int(bench.latency * 1000)) ms, 8 requests in flight: \(r.explained) explained, \(r.requests) requests (\(String(format: "%.1f", Double(r.requests) / Double(r.features))) per feature), \(r.promptTokens) prompt + \(r.completionTokens) completion tokens, \(String(format: "%.1f", r.seconds)) s")
    print("  projected for 16,384 features: \(Int((Double(r.requests) * scale).rounded())) requests, \(String(format: "%.1f", Double(r.promptTokens) * scale / 1e6))M prompt + \(String(format: "%.1f", Double(r.completionTokens) * scale / 1e6))M completion tokens (US$ \(String(format: "%.2f", cost * scale)) at gpt-4o-mini's $0.15 / $0.60 per million), \(String(format: "%.0f", r.seconds * scale / 60)) min at this latency")
    figures["llm_requests_per_feature"] = Double(r.requests) / Double(r.features)
    figures["llm_prompt_tokens_per_feature"] = Double(r.promptTokens) / Double(r.features)
    figures["llm_completion_tokens_per_feature"] = Double(r.completionTokens) / Double(r.features)
    figures["llm_seconds_per_100_features"] = r.seconds * 100 / Double(r.features)
}

if let peerTokensPerSecond {
    figures["torch_forward_tokens_per_second"] = peerTokensPerSecond
    figures["forward_speed_vs_torch"] = tokensPerSecond / peerTokensPerSecond
}
let json = try JSONWriter.encode(object: figures)
print(String(decoding: json, as: UTF8.self))

if arguments.contains("--breakdown") {
    // Time each kernel once at the shapes of this forward pass and scale by how often it runs.
    let n = batch * length
    let (c, m, h, d) = (config.width, config.mlpWidth, config.heads, config.headWidth)
    var r = SeededRandom(seed: 3)
    func randomTensor(_ shape: [Int]) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.scalars[i] = r.nextNormal() }
        return t
    }
    let x = randomTensor([batch, length, c]), hidden = randomTensor([batch, length, m])
    let block = model.weights.blocks[0]
    let q = randomTensor([batch, length, h, d]), k = randomTensor([batch, length, h, d])
    var stages: [(String, Double, Int)] = []
    stages.append(("qkv matmul", try seconds { _ = try x.matmul(block.attentionWeight, bias: block.attentionBias) }, config.layers))
    stages.append(("attn out matmul", try seconds { _ = try x.matmul(block.attentionOutputWeight, bias: block.attentionOutputBias) }, config.layers))
    stages.append(("mlp in matmul", try seconds { _ = try x.matmul(block.mlpInputWeight, bias: block.mlpInputBias) }, config.layers))
    stages.append(("mlp out matmul", try seconds { _ = try hidden.matmul(block.mlpOutputWeight, bias: block.mlpOutputBias) }, config.layers))
    stages.append(("gelu", seconds { _ = hidden.applying(.geluTanh) }, config.layers))
    stages.append(("layer norm", try seconds { _ = try x.layerNorm(weight: block.ln1Weight, bias: block.ln1Bias, epsilon: 1e-5) }, 2 * config.layers + 1))
    let scores = try CausalAttention.scores(query: q, key: k, scale: 0.125)
    stages.append(("attn scores", try seconds { _ = try CausalAttention.scores(query: q, key: k, scale: 0.125) }, config.layers))
    let pattern = try CausalAttention.pattern(scores: scores)
    stages.append(("attn softmax", try seconds { _ = try CausalAttention.pattern(scores: scores) }, config.layers))
    stages.append(("attn mix", try seconds { _ = try CausalAttention.mix(pattern: pattern, value: q) }, config.layers))
    stages.append(("qkv split", try seconds { _ = try hidden.splitLastDimension(into: 4) }, config.layers))
    stages.append(("residual add", seconds { _ = x + x }, 2 * config.layers + 1))
    stages.append(("unembedding", try seconds { _ = try x.matmulTransposed(model.weights.tokenEmbedding) }, 1))
    _ = n
    for (name, time, times) in stages {
        print("  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(format: "%7.1f", time * 1000)) ms × \(times) = \(String(format: "%7.1f", time * Double(times) * 1000)) ms")
    }
}
