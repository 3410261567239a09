import LoupeCore

/// A change made to an activation during the forward pass, at one hook point.
///
/// `head` restricts it to one attention head (hooks with a head axis only); `position` restricts it
/// to one token position (the query position for scores and patterns). Tensors given to `replace`
/// and `add` have the hook's full shape; only the selected slice of them is used.
public struct Intervention: Sendable {
    /// What to do with the selected values.
    public enum Action: Sendable {
        /// Use these values instead.
        case replace(Tensor)
        /// Add these values.
        case add(Tensor)
        /// Set to zero.
        case zero
        /// Multiply by a factor.
        case scale(Float)
        /// Take the values the same hook had in another (cached) run.
        case patch(ActivationCache)
    }

    /// Hook point name (TransformerLens naming).
    public var hook: String
    /// The change.
    public var action: Action
    /// Only this head, if set.
    public var head: Int?
    /// Only this token position, if set.
    public var position: Int?

    public init(hook: String, action: Action, head: Int? = nil, position: Int? = nil) {
        self.hook = hook
        self.action = action
        self.head = head
        self.position = position
    }

    /// Applies the intervention to `activation`, the value of `point` in this run.
    func apply(to activation: inout Tensor, at point: HookPoint) throws {
        let shape = activation.shape
        if let head {
            guard let axis = point.headAxis else {
                throw ModelError.invalidIntervention(hook: hook, reason: "this hook has no head axis, so 'head' cannot be set")
            }
            guard head >= 0 && head < shape[axis] else {
                throw ModelError.invalidIntervention(hook: hook, reason: "head \(head) outside 0..<\(shape[axis])")
            }
        }
        if let position, !(position >= 0 && position < shape[point.tokenAxis]) {
            throw ModelError.invalidIntervention(hook: hook, reason: "position \(position) outside 0..<\(shape[point.tokenAxis])")
        }
        var source: Tensor?
        switch action {
        case let .replace(values), let .add(values):
            source = values
        case let .patch(cache):
            guard let cached = cache[hook] else {
                throw ModelError.invalidIntervention(hook: hook, reason: "the cache to patch from does not hold this hook")
            }
            source = cached
        case .zero, .scale:
            source = nil
        }
        if let source, source.shape != shape {
            throw ModelError.invalidIntervention(hook: hook, reason: "values have shape \(source.shape), the hook has \(shape)")
        }
        if let source, source.count != activation.count {
            throw ModelError.invalidIntervention(
                hook: hook, reason: "values of shape \(shape) hold \(source.count) numbers, expected \(activation.count)")
        }
        let selected = selection(shape: shape, point: point)
        switch action {
        case .replace, .patch:
            for i in selected { activation.scalars[i] = source!.scalars[i] }
        case .add:
            for i in selected { activation.scalars[i] += source!.scalars[i] }
        case .zero:
            for i in selected { activation.scalars[i] = 0 }
        case let .scale(factor):
            for i in selected { activation.scalars[i] *= factor }
        }
    }

    /// Flat indices of the values selected by `head` and `position`.
    private func selection(shape: [Int], point: HookPoint) -> [Int] {
        let count = shape.reduce(1, *)
        guard head != nil || position != nil else { return Array(0..<count) }
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return (0..<count).filter { index in
            if let head, let axis = point.headAxis, (index / strides[axis]) % shape[axis] != head { return false }
            if let position, (index / strides[point.tokenAxis]) % shape[point.tokenAxis] != position { return false }
            return true
        }
    }
}
