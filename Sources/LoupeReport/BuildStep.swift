import Foundation

/// A named step of a report build. Steps that work on one hook point or task carry its name, so
/// an error or a progress line says exactly where the build was.
public enum BuildStep: Hashable, Sendable, CustomStringConvertible {
    /// Reading and validating `report.yaml`.
    case spec
    /// Loading the model, tokenizer and dictionaries and checking them against each other.
    case inputs
    /// Reading or writing the findings cache.
    case cache
    /// Reading (or generating) the corpus and cutting it into windows.
    case corpus
    /// Running the windows through the model once into the activation store.
    case store
    /// Training (or reusing) the hook's dictionary and measuring its reconstruction quality.
    case dictionary(hook: String)
    /// The feature atlas of the hook: statistics, examples, logit effects, neighbours.
    case atlas(hook: String)
    /// Explaining and scoring the hook's features.
    case explain(hook: String)
    /// Scoring the task's circuit with every method, measuring faithfulness and each head's behaviour.
    case circuit(task: String)
    /// Training the inversion decoder of the `neighbourhoods:` section.
    case decoder
    /// The retrieved and decoded neighbourhoods of one site's queries.
    case neighbourhoods(site: String)
    /// The NDM partition of one site, its neighbourhoods and causal checks.
    case subspaces(site: String)
    /// Combining the partial results of a sharded build's shards.
    case merge
    /// Writing the site and its Markdown summary.
    case render

    public var description: String {
        switch self {
        case .spec: return "spec"
        case .inputs: return "inputs"
        case .cache: return "cache"
        case .corpus: return "corpus"
        case .store: return "store"
        case let .dictionary(hook): return "dictionary(\(hook))"
        case let .atlas(hook): return "atlas(\(hook))"
        case let .explain(hook): return "explain(\(hook))"
        case let .circuit(task): return "circuit(\(task))"
        case .decoder: return "decoder"
        case let .neighbourhoods(site): return "neighbourhoods(\(site))"
        case let .subspaces(site): return "subspaces(\(site))"
        case .merge: return "merge"
        case .render: return "render"
        }
    }
}

/// Why a report build failed: the step, the file or folder it was working on, and what is wrong.
///
/// Every failure of `Report.build` and `Report.render` is a `BuildError`; errors of the layers
/// below (a corrupt weights file, a bad dictionary config) are carried in `reason`, with the file
/// they name. A failed build leaves the previous site and cached findings in place.
public struct BuildError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The step that failed.
    public var step: BuildStep
    /// The file or folder the step was working on.
    public var path: String
    /// What is wrong, in words a user can act on.
    public var reason: String

    public var description: String { "\(path): \(reason) (step \(step))" }
}

/// What a running build reports to its caller, for progress displays and logs.
public enum BuildEvent: Sendable {
    /// A long-running part of `step` begins: `total` units of `unit` (windows, features, …).
    case started(BuildStep, label: String, total: Int, unit: String)
    /// `done` of the current part's units are finished; `detail` is an optional figure (a loss).
    case advanced(BuildStep, done: Int, detail: String)
    /// The current part of `step` is finished.
    case finished(BuildStep)
    /// Something the user may want to know (a reused cache, a fallback); the build goes on.
    case note(BuildStep, String)
    /// A phase of the build is done: its wall time and peak resident memory.
    case timed(PhaseTiming)
}

/// Receives a build's events; called on the building thread.
public typealias BuildProgress = (BuildEvent) -> Void

/// Runs `body` as `step`: any error that is not already a `BuildError` becomes one naming `step`
/// and `path`.
func withStep<T>(_ step: BuildStep, path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as BuildError {
        throw error
    } catch {
        throw BuildError(step: step, path: path, reason: "\(error)")
    }
}
