import Foundation
import Testing

/// What the browser tests share, set up once around the whole `BrowserTests` suite: the demo and hostile
/// sites built in a temporary folder, `chromedriver`, and one headless Chromium session.
final class BrowserFixture: @unchecked Sendable {
    /// The environment variable that turns the browser tests on (`make browser-test` sets it).
    static let enablingVariable = "LOUPE_BROWSER_TESTS"
    static var isEnabled: Bool { ProcessInfo.processInfo.environment[enablingVariable] != nil }

    /// The fixture of the running suite; `nil` outside it.
    @TaskLocal static var current: BrowserFixture?

    let folder: URL
    let demo: SitePages
    let hostile: SitePages
    let chromedriver: ChromeDriver
    let browser: BrowserSession

    private init(folder: URL, demo: SitePages, hostile: SitePages, chromedriver: ChromeDriver, browser: BrowserSession) {
        self.folder = folder
        self.demo = demo
        self.hostile = hostile
        self.chromedriver = chromedriver
        self.browser = browser
    }

    /// Builds both sites, then starts `chromedriver` and the browser.
    static func start() async throws -> BrowserFixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            let demo = try SitePages(root: TestReports.demo(in: folder))
            let hostile = try SitePages(root: TestReports.hostile(in: folder))
            guard let executable = ChromeDriver.executable() else {
                throw WebDriverError(error: "no chromedriver", message: "set CHROMEDRIVER or put chromedriver on PATH (make browser-test installs it)")
            }
            let chromedriver = try await ChromeDriver.start(executable: executable)
            do {
                let browser = try await BrowserSession.open(chromedriver.driver)
                return BrowserFixture(folder: folder, demo: demo, hostile: hostile, chromedriver: chromedriver, browser: browser)
            } catch {
                await chromedriver.stop()
                throw error
            }
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    /// Quits the browser, ends `chromedriver` and removes the temporary folder.
    func stop() async {
        await browser.close()
        await chromedriver.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A checker of pages under `root`.
    func checker(_ root: URL) -> PageChecker { PageChecker(browser: browser, root: root) }

    /// The running suite's fixture, or a recorded failure.
    static func required(sourceLocation: SourceLocation = #_sourceLocation) throws -> BrowserFixture {
        try #require(current, "the browser fixture is set up by BrowserScope", sourceLocation: sourceLocation)
    }
}

/// Runs a suite inside one `BrowserFixture`, stopped when the suite ends (or nothing at all when the
/// browser tests are off).
struct BrowserScope: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard BrowserFixture.isEnabled else { return try await function() }
        let fixture = try await BrowserFixture.start()
        do {
            try await BrowserFixture.$current.withValue(fixture) { try await function() }
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}

/// The browser tests: every page kind of the demo site and the hostile report opened in headless Chromium.
/// Off unless `LOUPE_BROWSER_TESTS` is set; the suites inside run one at a time in one browser.
@Suite(.serialized, .enabled(if: BrowserFixture.isEnabled, "set LOUPE_BROWSER_TESTS (make browser-test) to open the sites in Chromium"), BrowserScope())
struct BrowserTests {}
