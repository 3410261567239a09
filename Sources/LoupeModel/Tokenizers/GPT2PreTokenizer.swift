/// GPT-2's pre-tokenization, the regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// implemented by hand over Unicode scalars.
///
/// At each position the alternatives are tried in order. `\p{L}` is the general categories
/// Lu Ll Lt Lm Lo, `\p{N}` is Nd Nl No, `\s` is the Unicode White_Space property, and ` ?` is an
/// optional U+0020 only. `\s+(?!\S)` takes a whitespace run less its last scalar when the run is
/// followed by a non-space (the whole run at the end of the text); a lone whitespace scalar before
/// a non-space is taken by `\s+`. The contractions are case-sensitive and use U+0027 only.
/// Every scalar falls in exactly one piece, so the pieces concatenate back to the text.
///
/// Letters and numbers first assigned in Unicode 17.0 count as `[^\s\p{L}\p{N}]`, as they do for the
/// regex engine of Hugging Face `tokenizers`, whose Unicode data predates them.
public enum GPT2PreTokenizer {
    /// The pieces of `text`, in order.
    public static func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var text = text
        text.withUTF8 { bytes in
            forEachPiece(bytes) { range in
                pieces.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
        }
        return pieces
    }

    /// Scalar classes; `other` is `[^\s\p{L}\p{N}]`.
    enum ScalarClass: UInt8 {
        case other = 0, letter, number, space
    }

    private static let asciiClasses: [ScalarClass] = (0..<128).map { value -> ScalarClass in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .space
        default: return .other
        }
    }

    /// The class of a scalar value.
    @inline(__always)
    static func classify(_ value: UInt32) -> ScalarClass {
        if value < 0x80 { return asciiClasses[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        let kind: ScalarClass
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            kind = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            kind = .number
        default:
            return .other
        }
        return isUnicode17Addition(value) ? .other : kind
    }

    /// The letters and numbers added in Unicode 17.0, as closed ranges `[low, high]` in increasing order.
    private static let unicode17Additions: [(UInt32, UInt32)] = [
        (0x88F, 0x88F), (0xC5C, 0xC5C), (0xCDC, 0xCDC), (0xA7CE, 0xA7CF), (0xA7D2, 0xA7D2),
        (0xA7D4, 0xA7D4), (0xA7F1, 0xA7F1), (0x10940, 0x10959), (0x10EC5, 0x10EC7), (0x11DB0, 0x11DDB),
        (0x11DE0, 0x11DE9), (0x16EA0, 0x16EB8), (0x16EBB, 0x16ED3), (0x16FF2, 0x16FF6), (0x187F8, 0x187FF),
        (0x18D09, 0x18D1E), (0x18D80, 0x18DF2), (0x1E6C0, 0x1E6DE), (0x1E6E0, 0x1E6E2), (0x1E6E4, 0x1E6E5),
        (0x1E6E7, 0x1E6ED), (0x1E6F0, 0x1E6F4), (0x1E6FE, 0x1E6FF), (0x2B73A, 0x2B73F), (0x2CEA2, 0x2CEAD),
        (0x323B0, 0x33479),
    ]

    static func isUnicode17Addition(_ value: UInt32) -> Bool {
        var low = 0
        var high = unicode17Additions.count
        while low < high {
            let middle = (low + high) / 2
            let range = unicode17Additions[middle]
            if value < range.0 {
                high = middle
            } else if value > range.1 {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }

    /// Calls `body` with the byte range of each piece of `bytes`, which must be valid UTF-8.
    static func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let byteCount = bytes.count
        if byteCount == 0 { return }
        // Decode once: the class of each scalar and the byte offset where it starts.
        var classes: [ScalarClass] = []
        var offsets: [Int] = []
        classes.reserveCapacity(byteCount)
        offsets.reserveCapacity(byteCount + 1)
        var position = 0
        while position < byteCount {
            let lead = bytes[position]
            offsets.append(position)
            if lead < 0x80 {
                classes.append(asciiClasses[Int(lead)])
                position += 1
                continue
            }
            var value: UInt32
            var length: Int
            if lead >= 0xF0 {
                value = UInt32(lead & 0x07); length = 4
            } else if lead >= 0xE0 {
                value = UInt32(lead & 0x0F); length = 3
            } else {
                value = UInt32(lead & 0x1F); length = 2
            }
            length = min(length, byteCount - position)
            for offset in 1..<max(length, 1) {
                value = value << 6 | UInt32(bytes[position + offset] & 0x3F)
            }
            classes.append(classify(value))
            position += max(length, 1)
        }
        offsets.append(byteCount)

        let count = classes.count
        /// The ASCII byte of scalar `index`, or 0 if it is not ASCII or out of range.
        func ascii(_ index: Int) -> UInt8 {
            guard index < count else { return 0 }
            let byte = bytes[offsets[index]]
            return byte < 0x80 ? byte : 0
        }

        var index = 0
        while index < count {
            var end = -1
            let first = ascii(index)
            if first == 0x27 {  // '
                switch ascii(index + 1) {
                case 0x73, 0x74, 0x6D, 0x64:  // 's 't 'm 'd
                    end = index + 2
                case 0x72 where ascii(index + 2) == 0x65,  // 're
                     0x76 where ascii(index + 2) == 0x65,  // 've
                     0x6C where ascii(index + 2) == 0x6C:  // 'll
                    end = index + 3
                default:
                    break
                }
            }
            if end < 0 {
                var start = index
                if first == 0x20 && index + 1 < count && classes[index + 1] != .space {
                    start = index + 1
                }
                let kind = classes[start]
                if kind != .space {
                    // ` ?\p{L}+`, ` ?\p{N}+` or ` ?[^\s\p{L}\p{N}]+`
                    end = start + 1
                    while end < count && classes[end] == kind { end += 1 }
                } else {
                    // `\s+(?!\S)`, else `\s+`
                    var runEnd = index + 1
                    while runEnd < count && classes[runEnd] == .space { runEnd += 1 }
                    if runEnd == count || runEnd - index < 2 {
                        end = runEnd
                    } else {
                        end = runEnd - 1
                    }
                }
            }
            body(offsets[index]..<offsets[end])
            index = end
        }
    }
}
