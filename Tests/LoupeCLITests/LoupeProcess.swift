import Foundation
import Testing

/// Runs the built `loupe` executable and returns its exit code, stdout and stderr.
func runLoupe(_ arguments: [String]) throws -> (Int32, String, String) {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("loupe")
    let candidates = [binary, Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("loupe"),
                      Bundle.main.bundleURL.appendingPathComponent("loupe")]
    let executable = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
