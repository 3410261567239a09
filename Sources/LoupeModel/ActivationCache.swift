import LoupeCore

/// Activations captured during a forward pass, by TransformerLens hook name (shapes in `HookPoint`).
public struct ActivationCache: Sendable {
    /// Captured tensors by hook name.
    public var tensors: [String: Tensor] = [:]

    public init(tensors: [String: Tensor] = [:]) {
        self.tensors = tensors
    }

    /// The activation at `hook`, if it was captured.
    public subscript(hook: String) -> Tensor? {
        get { tensors[hook] }
        set { tensors[hook] = newValue }
    }

    /// Names of the captured hooks, sorted.
    public var hooks: [String] { tensors.keys.sorted() }
}
