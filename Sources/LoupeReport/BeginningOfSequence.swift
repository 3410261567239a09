import Foundation
import LoupeModel

/// The beginning-of-sequence token (`<|endoftext|>`) a spec may ask to put before every window.
enum BeginningOfSequence {
    static let token = "<|endoftext|>"

    /// The token's id in `tokenizer` when `prepend` is set, nil otherwise. A tokenizer without the
    /// token fails naming the spec file, its key and the model folder.
    static func id(prepend: Bool, tokenizer: any Tokenizer, key: String, spec: String, model: URL) throws -> Int? {
        guard prepend else { return nil }
        guard let id = tokenizer.id(for: token) else {
            throw BuildError(step: .spec, path: spec, reason: "key '\(key)': the tokenizer of \(model.path) has no \(token) token")
        }
        return id
    }
}
