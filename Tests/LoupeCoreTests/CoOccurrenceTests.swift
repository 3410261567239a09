import Foundation
import LoupeCore
import Testing

@Suite struct CoOccurrenceTests {
    @Test(arguments: [(5, 3, 0.5), (130, 67, 0.3), (64, 200, 0.9), (1, 1, 1.0), (0, 3, 0.5)])
    func countsMatchPlainLoops(rows: Int, columns: Int, density: Double) throws {
        var rng = SeededRandom(seed: UInt64(rows * 1_000 + columns))
        var x = Tensor(shape: [rows, columns])
        for i in 0..<x.count { x.scalars[i] = Double(rng.nextUniform()) < density ? rng.nextUniform() + 0.01 : -rng.nextUniform() }
        let include = (0..<rows).map { $0 % 7 != 3 }
        var counts = [UInt32](repeating: 2, count: columns * columns)
        try CoOccurrence.accumulatePositive(x, include: include, into: &counts)
        for i in 0..<columns {
            for j in 0..<columns {
                var expected: UInt32 = 2
                for r in 0..<rows where include[r] && x.scalars[r * columns + i] > 0 && x.scalars[r * columns + j] > 0 { expected += 1 }
                if counts[i * columns + j] != expected { Issue.record("(\(i), \(j)): \(counts[i * columns + j]) ≠ \(expected)") }
            }
        }
    }

    @Test func shapesAreChecked() throws {
        var counts = [UInt32](repeating: 0, count: 4)
        #expect(throws: CoreError.self) { try CoOccurrence.accumulatePositive(Tensor(shape: [3, 2]), include: [true], into: &counts) }
        #expect(throws: CoreError.self) { try CoOccurrence.accumulatePositive(Tensor(shape: [1, 3]), include: [true], into: &counts) }
        #expect(throws: CoreError.self) { try CoOccurrence.accumulatePositive(Tensor(shape: [2]), include: [true, true], into: &counts) }
    }
}
