import LoupeCore

/// A block of corpus rows at one hook: activations `[R, d]` and, for each of the `R` rows, the
/// document, the document position and the token id it comes from.
///
/// Rows of one model window are contiguous and never split between chunks. `special[r]` marks a
/// prepended BOS row (its `positions[r]` is −1); special rows are excluded from statistics.
/// Document positions `[j·s, (j+1)·s)` with `s = windowStride` came from the same model window
/// (the same forward pass): a window of document `d` is identified by `(d, position / s)`.
public struct ActivationChunk: Sendable, Equatable {
    /// `[R, d]` activations, one row per token.
    public var activations: Tensor
    /// Document index of each row (`R` values).
    public var documents: [Int]
    /// Document position of each row; −1 on special rows (`R` values).
    public var positions: [Int]
    /// Token id of each row (`R` values).
    public var tokens: [Int]
    /// Whether each row is special (a BOS token) (`R` values).
    public var special: [Bool]
    /// Document tokens per model window (the `s` above).
    public var windowStride: Int

    /// Checks that every row array has one entry per activation row.
    public init(
        activations: Tensor, documents: [Int], positions: [Int], tokens: [Int], special: [Bool], windowStride: Int
    ) throws {
        guard activations.rank == 2 else {
            throw CorpusError.invalidChunk(reason: "activations must be [rows, width], got shape \(activations.shape)")
        }
        let rows = activations.shape[0]
        for (name, count) in [("documents", documents.count), ("positions", positions.count), ("tokens", tokens.count), ("special", special.count)]
        where count != rows {
            throw CorpusError.invalidChunk(reason: "\(name) has \(count) entries for \(rows) activation rows")
        }
        guard windowStride > 0 else {
            throw CorpusError.invalidChunk(reason: "window stride must be positive, got \(windowStride)")
        }
        for row in 0..<rows where !special[row] && (positions[row] < 0 || documents[row] < 0) {
            throw CorpusError.invalidChunk(
                reason: "row \(row) has document \(documents[row]) and position \(positions[row]); both must be ≥ 0 on non-special rows")
        }
        self.activations = activations
        self.documents = documents
        self.positions = positions
        self.tokens = tokens
        self.special = special
        self.windowStride = windowStride
    }

    /// Number of rows (`R`).
    public var rowCount: Int { activations.shape[0] }

    /// Width of each row (`d`).
    public var width: Int { activations.shape[1] }
}
