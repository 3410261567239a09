import Foundation
import LoupeFindings

/// Element types a safetensors file may declare.
public enum SafetensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i32 = "I32", i64 = "I64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f16, .bf16: return 2
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        }
    }
}

/// One tensor's entry in a safetensors header: dtype, shape and byte range inside the data section.
public struct SafetensorsEntry: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let byteRange: Range<Int>
}

/// A safetensors file: an 8-byte little-endian header length, a JSON header mapping names to
/// `{dtype, shape, data_offsets}`, then the raw little-endian data. Opening a file reads only its
/// header; each tensor is read from disk when asked for, straight into its own storage, so holding a
/// model's weights costs their size once.
///
/// Opening validates the whole layout (header size, JSON, dtypes, sizes, offsets within the data
/// and not overlapping) so later reads cannot run out of bounds.
public struct SafetensorsFile: Sendable {
    /// Path the file was read from (used in error messages).
    public let path: String
    /// Tensor entries by name.
    public let entries: [String: SafetensorsEntry]
    /// The free-form `__metadata__` string map, if any.
    public let metadata: [String: String]
    /// Where the data section is read from.
    private enum Source: Sendable {
        case memory(Data)
        case file
    }
    private let source: Source
    /// Offset of the data section from the start of the bytes.
    private let dataStart: Int

    /// Opens the file at `url`, reading and validating its header.
    public init(url: URL) throws {
        let path = url.path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CoreError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw CoreError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(status.st_size)
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        guard size >= 8 else { throw Self.tooShort(size, path) }
        try lengthBytes.withUnsafeMutableBytes { try Self.read(descriptor, into: $0, at: 0, path: path) }
        let headerLength = try Self.headerLength(lengthBytes, size: size, path: path)
        var header = Data(count: headerLength)
        try header.withUnsafeMutableBytes { try Self.read(descriptor, into: $0, at: 8, path: path) }
        try self.init(header: header, size: size, source: .file, path: path)
    }

    /// Parses safetensors bytes held in memory; `path` is only used in error messages.
    public init(data bytes: Data, path: String) throws {
        guard bytes.count >= 8 else { throw Self.tooShort(bytes.count, path) }
        let headerLength = try Self.headerLength(bytes.prefix(8), size: bytes.count, path: path)
        let headerStart = bytes.startIndex + 8
        try self.init(header: bytes[headerStart..<(headerStart + headerLength)], size: bytes.count, source: .memory(bytes), path: path)
    }

    private static func tooShort(_ size: Int, _ path: String) -> CoreError {
        CoreError.corruptSafetensors(path: path, reason: "file is \(size) bytes, shorter than the 8-byte header length")
    }

    /// The header length stored in the first eight bytes, checked against the file's `size`.
    private static func headerLength<Bytes: Collection>(_ bytes: Bytes, size: Int, path: String) throws -> Int where Bytes.Element == UInt8 {
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(size - 8) else {
            throw CoreError.corruptSafetensors(
                path: path, reason: "header length \(headerLength) runs past the end of the file (\(size) bytes); the file may be truncated")
        }
        return Int(headerLength)
    }

