import Foundation
import LoupeFindings
import LoupeModel

/// A 64-bit FNV-1a fingerprint of a report's inputs (spec, model, tokenizer, corpus and
/// dictionary files), naming the cached findings of a build with exactly these inputs.
struct InputFingerprint {
    private var hash = FNV1aHash()

    /// Mixes in a string (with a separator, so `ab`+`c` differs from `a`+`bc`).
    mutating func add(_ text: String) {
        hash.add(text)
    }

    /// Mixes in every regular file under `url` (or the file itself), in path order, with its name.
    mutating func addFiles(at url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return }
        let files: [URL]
        if isDirectory.boolValue {
            let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
            files = (enumerator?.compactMap { $0 as? URL } ?? [])
                .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
                .sorted { $0.path < $1.path }
        } else {
            files = [url]
        }
        for file in files {
            add(file.lastPathComponent)
            do {
                hash.add(try Data(contentsOf: file, options: .alwaysMapped))
            } catch {
                throw BuildError(step: .cache, path: file.path, reason: "cannot read: \((error as NSError).localizedDescription)")
            }
        }
    }

    /// The fingerprint as 16 hex digits.
    var hex: String { hash.hex }

    /// The version tag mixed into every fingerprint: findings of another schema never match.
    static var tag: String { "loupe-findings-\(ReportFindings.currentSchemaVersion)" }

    /// The fingerprint of `spec`'s inputs: the spec file, the model directory's files, the corpus
    /// files, circuit task and ground-truth files, the decoder, and the dictionaries (a trained dictionary's folder as it is now). Reads files only, so
    /// a build whose findings are cached never loads the model.
    static func of(_ spec: ReportSpec) throws -> String {
        try withStep(.cache, path: spec.directory.path) {
            var fingerprint = InputFingerprint()
            fingerprint.add(tag)
            try fingerprint.addFiles(at: spec.specURL)
            for name in ModelFiles.all {
                try fingerprint.addFiles(at: spec.model.appendingPathComponent(name))
            }
            if case let .files(files) = spec.corpus {
                for file in files { try fingerprint.addFiles(at: file) }
            }
            for entry in spec.hooks {
                switch entry.source {
                case .neurons: fingerprint.add("neurons")
                case let .saelens(url): try fingerprint.addFiles(at: url)
                case let .trainTopK(_, _, _, _, path): try fingerprint.addFiles(at: path)
                }
            }
            for task in spec.circuits?.tasks ?? [] {
                fingerprint.add(task.task)
                if FileManager.default.fileExists(atPath: task.task) { try fingerprint.addFiles(at: URL(fileURLWithPath: task.task)) }
                if let truth = task.groundTruth { try fingerprint.addFiles(at: truth) }
            }
            if let neighbourhoods = spec.neighbourhoods {
                fingerprint.add("decoder")
                try fingerprint.addFiles(at: neighbourhoods.decoderDirectory)
            }
            return fingerprint.hex
        }
    }
}
