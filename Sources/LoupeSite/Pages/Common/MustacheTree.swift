import Foundation
import Mustache

/// A view model Mustache renders: an `Encodable` struct of strings, booleans, numbers, nested view
/// models and arrays of them. Its synthesised `Encodable` conformance is the only description of its
/// fields: `MustacheTree` turns it into the objects and arrays Mustache looks names up in, so no view
/// model lists its fields by hand.
///
/// A `nil` optional is left out of its object, and Mustache then looks the name up in the
/// enclosing contexts: field names are therefore unique across nesting levels (a token's title must
/// never find the page's title). Every array field `xs` also answers `hasXs`, whether it has items,
/// for a heading or a table shown only over a non-empty list.
protocol PageView: Encodable {}

/// A view model's fields as swift-mustache looks them up: a struct, not a `Dictionary`, because the
/// renderer's dynamic casts of a `Dictionary` held in `Any` bridge it to `NSDictionary` first.
struct MustacheObject: MustacheParent {
    /// Field values: strings, booleans, numbers, nested objects and arrays of them.
    let fields: [String: Any]

    func child(named name: String) -> Any? { fields[name] }
}

/// Converts view models to the `MustacheObject` / `[Any]` trees swift-mustache renders without
/// reflection (reflecting over every field of every view for every tag dominated page rendering time).
enum MustacheTree {
    /// The tree of `view`.
    static func tree(_ view: some PageView) throws -> MustacheObject {
        guard case let .storage(storage) = try node(view), storage.kind == .keyed else {
            throw EncodingError.invalidValue(view, .init(codingPath: [], debugDescription: "a page view must encode as keyed fields"))
        }
        return storage.object
    }

    /// The name that answers whether array field `name` has items (`neighbours` → `hasNeighbours`).
    static func presenceName(of name: String) -> String {
        "has" + name.prefix(1).uppercased() + name.dropFirst()
    }

    /// Strings, booleans and numbers as they are; anything else through its `Encodable` conformance.
    /// Types are compared, not cast: a dynamic cast of a collection bridges it to Foundation first.
    static func node<T: Encodable>(_ value: T) throws -> TreeNode {
        if T.self == String.self || T.self == Bool.self || T.self == Int.self || T.self == Double.self {
            return .leaf(value)
        }
        let encoder = TreeEncoder()
        try value.encode(to: encoder)
        return .storage(encoder.storage ?? TreeStorage(.keyed))
    }
}

/// A value being encoded: a plain value, or a container filled after it is handed out.
enum TreeNode {
    case leaf(Any)
    case storage(TreeStorage)

    /// The plain value, containers resolved into `MustacheObject`s and arrays.
    var resolved: Any {
        switch self {
        case let .leaf(value): return value
        case let .storage(storage): return storage.resolved
        }
    }
}

/// What an encoder or container was given.
final class TreeStorage {
    enum Kind {
        case keyed, unkeyed, single
    }

    let kind: Kind
    var fields: [String: TreeNode] = [:]
    var items: [TreeNode] = []
    var value: TreeNode?

    init(_ kind: Kind) {
        self.kind = kind
    }

    var resolved: Any {
        switch kind {
        case .keyed: return object
        case .unkeyed: return items.map(\.resolved)
        case .single: return value?.resolved ?? MustacheObject(fields: [:])
        }
    }

    /// Keyed fields as an object, with `hasXs` beside every array field `xs`.
    var object: MustacheObject {
        var values = fields.mapValues(\.resolved)
        for (name, node) in fields {
            guard case let .storage(list) = node, list.kind == .unkeyed else { continue }
            values[MustacheTree.presenceName(of: name)] = !list.items.isEmpty
        }
        return MustacheObject(fields: values)
    }
}

private final class TreeEncoder: Encoder {
    let codingPath: [CodingKey] = []
    let userInfo: [CodingUserInfoKey: Any] = [:]
    var storage: TreeStorage?

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if storage == nil { storage = TreeStorage(.keyed) }
        return KeyedEncodingContainer(KeyedTreeContainer<Key>(storage: storage!))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if storage == nil { storage = TreeStorage(.unkeyed) }
        return UnkeyedTreeContainer(storage: storage!)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        SingleTreeContainer(encoder: self)
    }
}

private struct KeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: TreeStorage
    let codingPath: [CodingKey] = []

    mutating func encodeNil(forKey key: Key) throws {}

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        storage.fields[key.stringValue] = try MustacheTree.node(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = TreeStorage(.keyed)
        storage.fields[key.stringValue] = .storage(nested)
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(storage: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let nested = TreeStorage(.unkeyed)
        storage.fields[key.stringValue] = .storage(nested)
        return UnkeyedTreeContainer(storage: nested)
    }

    mutating func superEncoder() -> Encoder { TreeEncoder() }

    mutating func superEncoder(forKey key: Key) -> Encoder { TreeEncoder() }
}

private struct UnkeyedTreeContainer: UnkeyedEncodingContainer {
    let storage: TreeStorage
    let codingPath: [CodingKey] = []
    var count: Int { storage.items.count }

    mutating func encodeNil() throws {}

    mutating func encode<T: Encodable>(_ value: T) throws {
        storage.items.append(try MustacheTree.node(value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = TreeStorage(.keyed)
        storage.items.append(.storage(nested))
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(storage: nested))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let nested = TreeStorage(.unkeyed)
        storage.items.append(.storage(nested))
        return UnkeyedTreeContainer(storage: nested)
    }

    mutating func superEncoder() -> Encoder { TreeEncoder() }
}

private struct SingleTreeContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    let codingPath: [CodingKey] = []

    mutating func encodeNil() throws {}

    mutating func encode<T: Encodable>(_ value: T) throws {
        let storage = TreeStorage(.single)
        storage.value = try MustacheTree.node(value)
        encoder.storage = storage
    }
}
