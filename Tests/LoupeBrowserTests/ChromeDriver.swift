import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `chromedriver` process listening on a free loopback port; `stop()` ends it.
final class ChromeDriver: @unchecked Sendable {
    let process: Process
    let driver: WebDriver

    private init(process: Process, driver: WebDriver) {
        self.process = process
        self.driver = driver
    }

    /// `CHROMEDRIVER` when set, otherwise the first `chromedriver` on `PATH`.
    static func executable(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let path = environment["CHROMEDRIVER"], !path.isEmpty { return path }
        return onPath("chromedriver", environment: environment)
    }

    /// The first executable called `name` in a folder of `PATH`.
    static func onPath(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts `executable` on a free port and waits (up to a minute) until its `/status` answers ready.
    static func start(executable: String) async throws -> ChromeDriver {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let driver = WebDriver(port: port)
        let started = ChromeDriver(process: process, driver: driver)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let status = try? await driver.send("GET", "status") as? [String: Any], status["ready"] as? Bool == true {
                return started
            }
            guard process.isRunning else { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        await started.stop()
        throw WebDriverError(error: "not started", message: "\(executable) did not answer on port \(port)")
    }

    /// Asks the driver to shut down (`GET /shutdown`), waits up to ten seconds for it to exit, then kills it.
    func stop() async {
        _ = try? await driver.send("GET", "shutdown")
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago: bound to port 0, read back, released.
    private static func freePort() throws -> UInt16 {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw WebDriverError(error: "no port", message: "socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw WebDriverError(error: "no port", message: "bind() failed") }
        return UInt16(bigEndian: address.sin_port)
    }
}
