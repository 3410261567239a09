/// Readable forms of token text for user interfaces.
///
/// Space is shown as `␣`, newline as `↵`, tab as `⇥`; other control characters, and bytes that are not
/// valid UTF-8, are shown byte by byte as `<0x0D>`; other whitespace (no-break space, ideographic
/// space, …) as `<U+00A0>`. Everything else is shown as is.
public enum TokenDisplay {
    /// The readable form of raw UTF-8 bytes; invalid parts are shown byte by byte, valid parts as text.
    public static func visible<Bytes: Collection>(utf8 bytes: Bytes) -> String
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var out = ""
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if let (scalar, length) = decodeScalar(bytes, at: index) {
                appendVisible(scalar, to: &out)
                index += length
            } else {
                out += hexByte(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// The readable form of text.
    public static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            appendVisible(scalar, to: &out)
        }
        return out
    }

    static func appendVisible(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar.value {
        case 0x20: out += "␣"
        case 0x0A: out += "↵"
        case 0x09: out += "⇥"
        case 0x00..<0x20, 0x7F..<0xA0:
            for byte in String(scalar).utf8 { out += hexByte(byte) }
        default:
            if scalar.properties.isWhitespace {
                out += "<U+" + hex(scalar.value, width: 4) + ">"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    static func hexByte(_ byte: UInt8) -> String {
        "<0x" + hex(UInt32(byte), width: 2) + ">"
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The scalar encoded at `index` and its length in bytes, or nil if the bytes there are not a
    /// complete, well-formed UTF-8 sequence (no overlong forms, surrogates or values above U+10FFFF).
    static func decodeScalar<Bytes: Collection>(_ bytes: Bytes, at index: Int) -> (Unicode.Scalar, Int)?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let lead = bytes[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length: Int
        var value: UInt32
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0: length = 3; value = UInt32(lead & 0x0F); low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xED: length = 3; value = UInt32(lead & 0x0F); high = 0x9F
        case 0xF0: length = 4; value = UInt32(lead & 0x07); low = 0x90
        case 0xF1...0xF3: length = 4; value = UInt32(lead & 0x07)
        case 0xF4: length = 4; value = UInt32(lead & 0x07); high = 0x8F
        default: return nil
        }
        guard bytes.endIndex - index >= length else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (lo, hi) = offset == 1 ? (low, high) : (0x80, 0xBF)
            guard byte >= lo && byte <= hi else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
