/// A split of a hook point's rotated space into subspaces: the columns of the rotation `R` `[d, d]`
/// that make each block (`z = h R`, block `b` is `z[blocks[b]]`). Saved as `partition.json`:
/// `{"site": hook, "blocks": [[column indices], ...]}`.
public struct SubspacePartition: Codable, Sendable, Equatable {
    /// The hook point (TransformerLens name) the rotation applies to.
    public var site: String
    /// The column indices of each block; together every column `0..<d` exactly once.
    public var blocks: [[Int]]

    /// Checks that `blocks` cover `0..<width` exactly once with no empty block.
    public init(site: String, blocks: [[Int]], width: Int) throws {
        guard !blocks.isEmpty else { throw SubspaceError.invalidInput(reason: "a partition needs at least one block") }
        var seen = [Bool](repeating: false, count: width)
        for (index, block) in blocks.enumerated() {
            guard !block.isEmpty else { throw SubspaceError.invalidInput(reason: "block \(index) is empty") }
            for column in block {
                guard column >= 0 && column < width else {
                    throw SubspaceError.invalidInput(reason: "block \(index) names column \(column), outside 0..<\(width)")
                }
                guard !seen[column] else { throw SubspaceError.invalidInput(reason: "column \(column) is in more than one block") }
                seen[column] = true
            }
        }
        if let missing = seen.firstIndex(of: false) {
            throw SubspaceError.invalidInput(reason: "column \(missing) is in no block (the blocks must cover 0..<\(width))")
        }
        self.site = site
        self.blocks = blocks
    }

    /// Consecutive blocks of the given sizes, in order.
    public init(site: String, sizes: [Int]) {
        var start = 0
        self.site = site
        blocks = sizes.map { size in
            defer { start += size }
            return Array(start..<(start + size))
        }
    }

    /// `width / blockSize` blocks of `blockSize` consecutive columns, the remainder (if any) one more block.
    public static func equal(site: String, width: Int, blockSize: Int) -> SubspacePartition {
        var sizes = [Int](repeating: blockSize, count: width / blockSize)
        if width % blockSize != 0 { sizes.append(width % blockSize) }
        return SubspacePartition(site: site, sizes: sizes)
    }

    /// Number of columns of each block.
    public var sizes: [Int] { blocks.map(\.count) }

    /// Total number of columns `d`.
    public var width: Int { blocks.reduce(0) { $0 + $1.count } }
}
