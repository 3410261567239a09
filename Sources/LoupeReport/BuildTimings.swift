import Foundation
import LoupeFindings

/// The wall time and peak resident memory of one phase of a build (a step, or a step's part for one
/// hook, task or site).
public struct PhaseTiming: Codable, Sendable, Equatable {
    /// The phase, named as its step is (`store`, `dictionary(blocks.6.hook_resid_pre)`, `render`, …).
    public var phase: String
    public var seconds: Double
    /// The largest resident set of the process during the phase, in bytes (on Linux; elsewhere the
    /// largest since the process started).
    public var peakResidentBytes: Int
}

/// Where a build's time and memory went, phase by phase (`loupe build --timings`; written to
/// `<report>/findings/timings.json` by every build that computes its findings, beside them rather than
/// in them, since findings are byte-identical from run to run and timings are not).
public struct BuildTimings: Codable, Sendable, Equatable {
    public var phases: [PhaseTiming] = []

    public init(phases: [PhaseTiming] = []) {
        self.phases = phases
    }

    /// The sum of the phases' times.
    public var totalSeconds: Double { phases.reduce(0) { $0 + $1.seconds } }
    /// The largest of the phases' peaks.
    public var peakResidentBytes: Int { phases.map(\.peakResidentBytes).max() ?? 0 }

    /// A plain-text table: one row per phase (seconds, share of the total, peak resident MB) and a total.
    public func table() -> String {
        let total = totalSeconds
        let rows = phases.map { ($0.phase, $0.seconds, $0.peakResidentBytes) } + [("total", total, peakResidentBytes)]
        let width = max(5, rows.map(\.0.count).max() ?? 0)
        func pad(_ text: String, _ count: Int, left: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, count - text.count))
            return left ? text + fill : fill + text
        }
        var lines = [pad("phase", width, left: true) + "  " + pad("seconds", 9) + "  " + pad("share", 6) + "  " + pad("peak RSS MB", 11)]
        for (phase, seconds, bytes) in rows {
            let share = total > 0 ? String(format: "%.0f %%", 100 * seconds / total) : "–"
            lines.append(
                pad(phase, width, left: true) + "  " + pad(String(format: "%.2f", seconds), 9) + "  " + pad(share, 6) + "  "
                    + pad(String(format: "%.0f", Double(bytes) / 1_048_576), 11))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Measures phases: wall time on the monotonic clock, and the resident-set peak, reset at the start of
/// each phase where the system allows it (Linux: `/proc/self/clear_refs`).
public enum PhaseClock {
    /// Runs `body` as `phase`, reporting its timing to `record`.
    public static func measure<T>(_ phase: String, record: (PhaseTiming) -> Void, _ body: () throws -> T) rethrows -> T {
        ResidentMemory.resetPeak()
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        record(PhaseTiming(phase: phase, seconds: seconds, peakResidentBytes: ResidentMemory.peakBytes()))
        return result
    }
}

/// The process's resident memory.
public enum ResidentMemory {
    /// Starts a new peak at the current resident set (Linux); elsewhere does nothing.
    public static func resetPeak() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        try? handle.write(contentsOf: Data("5".utf8))
        try? handle.close()
    }

    /// The peak resident set in bytes since the last reset (`VmHWM`), or the process's maximum from
    /// `getrusage` where `/proc` is missing.
    public static func peakBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") {
            return kilobytes * 1024
        }
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss
        #endif
    }
}
