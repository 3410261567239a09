import Foundation

/// A one-line progress display on stderr (`label done/total, rate, ETA, detail`), redrawn in
/// place at most a few times a second. Silent when stderr is not a terminal or when `quiet`.
final class ProgressLine {
    private let label: String
    private let total: Int
    private let unit: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(_ label: String, total: Int, unit: String = "steps", quiet: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        enabled = !quiet && isatty(FileHandle.standardError.fileDescriptor) != 0
    }

    /// Shows `done` of `total` with an optional detail (e.g. the current loss).
    func update(_ done: Int, detail: String = "", startedAt first: Int = 0) {
        guard enabled else { return }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) > 0.25 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(done - first) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let line = "\(label) \(done)/\(total) \(unit), \(String(format: "%.1f", rate))/s, ETA \(Self.duration(remaining))\(detail.isEmpty ? "" : ", " + detail)"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    /// Ends the line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
