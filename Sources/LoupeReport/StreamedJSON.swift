import Foundation
import LoupeFindings

/// JSON files too large to hold as one text: the bytes of `JSONWriter.encode(value)`, with the value's
/// large arrays encoded an element at a time and spliced into the text of the rest.
enum StreamedJSON {
    /// The text of `shell` (the value with its large arrays emptied) split inside the empty arrays of
    /// `keys`, in the order they appear: `parts[0]` ends with `"keys[0]":[`, `parts[1]` starts with its
    /// `]`, and so on; nil when a key's `"key":[]` does not occur exactly once or the keys are out of order.
    static func split(_ shell: Data, around keys: [String]) -> [Data]? {
        var parts: [Data] = []
        var rest = shell
        for key in keys {
            let needle = Data("\"\(key)\":[]".utf8)
            guard let first = rest.range(of: needle), rest.range(of: needle, in: first.upperBound..<rest.endIndex) == nil else { return nil }
            parts.append(rest[rest.startIndex..<first.upperBound - 1])
            rest = rest[(first.upperBound - 1)..<rest.endIndex]
        }
        return parts + [rest]
    }

    /// Writes the inside of a JSON array of `count` elements, `write(i)` writing element `i`.
    static func writeElements(count: Int, to handle: FileHandle, _ write: (Int) throws -> Void) throws {
        for index in 0..<count {
            if index > 0 { try handle.write(contentsOf: Data(",".utf8)) }
            try write(index)
        }
    }

    /// Runs `body` on a temporary file beside `url`, then renames it into place (removed on failure).
    static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try body(handle)
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
