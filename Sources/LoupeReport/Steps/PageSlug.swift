/// Page folder names of a report's analyses.
enum PageSlug {
    /// `base`, or `base-2`, `base-3`, … : the first not in `taken`.
    static func unique(_ base: String, taken: Set<String>) -> String {
        var candidate = base
        var counter = 2
        while taken.contains(candidate) {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        return candidate
    }
}
