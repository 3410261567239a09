import Foundation
import LoupeFindings

/// The data behind a dictionary's feature table, written as `features.js`:
/// `window.LOUPE_FEATURES = [...];` with one object per feature.
///
/// Browsers refuse `fetch` on `file://`, so the table page loads this file with `<script src>`.
/// The JSON comes from `JSONWriter` (sorted keys), never from string concatenation of data.
///
/// Keys (short, since an atlas can hold tens of thousands of features):
/// `i` index, `e` explanation (or null), `d` density, `m` max activation, `s` detection score (or null),
/// `r` simulation score (or null), `t` up to six distinct tokens the feature fires on most strongly.
struct FeatureTableRow: Encodable, Equatable {
    let i: Int
    let e: String?
    let d, m, s, r: Double?
    let t: [String]

    init(_ f: FeatureFindings) {
        i = f.index
        e = f.explanation.map { DisplayText.text($0.text) }
        d = Self.finite(f.density)
        m = Self.finite(f.maxActivation)
        s = f.explanation.flatMap { Self.finite($0.detection) }
        r = f.explanation.flatMap { Self.finite($0.simulation) }
        var seen = Set<String>()
        var tokens: [String] = []
        for example in f.topExamples where example.tokens.indices.contains(example.focus) {
            let token = DisplayText.token(example.tokens[example.focus])
            if seen.insert(token).inserted { tokens.append(token) }
            if tokens.count == 6 { break }
        }
        t = tokens
    }

    static func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

    /// A Float widened to the Double with the same shortest decimal form (`1.23`, not `1.2300000190734863`).
    static func finite(_ value: Float) -> Double? {
        guard value.isFinite else { return nil }
        return Double(value.description) ?? Double(value)
    }
}

enum FeatureTableData {
    /// The global the table script reads.
    static let globalName = "LOUPE_FEATURES"

    /// The contents of `features.js` for one dictionary.
    static func script(for dictionary: DictionaryFindings) throws -> Data {
        let json = try JSONWriter.encode(dictionary.features.map(FeatureTableRow.init))
        var data = Data("window.\(globalName) = ".utf8)
        // JSON is valid JavaScript; escape the two line separators old engines reject inside strings.
        let text = String(decoding: json, as: UTF8.self)
            .replacingOccurrences(of: "\u{2028}", with: "\\u2028")
            .replacingOccurrences(of: "\u{2029}", with: "\\u2029")
        data.append(Data(text.utf8))
        data.append(Data(";\n".utf8))
        return data
    }
}
