import LoupeFindings

/// A property that samples near a query share (decoded neighbourhoods, subspace neighbours), with its
/// support: how many inside and outside the neighbourhood hold it.
struct SharedStatementView: PageView {
    let sharedStatement, sharedSupport: String

    init(_ shared: SharedStatement) {
        sharedStatement = DisplayText.text(shared.statement)
        sharedSupport = DisplayText.text(shared.support)
    }
}
