import Foundation
import LoupeFindings
import LoupeModel

/// The activation stores preimage searches read: one `ActivationStore` per (model, corpus, context
/// length, BOS, hook) under a root folder, built on first use and reused while those inputs stay the same.
///
/// A store lives in `<root>/<fingerprint>/`, the fingerprint a 64-bit FNV-1a hash (16 hex digits) of
/// the model directory's files (`ModelFiles.all`, contents), the corpus file's contents, the context
/// length, the BOS id (or none) and the hook name; `inputs.json` beside the store's manifest says what
/// they were. Any change gives another folder, so a changed input is rebuilt and an unchanged one never
/// is. A store whose build was interrupted has no manifest and is rebuilt. The store holds the hook's
/// whole row (`[R, W]`); a head is chosen when searching.
public enum PreimageStore {
    /// What a store is built from.
    public struct Inputs: Sendable, Codable, Equatable {
        /// The model directory.
        public var model: String
        /// The corpus file (`.txt` or `.jsonl`).
        public var corpus: String
        /// Tokens per window, BOS included.
        public var contextLength: Int
        /// The BOS id prepended to every window, if any.
        public var bos: Int?
        /// The TransformerLens hook name.
        public var hook: String

        public init(model: URL, corpus: URL, contextLength: Int, bos: Int?, hook: String) {
            self.model = model.path
            self.corpus = corpus.path
            self.contextLength = contextLength
            self.bos = bos
            self.hook = hook
        }
    }

    /// The default root: `.loupe-store/` beside the corpus file.
    public static func defaultRoot(corpus: URL) -> URL {
        corpus.deletingLastPathComponent().appendingPathComponent(".loupe-store")
    }

    /// The store folder's name for `inputs`: 16 hex digits (reads the model and corpus files).
    public static func fingerprint(_ inputs: Inputs) throws -> String {
        var hash = FNV1aHash()
        hash.add("loupe-preimage-store-1")
        try ModelFingerprint.add(directory: URL(fileURLWithPath: inputs.model), to: &hash)
        hash.add("corpus")
        try addContents(of: URL(fileURLWithPath: inputs.corpus), to: &hash)
        hash.add("context \(inputs.contextLength) bos \(inputs.bos.map(String.init) ?? "none") hook \(inputs.hook)")
        return hash.hex
    }

    /// Mixes a file's length and contents into `hash`.
    static func addContents(of url: URL, to hash: inout FNV1aHash) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw PreimageError.unreadableFile(path: url.path, reason: (error as NSError).localizedDescription)
        }
        hash.add("\(data.count)")
        hash.add(data)
    }

    /// The store for `inputs` under `root`, built first (tokenising `corpus`, cutting windows of
    /// `inputs.contextLength` tokens with `inputs.bos`, one sweep of `model`) unless a complete one
    /// exists. `built` says whether it was built now; `progress(done, total)` counts windows.
    public static func prepare(
        inputs: Inputs, model: GPT2Model, tokenizer: any Tokenizer, corpus: Corpus, root: URL,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> (store: ActivationStore, built: Bool) {
        let directory = root.appendingPathComponent(try fingerprint(inputs))
        if let store = try? ActivationStore(directory: directory), store.hooks == [inputs.hook] {
            return (store, false)
        }
        let windows = try TokenizedCorpus(corpus: corpus, tokenizer: tokenizer).windows(contextLength: inputs.contextLength, bos: inputs.bos)
        let width = try model.rowWidth(ofHook: inputs.hook)
        let options = ActivationStoreOptions(chunkRows: max(256, (1 << 24) / width))
        let store = try ActivationStore.build(
            model: model, windows: windows, hooks: [inputs.hook], directory: directory, options: options, progress: progress)
        let url = directory.appendingPathComponent("inputs.json")
        do {
            try JSONWriter.encode(inputs, layout: .pretty).write(to: url, options: .atomic)
        } catch {
            throw CorpusError.unwritableStore(path: url.path, reason: (error as NSError).localizedDescription)
        }
        return (store, true)
    }
}
