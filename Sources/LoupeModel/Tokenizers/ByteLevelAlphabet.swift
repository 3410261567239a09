/// GPT-2's `bytes_to_unicode` table: every byte gets a printable Unicode scalar, so that byte-level
/// BPE tokens are ordinary strings (a space byte is `Ġ`, a newline byte is `Ċ`).
///
/// Bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` map to the scalar of the same value; the other 68 bytes map,
/// in increasing order, to U+0100, U+0101, ….
public enum ByteLevelAlphabet {
    /// The scalar of each byte, indexed by byte value.
    public static let scalarOfByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let value: UInt32
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                value = UInt32(byte)
            } else {
                value = next
                next += 1
            }
            table[byte] = Unicode.Scalar(value) ?? " "
        }
        return table
    }()

    /// The byte of each scalar value below `byteOfScalar.count`, or -1 when the scalar stands for no byte.
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarOfByte.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// The byte-level string of raw bytes (each byte replaced by its scalar).
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for byte in bytes {
            out.append(scalarOfByte[Int(byte)])
        }
        return String(out)
    }

    /// The raw bytes of a byte-level string, or nil if some scalar stands for no byte.
    public static func decode(_ string: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.unicodeScalars.count)
        for scalar in string.unicodeScalars {
            let value = Int(scalar.value)
            guard value < byteOfScalar.count, byteOfScalar[value] >= 0 else { return nil }
            bytes.append(UInt8(byteOfScalar[value]))
        }
        return bytes
    }
}
