import Foundation
import LoupeFindings
import Testing
@testable import LoupeReport

/// The input fingerprint that names cached findings.
@Suite struct InputFingerprintTests {
    func hex(_ parts: [String]) -> String {
        var fingerprint = InputFingerprint()
        for part in parts { fingerprint.add(part) }
        return fingerprint.hex
    }

    @Test func fnv1aOfKnownBytes() {
        // FNV-1a 64 of the empty input is its offset basis; of "a" a published value.
        #expect(InputFingerprint().hex == "cbf29ce484222325")
        var a = FNV1aHash()
        a.add(Data("a".utf8))
        #expect(a.hex == "af63dc4c8601ec8c")
    }

    @Test func stringsAreSeparated() {
        #expect(hex(["ab", "c"]) != hex(["a", "bc"]))
        #expect(hex(["ab", "c"]) == hex(["ab", "c"]))
        #expect(hex(["x", "y"]) != hex(["y", "x"]))
    }

    @Test func specFingerprintFollowsEveryInputAndNothingElse() throws {
        let report = try ReportFixtures.report(spec: try ReportFixtures.demoSpec(documents: 10))
        defer { ReportFixtures.remove(report) }
        let spec = try ReportSpec.load(url: report.appendingPathComponent("report.yaml"))
        let original = try InputFingerprint.of(spec)
        #expect(try InputFingerprint.of(spec) == original)

        // Files the report does not read, and the outputs, do not count.
        try Data("notes".utf8).write(to: report.appendingPathComponent("notes.txt"))
        try FileManager.default.createDirectory(at: spec.siteDirectory, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: spec.siteDirectory.appendingPathComponent("index.html"))
        #expect(try InputFingerprint.of(spec) == original)

        // The model's files, the dictionary and the spec do.
        for changed in ["model/config.json", "dictionary/cfg.json", "report.yaml"] {
            let url = report.appendingPathComponent(changed)
            let bytes = try Data(contentsOf: url)
            try (bytes + Data(" ".utf8)).write(to: url)
            #expect(try InputFingerprint.of(spec) != original, "\(changed)")
            try bytes.write(to: url)
            #expect(try InputFingerprint.of(spec) == original, "\(changed)")
        }
        // Digests remembered from an earlier fingerprint stand only for files that did not change since.
        var digests = FileDigests()
        #expect(try InputFingerprint.of(spec, digests: &digests) == original)
        #expect(try InputFingerprint.of(spec, digests: &digests) == original)
        let dictionary = report.appendingPathComponent("dictionary/cfg.json")
        let bytes = try Data(contentsOf: dictionary)
        try (bytes + Data(" ".utf8)).write(to: dictionary)
        #expect(try InputFingerprint.of(spec, digests: &digests) == InputFingerprint.of(spec))
        #expect(try InputFingerprint.of(spec, digests: &digests) != original)
        try bytes.write(to: dictionary)
        // A tokenizer file that was not there before counts too.
        try Data("{}".utf8).write(to: report.appendingPathComponent("model/tokenizer.json"))
        #expect(try InputFingerprint.of(spec) != original)
    }
}
