import Foundation
import LoupeFindings

/// GPT-2's byte-level BPE tokenizer, giving the same ids as Hugging Face `tokenizers`.
///
/// Encoding: added (special) tokens are cut out of the raw text first; each remaining stretch gets a
/// leading space when `addsPrefixSpace` is set and it does not start with one, is split by the GPT-2
/// regex (``GPT2PreTokenizer``) when `usesRegex` is set, and each piece's UTF-8 bytes are mapped
/// through ``ByteLevelAlphabet`` and merged by BPE. Results are cached per piece; the tokenizer
/// can be used from several threads at once.
///
/// Loaded from a `tokenizer.json` (``init(tokenizerJSON:)``) or a `vocab.json` + `merges.txt` pair
/// (``init(vocabulary:merges:config:)``). Only the parts GPT-2 tokenizers use are implemented; a file
/// that needs anything else (another model type, a normalizer, another pre-tokenizer, BPE dropout, …)
/// is rejected with a `ModelError` rather than tokenized differently. The post-processor is not
/// applied: `encode` adds no tokens of its own.
public struct ByteLevelBPETokenizer: Tokenizer {
    /// One more than the largest id of the vocabulary and the added tokens.
    public let vocabularySize: Int
    /// Whether a space is put before text that does not start with one (`add_prefix_space`).
    public let addsPrefixSpace: Bool
    /// Whether text is split by the GPT-2 regex before BPE (`use_regex`).
    public let usesRegex: Bool
    /// The ids of the added tokens marked special, such as `<|endoftext|>`, in increasing order.
    public let specialTokenIDs: [Int]

    private let tokens: [String?]
    private let tokenBytes: [[UInt8]]
    private let isAdded: [Bool]
    private let idsByToken: [String: Int]
    private let model: BPEModel
    private let splitter: AddedTokenSplitter

    /// Ids must be below this bound (it keeps per-id tables a sensible size).
    static let maximumID = 1 << 24

    // MARK: Loading

    /// Loads a Hugging Face `tokenizer.json` whose model is BPE and whose pre-tokenizer is ByteLevel.
    public init(tokenizerJSON url: URL) throws {
        let path = url.path
        func fail(_ reason: String) -> ModelError { .invalidTokenizer(path: path, reason: reason) }
        let root = try TokenizerFile.reader(url)

        let model = try root.required("model", root.object)
        if let type = try model.string("type"), type != "BPE" {
            throw fail("model type \"\(type)\" is not supported (only \"BPE\" is)")
        }
        if let dropout = try model.number("dropout"), dropout != 0 {
            throw fail("BPE dropout is not supported (model \"dropout\" must be null)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = try model.string(key), !value.isEmpty {
                throw fail("model \"\(key)\" is not supported (it must be null for a byte-level BPE)")
            }
        }
        if try model.boolean("byte_fallback") == true {
            throw fail("model \"byte_fallback\" is not supported (it must be false for a byte-level BPE)")
        }
        let unknown = try model.string("unk_token")
        let fuseUnknown = try model.boolean("fuse_unk") ?? false
        let ignoreMerges = try model.boolean("ignore_merges") ?? false

        let vocab = try Self.vocabulary(try model.required("vocab", model.object).values, fail)

        let mergeList = try model.required("merges", model.array)
        var merges: [MergeSpec] = []
        merges.reserveCapacity(mergeList.count)
        for (index, entry) in mergeList.enumerated() {
            if let text = entry as? String {
                let parts = Self.splitAtSpaces(Substring(text))
                guard parts.count == 2 else {
                    throw fail("merges[\(index)] \(TokenizerFile.quote(text)) is not two tokens separated by one space")
                }
                merges.append(MergeSpec(left: parts[0], right: parts[1], place: "merges[\(index)]"))
            } else if let pair = entry as? [Any], pair.count == 2, let left = pair[0] as? String, let right = pair[1] as? String {
                merges.append(MergeSpec(left: left, right: right, place: "merges[\(index)]"))
            } else {
                throw fail("merges[\(index)] is \(TokenizerFile.describe(entry)), expected \"a b\" or [\"a\", \"b\"]")
            }
        }

        if let normalizer = try root.object("normalizer") {
            let type = try normalizer.string("type")
            let steps = try normalizer.array("normalizers")
            if !(type == "Sequence" && steps?.isEmpty == true) {
                throw fail("normalizer \(type.map { "\"\($0)\"" } ?? "") is not supported (only null is)")
            }
        }
        guard let preTokenizer = try root.object("pre_tokenizer") else {
            throw fail("\"pre_tokenizer\" is \(TokenizerFile.describe(root.values["pre_tokenizer"])); only a ByteLevel pre-tokenizer is supported")
        }
        let byteLevel = try Self.byteLevelOptions(preTokenizer, fail)
        if let decoder = try root.object("decoder") {
            try Self.checkDecoder(decoder, fail)
        }

