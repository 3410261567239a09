/// A named step of the site pipeline; every `SiteError` says which one failed.
public enum SiteStep: String, Sendable, Equatable, CaseIterable {
    /// Finding `Templates/` and `Assets/`.
    case locateResources
    /// Reading and parsing the Mustache templates.
    case loadTemplates
    /// Checking that the findings can be laid out as files (identifiers, indices).
    case checkFindings
    /// Creating the temporary folder next to the destination.
    case prepareStaging
    /// Copying `Assets/` into the site.
    case copyAssets
    /// Writing `summary.md` and rendering it with cmark.
    case renderSummary
    /// Rendering `index.html`.
    case renderIndex
    /// Writing a dictionary's `features.js` and its feature table page.
    case renderFeatureTable
    /// Rendering one page per feature.
    case renderFeaturePages
    /// Writing each circuit task's page, `summary.md` and `graph.json`.
    case renderCircuitTasks
    /// Rendering one page per head and MLP of each circuit task.
    case renderCircuitNodes
    /// Rendering the neighbourhoods' index and each site's index of queries.
    case renderNeighbourhoodSites
    /// Rendering one page per neighbourhood query.
    case renderNeighbourhoodQueries
    /// Rendering the subspaces' index and each site's partition page.
    case renderSubspaceSites
    /// Rendering one page per subspace.
    case renderSubspacePages
    /// Renaming the finished site into place.
    case swapIntoPlace
}

/// Why a site could not be written: the step that failed, the path it was working on, and what went wrong.
///
/// When any step fails, a site previously written at the destination is left as it was and the
/// temporary folder is removed.
public enum SiteError: Error, Equatable, CustomStringConvertible {
    /// `Templates/` or `Assets/` (or a file in them) is missing.
    case missingResource(step: SiteStep, path: String, reason: String)
    /// A template does not parse, or a page's template is missing.
    case template(step: SiteStep, path: String, reason: String)
    /// The findings cannot be laid out as a site (an unusable or duplicate dictionary id, task slug, site slug or query id, a duplicate feature index).
    case invalidFindings(step: SiteStep, path: String, reason: String)
    /// The destination exists but is not a folder written by Loupe, so it is not replaced.
    case destinationNotASite(step: SiteStep, path: String, reason: String)
    /// A file-system operation failed.
    case fileSystem(step: SiteStep, path: String, reason: String)
    /// cmark could not render the summary.
    case markdown(step: SiteStep, path: String, reason: String)

    /// The pipeline step that failed.
    public var step: SiteStep {
        switch self {
        case .missingResource(let step, _, _), .template(let step, _, _), .invalidFindings(let step, _, _),
             .destinationNotASite(let step, _, _), .fileSystem(let step, _, _), .markdown(let step, _, _):
            return step
        }
    }

    /// The file or folder the failing step was working on.
    public var path: String {
        switch self {
        case .missingResource(_, let path, _), .template(_, let path, _), .invalidFindings(_, let path, _),
             .destinationNotASite(_, let path, _), .fileSystem(_, let path, _), .markdown(_, let path, _):
            return path
        }
    }

    /// What went wrong, in words.
    public var reason: String {
        switch self {
        case .missingResource(_, _, let reason), .template(_, _, let reason), .invalidFindings(_, _, let reason),
             .destinationNotASite(_, _, let reason), .fileSystem(_, _, let reason), .markdown(_, _, let reason):
            return reason
        }
    }

    public var description: String {
        "site step \(step.rawValue) failed at \(path): \(reason)"
    }
}
