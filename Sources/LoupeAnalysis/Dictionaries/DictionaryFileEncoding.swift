import Foundation
import LoupeCore

extension SparseDictionary {
    /// What `encodeFile` wrote.
    public struct FileEncoding: Sendable, Equatable {
        /// Rows encoded (N: the input tensor's leading dimensions multiplied).
        public var rows: Int
        /// Mean active features per row.
        public var meanL0: Double
    }

    /// Encodes tensor `tensor` of the safetensors file `input` — `[…, I]` (or `[…, H, D]` for a
    /// dictionary that flattens heads), leading dimensions flattened to N rows — and writes
    /// `feature_acts` `[N, S]` and `reconstruction` `[N, I]` (F32) to the safetensors file `output`.
    @discardableResult
    public func encodeFile(input: URL, tensor name: String, output: URL) throws -> FileEncoding {
        let values: Tensor
        do {
            values = try SafetensorsFile(url: input).tensor(name)
        } catch {
            throw DictionaryError.reading(error, path: input.path)
        }
        let rows = try self.rows(of: values, source: "\(input.path): tensor '\(name)'")
        let features = try encode(rows)
        let reconstruction = try decode(features)
        do {
            try SafetensorsWriter.write(["feature_acts": .float32(features), "reconstruction": .float32(reconstruction)], to: output)
        } catch {
            throw DictionaryError.unwritableFile(path: output.path, reason: (error as? CoreError).map { "\($0)" } ?? error.localizedDescription)
        }
        let active = features.scalars.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        return FileEncoding(rows: rows.shape[0], meanL0: rows.shape[0] == 0 ? 0 : Double(active) / Double(rows.shape[0]))
    }
}
