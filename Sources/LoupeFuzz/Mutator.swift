import Foundation
import LoupeCore

/// Seeded byte-level mutations of parser inputs: bit flips, interesting bytes, deleted, duplicated and
/// inserted ranges, truncation, numbers swapped for boundary values, and splices of two seeds. Every
/// draw comes from the generator, so a run is reproduced by its seed.
struct Mutator {
    private static let interestingBytes: [UInt8] = Array("\0\u{7F} 09-+.eE\"'{}[]:,\n\\#&*!|>-".utf8) + [0xFF, 0x80, 0xC3, 0xE2]
    private static let interestingNumbers = [
        "0", "-1", "1", "-0", "255", "65536", "4294967296", "-2147483649", "9223372036854775807",
        "-9223372036854775808", "18446744073709551616", "1e400", "-1e400", "nan", "1.5", "0.0000001",
    ]

    var rng: SeededRandom

    /// `input` after one to four mutations (`other` is spliced in by one kind of mutation).
    mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + rng.nextInt(below: 4)) {
            bytes = mutateOnce(bytes, other: other)
        }
        return bytes
    }

    private mutating func mutateOnce(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return [Self.interestingBytes[rng.nextInt(below: Self.interestingBytes.count)]] }
        let at = rng.nextInt(below: bytes.count)
        switch rng.nextInt(below: 8) {
        case 0:
            bytes[at] ^= UInt8(1) << UInt8(rng.nextInt(below: 8))
        case 1:
            bytes[at] = Self.interestingBytes[rng.nextInt(below: Self.interestingBytes.count)]
        case 2:
            bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.nextInt(below: 16)))
        case 3:
            let start = rng.nextInt(below: bytes.count)
            let piece = bytes[start..<min(bytes.count, start + 1 + rng.nextInt(below: 32))]
            bytes.insert(contentsOf: piece, at: at)
        case 4:
            bytes.removeSubrange(at..<bytes.count)
        case 5:
            bytes = replacingNumber(bytes, near: at)
        case 6:
            bytes.insert(contentsOf: (0..<(1 + rng.nextInt(below: 8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        default:
            guard !other.isEmpty else { break }
            let cut = rng.nextInt(below: other.count)
            bytes = Array(bytes[..<at]) + Array(other[cut...])
        }
        return bytes
    }

    /// The run of ASCII digits at or after `position` replaced by a boundary value (unchanged when there is none).
    private mutating func replacingNumber(_ bytes: [UInt8], near position: Int) -> [UInt8] {
        let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
        guard let start = bytes[position...].firstIndex(where: isDigit) ?? bytes[..<position].lastIndex(where: isDigit) else { return bytes }
        var lower = start
        while lower > 0 && isDigit(bytes[lower - 1]) { lower -= 1 }
        var upper = start
        while upper < bytes.count && isDigit(bytes[upper]) { upper += 1 }
        var result = bytes
        result.replaceSubrange(lower..<upper, with: Array(Self.interestingNumbers[rng.nextInt(below: Self.interestingNumbers.count)].utf8))
        return result
    }
}
