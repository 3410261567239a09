import Foundation
import LoupeAnalysis
import LoupeFindings

/// What a finished shard left in its folder, as `shard.json` (written last, so a shard killed
/// before the end has none): the fingerprint of the inputs it was computed from, which shard it
/// is, its windows, and the hooks whose first-pass statistics lie beside it (`first-<k>.json` and
/// `first-<k>.cofiring` for the spec's k-th hook) next to its activation store (`activations/`,
/// absent when the shard holds no window) and their maxima alone (`maxima-<k>.json`); after its
/// second round, also `second-<k>.json`.
struct ShardRecord: Codable, Equatable {
    /// Always `loupe-shard`.
    var format = ShardRecord.formatName
    /// `InputFingerprint.of(spec)` when the shard was computed.
    var fingerprint: String
    var index, count: Int
    /// The shard's corpus windows, `[lower, upper)`.
    var windows: [Int]
    /// The spec's hooks, in order.
    var hooks: [String]
    /// Whether the second round is done: each hook's second pass over the shard, with every shard's maxima.
    var secondPass = false

    /// Whether the shard holds any window (and so an activation store).
    var hasWindows: Bool { windows[0] < windows[1] }

    static let formatName = "loupe-shard"
    static let fileName = "shard.json"

    /// The record in `folder`, nil when there is none or it is not one.
    static func read(in folder: URL) -> ShardRecord? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(fileName)),
              let record = try? JSONDecoder().decode(ShardRecord.self, from: data), record.format == formatName
        else { return nil }
        return record
    }

    func write(in folder: URL) throws {
        try JSONWriter.encode(self, layout: .pretty).write(to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// The file name (without extension) of the first-pass statistics of the spec's `hook`-th hook.
    static func firstPassName(hook: Int) -> String { "first-\(hook)" }
    /// The file name of the spec's `hook`-th hook's maxima (`ShardMaxima`), all a shard's second round needs of the others' first passes.
    static func maximaName(hook: Int) -> String { "maxima-\(hook).json" }
    /// The file name (without extension) of the second-pass statistics of the spec's `hook`-th hook.
    static func secondPassName(hook: Int) -> String { "second-\(hook)" }
    /// The shard's activation store.
    static func storeDirectory(in folder: URL) -> URL { folder.appendingPathComponent("activations") }
}

/// A shard's first-pass maxima of one hook, with what identifies the statistics they belong to.
struct ShardMaxima: Codable, Equatable {
    var hook: String
    var featureCount, inputWidth: Int
    var options: AtlasOptions
    /// Largest firing activation per feature over the shard (`F`).
    var maxima: [Float]

    init(_ first: FirstPassStatistics) {
        hook = first.hook
        featureCount = first.featureCount
        inputWidth = first.inputWidth
        options = first.options
        maxima = first.maxima
    }
}
