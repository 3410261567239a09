import Foundation
import LoupeCore
import Testing
@testable import LoupeCLI

/// `loupe encode`, run through its parser.
@Suite("Dictionary: encode command")
struct DictionaryEncodeCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent("sae")

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-encode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: ["topk-flat", "jumprelu-nested", "standard-scaled"])
    func encodeWritesSAELensFeaturesAndReconstruction(name: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sae = Self.fixtures.appendingPathComponent(name)
        let referenceURL = sae.appendingPathComponent("reference.safetensors")
        let reference = try SafetensorsFile(url: referenceURL)
        let output = directory.appendingPathComponent("encoded.safetensors")
        let command = try EncodeCommand.parse([
            "--sae", sae.path, "--input", referenceURL.path, "--tensor", "input", "--output", output.path,
        ])
        try command.run()
        let written = try SafetensorsFile(url: output)
        #expect(try written.tensor("feature_acts").maxAbsDifference(reference.tensor("feature_acts")) <= 1e-4)
        #expect(try written.tensor("reconstruction").maxAbsDifference(reference.tensor("reconstruction")) <= 1e-4)
    }

    @Test func errorsNameTheTensorAndOption() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sae = Self.fixtures.appendingPathComponent("topk-flat")
        let input = directory.appendingPathComponent("acts.safetensors")
        try SafetensorsWriter.write(["acts": .float32(Tensor(shape: [2, 3, 32]))], to: input)
        let output = directory.appendingPathComponent("out.safetensors")
        let wrongWidth = try EncodeCommand.parse(["--sae", sae.path, "--input", input.path, "--tensor", "acts", "--output", output.path])
        do {
            try wrongWidth.run()
            Issue.record("a [2, 3, 32] tensor was accepted by a d_in 16 dictionary")
        } catch {
            #expect("\(error)".contains("tensor 'acts'"))
            #expect("\(error)".contains("16"))
        }
        let scaled = try EncodeCommand.parse([
            "--sae", sae.path, "--input", input.path, "--tensor", "acts", "--output", output.path, "--scaling-factor", "2",
        ])
        #expect(throws: CLIError.invalidOption(name: "--scaling-factor", reason: "the dictionary does not normalise its inputs (normalize_activations is none)")) {
            try scaled.run()
        }
        #expect(throws: (any Error).self) {
            try EncodeCommand.parse(["--sae", sae.path, "--input", input.path, "--output", output.path])
        }
    }
}
