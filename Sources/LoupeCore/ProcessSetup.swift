import CMalloc
import Foundation

/// Process-wide settings for tensor workloads, applied once at the start of an executable.
public enum ProcessSetup {
    /// The OpenBLAS setting Loupe runs with: its worker threads spin for 2⁴ cycles after a call
    /// and then sleep, instead of the default 2²⁸. Spinning workers compete with Loupe's own
    /// element-wise kernels for the cores; on two cores that costs a third of training throughput.
    static let threadTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT"
    static let threadTimeout = "4"

    /// Prepares the process: keeps freed tensor buffers in the heap (glibc otherwise unmaps every
    /// buffer above 128 KB on free, and the page faults cost more than small models' arithmetic),
    /// and, because OpenBLAS reads its thread timeout only when it is loaded, re-executes the
    /// program once with the timeout set when the environment does not already set it.
    public static func prepare() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 512 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        if getenv(threadTimeoutVariable) == nil {
            setenv(threadTimeoutVariable, threadTimeout, 1)
            execv("/proc/self/exe", CommandLine.unsafeArgv)
            // execv returns only on failure; the program then runs on with OpenBLAS's default.
        }
        #endif
    }
}
