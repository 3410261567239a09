/// One problem the page checks found: its kind, the page (relative to the checked folder) and what names it.
struct PageProblem: CustomStringConvertible, Equatable, Sendable {
    /// What is wrong, one case per check.
    enum Kind: String, Sendable {
        /// A console error, a failed load or a Content Security Policy violation in the browser log.
        case consoleError
        /// A request (performance log) for a URL that is neither under the site folder nor `data:`.
        case outsideRequest
        /// A JavaScript dialog (`alert`, `confirm`, `prompt`) open after the page loaded.
        case dialog
        /// A link to a missing file, a folder, outside the site, or to an id its target page lacks.
        case brokenLink
        /// The page scrolls sideways at the current window width.
        case overflow
        /// An HTML page without exactly one `<h1>`.
        case headings
    }

    let kind: Kind
    let page: String
    let detail: String

    var description: String { "\(page): \(kind.rawValue): \(detail)" }
}
