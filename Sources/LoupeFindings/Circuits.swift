/// The findings section of the circuit analysis (patching, attribution, EAP / EAP-IG, discrete dictionary codes) of a task: nodes, edges, faithfulness and the comparison of methods.
///
/// A report without this analysis has no section (`ReportFindings.circuits` is `nil`); the section
/// grows its fields with the analysis that fills it, and `ReportFindings.currentSchemaVersion` with them.
public struct CircuitFindings: Codable, Sendable, Equatable {
    public init() {}
}
