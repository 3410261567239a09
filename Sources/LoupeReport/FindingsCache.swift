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
    /// each dictionary's features are encoded one at a time and spliced into the text of the rest, in
    /// a temporary file renamed into place.
    static func write(_ findings: ReportFindings, to url: URL) throws {
        var shell = findings
        shell.dictionaries = []
        guard let (head, tail) = split(try JSONWriter.encode(shell), at: "\"dictionaries\":[]") else {
            return try JSONWriter.encode(findings).write(to: url, options: .atomic)
        }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try handle.write(contentsOf: head + Data("\"dictionaries\":[".utf8))
            for (index, dictionary) in findings.dictionaries.enumerated() {
                if index > 0 { try handle.write(contentsOf: Data(",".utf8)) }
                var bare = dictionary
                bare.features = []
                let text = try JSONWriter.encode(bare)
                guard let (before, after) = split(text, at: "\"features\":[]") else {
                    try handle.write(contentsOf: try JSONWriter.encode(dictionary))
                    continue
                }
                try handle.write(contentsOf: before + Data("\"features\":[".utf8))
                for (position, feature) in dictionary.features.enumerated() {
                    try handle.write(contentsOf: (position > 0 ? Data(",".utf8) : Data()) + JSONWriter.encode(feature))
                }
                try handle.write(contentsOf: Data("]".utf8) + after)
            }
            try handle.write(contentsOf: Data("]".utf8) + tail)
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }

    /// `text` before and after the only occurrence of `marker`, or nil when it occurs other than once.
    private static func split(_ text: Data, at marker: String) -> (Data, Data)? {
        let needle = Data(marker.utf8)
        guard let first = text.range(of: needle), text.range(of: needle, in: first.upperBound..<text.endIndex) == nil else { return nil }
        return (text[text.startIndex..<first.lowerBound], text[first.upperBound..<text.endIndex])
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
