import Foundation
import LoupeAnalysis
import LoupeFindings
import LoupeModel

/// What a build keeps in `findings/work/` until it has saved its findings, so a build that is
/// killed or fails resumes from its last finished piece: the activation store (`store-<key>/`,
/// complete once its manifest exists) and each hook's atlas (`atlas-<key>.json`, written to a
/// temporary file and renamed). Each key is a fingerprint of exactly the inputs the piece depends
/// on, so a changed input invalidates what depends on it and nothing else: the store depends on
/// the model files, the corpus, the context, BOS and the hooks stored; an atlas on the store, its
/// hook's dictionary files and the atlas options.
struct BuildCheckpoints {
    /// `findings/work/`.
    let directory: URL

    /// The folder the store of `key` is swept into.
    func storeDirectory(key: String) -> URL { directory.appendingPathComponent("store-\(key)") }

    /// The complete store of `key`, if an earlier build left one; stores of other keys are removed.
    func store(key: String) -> ActivationStore? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("store-") && name != "store-\(key)" {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        return try? ActivationStore(directory: storeDirectory(key: key))
    }

    private func atlasFile(key: String) -> URL { directory.appendingPathComponent("atlas-\(key).json") }

    /// The atlas of `key` an earlier build saved, if it reads.
    func atlas(key: String) -> AtlasResult? {
        guard let data = try? Data(contentsOf: atlasFile(key: key)) else { return nil }
        return try? JSONDecoder().decode(AtlasResult.self, from: data)
    }

    /// Saves the atlas of `key`: the bytes of `JSONWriter.encode(atlas)`, its features and example
    /// sets encoded one at a time (`StreamedJSON`).
    func save(_ atlas: AtlasResult, key: String) throws {
        let url = atlasFile(key: key)
        try withStep(.cache, path: url.path) {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var shell = atlas
            shell.features = []
            shell.exampleSets = []
            guard let parts = StreamedJSON.split(try JSONWriter.encode(shell), around: ["exampleSets", "features"]) else {
                return try JSONWriter.encode(atlas).write(to: url, options: .atomic)
            }
            try StreamedJSON.write(to: url) { handle in
                try handle.write(contentsOf: parts[0])
                try StreamedJSON.writeElements(count: atlas.exampleSets.count, to: handle) { try handle.write(contentsOf: JSONWriter.encode(atlas.exampleSets[$0])) }
                try handle.write(contentsOf: parts[1])
                try StreamedJSON.writeElements(count: atlas.features.count, to: handle) { try handle.write(contentsOf: JSONWriter.encode(atlas.features[$0])) }
                try handle.write(contentsOf: parts[2])
            }
        }
    }

    /// Removes everything: called once the findings are saved.
    func removeAll() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The key of `spec`'s activation store: the model files, the corpus, the context, BOS and
    /// the hooks stored.
    static func storeKey(_ spec: ReportSpec) throws -> String {
        try withStep(.cache, path: spec.directory.path) {
            var key = InputFingerprint()
            key.add("loupe-activation-store 1")
            for name in ModelFiles.all { try key.addFiles(at: spec.model.appendingPathComponent(name)) }
            switch spec.corpus {
            case let .files(files):
                for file in files { try key.addFiles(at: file) }
            case let .toyWorld(documents, seed):
                key.add("toy world \(documents) \(seed)")
            }
            key.add("context \(spec.contextLength) bos \(spec.prependBos)")
            for hook in StoreStep.hooks(spec) { key.add(hook) }
            return key.hex
        }
    }

    /// The key of the atlas of `spec`'s `index`-th hook over the store of `storeKey` with `options`.
    static func atlasKey(_ spec: ReportSpec, hook index: Int, storeKey: String, options: AtlasOptions) throws -> String {
        try withStep(.cache, path: spec.directory.path) {
            var key = InputFingerprint()
            key.add(InputFingerprint.tag)
            key.add(storeKey)
            let entry = spec.hooks[index]
            key.add(entry.hook)
            switch entry.source {
            case .neurons: key.add("neurons")
            case let .saelens(url): try key.addFiles(at: url)
            case let .trainTopK(_, _, _, _, path): try key.addFiles(at: path)
            }
            key.add(String(decoding: try JSONWriter.encode(options), as: UTF8.self))
            return key.hex
        }
    }
}

extension BuildCheckpoints {
    /// The checkpoints of `spec`'s builds.
    init(spec: ReportSpec) {
        self.init(directory: spec.findingsDirectory.appendingPathComponent("work"))
    }
}