    /// Parses the JSON `headerBytes` of a file of `size` bytes whose data is read from `source`.
    private init(header headerBytes: Data, size: Int, source: Source, path: String) throws {
        self.path = path
        let header = try JSONObjectReader.parse(
            headerBytes, path: path,
            error: { key, reason in
                CoreError.corruptSafetensors(path: path, reason: key.map { "'\($0)': \(reason)" } ?? "header: \(reason)")
            })
        let dataLength = size - 8 - headerBytes.count
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for name in header.keys {
            guard let fields = try header.object(name) else {
                throw CoreError.corruptSafetensors(path: path, reason: "entry '\(name)' is null")
            }
            if name == "__metadata__" {
                for key in fields.keys { metadata[key] = try fields.required(key, fields.string) }
                continue
            }
            entries[name] = try Self.entry(name: name, fields: fields.values, dataLength: dataLength, path: path)
        }
        let ordered = entries.values.sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw CoreError.corruptSafetensors(
                path: path, reason: "tensors '\(previous.name)' and '\(next.name)' overlap (data_offsets \(previous.byteRange) and \(next.byteRange))")
        }
        self.entries = entries
        self.metadata = metadata
        self.source = source
        self.dataStart = 8 + headerBytes.count
    }

    /// Fills `buffer` with the bytes of `descriptor` from `offset`; a short read means the file shrank.
    private static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw got < 0
                    ? CoreError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
                    : CoreError.corruptSafetensors(path: path, reason: "the file ends before byte \(offset + buffer.count); it changed since it was opened")
            }
            done += got
        }
    }

    /// Fills `buffer` (exactly the entry's size) with the bytes of `entry`.
    private func read(_ entry: SafetensorsEntry, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard buffer.count > 0 else { return }
        let offset = dataStart + entry.byteRange.lowerBound
        switch source {
        case let .memory(data):
            data.withUnsafeBytes { raw in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + buffer.count)])) }
        case .file:
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw CoreError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
            defer { close(descriptor) }
            try Self.read(descriptor, into: buffer, at: offset, path: path)
        }
    }

    /// The bytes of `entry` in a temporary buffer, passed to `body`.
    private func withBytes<Result>(of entry: SafetensorsEntry, _ body: (UnsafeRawPointer) throws -> Result) throws -> Result {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, entry.byteRange.count), alignment: 16)
        defer { buffer.deallocate() }
        try read(entry, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<entry.byteRange.count]))
        return try body(UnsafeRawPointer(buffer.baseAddress!))
    }

    /// The entry `name` of the header from its `fields` (`dtype`, `shape`, `data_offsets`).
    private static func entry(name: String, fields values: [String: Any], dataLength: Int, path: String) throws -> SafetensorsEntry {
        let fields = JSONObjectReader(values, path: path) { key, reason in
            CoreError.corruptSafetensors(path: path, reason: "entry '\(name)': invalid \(key ?? "fields"): \(reason)")
        }
        guard let dtypeName = try fields.string("dtype"),
              let shape = try fields.integers("shape"),
              let offsets = try fields.integers("data_offsets")
        else {
            throw CoreError.corruptSafetensors(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw CoreError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw fields.error("shape", "\(shape) has a negative dimension")
        }
        guard offsets.count == 2, offsets.allSatisfy({ $0 >= 0 }) else {
            throw fields.error("data_offsets", "\(offsets) is not two non-negative offsets")
        }
        guard offsets[0] <= offsets[1] else {
            throw CoreError.corruptSafetensors(path: path, reason: "entry '\(name)' has data_offsets \(offsets) that run backwards")
        }
        guard offsets[1] <= dataLength else {
            throw CoreError.corruptSafetensors(
                path: path, reason: "entry '\(name)' has data_offsets \(offsets) past the end of the data (\(dataLength) bytes); the file may be truncated")
        }
        let (elements, overflow) = shape.reduce((1, false)) { acc, dim in
            let (product, o) = acc.0.multipliedReportingOverflow(by: dim)
            return (product, acc.1 || o)
        }
        let (bytes, bytesOverflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, !bytesOverflow, bytes == offsets[1] - offsets[0] else {
            throw CoreError.corruptSafetensors(
                path: path, reason: "entry '\(name)' of shape \(shape) and dtype \(dtypeName) does not fill data_offsets \(offsets)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
    }

    /// Tensor names in sorted order.
    public var names: [String] { entries.keys.sorted() }

    /// The tensor `name` converted to Float32 (from F32, F16, BF16, F64, I32 or I64).
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw CoreError.missingTensor(path: path, tensor: name) }
        let count = entry.shape.reduce(1, *)
        let values: [Float]
        if entry.dtype == .f32 && Self.littleEndianHost {
            // Little-endian F32 is already the host's layout of Float: read straight into the tensor.
            values = try [Float](unsafeUninitializedCapacity: count) { out, initialized in
                try read(entry, into: UnsafeMutableRawBufferPointer(out))
                initialized = count
            }
        } else {
            values = try withBytes(of: entry) { base in (0..<count).map { Self.float(at: base, index: $0, dtype: entry.dtype) } }
        }
        return Tensor(uncheckedShape: entry.shape, scalars: values)
    }

    /// The tensor `name` checked against an expected shape.
    public func tensor(_ name: String, shape expected: [Int]) throws -> Tensor {
        let result = try tensor(name)
        guard result.shape == expected else {
            throw CoreError.shapeMismatch(path: path, tensor: name, expected: expected, found: result.shape)
        }
        return result
    }

    /// The integer tensor `name` (I32 or I64; a float tensor whose values are all whole numbers in
    /// `Int`'s range is read too) as Swift integers, flattened; `corruptSafetensors` for a float value
    /// that is not such a number.
    public func integers(_ name: String) throws -> [Int] {
        guard let entry = entries[name] else { throw CoreError.missingTensor(path: path, tensor: name) }
        let count = entry.shape.reduce(1, *)
        return try withBytes(of: entry) { base in
            try (0..<count).map { i in
                switch entry.dtype {
                case .i32: return Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .i64: return Int(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                default:
                    let value = Self.float(at: base, index: i, dtype: entry.dtype)
                    guard let whole = Int(exactly: value) else {
                        throw CoreError.corruptSafetensors(path: path, reason: "tensor '\(name)' holds \(value) at index \(i), not an integer")
                    }
                    return whole
                }
            }
        }
    }

    /// Whether this machine stores numbers little-endian, as safetensors files do.
    private static let littleEndianHost = 1.littleEndian == 1

    @inline(__always)
    private static func float(at base: UnsafeRawPointer, index i: Int, dtype: SafetensorsDType) -> Float {
        switch dtype {
        case .f32:
            return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        case .f16:
            return HalfPrecision.float(fromHalfBits: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        case .bf16:
            return Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
        case .f64:
            return Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
        case .i32:
            return Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
        case .i64:
            return Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return nsError.localizedDescription
    }
}

/// A tensor to be written to a safetensors file: Float32 values, or 32-bit integers.
public enum SafetensorsValue: Sendable {
    /// A tensor's values with its shape.
    case float32(Tensor)
    /// `values` in row-major order; `shape` has no negative dimension and holds `values.count` values.
    case int32(shape: [Int], values: [Int32])
}

/// Writes safetensors files: tensors sorted by name, header padded with spaces to a multiple of
/// 8 bytes, so the same tensors always give the same bytes.
public enum SafetensorsWriter {
    /// Serialises `tensors` (and optional `metadata`) to safetensors bytes; throws
    /// `CoreError.incompatibleShapes` when a shape does not hold its values.
    public static func encode(_ tensors: [String: SafetensorsValue], metadata: [String: String] = [:]) throws -> Data {
        if let error = shapeError(tensors) { throw error }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for (name, value) in tensors.sorted(by: { $0.key < $1.key }) {
            let start = body.count
            let dtype: String
            let shape: [Int]
            switch value {
            case let .float32(tensor):
                dtype = "F32"
                shape = tensor.shape
                tensor.scalars.withUnsafeBufferPointer { body.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
            case let .int32(intShape, values):
                dtype = "I32"
                shape = intShape
                values.withUnsafeBufferPointer { body.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
            }
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [start, body.count]] as [String: Any]
        }
        var headerBytes = try JSONWriter.encode(object: header)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data()
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        file.append(body)
        return file
    }

    /// Writes `tensors` to `url` (atomically: a temporary file renamed into place); throws
    /// `CoreError.incompatibleShapes` when a shape does not hold its values.
    public static func write(_ tensors: [String: SafetensorsValue], to url: URL, metadata: [String: String] = [:]) throws {
        let data = try encode(tensors, metadata: metadata)
        do {
            try AtomicFile.write(data, to: url)
        } catch {
            throw CoreError.unwritableFile(path: url.path, reason: SafetensorsFile.reason(error))
        }
    }

    /// The error for the first (by name) value whose shape does not hold its values.
    private static func shapeError(_ tensors: [String: SafetensorsValue]) -> CoreError? {
        for name in tensors.keys.sorted() {
            let (shape, count): ([Int], Int)
            switch tensors[name]! {
            case let .float32(tensor): (shape, count) = (tensor.shape, tensor.count)
            case let .int32(intShape, values): (shape, count) = (intShape, values.count)
            }
            guard Tensor.elementCount(shape) != count else { continue }
            return CoreError.incompatibleShapes(
                operation: "SafetensorsWriter", detail: "tensor '\(name)': shape \(shape) does not hold \(count) values")
        }
        return nil
    }
}
