/// The findings section of the subspace analysis: the residual stream split into subspaces and what each carries.
///
/// A report without this analysis has no section (`ReportFindings.subspaces` is `nil`); the section
/// grows its fields with the analysis that fills it, and `ReportFindings.currentSchemaVersion` with them.
public struct SubspaceFindings: Codable, Sendable, Equatable {
    public init() {}
}
