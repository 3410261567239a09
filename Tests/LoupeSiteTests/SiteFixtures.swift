import Foundation
import LoupeFindings
@testable import LoupeSite

/// Hand-written findings for the site tests: a few realistic features and one full of hostile strings.
enum SiteFixtures {
    /// Strings that must render inert wherever data is shown.
    static let hostile = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "</textarea>",
        "{{mustache}}",
        "{{{triple}}}",
        "\u{202E}evil",
        "\u{FFFD}",
        "' onmouseover='alert(3)",
        "&amp;",
    ]

    static let words = [
        " the", " cat", " sat", " on", " mat", ".", " When", " Mary", " and", " John", " went", " to", " store",
        ",", " gave", " a", " drink", " 17", "06", " year", " counted", " x", "\n", " def", " return", "(",
    ]

    /// A deterministic stream of numbers for fixture data.
    struct Stream {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func unit() -> Float { Float(next() % 10_000) / 10_000 }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static func example(_ s: inout Stream, length: Int, peak: Float, hostileToken: String? = nil) -> ActivationExample {
        let focus = length * 2 / 3
        var tokens: [String] = []
        var activations: [Float] = []
        for i in 0..<length {
            tokens.append(i == focus ? (hostileToken ?? s.pick(words)) : s.pick(words))
            if i == focus {
                activations.append(peak)
            } else {
                let r = s.unit()
                activations.append(r < 0.7 ? 0 : peak * s.unit() * 0.8)
            }
        }
        return ActivationExample(document: Int(s.next() % 500), position: Int(s.next() % 120), tokens: tokens, activations: activations, focus: focus)
    }

    /// A feature the size the site is designed for: 20 top examples, 10 intervals of 5, 15 tokens each.
    static func feature(index: Int, count: Int, seed: UInt64, explanation: String? = nil, hostileTokens: [String] = []) -> FeatureFindings {
        var s = Stream(state: seed &+ UInt64(index) &* 7919)
        let maxActivation: Float = 2 + s.unit() * 8
        var hostileQueue = hostileTokens
        let top = (0..<20).map { i -> ActivationExample in
            let peak = maxActivation * (1 - Float(i) * 0.02)
            return example(&s, length: 15, peak: peak, hostileToken: hostileQueue.isEmpty ? nil : hostileQueue.removeFirst())
        }
        let intervals = (0..<10).map { g -> IntervalGroup in
            let lower = maxActivation * Float(g) / 10
            let upper = maxActivation * Float(g + 1) / 10
            let examples = (0..<5).map { _ in example(&s, length: 15, peak: lower + (upper - lower) * max(0.05, s.unit())) }
            return IntervalGroup(lower: lower, upper: upper, examples: examples)
        }
        let histogram = Histogram(lower: 0, upper: maxActivation, counts: (0..<40).map { i in Int(2000 * exp(-Double(i) / 6)) + Int(s.next() % 20) })
        let logitWords = hostileTokens.isEmpty ? words : hostileTokens + words
        let logits = LogitEffects(
            top: (0..<10).map { TokenWeight(token: logitWords[$0 % logitWords.count], weight: 1.5 - Float($0) * 0.1) },
            bottom: (0..<10).map { TokenWeight(token: words[($0 + 5) % words.count], weight: -1.2 + Float($0) * 0.08) },
            histogram: Histogram(lower: -1.2, upper: 1.5, counts: (0..<40).map { i in Int(900 * exp(-pow(Double(i) - 18, 2) / 40)) })
        )
        let others = (1...6).map { (index + $0 * 3) % (count + 2) }  // some point past the last feature
        return FeatureFindings(
            index: index,
            density: 0.0005 + Double(s.unit()) * 0.01,
            maxActivation: maxActivation,
            meanActivation: maxActivation * 0.3,
            histogram: histogram,
            topExamples: top,
            intervals: intervals,
            logitEffects: logits,
            neighbours: others.map { FeatureLink(index: $0, score: 0.3 + s.unit() * 0.5) },
            coFiring: others.reversed().map { FeatureLink(index: $0, score: s.unit()) },
            explanation: Explanation(
                text: explanation ?? "fires on \"\(s.pick(words).trimmingCharacters(in: .whitespaces))\" after a name",
                source: "offline", detection: 0.7 + Double(s.unit()) * 0.25, fuzzing: 0.6 + Double(s.unit()) * 0.3,
                simulation: 0.4 + Double(s.unit()) * 0.5, heldOutExamples: 40
            )
        )
    }

    static func dictionary(id: String, features: [FeatureFindings], quality: Bool = true) -> DictionaryFindings {
        DictionaryFindings(
            id: id, hook: "blocks.1.hook_resid_post", kind: quality ? .topk : .neurons,
            source: quality ? "trained by Loupe" : "neurons", inputWidth: 64, width: features.count,
            quality: quality ? DictionaryQuality(
                meanSquaredError: 0.0123, fractionOfVarianceExplained: 0.912, meanL0: 16, deadFraction: 0.03,
                cleanLoss: 2.31, reconstructedLoss: 2.45, zeroAblatedLoss: 5.9, lossRecovered: 0.961, tokens: 16384
            ) : nil,
            medianDetection: quality ? 0.81 : nil, medianSimulation: quality ? 0.55 : nil,
            features: features
        )
    }

    /// A report with a realistic dictionary (including one unexplained, never-firing feature), a
    /// neuron atlas, two circuit tasks (`CircuitFixtures`), decoded neighbourhoods at two sites
    /// (`NeighbourhoodFixtures`), and hostile strings in tokens,
    /// explanations, hook names, paths and prompts.
    static func report(featureCount: Int = 6) -> ReportFindings {
        var features = (0..<featureCount).map { feature(index: $0, count: featureCount, seed: 42) }
        if features.count > 2 {
            features[1] = feature(index: 1, count: featureCount, seed: 42,
                                  explanation: hostile.joined(separator: " "), hostileTokens: hostile)
            var dead = features[2]
            dead.explanation = nil
            dead.topExamples = []
            dead.intervals = []
            dead.logitEffects = nil
            dead.density = 0
            dead.maxActivation = 0
            dead.meanActivation = 0
            dead.histogram = Histogram(lower: 0, upper: 0, counts: [])
            dead.neighbours = []
            dead.coFiring = []
            features[2] = dead
        }
        var hostileDictionary = dictionary(id: "blocks.0.mlp.hook_post neurons", features: [feature(index: 7, count: 1, seed: 7, hostileTokens: hostile)], quality: false)
        hostileDictionary.hook = "blocks.0.mlp.hook_post<script>alert(4)</script>"
        return ReportFindings(
            name: "toy <b>report</b>",
            model: ModelSummary(path: "Reports/demo/model\u{202E}txt.exe\"><script>x</script>", layers: 2, width: 64, heads: 4, vocabularySize: 311, contextLength: 64),
            corpus: CorpusSummary(files: ["corpus/{{mustache}}.jsonl"], documents: 500, tokens: 64_000, contextLength: 64),
            dictionaries: [dictionary(id: "blocks.1.hook_resid_post-topk", features: features), hostileDictionary],
            circuits: CircuitFixtures.findings,
            neighbourhoods: NeighbourhoodFixtures.findings,
            subspaces: SubspaceFixtures.findings
        )
    }

    static let summary = """
    # Toy report

    The dictionary at `blocks.1.hook_resid_post` explains **most** features.

    <script>alert("raw html")</script>

    | metric | value |
    | --- | --- |
    | FVE | 0.91 |

    ![remote](https://example.invalid/x.png) [a link](javascript:alert(1)) {{mustache}}
    """

    /// The repository's own templates and assets.
    static var resources: SiteResources { SiteResources(root: SiteResources.repositoryRoot) }

    /// A fresh empty folder for one test.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-site-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every regular file under `root`, as paths relative to it, sorted.
    static func files(under root: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var out: [String] = []
        for case let path as String in enumerator {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }
}

/// What suites that write a whole site and read its files share.
protocol WrittenSiteTests {}

extension WrittenSiteTests {
    /// `findings` (the fixture report by default) written as a site into a fresh folder; the caller
    /// removes the site's parent folder.
    func writeSite(_ findings: ReportFindings = SiteFixtures.report(), summary: String = SiteFixtures.summary) throws -> URL {
        let folder = try SiteFixtures.temporaryFolder()
        let site = folder.appendingPathComponent("site", isDirectory: true)
        try SiteWriter.write(findings: findings, summaryMarkdown: summary, to: site, resources: SiteFixtures.resources)
        return site
    }

    /// The text of the file at `path` in `site`.
    func text(_ site: URL, _ path: String) throws -> String {
        String(decoding: try Data(contentsOf: site.appendingPathComponent(path)), as: UTF8.self)
    }
}
