import Foundation

/// The checks every page of a site must pass, run in a browser: what loading it logs and requests,
/// dialogs left open, the count of `<h1>`, links and anchors, and sideways overflow. The same functions
/// check the sites and the deliberately broken pages of `CheckerSelfTests`.
struct PageChecker: Sendable {
    let browser: BrowserSession
    /// The folder whose files pages may load and link to.
    let root: URL

    /// `url` relative to `root`, for messages.
    func name(_ url: URL) -> String {
        let prefix = root.standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : url.absoluteString
    }

    /// Whether a page may request `url`: a file under `root`, or a `data:` URL.
    func isInside(_ url: String) -> Bool {
        if url.hasPrefix("data:") { return true }
        guard let parsed = URL(string: url), parsed.isFileURL else { return false }
        return parsed.standardizedFileURL.path.hasPrefix(root.standardizedFileURL.path + "/")
    }

    /// Loads `page` with fresh logs and reports its console errors and CSP violations, requests outside
    /// `root`, dialogs (each dismissed so the session can go on) and, for HTML, a count of `<h1>` other than one.
    func visit(_ page: URL) async throws -> [PageProblem] {
        _ = try await browser.log("browser")
        _ = try await browser.log("performance")
        do {
            try await browser.navigate(to: page)
        } catch let error as WebDriverError where error.error == "unexpected alert open" {
            // Reported below from the dialog itself.
        }
        var problems: [PageProblem] = []
        // A page may open dialog after dialog; ten are enough to report it.
        for _ in 0..<10 {
            guard let text = try await browser.alertText() else { break }
            problems.append(PageProblem(kind: .dialog, page: name(page), detail: text))
            try await browser.dismissAlert()
        }
        for entry in try await browser.log("browser") {
            let message = entry["message"] as? String ?? ""
            if entry["level"] as? String == "SEVERE" || message.contains("Content Security Policy") {
                problems.append(PageProblem(kind: .consoleError, page: name(page), detail: message))
            }
        }
        for url in try await requestedURLs() where !isInside(url) {
            problems.append(PageProblem(kind: .outsideRequest, page: name(page), detail: url))
        }
        let headings = JSONValue.number(try await browser.execute(
            "return document.contentType === 'text/html' ? document.querySelectorAll('h1').length : 1;"))
        if headings != 1 {
            problems.append(PageProblem(kind: .headings, page: name(page), detail: "\(Int(headings ?? 0)) <h1> elements"))
        }
        return problems
    }

    /// The URLs of every `Network.requestWillBeSent` in the performance log since it was last read.
    private func requestedURLs() async throws -> [String] {
        try await browser.log("performance").compactMap { entry in
            guard let text = entry["message"] as? String,
                  let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                  let message = object["message"] as? [String: Any],
                  message["method"] as? String == "Network.requestWillBeSent",
                  let request = (message["params"] as? [String: Any])?["request"] as? [String: Any]
            else { return nil }
            return request["url"] as? String
        }
    }

    /// Every link (`<a href>`, in HTML and SVG) of the loaded page, resolved against it.
    func links() async throws -> [String] {
        JSONValue.strings(try await browser.execute("""
            var out = [];
            document.querySelectorAll('a').forEach(function (a) {
              var raw = a.getAttribute('href');
              if (raw === null) { raw = a.getAttributeNS('http://www.w3.org/1999/xlink', 'href'); }
              if (raw !== null) { out.push(new URL(raw, document.baseURI).href); }
            });
            return out;
            """))
    }

    /// Loads each page and checks every link on it: the target is a file under `root` (not a folder, not
    /// another scheme), and a fragment names an element of the target page, looked up in the browser.
    func linkProblems(on pages: [URL]) async throws -> [PageProblem] {
        var problems: [PageProblem] = []
        var anchors: [URL: [(id: String, from: String)]] = [:]
        for page in pages {
            try await browser.navigate(to: page)
            for href in try await links() {
                guard isInside(href), !href.hasPrefix("data:"), let url = URL(string: href) else {
                    problems.append(PageProblem(kind: .brokenLink, page: name(page), detail: "\(href) is outside the site"))
                    continue
                }
                var isFolder: ObjCBool = false
                let target = URL(fileURLWithPath: url.path)
                if !FileManager.default.fileExists(atPath: target.path, isDirectory: &isFolder) {
                    problems.append(PageProblem(kind: .brokenLink, page: name(page), detail: "\(href): no such file"))
                } else if isFolder.boolValue {
                    problems.append(PageProblem(kind: .brokenLink, page: name(page), detail: "\(href) is a folder"))
                } else if let fragment = url.fragment?.removingPercentEncoding, !fragment.isEmpty {
                    anchors[target, default: []].append((fragment, name(page)))
                }
            }
        }
        for (target, references) in anchors.sorted(by: { $0.key.path < $1.key.path }) {
            try await browser.navigate(to: target)
            let ids = Array(Set(references.map(\.id))).sorted()
            let missing = Set(JSONValue.strings(try await browser.execute(
                "return arguments[0].filter(function (id) { return document.getElementById(id) === null; });", [ids])))
            for reference in references where missing.contains(reference.id) {
                problems.append(PageProblem(kind: .brokenLink, page: reference.from, detail: "\(name(target))#\(reference.id): no such id"))
            }
        }
        return problems
    }

    /// Loads `page` and reports how far it scrolls sideways at the current window width, naming elements
    /// that stick out (outside any scrolling container).
    func overflow(of page: URL) async throws -> PageProblem? {
        try await browser.navigate(to: page)
        let reply = try await browser.execute("""
            var root = document.documentElement, width = root.clientWidth;
            function clipped(e) {
              for (var p = e.parentElement; p && p !== document.body; p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== 'visible') { return true; }
              }
              return false;
            }
            var wide = Array.from(document.body.querySelectorAll('*')).filter(function (e) {
              return e.getBoundingClientRect().right > width + 0.5 && !clipped(e);
            }).slice(0, 5).map(function (e) { return e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''); });
            return [String(root.scrollWidth - width), wide.join(' ')];
            """)
        let values = JSONValue.strings(reply)
        guard values.count == 2, let pixels = Int(values[0]), pixels > 0 else { return nil }
        return PageProblem(kind: .overflow, page: name(page), detail: "\(pixels) px wider than the window (\(values[1]))")
    }
}
