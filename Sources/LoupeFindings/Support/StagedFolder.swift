import Foundation

/// A folder written beside its destination under a hidden name, then moved into place, so a reader
/// sees either the old folder whole or the new one whole.
public enum StagedFolder {
    /// Calls `write` with a fresh staging folder beside `destination` (not yet created), then puts
    /// what it wrote in place of `destination` (the old folder, if any, is removed after the move).
    /// The staging folder is removed if anything fails.
    public static func replace(_ destination: URL, write: (URL) throws -> Void) throws {
        let manager = FileManager.default
        let parent = destination.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(destination.lastPathComponent).staging-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: staging) }
        try write(staging)
        if manager.fileExists(atPath: destination.path) {
            let old = parent.appendingPathComponent(".\(destination.lastPathComponent).old-\(UUID().uuidString)")
            try manager.moveItem(at: destination, to: old)
            try manager.moveItem(at: staging, to: destination)
            try? manager.removeItem(at: old)
        } else {
            try manager.moveItem(at: staging, to: destination)
        }
    }
}
