import Foundation
import LoupeAnalysis

/// The most one build reads into memory, from the spec's optional `limits:` section. Each limit is
/// checked before the work it bounds, and a build above one stops with a message naming the file,
/// the figure and the key that raises it.
///
/// ```yaml
/// limits: {file_bytes: 2147483648, document_tokens: 1000000, features_per_page: 65536}
/// ```
public struct BuildLimits: Sendable, Equatable {
    /// Bytes of one corpus or circuit task file, each read whole (default 2 GiB).
    public var fileBytes = 2 << 30
    /// Tokens of one corpus document, tokenized whole (default 1,000,000).
    public var documentTokens = 1_000_000
    /// Features of one hook: its table page lists every one, and its data file holds a row each (default 65,536).
    public var featuresPerPage = 65_536

    public init() {}

    static let keys: Set<String> = ["file_bytes", "document_tokens", "features_per_page"]

    static func read(_ section: SpecReader) throws -> BuildLimits {
        try section.rejectUnknownKeys(keys)
        var limits = BuildLimits()
        limits.fileBytes = try section.integer("file_bytes", default: limits.fileBytes)
        limits.documentTokens = try section.integer("document_tokens", default: limits.documentTokens)
        limits.featuresPerPage = try section.integer("features_per_page", default: limits.featuresPerPage)
        return limits
    }

    /// Checks the size of each file `spec` reads whole: the corpus files and the circuit task files.
    func checkFiles(of spec: ReportSpec) throws {
        var files: [URL] = []
        if case let .files(urls) = spec.corpus { files += urls }
        files += (spec.circuits?.tasks ?? []).map(\.task).filter { FileManager.default.fileExists(atPath: $0) }.map { URL(fileURLWithPath: $0) }
        for file in files {
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0
            guard size <= fileBytes else {
                throw BuildError(step: .inputs, path: file.path, reason: "is \(size) bytes, above the \(fileBytes) a build reads whole from one file: split it into several files, or raise limits.file_bytes in \(spec.specURL.lastPathComponent)")
            }
        }
    }

    /// Checks the tokens of each document of `corpus`, read from `spec`'s corpus files.
    func checkDocuments(_ tokenized: TokenizedCorpus, corpus: Corpus, spec: ReportSpec) throws {
        guard let index = tokenized.documents.firstIndex(where: { $0.count > documentTokens }) else { return }
        let source = corpus.sources[index]
        throw BuildError(step: .corpus, path: source.file, reason: "line \(source.line) is a document of \(tokenized.documents[index].count) tokens, above limits.document_tokens (\(documentTokens)): split it into several documents, or raise limits.document_tokens in \(spec.specURL.lastPathComponent)")
    }

    /// Checks the number of features of the spec's `index`-th hook.
    func checkFeatures(_ count: Int, hook index: Int, spec: ReportSpec) throws {
        guard count > featuresPerPage else { return }
        throw BuildError(step: .spec, path: spec.specURL.path, reason: "key 'hooks[\(index)]': \(spec.hooks[index].hook) has \(count) features, above limits.features_per_page (\(featuresPerPage)), the most one dictionary's table page lists: raise limits.features_per_page")
    }
}
