import Foundation
import LoupeFindings
import Testing

/// The one JSON writer: sorted keys, unescaped slashes, escaped data, equal values give equal bytes.
@Suite struct JSONWriterTests {
    struct Row: Encodable {
        let zeta: Int
        let alpha: String
        let middle: [Double]
        let absent: String?
    }

    @Test func keysAreSortedAndDataIsEscaped() throws {
        let row = Row(zeta: 1, alpha: "a/b \"q\" <x>\n\u{2028}", middle: [0.5, -2], absent: nil)
        let text = String(decoding: try JSONWriter.encode(row), as: UTF8.self)
        #expect(text == #"{"alpha":"a/b \"q\" <x>\n"# + "\u{2028}" + #"","middle":[0.5,-2],"zeta":1}"#)
        #expect(try JSONWriter.line(row) == text)
    }

    @Test func objectTreesUseTheSameRules() throws {
        let object: [String: Any] = ["b": [1, 2], "a": ["path": "x/y", "flag": true], "c": NSNull()]
        #expect(String(decoding: try JSONWriter.encode(object: object), as: UTF8.self)
                == #"{"a":{"flag":true,"path":"x/y"},"b":[1,2],"c":null}"#)
        let pretty = String(decoding: try JSONWriter.encode(object: object, layout: .pretty), as: UTF8.self)
        #expect(pretty.contains("\n") && pretty.firstRange(of: "\"a\"")!.lowerBound < pretty.firstRange(of: "\"b\"")!.lowerBound)
        #expect(throws: (any Error).self) { try JSONWriter.encode(object: ["date": Date()]) }
    }

    @Test func equalValuesGiveEqualBytes() throws {
        let first: [String: Any] = Dictionary(uniqueKeysWithValues: (0..<50).map { ("k\($0)", $0) })
        let second: [String: Any] = Dictionary(uniqueKeysWithValues: (0..<50).reversed().map { ("k\($0)", $0) })
        #expect(try JSONWriter.encode(object: first) == JSONWriter.encode(object: second))
    }
}

/// The findings contract's JSON form.
@Suite struct ReportFindingsCodingTests {
    func findings() -> ReportFindings {
        ReportFindings(
            name: "r", model: ModelSummary(path: "m", layers: 1, width: 4, heads: 1, vocabularySize: 9, contextLength: 8),
            corpus: CorpusSummary(files: [], documents: 1, tokens: 3, contextLength: 8),
            dictionaries: [DictionaryFindings(
                id: "h-neurons", hook: "h", kind: .neurons, source: "neurons of the hook", inputWidth: 4, width: 0,
                quality: nil, medianDetection: nil, medianSimulation: nil, features: [])])
    }

    @Test func absentSectionsAreLeftOutAndTheVersionIsWritten() throws {
        let text = String(decoding: try JSONWriter.encode(findings()), as: UTF8.self)
        #expect(text.contains("\"schemaVersion\":\(ReportFindings.currentSchemaVersion)"))
        #expect(text.contains("\"kind\":\"neurons\""))
        for section in ["circuits", "neighbourhoods", "subspaces"] { #expect(!text.contains(section)) }
    }

    @Test func findingsRoundTrip() throws {
        var original = findings()
        original.circuits = CircuitFindings(tasks: [])
        let decoded = try JSONDecoder().decode(ReportFindings.self, from: try JSONWriter.encode(original))
        #expect(decoded == original)
    }

    @Test func anUnknownKindIsRejected() throws {
        let text = String(decoding: try JSONWriter.encode(findings()), as: UTF8.self).replacingOccurrences(of: "\"neurons\"", with: "\"sparse\"")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ReportFindings.self, from: Data(text.utf8)) }
    }
}
