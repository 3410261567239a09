import Foundation

/// A 64-bit FNV-1a hash, Loupe's one way of naming inputs by their contents (findings caches,
/// activation stores): fast, stable across machines and runs, not cryptographic.
public struct FNV1aHash: Sendable {
    /// The hash so far.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    /// Mixes in `bytes`.
    public mutating func add(_ bytes: Data) {
        var h = value
        bytes.withUnsafeBytes { raw in
            for byte in raw.bindMemory(to: UInt8.self) {
                h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        value = h
    }

    /// Mixes in a string and a separator, so `ab`+`c` differs from `a`+`bc`.
    public mutating func add(_ text: String) {
        add(Data(text.utf8))
        add(Data([0]))
    }

    /// The hash as 16 hex digits.
    public var hex: String { String(format: "%016llx", value) }
}
