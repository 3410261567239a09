import Foundation
import LoupeFindings

/// Findings saved as `findings-<fingerprint>.json` in a report's `findings/` folder, so a build
/// whose inputs are unchanged re-renders the site without running the model.
struct FindingsCache {
    let directory: URL

    func file(fingerprint: String) -> URL {
        directory.appendingPathComponent("findings-\(fingerprint).json")
    }

    /// The cached findings of these inputs, if they exist, decode and have the current schema version.
    func findings(fingerprint: String) -> ReportFindings? {
        guard let data = try? Data(contentsOf: file(fingerprint: fingerprint)),
              let findings = try? JSONDecoder().decode(ReportFindings.self, from: data),
              findings.schemaVersion == ReportFindings.currentSchemaVersion
        else { return nil }
        return findings
    }

    /// Saves `findings` under `fingerprint` and removes findings of earlier inputs, which can never match again.
    func store(_ findings: ReportFindings, fingerprint: String) throws {
        let target = file(fingerprint: fingerprint)
        try withStep(.cache, path: directory.path) {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.write(findings, to: target)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for stale in names where stale.hasPrefix("findings-") && stale.hasSuffix(".json") && stale != target.lastPathComponent {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(stale))
        }
    }

    /// Writes `findings` as the bytes of `JSONWriter.encode(findings)`, without holding the whole text:
    /// each dictionary's features are encoded one at a time (`StreamedJSON`).
    static func write(_ findings: ReportFindings, to url: URL) throws {
        var shell = findings
        shell.dictionaries = []
        guard let outer = StreamedJSON.split(try JSONWriter.encode(shell), around: ["dictionaries"]) else {
            return try JSONWriter.encode(findings).write(to: url, options: .atomic)
        }
        try StreamedJSON.write(to: url) { handle in
            try handle.write(contentsOf: outer[0])
            try StreamedJSON.writeElements(count: findings.dictionaries.count, to: handle) { index in
                let dictionary = findings.dictionaries[index]
                var bare = dictionary
                bare.features = []
                guard let inner = StreamedJSON.split(try JSONWriter.encode(bare), around: ["features"]) else {
                    return try handle.write(contentsOf: JSONWriter.encode(dictionary))
                }
                try handle.write(contentsOf: inner[0])
                try StreamedJSON.writeElements(count: dictionary.features.count, to: handle) {
                    try handle.write(contentsOf: JSONWriter.encode(dictionary.features[$0]))
                }
                try handle.write(contentsOf: inner[1])
            }
            try handle.write(contentsOf: outer[1])
        }
    }

    /// Where the timings of the last computing build are written.
    var timingsFile: URL { directory.appendingPathComponent("timings.json") }

    /// Saves the timings of the build that computed the findings.
    func store(_ timings: BuildTimings) throws {
        try withStep(.cache, path: timingsFile.path) {
            try JSONWriter.encode(timings, layout: .pretty).write(to: timingsFile, options: .atomic)
        }
    }
}
