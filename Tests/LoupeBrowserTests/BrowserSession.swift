import Foundation

/// A headless Chromium session: navigation, scripts, logs, keys, clicks, dialogs, window size and screenshots.
final class BrowserSession: @unchecked Sendable {
    let driver: WebDriver
    let id: String

    private init(driver: WebDriver, id: String) {
        self.driver = driver
        self.id = id
    }

    /// The key WebDriver names Tab (`\u{E004}`).
    static let tab = "\u{E004}"
    /// The key of an element reference in WebDriver JSON.
    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    /// Opens headless Chromium (`chromium` is the binary when found on `PATH`) with the browser and
    /// performance logs on and dialogs left open for the tests to find.
    static func open(_ driver: WebDriver, chromium: String? = ChromeDriver.onPath("chromium")) async throws -> BrowserSession {
        var chromeOptions: [String: Any] = ["args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"]]
        if let chromium { chromeOptions["binary"] = chromium }
        let capabilities: [String: Any] = [
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:loggingPrefs": ["browser": "ALL", "performance": "ALL"],
            "goog:chromeOptions": chromeOptions,
        ]
        let reply = try await driver.send("POST", "session", ["capabilities": ["alwaysMatch": capabilities]])
        guard let id = (reply as? [String: Any])?["sessionId"] as? String else {
            throw WebDriverError(error: "no session", message: "\(reply)")
        }
        return BrowserSession(driver: driver, id: id)
    }

    /// Ends the session, which quits the browser.
    func close() async {
        _ = try? await command("DELETE", "")
    }

    /// Sends a command of this session (`/session/{id}/path`) and returns the reply's `value`.
    @discardableResult
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any {
        try await driver.send(method, "session/\(id)" + (path.isEmpty ? "" : "/" + path), body)
    }

    /// Loads `url` and returns when it has loaded.
    func navigate(to url: URL) async throws {
        try await command("POST", "url", ["url": url.absoluteString])
    }

    /// Runs `script` (a function body) in the page and returns its result as JSON values.
    @discardableResult
    func execute(_ script: String, _ arguments: [Any] = []) async throws -> Any {
        try await command("POST", "execute/sync", ["script": script, "args": arguments])
    }

    /// The entries of the log `type` (`browser`, `performance`) since it was last read.
    func log(_ type: String) async throws -> [[String: Any]] {
        try await command("POST", "se/log", ["type": type]) as? [[String: Any]] ?? []
    }

    /// The open dialog's text, or `nil` when none is open ("no such alert").
    func alertText() async throws -> String? {
        do {
            return try await command("GET", "alert/text") as? String ?? ""
        } catch let error as WebDriverError where error.error == "no such alert" {
            return nil
        }
    }

    func dismissAlert() async throws {
        try await command("POST", "alert/dismiss")
    }

    /// The viewport as a PNG.
    func screenshot() async throws -> Data {
        guard let base64 = try await command("GET", "screenshot") as? String, let png = Data(base64Encoded: base64) else {
            throw WebDriverError(error: "no screenshot", message: "the reply is not base64")
        }
        return png
    }

    /// Resizes the window so that the viewport (`window.innerWidth` × `window.innerHeight`) is `width` × `height`.
    func setViewport(width: Int, height: Int) async throws {
        try await command("POST", "window/rect", ["width": width, "height": height])
        let inner = JSONValue.integers(try await execute("return [window.innerWidth, window.innerHeight];"))
        if inner.count == 2, inner != [width, height] {
            try await command("POST", "window/rect", ["width": 2 * width - inner[0], "height": 2 * height - inner[1]])
        }
    }

    /// Presses and releases `key` (a character or a WebDriver key code) on the focused element.
    func press(_ key: String) async throws {
        let actions: [[String: Any]] = [["type": "keyDown", "value": key], ["type": "keyUp", "value": key]]
        try await command("POST", "actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    /// The reference of the first element matching `selector`.
    func element(_ selector: String) async throws -> String {
        let reply = try await command("POST", "element", ["using": "css selector", "value": selector])
        guard let reference = (reply as? [String: Any])?[Self.elementKey] as? String else {
            throw WebDriverError(error: "no element", message: selector)
        }
        return reference
    }

    func click(_ element: String) async throws {
        try await command("POST", "element/\(element)/click")
    }

    /// Types `text` into `element` key by key.
    func type(_ text: String, into element: String) async throws {
        try await command("POST", "element/\(element)/value", ["text": text])
    }
}
