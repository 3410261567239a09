import Foundation

/// A view model Mustache renders: an `Encodable` struct of strings, booleans, numbers, nested view
/// models and arrays of them. Its synthesised `Encodable` conformance is the only description of its
/// fields: `MustacheTree` turns it into the dictionaries and arrays Mustache looks names up in, so no
/// view model lists its fields by hand.
///
/// A `nil` optional is left out of its dictionary, and Mustache then looks the name up in the
/// enclosing contexts: field names are therefore unique across nesting levels (a token's title must
/// never find the page's title).
protocol PageView: Encodable {}

/// Converts view models to the `[String: Any]` / `[Any]` trees swift-mustache renders without
/// reflection (its `Dictionary` look-up is a hash-table access; reflecting over every field of every
/// view for every tag dominated page rendering time).
enum MustacheTree {
    /// The tree of `view`.
    static func tree(_ view: some PageView) throws -> [String: Any] {
        let value = try node(view)
        guard let dictionary = value as? [String: Any] else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "a page view must encode as keyed fields"))
        }
        return dictionary
    }

    /// Strings, booleans and numbers as they are; anything else through its `Encodable` conformance.
    static func node<T: Encodable>(_ value: T) throws -> Any {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag
        case let number as Int: return number
        case let number as Double: return number
        default:
            let encoder = TreeEncoder()
            try value.encode(to: encoder)
            return encoder.storage?.resolved ?? [String: Any]()
        }
    }
}

/// Where an encoder or container keeps what it was given; containers are filled after they are
/// handed out, so they are references, resolved into plain values at the end.
private final class TreeStorage {
    enum Kind {
        case keyed, unkeyed, single
    }

    let kind: Kind
    var fields: [String: Any] = [:]
    var items: [Any] = []
    var value: Any = [String: Any]()

    init(_ kind: Kind) {
        self.kind = kind
    }

    /// The plain value, with nested storages resolved.
    var resolved: Any {
        switch kind {
        case .keyed: return fields.mapValues(Self.resolve)
        case .unkeyed: return items.map(Self.resolve)
        case .single: return Self.resolve(value)
        }
    }

    static func resolve(_ value: Any) -> Any {
        (value as? TreeStorage)?.resolved ?? value
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
        storage.fields[key.stringValue] = nested
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(storage: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let nested = TreeStorage(.unkeyed)
        storage.fields[key.stringValue] = nested
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
        storage.items.append(nested)
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(storage: nested))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let nested = TreeStorage(.unkeyed)
        storage.items.append(nested)
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
