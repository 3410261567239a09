import Foundation
import LoupeFindings
import Testing
@testable import LoupeReport

/// `summary.md`: figures from the findings, and text from data escaped so it stays text.
@Suite struct ReportSummaryTests {
    static let hostile = "*bold* _it_ [link](javascript:alert(1)) <img src=x onerror=y> `code` # heading\nline | pipe"

    func findings(explanation: String) -> ReportFindings {
        let feature = FeatureFindings(
            index: 3, density: 0.25, maxActivation: 2, meanActivation: 1,
            histogram: Histogram(lower: 0, upper: 2, counts: [1]), topExamples: [], intervals: [], logitEffects: nil,
            neighbours: [], coFiring: [],
            explanation: Explanation(text: explanation, source: "offline", detection: 0.9, fuzzing: 0.8, simulation: 0.7, heldOutExamples: 40))
        let dictionary = DictionaryFindings(
            id: "h-topk", hook: "blocks.0.hook_resid_post", kind: .topk, source: "SAELens dictionary <sae>", inputWidth: 8, width: 1,
            quality: nil, medianDetection: 0.9, medianSimulation: 0.7, features: [feature])
        return ReportFindings(
            name: "r", model: ModelSummary(path: "m", layers: 2, width: 8, heads: 2, vocabularySize: 50, contextLength: 16),
            corpus: CorpusSummary(files: ["c.txt"], documents: 5, tokens: 60, contextLength: 16), dictionaries: [dictionary])
    }

    @Test func escapeLeavesNoMarkdownOrHTMLSyntaxBare() {
        let escaped = ReportSummary.escape(Self.hostile)
        #expect(!escaped.contains("\n"))
        for character in "*_[]()<>`#|" {
            // Every syntax character is preceded by a backslash.
            let bare = escaped.indices.filter { escaped[$0] == character && (escaped.index(before: $0) < escaped.startIndex || escaped[escaped.index(before: $0)] != "\\") }
            #expect(bare.isEmpty, "bare \(character) in \(escaped)")
        }
        #expect(ReportSummary.escape("plain words 42") == "plain words 42")
    }

    @Test func summaryShowsFiguresAndEscapesData() {
        let markdown = ReportSummary.markdown(title: "Title <script>", findings: findings(explanation: Self.hostile))
        #expect(markdown.hasPrefix("# Title \\<script\\>\n"))
        #expect(markdown.contains("A 2-layer GPT-2 model (width 8, 2 heads, vocabulary of 50 tokens), read over 5 documents (60 tokens, windows of 16)."))
        #expect(markdown.contains("## `blocks.0.hook_resid_post` — 1 features (topk)"))
        #expect(markdown.contains("Source: SAELens dictionary \\<sae\\>."))
        #expect(markdown.contains("median detection balanced accuracy **0.900**, median simulation correlation **0.700** over 1 explained features."))
        #expect(markdown.contains("- feature 3: \\*bold\\* \\_it\\_ \\[link\\]\\(javascript:alert\\(1\\)\\) \\<img src=x onerror=y\\> \\`code\\` \\# heading line \\| pipe (detection 0.900, simulation 0.700, density 25.0 %)"))
        #expect(!markdown.replacingOccurrences(of: "\\<", with: "").contains("<"), "an unescaped < in \(markdown)")
    }

    @Test func decodedNeighbourhoodsHaveALinePerSite() {
        var report = findings(explanation: "x")
        #expect(!ReportSummary.markdown(title: "t", findings: report).contains("Decoded neighbourhoods"))
        let query = NeighbourhoodQuery(
            id: "q1", origin: "text", featureExample: nil, tokens: ["a", " b"], position: 1, attention: [0.5, 0.5], candidates: 10, inside: 2,
            retrieved: [], samples: [], insideFraction: 0.5, shared: [SharedStatement(statement: "the count is 3", support: "3 of 4 inside ε; 0 of 4 outside")])
        report.neighbourhoods = NeighbourhoodFindings(
            distance: "l2", epsilon: 0.1, decoder: DecoderSummary(path: "decoder", steps: 10, examples: 100, lossCurve: [], heldOutLoss: 2),
            sites: [NeighbourhoodSiteFindings(slug: "blocks.0.attn.hook_z.h1", hook: "blocks.0.attn.hook_z", head: 1, decoderLoss: 2, insideFraction: 0.5, queries: [query])])
        let markdown = ReportSummary.markdown(title: "t", findings: report)
        #expect(markdown.contains("## Decoded neighbourhoods"))
        #expect(markdown.contains("- [blocks\\.0\\.attn\\.hook\\_z head 1](neighbourhoods/blocks.0.attn.hook_z.h1/index.html): 1 query, 50.0% of decoded samples inside ε."))
        #expect(markdown.contains("  - q1 (text): the count is 3 (3 of 4 inside ε; 0 of 4 outside)."))
    }

    @Test func neuronsAreNamedAsSuch() {
        var report = findings(explanation: "x")
        report.dictionaries[0].kind = .neurons
        #expect(ReportSummary.markdown(title: "t", findings: report).contains("— 1 neurons"))
    }
}
