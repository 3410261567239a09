import Foundation

/// Where the site's Mustache templates (`*.mustache`) and static assets (CSS, JavaScript) are read from.
///
/// By default these are the repository's top-level `Templates/` and `Assets/` folders, found from this
/// source file's location; the environment variable `LOUPE_RESOURCES` can point at another folder that
/// holds both (for an installed binary, or to try modified templates).
public struct SiteResources: Sendable, Equatable {
    /// Folder of `*.mustache` files; each is registered under its file name without the extension.
    public var templates: URL
    /// Folder whose files are copied into the site's `assets/` folder.
    public var assets: URL

    /// The environment variable that overrides the default location.
    public static let environmentVariable = "LOUPE_RESOURCES"

    /// Resources in two explicit folders.
    public init(templates: URL, assets: URL) {
        self.templates = templates
        self.assets = assets
    }

    /// Resources in `root/Templates` and `root/Assets`.
    public init(root: URL) {
        self.init(
            templates: root.appendingPathComponent("Templates", isDirectory: true),
            assets: root.appendingPathComponent("Assets", isDirectory: true)
        )
    }

    /// The repository root this source file was compiled from (three levels above `Sources/LoupeSite/…`).
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // LoupeSite
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // repository
    }

    /// `LOUPE_RESOURCES` when set and non-empty, otherwise the repository's top-level folders.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> SiteResources {
        if let override = environment[environmentVariable], !override.isEmpty {
            return SiteResources(root: URL(fileURLWithPath: override, isDirectory: true))
        }
        return SiteResources(root: repositoryRoot)
    }

    /// Throws `SiteError.missingResource` unless both folders exist.
    public func validate() throws {
        for folder in [templates, assets] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw SiteError.missingResource(
                    step: .locateResources, path: folder.path,
                    reason: "folder not found (set \(Self.environmentVariable) to a folder holding Templates/ and Assets/)"
                )
            }
        }
    }
}
