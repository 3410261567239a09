import Foundation

/// Writes files whole and atomically, whatever their size: into a temporary file beside the target,
/// at most `pieceBytes` per write call, then renamed over it. Foundation's `Data.write(to:)` on Linux
/// writes wrong bytes past the first 2 GiB, so every file that can grow that large (weights, shard
/// statistics) goes through here.
public enum AtomicFile {
    /// Bytes per write call (1 GiB).
    public static let defaultPieceBytes = 1 << 30

    /// Writes `data` to `url`, replacing it only once every byte is written.
    public static func write(_ data: Data, to url: URL, pieceBytes: Int = defaultPieceBytes) throws {
        precondition(pieceBytes > 0, "pieceBytes must be positive")
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var offset = data.startIndex
            while offset < data.endIndex {
                let end = min(data.endIndex, offset + pieceBytes)
                try handle.write(contentsOf: data[offset..<end])
                offset = end
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
