import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel

/// Digests of files already read, each with the size and modification time it had then, so a second
/// fingerprint in the same build reads only the files that changed (a dictionary it trained).
struct FileDigests {
    fileprivate var known: [String: (size: Int, modified: Date, digest: UInt64)] = [:]
}

/// A 64-bit FNV-1a fingerprint of a report's inputs (spec, model, tokenizer, corpus and
/// dictionary files, each mixed in as its name and a digest of its bytes), naming the cached findings
/// of a build with exactly these inputs.
struct InputFingerprint {
    private var hash = FNV1aHash()
    /// Digests of the files read so far.
    var digests = FileDigests()

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
                var digest = try digest(of: file).littleEndian
                hash.add(withUnsafeBytes(of: &digest) { Data($0) })
            } catch {
                throw BuildError(step: .cache, path: file.path, reason: "cannot read: \((error as NSError).localizedDescription)")
            }
        }
    }

    /// The digest of `file`'s bytes (read 1 MiB at a time): each 8-byte little-endian word, and the
    /// zero-padded tail, mixed as `h = (h ^ w) · φ`, `h ^= h >> 32`, then the length; remembered in `digests`.
    private mutating func digest(of file: URL) throws -> UInt64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let modified = attributes[.modificationDate] as? Date ?? .distantPast
        if let known = digests.known[file.path], known.size == size, known.modified == modified { return known.digest }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var length = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    var word: UInt64 = 0
                    withUnsafeMutableBytes(of: &word) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<min(raw.count, offset + 8)])) }
                    h = (h ^ UInt64(littleEndian: word)) &* 0x9E37_79B9_7F4A_7C15
                    h ^= h >> 32
                    offset += 8
                }
            }
            length += chunk.count
        }
        h = (h ^ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15
        digests.known[file.path] = (size, modified, h)
        return h
    }

    /// The fingerprint as 16 hex digits.
    var hex: String { hash.hex }

    /// The version tag mixed into every fingerprint: findings of another schema never match.
    static var tag: String { "loupe-findings-\(ReportFindings.currentSchemaVersion)" }

    /// The fingerprint of `spec`'s inputs: the spec file, the model directory's files, the corpus
    /// files, circuit task and ground-truth files, the decoder, and the dictionaries (a trained
    /// dictionary's folder as it is now), and the language model asked for explanations (nil: offline).
    /// Reads files only (those unchanged since `digests` were taken not even that), so a build whose
    /// findings are cached never loads the model.
    static func of(_ spec: ReportSpec, languageModel: String? = nil, digests: inout FileDigests) throws -> String {
        try withStep(.cache, path: spec.directory.path) {
            var fingerprint = InputFingerprint()
            fingerprint.digests = digests
            defer { digests = fingerprint.digests }
            fingerprint.add(tag)
            if let languageModel { fingerprint.add("llm " + languageModel) }
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
            for site in spec.subspaces?.sites ?? [] {
                fingerprint.add("subspaces \(site.hook)")
                try fingerprint.addFiles(at: site.path)
            }
            for task in spec.subspaces?.tasks ?? [] where FileManager.default.fileExists(atPath: task) {
                try fingerprint.addFiles(at: URL(fileURLWithPath: task))
            }
            return fingerprint.hex
        }
    }

    /// The fingerprint of `spec`'s inputs, every file read.
    static func of(_ spec: ReportSpec, languageModel: String? = nil) throws -> String {
        var digests = FileDigests()
        return try of(spec, languageModel: languageModel, digests: &digests)
    }

    /// The language model `environment` asks for (endpoint and model), nil when explanations are offline.
    static func languageModel(_ environment: [String: String]) -> String? {
        guard let base = environment[LLMConfiguration.baseURLVariable], !base.trimmingCharacters(in: .whitespaces).isEmpty else {
            return nil
        }
        return base + " " + (environment["LOUPE_LLM_MODEL"] ?? LLMConfiguration.defaultModel)
    }
}
