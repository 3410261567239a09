import Foundation
import LoupeAnalysis
import LoupeModel

/// The `inputs` step: the model, its tokenizer and every dictionary the spec names, loaded and
/// checked against each other before anything is computed.
struct ReportInputs {
    let model: GPT2Model
    let tokenizer: any Tokenizer
    /// Dictionaries that exist already, by hook entry index: SAELens ones, and trained ones saved
    /// by an earlier build.
    let dictionaries: [Int: SparseDictionary]

    static func load(spec: ReportSpec) throws -> ReportInputs {
        try spec.limits.checkFiles(of: spec)
        let (model, tokenizer) = try withStep(.inputs, path: spec.model.path) {
            (try GPT2Model.load(directory: spec.model), try TokenizerLoader.load(directory: spec.model))
        }
        var widths: [String: Int] = [:]
        for (index, entry) in spec.hooks.enumerated() {
            do {
                widths[entry.hook] = try model.rowWidth(ofHook: entry.hook)
            } catch ModelError.noRowPerToken {
                throw BuildError(step: .spec, path: spec.specURL.path,
                                 reason: "key 'hooks[\(index)].hook': '\(entry.hook)' has no row per token; atlas a per-token hook")
            } catch {
                throw BuildError(step: .spec, path: spec.specURL.path,
                                 reason: "key 'hooks[\(index)].hook': the model at \(spec.model.path) has no hook point '\(entry.hook)'")
            }
        }
        let dictionaries = try loadDictionaries(spec: spec, hookWidths: widths)
        for (index, entry) in spec.hooks.enumerated() {
            let features: Int
            switch entry.source {
            case .neurons: features = widths[entry.hook] ?? 0
            case .saelens: features = dictionaries[index]?.width ?? 0
            case let .trainTopK(width, _, _, _, _): features = dictionaries[index]?.width ?? width
            }
            try spec.limits.checkFeatures(features, hook: index, spec: spec)
        }
        return ReportInputs(model: model, tokenizer: tokenizer, dictionaries: dictionaries)
    }

    /// SAELens dictionaries (checked against their hook's width now) and trained dictionaries an
    /// earlier build saved at their paths.
    private static func loadDictionaries(spec: ReportSpec, hookWidths: [String: Int]) throws -> [Int: SparseDictionary] {
        var loaded: [Int: SparseDictionary] = [:]
        for (index, entry) in spec.hooks.enumerated() {
            let directory: URL
            switch entry.source {
            case .neurons: continue
            case let .saelens(url): directory = url
            case let .trainTopK(_, _, _, _, path):
                guard FileManager.default.fileExists(atPath: path.appendingPathComponent(SparseDictionary.configFileName).path) else { continue }
                directory = path
            }
            let dictionary = try withStep(.dictionary(hook: entry.hook), path: directory.path) {
                try SparseDictionary.load(directory: directory)
            }
            let width = hookWidths[entry.hook] ?? 0
            guard dictionary.inputWidth == width else {
                throw BuildError(
                    step: .spec, path: spec.specURL.path,
                    reason: "key 'hooks[\(index)].dictionary': \(directory.path) has d_in \(dictionary.inputWidth), but '\(entry.hook)' is \(width) wide")
            }
            loaded[index] = dictionary
        }
        return loaded
    }
}
