import Foundation
import LoupeCore

/// `loupe-fuzz TARGET --runs N --seed S --repository DIR [--last-input FILE]`: feeds N seeded mutations of
/// the target's seed inputs to one parser of user files. Every input must give a value or a thrown error;
/// a crash ends the process, and the input that caused it is in `--last-input` (written before each
/// case). Prints one JSON line: target, runs, inputs accepted and rejected, seconds. `--list` prints the
/// targets.
let arguments = CommandLine.arguments
func value(_ flag: String) -> String? {
    arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("loupe-fuzz: \(message)\n".utf8))
    exit(64)
}
if arguments.contains("--list") {
    for target in FuzzTarget.all { print("\(target.name)\t\(target.summary)") }
    exit(0)
}
guard arguments.count > 1, let target = FuzzTarget.all.first(where: { $0.name == arguments[1] }) else {
    fail("usage: loupe-fuzz TARGET --runs N --seed S --repository DIR [--last-input FILE]; targets: "
        + FuzzTarget.all.map(\.name).joined(separator: ", "))
}
guard let runs = Int(value("--runs") ?? "1000"), runs >= 0 else { fail("--runs needs a number") }
guard let seed = UInt64(value("--seed") ?? "1") else { fail("--seed needs a number") }
let repository = URL(fileURLWithPath: value("--repository") ?? FileManager.default.currentDirectoryPath)
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-fuzz-\(target.name)-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }
try target.prepare(scratch, repository)
let seeds = try target.seeds(repository)
let file = scratch.appendingPathComponent(target.fileName)
let lastInput = value("--last-input").map { URL(fileURLWithPath: $0) }
/// Writes `data` to `url` with plain POSIX calls: Foundation's `Data.write` syncs the file to disk,
/// which would cost more than most parses.
func put(_ data: Data, at url: URL) throws {
    let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
    defer { close(descriptor) }
    let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == data.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
}
var mutator = Mutator(rng: SeededRandom(seed: seed))
var picker = SeededRandom(seed: seed ^ 0x5EED)
var (accepted, rejected) = (0, 0)
let start = Date()
for run in 0..<runs {
    let base = seeds[picker.nextInt(below: seeds.count)]
    let other = seeds[picker.nextInt(below: seeds.count)]
    let input = run < seeds.count ? seeds[run] : mutator.mutate(base, other: other)
    let data = Data(input)
    if let lastInput { try put(data, at: lastInput) }
    try put(data, at: file)
    do {
        try target.parse(file, scratch)
        accepted += 1
    } catch {
        rejected += 1
    }
}
let summary: [String: Any] = [
    "target": target.name, "runs": runs, "accepted": accepted, "rejected": rejected,
    "seconds": (Date().timeIntervalSince(start) * 100).rounded() / 100,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
