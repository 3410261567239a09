import Foundation
import LoupeFindings
import Testing

/// `AtomicFile.write`: every byte in place, written in pieces, the old file replaced whole, nothing left beside it.
struct AtomicFileTests {
    @Test func writesEveryPieceAndReplacesTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("data.bin")
        try Data("old".utf8).write(to: url)
        let bytes = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 256) })
        try AtomicFile.write(bytes, to: url, pieceBytes: 999)
        #expect(try Data(contentsOf: url) == bytes)
        try AtomicFile.write(Data(bytes[100..<200]), to: url, pieceBytes: 7)
        #expect(try Data(contentsOf: url) == Data(bytes[100..<200]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["data.bin"])
    }
}
