import Foundation
import Testing

/// Every parser of user files under `loupe-fuzz`: 1,500 seeded mutations of its seed inputs each. An input
/// that crashes the parser ends the fuzzer's process (the test then shows the input), and one that hangs is
/// stopped after two minutes. Longer campaigns and what they found: `docs/RELIABILITY.md`.
@Suite("Fuzzing the parsers of user files", .serialized)
struct FuzzTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let targets = [
        "safetensors", "npy", "model-config", "saelens-cfg", "tokenizer-json", "vocab-json", "merges-txt",
        "loupe-tokenizer", "report-yaml", "train-yaml", "corpus-jsonl", "task-jsonl",
    ]

    static func fuzzer() throws -> URL {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [folder.appendingPathComponent("loupe-fuzz"),
                          Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("loupe-fuzz")]
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
    }

    @Test func theFuzzerListsEveryTarget() throws {
        let process = Process()
        process.executableURL = try Self.fuzzer()
        process.arguments = ["--list"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let listed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(listed.split(separator: "\n").map { String($0.split(separator: "\t")[0]) } == Self.targets)
    }

    @Test(arguments: targets)
    func parserSurvivesMutatedInputs(target: String) throws {
        let lastInput = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-fuzz-last-\(target)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: lastInput) }
        let process = Process()
        process.executableURL = try Self.fuzzer()
        process.arguments = [target, "--runs", "1500", "--seed", "7", "--repository", Self.repository.path, "--last-input", lastInput.path]
        // Files, not pipes: a crash's backtrace could fill a pipe nobody reads yet.
        let outFile = lastInput.appendingPathExtension("out"), errFile = lastInput.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outFile)
            try? FileManager.default.removeItem(at: errFile)
        }
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + 120) == .timedOut {
            process.terminate()
            Issue.record("\(target): no answer within 120 s; the input it hung on: \(Self.describe(lastInput))")
            return
        }
        let stdout = String(decoding: try Data(contentsOf: outFile), as: UTF8.self)
        let stderr = String(decoding: try Data(contentsOf: errFile), as: UTF8.self)
        #expect(process.terminationStatus == 0,
                "\(target) crashed: \(stderr.split(separator: "\n").prefix(3).joined(separator: " | ")); input: \(Self.describe(lastInput))")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        #expect(summary["runs"] as? Int == 1500)
        #expect((summary["accepted"] as? Int ?? 0) + (summary["rejected"] as? Int ?? 0) == 1500)
        #expect((summary["accepted"] as? Int ?? 0) > 0, "no mutated input parsed: the seeds are not valid")
    }

    /// The input as base64, for a regression test.
    static func describe(_ file: URL) -> String {
        (try? Data(contentsOf: file).base64EncodedString()).map { "base64 \($0)" } ?? "(none written)"
    }
}
