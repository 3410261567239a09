import Foundation

/// Reads and writes NumPy `.npy` arrays (format versions 1–3, C order).
///
/// Reading accepts little-endian `f4`, `f2`, `f8`, `i4`, `i8` and converts to Float32;
/// writing produces version 1.0 `<f4`.
public enum Npy {
    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Reads the array at `url` as a Float32 tensor.
    public static func read(url: URL) throws -> Tensor {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw CoreError.unreadableFile(path: url.path, reason: SafetensorsFile.reason(error))
        }
        return try decode(bytes, path: url.path)
    }

    /// Parses `.npy` bytes; `path` is only used in error messages.
    public static func decode(_ data: Data, path: String) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw CoreError.corruptNpy(path: path, reason: "missing the \\x93NUMPY magic string")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw CoreError.corruptNpy(path: path, reason: "truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw CoreError.corruptNpy(path: path, reason: "unsupported format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .utf8)
        else {
            throw CoreError.corruptNpy(path: path, reason: "header runs past the end of the file")
        }
        guard let descr = field("descr", in: header), let shapeText = field("shape", in: header) else {
            throw CoreError.corruptNpy(path: path, reason: "header lacks 'descr' or 'shape'")
        }
        if field("fortran_order", in: header) == "True" {
            throw CoreError.corruptNpy(path: path, reason: "Fortran-ordered arrays are not supported")
        }
        let shape = try shapeText
            .trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .map { part -> Int in
                guard let dim = Int(part), dim >= 0 else { throw CoreError.corruptNpy(path: path, reason: "invalid shape \(shapeText)") }
                return dim
            }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let size: Int
        switch dtype {
        case "<f4", "<i4": size = 4
        case "<f2": size = 2
        case "<f8", "<i8": size = 8
        default: throw CoreError.corruptNpy(path: path, reason: "unsupported dtype \(dtype) (little-endian f2, f4, f8, i4, i8 are read)")
        }
        let start = headerStart + headerLength
        guard let count = Tensor.elementCount(shape), case let (needed, false) = count.multipliedReportingOverflow(by: size) else {
            throw CoreError.corruptNpy(path: path, reason: "shape \(shape) holds more values than can be addressed")
        }
        guard bytes.count - start == needed else {
            throw CoreError.corruptNpy(path: path, reason: "data holds \(bytes.count - start) bytes, shape \(shape) of \(dtype) needs \(needed)")
        }
        let values = bytes.withUnsafeBytes { raw -> [Float] in
            let base = raw.baseAddress! + start
            return (0..<count).map { i in
                switch dtype {
                case "<f4": return Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case "<f2": return HalfPrecision.float(fromHalfBits: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case "<f8": return Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                case "<i4": return Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                default: return Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: values)
    }

    /// Serialises a tensor as a version 1.0 `<f4` array.
    public static func encode(_ tensor: Tensor) -> Data {
        let dims = tensor.shape.map(String.init)
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(Data(header.utf8))
        tensor.scalars.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        return data
    }

    /// Writes a tensor to `url` as `.npy`.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        do {
            try encode(tensor).write(to: url, options: .atomic)
        } catch {
            throw CoreError.unwritableFile(path: url.path, reason: SafetensorsFile.reason(error))
        }
    }

    /// The text of `key`'s value in a Python-literal header dict.
    private static func field(_ key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") else { return nil }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        rest = rest.prefix { $0 != "," && $0 != "}" }
        return rest.trimmingCharacters(in: .whitespaces)
    }
}
