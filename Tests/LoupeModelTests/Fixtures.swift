import Foundation

/// Paths of the committed reference fixtures (`Tests/Fixtures`).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// The texts of a model fixture's `reference.json`.
    static func referenceTexts(_ model: String) throws -> [String] {
        let data = try Data(contentsOf: url("\(model)/reference.json"))
        struct Reference: Decodable { let texts: [String] }
        return try JSONDecoder().decode(Reference.self, from: data).texts
    }
}