        let added = try (root.objects("added_tokens") ?? []).map { object in
            try Self.addedToken(object, id: object.required("id", object.integer))
        }

        try self.init(
            vocab: vocab, vocabPath: path, merges: merges, mergesPath: path, added: added, addedPath: path,
            addPrefixSpace: byteLevel.addPrefixSpace, useRegex: byteLevel.useRegex,
            unknown: unknown, fuseUnknown: fuseUnknown, ignoreMerges: ignoreMerges)
    }

    /// Loads GPT-2's original files: `vocab.json` (token → id), `merges.txt` (one `a b` pair per line,
    /// after an optional `#version` line; blank lines are ignored) and, if given, a
    /// `tokenizer_config.json` whose `added_tokens_decoder` lists added tokens and whose
    /// `add_prefix_space` sets that option (default false). `<|endoftext|>` is a special token when it
    /// is in the vocabulary.
    public init(vocabulary vocabURL: URL, merges mergesURL: URL, config configURL: URL? = nil) throws {
        let vocabPath = vocabURL.path
        let vocabObject = try TokenizerFile.reader(vocabURL, contents: "an object mapping tokens to ids")
        let vocab = try Self.vocabulary(vocabObject.values) { .invalidTokenizer(path: vocabPath, reason: $0) }

        let mergesPath = mergesURL.path
        let text = try TokenizerFile.text(mergesURL)
        var merges: [MergeSpec] = []
        // Split on bytes: Swift treats "\r\n" as one Character, which a Character split would not cut.
        for (index, rawLine) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var bytes = rawLine
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            let line = Substring(bytes)
            if line.isEmpty || (index == 0 && line.hasPrefix("#version")) { continue }
            let parts = Self.splitAtSpaces(line)
            guard parts.count == 2 else {
                throw ModelError.invalidTokenizer(
                    path: mergesPath,
                    reason: "line \(index + 1) \(TokenizerFile.quote(String(line))) is not two tokens separated by one space")
            }
            merges.append(MergeSpec(left: parts[0], right: parts[1], place: "line \(index + 1)"))
        }

        var added: [AddedToken] = []
        var addPrefixSpace = false
        var addedPath = vocabPath
        if let configURL {
            let configPath = configURL.path
            addedPath = configPath
            func fail(_ reason: String) -> ModelError { .invalidTokenizer(path: configPath, reason: reason) }
            let config = try TokenizerFile.reader(configURL)
            addPrefixSpace = try config.boolean("add_prefix_space") ?? false
            if let decoder = try config.object("added_tokens_decoder") {
                for key in decoder.keys.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
                    guard let id = Int(key) else {
                        throw fail("added_tokens_decoder key \(TokenizerFile.quote(key)) is not an integer id")
                    }
                    added.append(try Self.addedToken(decoder.required(key, decoder.object), id: id))
                }
            }
        }
        let endOfText = "<|endoftext|>"
        if let id = vocab.first(where: { $0.token == endOfText })?.id, !added.contains(where: { $0.content == endOfText }) {
            added.append(AddedToken(id: id, content: endOfText))
        }

        try self.init(
            vocab: vocab, vocabPath: vocabPath, merges: merges, mergesPath: mergesPath, added: added,
            addedPath: addedPath, addPrefixSpace: addPrefixSpace, useRegex: true,
            unknown: nil, fuseUnknown: false, ignoreMerges: false)
    }

    /// The parts of `text` between U+0020 scalars (a space followed by a combining mark still splits).
    private static func splitAtSpaces(_ text: Substring) -> [String] {
        text.utf8.split(separator: 0x20, omittingEmptySubsequences: false).map { String(Substring($0)) }
    }

    private struct MergeSpec {
        var left: String
        var right: String
        /// Where the merge was read, for error messages ("merges[3]", "line 4").
        var place: String
    }

    private init(
        vocab: [(token: String, id: Int)], vocabPath: String, merges: [MergeSpec], mergesPath: String,
        added: [AddedToken], addedPath: String, addPrefixSpace: Bool, useRegex: Bool,
        unknown: String?, fuseUnknown: Bool, ignoreMerges: Bool
    ) throws {
        var idsByToken: [String: Int] = [:]
        idsByToken.reserveCapacity(vocab.count + added.count)
        var tokenOfID: [Int: String] = [:]
        tokenOfID.reserveCapacity(vocab.count + added.count)
        for (token, id) in vocab {
            if let other = tokenOfID[id] {
                throw ModelError.invalidTokenizer(
                    path: vocabPath,
                    reason: "tokens \(TokenizerFile.quote(min(other, token))) and \(TokenizerFile.quote(max(other, token))) both have id \(id)")
            }
            if let other = idsByToken[token] {
                throw ModelError.invalidTokenizer(
                    path: vocabPath, reason: "token \(TokenizerFile.quote(token)) appears twice (ids \(other) and \(id))")
            }
            tokenOfID[id] = token
            idsByToken[token] = id
        }
        let modelIDs = idsByToken

        func addedFail(_ reason: String) -> ModelError { .invalidTokenizer(path: addedPath, reason: reason) }
        var addedContents: [String: Int] = [:]
        var addedIDs = Set<Int>()
        for token in added {
            if token.content.isEmpty { throw addedFail("added token with id \(token.id) has empty content") }
            guard token.id >= 0 && token.id < Self.maximumID else {
                throw addedFail("added token \(TokenizerFile.quote(token.content)) has id \(token.id), outside 0..<\(Self.maximumID)")
            }
            if let other = addedContents[token.content] {
                throw addedFail("added token \(TokenizerFile.quote(token.content)) appears twice (ids \(other) and \(token.id))")
            }
            if let vocabID = modelIDs[token.content], vocabID != token.id {
                throw addedFail("added token \(TokenizerFile.quote(token.content)) has id \(token.id) but the vocabulary gives it id \(vocabID)")
            }
            if let other = tokenOfID[token.id], other != token.content {
                throw addedFail("added token \(TokenizerFile.quote(token.content)) has id \(token.id), which already belongs to \(TokenizerFile.quote(other))")
            }
            addedContents[token.content] = token.id
            addedIDs.insert(token.id)
            tokenOfID[token.id] = token.content
            idsByToken[token.content] = token.id
        }

        let size = (tokenOfID.keys.max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: size)
        var tokenBytes = [[UInt8]](repeating: [], count: size)
        var isAdded = [Bool](repeating: false, count: size)
        for (id, token) in tokenOfID {
            tokens[id] = token
            // As Hugging Face's ByteLevel decoder: a token whose scalars all stand for bytes decodes to
            // those bytes, any other token to its own UTF-8.
            tokenBytes[id] = ByteLevelAlphabet.decode(token) ?? Array(token.utf8)
        }
        for id in addedIDs { isAdded[id] = true }

        // The model: byte tokens and merges, all from the model's own vocabulary.
        var byteIDs = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let id = modelIDs[String(ByteLevelAlphabet.scalarOfByte[byte])] { byteIDs[byte] = Int32(id) }
        }
        var unknownID: Int32 = -1
        if let unknown {
            if let id = modelIDs[unknown] {
                unknownID = Int32(id)
            } else if let byte = byteIDs.firstIndex(of: -1) {
                throw ModelError.invalidTokenizer(
                    path: vocabPath,
                    reason: "byte 0x\(String(byte, radix: 16, uppercase: true)) has no token and the unknown token \(TokenizerFile.quote(unknown)) is not in the vocabulary")
            }
        }
        var mergeTable: [UInt64: BPEModel.Merge] = [:]
        mergeTable.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            func missing(_ token: String) -> ModelError {
                .invalidTokenizer(
                    path: mergesPath,
                    reason: "\(merge.place) \(TokenizerFile.quote(merge.left + " " + merge.right)): \(TokenizerFile.quote(token)) is not in the vocabulary")
            }
            guard let left = modelIDs[merge.left] else { throw missing(merge.left) }
            guard let right = modelIDs[merge.right] else { throw missing(merge.right) }
            guard let result = modelIDs[merge.left + merge.right] else { throw missing(merge.left + merge.right) }
            // A repeated pair keeps its last rank, as in Hugging Face `tokenizers`.
            mergeTable[BPEModel.key(Int32(left), Int32(right))] = BPEModel.Merge(rank: UInt32(rank), newID: Int32(result))
        }
        var wholeWords: [[UInt8]: Int32]?
        if ignoreMerges {
            var table: [[UInt8]: Int32] = [:]
            for (token, id) in modelIDs {
                if let bytes = ByteLevelAlphabet.decode(token) { table[bytes] = Int32(id) }
            }
            wholeWords = table
        }

        self.vocabularySize = size
        self.addsPrefixSpace = addPrefixSpace
        self.usesRegex = useRegex
        self.specialTokenIDs = added.filter(\.special).map(\.id).sorted()
        self.tokens = tokens
        self.tokenBytes = tokenBytes
        self.isAdded = isAdded
        self.idsByToken = idsByToken
        self.model = BPEModel(
            byteIDs: byteIDs, merges: mergeTable, unknownID: unknownID, fuseUnknown: fuseUnknown,
            wholeWords: wholeWords)
        self.splitter = AddedTokenSplitter(added)
    }

    private static func vocabulary(
        _ object: [String: Any], _ fail: (String) -> ModelError
    ) throws -> [(token: String, id: Int)] {
        var vocab: [(token: String, id: Int)] = []
        vocab.reserveCapacity(object.count)
        for (token, value) in object {
            guard let id = JSONObjectReader.integerValue(value) else {
                throw fail("vocabulary entry \(TokenizerFile.quote(token)) is \(TokenizerFile.describe(value)), expected an integer id")
            }
            guard id >= 0 && id < maximumID else {
                throw fail("vocabulary entry \(TokenizerFile.quote(token)) has id \(id), outside 0..<\(maximumID)")
            }
            vocab.append((token, id))
        }
        return vocab
    }

    /// An added token from its object in `added_tokens` or `added_tokens_decoder`.
    private static func addedToken(_ object: JSONObjectReader, id: Int) throws -> AddedToken {
        let special = try object.boolean("special") ?? false
        return AddedToken(
            id: id, content: try object.required("content", object.string),
            singleWord: try object.boolean("single_word") ?? false,
            leftStrip: try object.boolean("lstrip") ?? false,
            rightStrip: try object.boolean("rstrip") ?? false,
            normalized: try object.boolean("normalized") ?? !special,
            special: special)
    }

    private static func byteLevelOptions(
        _ object: JSONObjectReader, _ fail: (String) -> ModelError
    ) throws -> (addPrefixSpace: Bool, useRegex: Bool) {
        let type = try object.string("type")
        if type == "Sequence" {
            guard let steps = try object.objects("pretokenizers") else {
                throw fail("Sequence pre_tokenizer has no \"pretokenizers\" list")
            }
            guard steps.count == 1 else {
                let kinds = try steps.map { try $0.string("type") ?? "?" }
                throw fail("pre_tokenizer Sequence of [\(kinds.joined(separator: ", "))] is not supported (only a single ByteLevel is)")
            }
            return try byteLevelOptions(steps[0], fail)
        }
        guard type == "ByteLevel" else {
            throw fail("pre_tokenizer \(type.map { "\"\($0)\"" } ?? "without a type") is not supported (only ByteLevel is)")
        }
        guard let addPrefixSpace = try object.boolean("add_prefix_space") else {
            throw fail("ByteLevel pre_tokenizer has no \"add_prefix_space\"")
        }
        return (addPrefixSpace, try object.boolean("use_regex") ?? true)
    }

    private static func checkDecoder(_ object: JSONObjectReader, _ fail: (String) -> ModelError) throws {
        let type = try object.string("type")
        if type == "ByteLevel" { return }
        if type == "Sequence", let steps = try object.objects("decoders"), steps.count == 1 {
            try checkDecoder(steps[0], fail)
            return
        }
        throw fail("decoder \(type.map { "\"\($0)\"" } ?? "without a type") is not supported (only ByteLevel is)")
    }

    // MARK: Tokenizer

    public func encode(_ text: String) -> [Int] {
        var text = text
        var output: [Int] = []
        text.withUTF8 { bytes in
            output.reserveCapacity(bytes.count / 3 + 1)
            if splitter.isEmpty {
                if !bytes.isEmpty { encodeText(bytes, into: &output) }
                return
            }
            for piece in splitter.split(bytes) {
                switch piece {
                case let .token(id):
                    output.append(id)
                case let .text(range):
                    encodeText(UnsafeBufferPointer(rebasing: bytes[range]), into: &output)
                }
            }
        }
        return output
    }

    /// Encodes a stretch of text that contains no added token.
    private func encodeText(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        if addsPrefixSpace && bytes.first != 0x20 {
            var spaced = [UInt8]()
            spaced.reserveCapacity(bytes.count + 1)
            spaced.append(0x20)
            spaced.append(contentsOf: bytes)
            spaced.withUnsafeBufferPointer { encodePieces($0, into: &output) }
        } else {
            encodePieces(bytes, into: &output)
        }
    }

    private func encodePieces(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        if usesRegex {
            GPT2PreTokenizer.forEachPiece(bytes) { range in
                model.encode(UnsafeBufferPointer(rebasing: bytes[range]), into: &output)
            }
        } else {
            model.encode(bytes, into: &output)
        }
    }

    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && id < tokenBytes.count {
            bytes.append(contentsOf: tokenBytes[id])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func token(for id: Int) -> String? {
        guard id >= 0 && id < tokens.count else { return nil }
        return tokens[id]
    }

    public func id(for token: String) -> Int? {
        // Swift compares strings by canonical equivalence; only an exact match counts here.
        guard let id = idsByToken[token], let stored = tokens[id], stored.utf8.elementsEqual(token.utf8) else {
            return nil
        }
        return id
    }

    /// The decoded text of one token with whitespace made visible; bytes that are not valid UTF-8 on
    /// their own are shown as `<0xE2>`. Added tokens are shown as their content.
    public func displayString(for id: Int) -> String {
        guard let token = token(for: id) else { return "<no token \(id)>" }
        if isAdded[id] { return token }
        return TokenDisplay.visible(utf8: tokenBytes[id])
    }

    /// Whether `id` is an added token marked special (such as `<|endoftext|>`).
    public func isSpecialToken(_ id: Int) -> Bool {
        specialTokenIDs.contains(id)
    }
}
