/// The findings section of the InversionView analysis: for chosen hook sites, heads and positions, the inputs whose activations lie within ε of a query activation, decoded and re-measured.
///
/// A report without this analysis has no section (`ReportFindings.neighbourhoods` is `nil`); the section
/// grows its fields with the analysis that fills it, and `ReportFindings.currentSchemaVersion` with them.
public struct NeighbourhoodFindings: Codable, Sendable, Equatable {
    public init() {}
}
