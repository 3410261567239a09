/// A token matched in the raw text before pre-tokenization (`added_tokens` of tokenizer.json).
struct AddedToken: Sendable, Equatable {
    var id: Int
    var content: String
    /// Only matched when no word character (`\w`) touches it on either side.
    var singleWord = false
    /// Also takes the whitespace before it.
    var leftStrip = false
    /// Also takes the whitespace after it.
    var rightStrip = false
    /// Matched in a second pass, after the tokens with `normalized == false`.
    var normalized = false
    /// A special token such as `<|endoftext|>`.
    var special = true
}

/// Splits text at added tokens the way Hugging Face `tokenizers` does: first the tokens with
/// `normalized == false`, then, in the text between them, the tokens with `normalized == true`;
/// in each pass the leftmost match wins, and the longest among those starting there.
struct AddedTokenSplitter: Sendable {
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int)
    }

    private struct Pattern: Sendable {
        var bytes: [UInt8]
        var token: AddedToken
    }

    /// The patterns of each pass, longest first, and which bytes can start one of them.
    private let passes: [(patterns: [Pattern], firstBytes: [Bool])]

    var isEmpty: Bool { passes.isEmpty }

    init(_ tokens: [AddedToken]) {
        var passes: [(patterns: [Pattern], firstBytes: [Bool])] = []
        for normalized in [false, true] {
            let patterns = tokens
                .filter { $0.normalized == normalized && !$0.content.isEmpty }
                .map { Pattern(bytes: Array($0.content.utf8), token: $0) }
                .sorted { $0.bytes.count > $1.bytes.count }
            if patterns.isEmpty { continue }
            var firstBytes = [Bool](repeating: false, count: 256)
            for pattern in patterns { firstBytes[Int(pattern.bytes[0])] = true }
            passes.append((patterns, firstBytes))
        }
        self.passes = passes
    }

    /// The pieces of `bytes` (valid UTF-8): ranges of ordinary text and ids of added tokens.
    func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [Piece] {
        var pieces: [Piece] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        for pass in passes {
            var refined: [Piece] = []
            for piece in pieces {
                if case let .text(range) = piece {
                    findMatches(pass.patterns, pass.firstBytes, in: bytes, range: range, into: &refined)
                } else {
                    refined.append(piece)
                }
            }
            pieces = refined
        }
        return pieces
    }

    private func findMatches(
        _ patterns: [Pattern], _ firstBytes: [Bool], in bytes: UnsafeBufferPointer<UInt8>,
        range: Range<Int>, into pieces: inout [Piece]
    ) {
        var textStart = range.lowerBound
        var position = range.lowerBound
        while position < range.upperBound {
            guard firstBytes[Int(bytes[position])],
                  let pattern = patterns.first(where: { matches($0.bytes, bytes, at: position, end: range.upperBound) })
            else {
                position += 1
                continue
            }
            var start = position
            var stop = position + pattern.bytes.count
            position = stop
            let token = pattern.token
            if token.singleWord {
                let clearBefore = start == range.lowerBound
                    || !Self.isWordScalar(Self.scalar(endingAt: start, in: bytes))
                let clearAfter = stop == range.upperBound
                    || !Self.isWordScalar(Self.scalar(startingAt: stop, in: bytes))
                if !(clearBefore && clearAfter) { continue }
            }
            if token.leftStrip {
                var newStart = start
                while newStart > range.lowerBound,
                      let scalar = Self.scalar(endingAt: newStart, in: bytes), scalar.properties.isWhitespace {
                    newStart -= String(scalar).utf8.count
                }
                start = max(newStart, textStart)
            }
            if token.rightStrip {
                while stop < range.upperBound,
                      let scalar = Self.scalar(startingAt: stop, in: bytes), scalar.properties.isWhitespace {
                    stop += String(scalar).utf8.count
                }
                position = stop
            }
            if start > textStart { pieces.append(.text(textStart..<start)) }
            pieces.append(.token(token.id))
            textStart = stop
        }
        if textStart < range.upperBound { pieces.append(.text(textStart..<range.upperBound)) }
    }

    private func matches(_ pattern: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> Bool {
        guard end - position >= pattern.count else { return false }
        for (offset, byte) in pattern.enumerated() where bytes[position + offset] != byte {
            return false
        }
        return true
    }

    /// The `\w` of Hugging Face's check (Rust `regex`): Alphabetic, marks, Nd, Pc or Join_Control.
    /// Letters added in Unicode 17.0 are not in its Unicode data, so they do not count.
    private static func isWordScalar(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar, !GPT2PreTokenizer.isUnicode17Addition(scalar.value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    private static func scalar(startingAt position: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar? {
        guard position < bytes.count else { return nil }
        return TokenDisplay.decodeScalar(bytes, at: position)?.0
    }

    private static func scalar(endingAt position: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar? {
        var start = position - 1
        while start > 0 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0, let (scalar, length) = TokenDisplay.decodeScalar(bytes, at: start),
              start + length == position else { return nil }
        return scalar
    }
}
