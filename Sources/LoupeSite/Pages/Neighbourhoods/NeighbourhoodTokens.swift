import LoupeFindings

/// The token runs of neighbourhood pages as markup (`TokenRun`): the query with its position marked
/// (and, at a head site, shaded by the query row's attention), a retrieved context with its matched
/// token marked, and a decoded sample shaded by how much the query activation chose each token.
enum NeighbourhoodTokens {
    /// The query's tokens, the query position marked (`f`, titled `query position`). With
    /// `attention` (a head site's query row, weights over tokens 0…position), each of those tokens
    /// is shaded `a1`…`a9` by its weight (1 is the darkest) and titled with it.
    static func query(_ q: NeighbourhoodQuery, attention: [Double]?) -> String {
        TokenRun.html(q.tokens.enumerated().map { i, token in
            var classes: [String] = []
            var title: [String] = []
            if let attention, i < attention.count, i <= q.position {
                let weight = attention[i]
                if let level = TokenRun.level(weight, scale: 1) { classes.append("a\(level)") }
                title.append("attention " + NumberText.fixed(weight, 3))
            }
            if i == q.position {
                classes.append("f")
                title.insert("query position", at: 0)
            }
            return TokenView(token, classes: classes, title: title.joined(separator: " · "))
        })
    }

    /// A retrieved window, its last (matched) token marked.
    static func retrieved(_ r: RetrievedNeighbour) -> String {
        TokenRun.html(r.tokens.enumerated().map { i, token in
            let matched = i == r.tokens.count - 1
            return TokenView(token, classes: matched ? ["f"] : [], title: matched ? "matched position" : "")
        })
    }

    /// A decoded sample: each token shaded by `shading` (`sp1`…`sp9` where the query activation made
    /// the decoder likelier to choose it, `sn1`…`sn9` where less likely, by |value|), the matched
    /// position marked, and titled with its distance to the query (none where the findings have
    /// none, e.g. at a BOS) and its shading value.
    static func decoded(_ s: DecodedSample) -> String {
        TokenRun.html(s.tokens.enumerated().map { i, token in
            var classes: [String] = []
            var title: [String] = []
            if i == s.matchedPosition { title.append("matched position") }
            if i < s.positionDistances.count, let distance = s.positionDistances[i] {
                title.append("distance " + NeighbourhoodText.distance(distance))
            }
            if i < s.shading.count, s.shading[i].isFinite, s.shading[i] != 0 {
                let value = s.shading[i]
                if let level = TokenRun.level(abs(value), scale: 1) { classes.append((value > 0 ? "sp" : "sn") + String(level)) }
                title.append("Δp " + signed(value))
            }
            if i == s.matchedPosition { classes.append("f") }
            return TokenView(token, classes: classes, title: title.joined(separator: " · "))
        })
    }

    /// A shading value with its sign and two decimals (`+0.42`, `−0.08`).
    static func signed(_ value: Double) -> String {
        let text = NumberText.fixed(abs(value), 2)
        return (value < 0 ? "−" : "+") + text
    }
}
