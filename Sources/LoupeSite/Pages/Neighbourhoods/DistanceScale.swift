/// How a query page draws distances: rows ordered by distance and split at ε (inside: distance ≤ ε),
/// each with a bar drawn against one scale for the whole page, so bars of the retrieved and the
/// decoded lists compare.
struct DistanceScale {
    /// The ε of the preimage.
    let epsilon: Double
    /// The distance of a full bar: the larger of 2ε and the largest finite distance shown.
    let full: Double

    /// Bar width in pixels.
    static let width = 96.0, height = 10.0

    /// The scale for a page showing `distances`.
    init(epsilon: Double, distances: [Double]) {
        self.epsilon = epsilon
        let largest = distances.filter(\.isFinite).max() ?? 0
        let full = max(2 * epsilon, largest)
        self.full = full.isFinite && full > 0 ? full : 1
    }

    /// Whether `distance` lies inside ε (a distance that is not a number never does).
    func isInside(_ distance: Double) -> Bool { distance <= epsilon }

    /// One row of a list: its 1-based rank by distance and the item.
    struct Ranked<Item> {
        let rank: Int
        let item: Item
    }

    /// `items` ascending by `distance` (ties and non-finite distances keep their order, the latter
    /// last), split into those inside ε and those outside; the rule at ε goes between the two.
    func split<Item>(_ items: [Item], distance: (Item) -> Double) -> (inside: [Ranked<Item>], outside: [Ranked<Item>]) {
        let sorted = items.enumerated().sorted { a, b in
            let da = distance(a.element), db = distance(b.element)
            switch (da.isNaN, db.isNaN) {
            case (false, false): return da != db ? da < db : a.offset < b.offset
            case (false, true): return true
            case (true, false): return false
            case (true, true): return a.offset < b.offset
            }
        }
        var inside: [Ranked<Item>] = [], outside: [Ranked<Item>] = []
        for (rank, entry) in sorted.enumerated() {
            let row = Ranked(rank: rank + 1, item: entry.element)
            if isInside(distance(entry.element)) { inside.append(row) } else { outside.append(row) }
        }
        return (inside, outside)
    }

    /// `k of n inside ε`.
    static func count(inside: Int, of total: Int) -> String {
        "\(NumberText.integer(inside)) of \(NumberText.integer(total)) inside ε"
    }

    /// A bar for `distance` as inline SVG: a track, the filled length (`in` or `out` of ε) and a tick
    /// at ε. Hidden from assistive technology: the number is printed beside it.
    func bar(_ distance: Double) -> String {
        let n = BarChart.n
        let w = Self.width, h = Self.height
        let length = distance.isFinite ? min(1, max(0, distance / full)) * w : 0
        let tick = min(1, max(0, epsilon / full)) * w
        return "<svg class=\"dbar\" viewBox=\"0 0 \(n(w)) \(n(h))\" width=\"\(n(w))\" height=\"\(n(h))\" aria-hidden=\"true\" focusable=\"false\">"
            + "<rect class=\"track\" width=\"\(n(w))\" height=\"\(n(h))\"/>"
            + "<rect class=\"fill \(isInside(distance) ? "in" : "out")\" width=\"\(n(length))\" height=\"\(n(h))\"/>"
            + "<path class=\"eps\" d=\"M\(n(tick)) 0V\(n(h))\"/></svg>"
    }
}
