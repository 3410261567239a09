import Foundation
import LoupeCore
import Testing

@Suite struct NpyTests {
    @Test func roundTripKeepsShapeAndValues() throws {
        let t = try Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, -4, 5.5, 1e-8])
        let data = Npy.encode(t)
        #expect(try Npy.decode(data, path: "t.npy") == t)
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(String(decoding: data[10..<(10 + headerLength)], as: UTF8.self).contains("'shape': (2, 1, 3)"))
    }

    @Test func readsFloat64AndInt64WrittenByNumPy() throws {
        // np.save of np.array([[1.5, -2.0]], dtype='<f8') and np.array([3, -4], dtype='<i8').
        func npy(_ descr: String, shape: String, payload: [UInt8]) -> Data {
            var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0])
            data.append(Data(header.utf8))
            data.append(contentsOf: payload)
            return data
        }
        var f64: [UInt8] = []
        for v in [1.5, -2.0] { withUnsafeBytes(of: v.bitPattern.littleEndian) { f64 += $0 } }
        #expect(try Npy.decode(npy("<f8", shape: "(1, 2)", payload: f64), path: "a.npy") == Tensor(shape: [1, 2], scalars: [1.5, -2]))
        var i64: [UInt8] = []
        for v in [Int64(3), -4] { withUnsafeBytes(of: v.littleEndian) { i64 += $0 } }
        #expect(try Npy.decode(npy("<i8", shape: "(2,)", payload: i64), path: "b.npy").scalars == [3, -4])
        #expect(throws: CoreError.self) { try Npy.decode(npy(">f4", shape: "(1,)", payload: [0, 0, 0, 0]), path: "c.npy") }
        #expect(throws: CoreError.self) { try Npy.decode(npy("<f4", shape: "(2,)", payload: [0, 0, 0, 0]), path: "d.npy") }
        #expect(throws: CoreError.self) { try Npy.decode(Data("not an array".utf8), path: "e.npy") }
    }
}
