import Foundation
import LoupeAnalysis

/// One shard of a sharded build, `index` of `count` (0-based, as `loupe build --shard i/n` and
/// Slurm's `$SLURM_ARRAY_TASK_ID` give it): a contiguous run of whole documents, about `1/count` of
/// the corpus windows.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// This shard's number, `0 ..< count`.
    public let index: Int
    /// How many shards the corpus is cut into.
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw BuildError(step: .spec, path: "--shard", reason: "shard \(index)/\(count): i must be in 0..<n and n at least 1")
        }
        self.index = index
        self.count = count
    }

    /// Reads `i/n`, e.g. `2/4`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw BuildError(step: .spec, path: "--shard", reason: "'\(text)' is not i/n (shard i of n, i counted from 0), e.g. 0/4")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard's folder name under `findings/shards/`.
    var folderName: String { "\(index)-of-\(count)" }

    /// The shard's windows of a corpus's `windows` (in document order): from the first document
    /// starting at or after window `index·W/count` to the first at or after `(index+1)·W/count`.
    func windowRange(of windows: [CorpusWindow]) -> Range<Int> {
        func boundary(_ shard: Int) -> Int {
            var cut = windows.count * shard / count
            while cut > 0 && cut < windows.count && windows[cut].document == windows[cut - 1].document { cut += 1 }
            return cut
        }
        return boundary(index)..<boundary(index + 1)
    }
}
