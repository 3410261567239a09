import Foundation
import LoupeCore
import Testing

/// Builds safetensors bytes from a raw JSON header and data, for malformed-file tests.
func rawSafetensors(header: String, data: [UInt8]) -> Data {
    var bytes = Data()
    var length = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
    bytes.append(Data(header.utf8))
    bytes.append(contentsOf: data)
    return bytes
}

@Suite struct SafetensorsTests {
    @Test func writtenTensorsReadBackIdentically() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, .infinity, -0.25])
        let bytes = try SafetensorsWriter.encode(
            ["b.weight": .float32(a), "a.ids": .int32(shape: [4], values: [7, -1, 0, 123_456])],
            metadata: ["format": "pt"])
        let file = try SafetensorsFile(data: bytes, path: "memory")
        #expect(file.names == ["a.ids", "b.weight"])
        #expect(try file.tensor("b.weight") == a)
        #expect(try file.integers("a.ids") == [7, -1, 0, 123_456])
        #expect(file.entries["a.ids"]?.dtype == .i32)
        #expect(file.metadata == ["format": "pt"])
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
    }

    /// Found by fuzzing (docs/RELIABILITY.md): a float tensor read as integers trapped on a value
    /// beyond `Int`'s range.
    @Test func integersOfAFloatTensorMustBeWholeNumbers() throws {
        let whole = try SafetensorsFile(data: try SafetensorsWriter.encode(["w": .float32(try Tensor(shape: [2], scalars: [3, -4]))]), path: "whole")
        #expect(try whole.integers("w") == [3, -4])
        for value: Float in [1e30, -.infinity, .nan, 2.5] {
            let file = try SafetensorsFile(data: try SafetensorsWriter.encode(["w": .float32(try Tensor(shape: [1], scalars: [value]))]), path: "bad")
            #expect(throws: CoreError.self) { try file.integers("w") }
        }
    }

    /// Found by fuzzing (docs/RELIABILITY.md): a shape whose element count fits `Int` but whose byte
    /// count does not trapped while checking it against the data offsets.
    @Test func aShapeWhoseBytesOverflowIsRefused() throws {
        var header = Array(#"{"b":{"dtype":"BF16","shape":[9223372036854775807,1],"data_offsets":[0,2]}}"#.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let data = Data(withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header + [0, 0])
        #expect(throws: CoreError.self) { try SafetensorsFile(data: data, path: "overflow") }
    }

    @Test func encodingIsDeterministic() throws {
        let t = Tensor(shape: [3], repeating: 2)
        let one = try SafetensorsWriter.encode(["x": .float32(t), "y": .float32(t), "z": .float32(t)])
        let two = try SafetensorsWriter.encode(["z": .float32(t), "x": .float32(t), "y": .float32(t)])
        #expect(one == two)
        // The header is JSON with sorted keys; names that need escaping stay readable.
        let named = try SafetensorsWriter.encode(["a\"b\\c/d\n": .float32(t)], metadata: ["k": "v/\u{1}"])
        let file = try SafetensorsFile(data: named, path: "memory")
        #expect(file.names == ["a\"b\\c/d\n"] && file.metadata == ["k": "v/\u{1}"])
    }

    @Test func halfBFloatDoubleAndInt64AreConvertedToFloat() throws {
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF, smallest subnormal 0x0001.
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xC1, 0xFF, 0x7B, 0x01, 0x00]
        // BF16: 1.0 = 0x3F80, -3.0 = 0xC040.
        let bf16: [UInt8] = [0x80, 0x3F, 0x40, 0xC0]
        var f64: [UInt8] = []
        for value in [0.5, -1e-3] { withUnsafeBytes(of: value.bitPattern.littleEndian) { f64 += $0 } }
        var i64: [UInt8] = []
        for value in [Int64(-5), 9_000_000_000] { withUnsafeBytes(of: value.littleEndian) { i64 += $0 } }
        let header = """
            {"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},\
            "d":{"dtype":"F64","shape":[2],"data_offsets":[12,28]},"i":{"dtype":"I64","shape":[2],"data_offsets":[28,44]}}
            """
        let file = try SafetensorsFile(data: rawSafetensors(header: header, data: f16 + bf16 + f64 + i64), path: "memory")
        #expect(try file.tensor("h").scalars == [1, -2.5, 65504, 0x1p-24])
        #expect(try file.tensor("b").scalars == [1, -3])
        #expect(try file.tensor("d").scalars == [0.5, Float(-1e-3)])
        #expect(try file.integers("i") == [-5, 9_000_000_000])
    }

    @Test func halfPrecisionSpecialValues() {
        #expect(HalfPrecision.float(fromHalfBits: 0x7C00) == .infinity)
        #expect(HalfPrecision.float(fromHalfBits: 0xFC00) == -.infinity)
        #expect(HalfPrecision.float(fromHalfBits: 0x7E00).isNaN)
        #expect(HalfPrecision.float(fromHalfBits: 0x8000).sign == .minus)
        #expect(HalfPrecision.float(fromHalfBits: 0x3555) == 0.333_251_95)
    }

    static let malformed: [(String, Data, String)] = [
        ("shorter than the length field", Data([1, 2, 3]), "shorter than the 8-byte header length"),
        ("header length past the end", rawSafetensors(header: "{}", data: []).dropLast(1), "runs past the end of the file"),
        ("header not JSON", rawSafetensors(header: "{not json", data: []), "not valid JSON"),
        ("header not an object", rawSafetensors(header: "[1,2]", data: []), "not a JSON object"),
        ("entry without offsets", rawSafetensors(header: #"{"x":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), "lacks dtype"),
        ("offsets past the data", rawSafetensors(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "past the end of the data"),
        ("offsets backwards", rawSafetensors(header: #"{"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), "run backwards"),
        ("size disagrees with shape", rawSafetensors(header: #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "does not fill"),
        ("overlapping tensors", rawSafetensors(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: Array(repeating: 0, count: 12)), "overlap"),
        ("negative dimension", rawSafetensors(header: #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "invalid shape"),
    ]

    @Test(arguments: malformed.indices)
    func malformedFilesGiveOneClearError(index: Int) {
        let (label, bytes, message) = Self.malformed[index]
        do {
            _ = try SafetensorsFile(data: bytes, path: "weights/\(label).safetensors")
            Issue.record("\(label): accepted")
        } catch let error as CoreError {
            #expect(error.description.contains("weights/\(label).safetensors"), "\(label): \(error)")
            #expect(error.description.contains(message), "\(label): \(error)")
        } catch {
            Issue.record("\(label): unexpected error \(error)")
        }
    }

    @Test func unknownDTypeIsNamed() {
        let bytes = rawSafetensors(header: #"{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        #expect(throws: CoreError.unsupportedDType(path: "f.safetensors", tensor: "w", dtype: "Q7")) {
            try SafetensorsFile(data: bytes, path: "f.safetensors")
        }
    }

    @Test func missingAndMisShapedTensorsAreNamed() throws {
        let file = try SafetensorsFile(data: try SafetensorsWriter.encode(["a": .float32(Tensor(shape: [2, 2]))]), path: "m.safetensors")
        #expect(throws: CoreError.missingTensor(path: "m.safetensors", tensor: "b")) { try file.tensor("b") }
        #expect(throws: CoreError.shapeMismatch(path: "m.safetensors", tensor: "a", expected: [4], found: [2, 2])) {
            try file.tensor("a", shape: [4])
        }
    }

    @Test func unreadableFileIsNamed() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/model.safetensors")
        do {
            _ = try SafetensorsFile(url: url)
            Issue.record("accepted a missing file")
        } catch {
            #expect("\(error)".contains("/nonexistent/dir/model.safetensors"))
        }
    }
}
