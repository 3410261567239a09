import LoupeFindings

/// A link in the breadcrumb bar; the last one has no `crumbHref`.
struct CrumbView: PageView {
    let crumbHref: String?
    let crumbLabel: String
}

/// A script loaded with `<script src>`.
struct ScriptView: PageView { let src: String }

/// A label and a value.
struct FactView: PageView {
    let factLabel, factValue: String
    let factHint: String?
}

/// What every page's head and foot need (`head.mustache`, `foot.mustache`).
struct PageChrome: PageView {
    /// `root`: the relative path from the page to the site root (`""`, `"../"`, `"../../"`).
    let root, pageTitle, reportName: String
    let crumbs: [CrumbView]
    let scripts: [ScriptView]

    init(root: String, title: String, findings: ReportFindings, crumbs: [CrumbView], scripts: [ScriptView] = []) {
        self.root = root
        pageTitle = title
        reportName = DisplayText.text(findings.name)
        self.crumbs = crumbs
        self.scripts = scripts
    }
}
