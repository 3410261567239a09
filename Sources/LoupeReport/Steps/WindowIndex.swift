import LoupeAnalysis

/// The corpus windows by document, to find a document position's window and show it in context.
struct WindowIndex {
    let windows: [CorpusWindow]
    private let byDocument: [Int: [Int]]

    init(windows: [CorpusWindow]) {
        self.windows = windows
        var byDocument: [Int: [Int]] = [:]
        for (index, window) in windows.enumerated() { byDocument[window.document, default: []].append(index) }
        self.byDocument = byDocument
    }

    /// The window holding a document position, and the position's index among its tokens.
    func locate(document: Int, position: Int) -> (window: CorpusWindow, index: Int)? {
        for index in byDocument[document] ?? [] {
            let window = windows[index]
            let offset = position - window.start
            if offset >= 0 && offset < window.documentTokenCount { return (window, offset + (window.hasBOS ? 1 : 0)) }
        }
        return nil
    }

    /// The ids of up to `before` tokens before the position, the token, and up to `after` after it
    /// (inside its window), with the token's index among them.
    func context(document: Int, position: Int, before: Int, after: Int) -> (ids: [Int], index: Int) {
        guard let (window, at) = locate(document: document, position: position) else { return ([], 0) }
        let start = max(0, at - before)
        let end = min(window.tokens.count, at + after + 1)
        return (Array(window.tokens[start..<end]), at - start)
    }
}
