import Foundation
import LoupeFindings
import LoupeModel

/// A model directory's identity: a 64-bit FNV-1a hash (16 hex digits) of the names and contents of
/// its files (`ModelFiles.all` that exist), so a decoder knows the model it was trained on.
public enum ModelFingerprint {
    public static func of(directory: URL) throws -> String {
        var hash = FNV1aHash()
        hash.add("loupe-model-1")
        try add(directory: directory, to: &hash)
        return hash.hex
    }

    /// Mixes the names and contents of the model files in `directory` into `hash`.
    static func add(directory: URL, to hash: inout FNV1aHash) throws {
        for name in ModelFiles.all {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            hash.add(name)
            try PreimageStore.addContents(of: url, to: &hash)
        }
    }
}
