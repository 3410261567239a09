// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loupe", targets: ["loupe"]),
        .executable(name: "loupe-bench", targets: ["LoupeBench"]),
        .executable(name: "loupe-fuzz", targets: ["LoupeFuzz"]),
        // Everything a Swift program needs to load models, run analyses and build report sites.
        .library(
            name: "Loupe",
            targets: ["LoupeCore", "LoupeModel", "LoupeToyWorld", "LoupeFindings", "LoupeAnalysis", "LoupeReport", "LoupeSite"]
        ),
        .library(name: "LoupeReport", targets: ["LoupeReport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(
            name: "CCmark",
            pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]
        ),
        .target(name: "LoupeFindings"),
        // An OpenAI-compatible chat endpoint on loopback, for the tests and benchmarks of language-model explanations.
        .target(name: "LoupeChatStub"),
        .target(name: "LoupeCore", dependencies: ["COpenBLAS", "CMalloc", "LoupeFindings"]),
        .target(name: "LoupeModel", dependencies: ["LoupeCore", "LoupeFindings"]),
        .target(name: "LoupeToyWorld", dependencies: ["LoupeCore", "LoupeModel"]),
        .target(name: "LoupeAnalysis", dependencies: ["LoupeCore", "LoupeModel", "LoupeToyWorld", "LoupeFindings"]),
        .target(
            name: "LoupeSite",
            dependencies: ["LoupeFindings", "CCmark", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(
            name: "LoupeReport",
            dependencies: [
                "LoupeCore", "LoupeModel", "LoupeToyWorld", "LoupeFindings", "LoupeAnalysis", "LoupeSite",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "LoupeCLI",
            dependencies: [
                "LoupeCore", "LoupeModel", "LoupeToyWorld", "LoupeFindings", "LoupeAnalysis", "LoupeReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "loupe", dependencies: ["LoupeCLI"]),
        .executableTarget(
            name: "LoupeBench",
            dependencies: ["LoupeCore", "LoupeModel", "LoupeToyWorld", "LoupeFindings", "LoupeAnalysis", "LoupeReport", "LoupeSite", "LoupeChatStub"]
        ),
        .executableTarget(
            name: "LoupeFuzz",
            dependencies: ["LoupeCore", "LoupeModel", "LoupeAnalysis", "LoupeReport", "LoupeCLI"]
        ),
        .testTarget(name: "LoupeCoreTests", dependencies: ["LoupeCore"]),
        .testTarget(name: "LoupeFindingsTests", dependencies: ["LoupeFindings"]),
        .testTarget(name: "LoupeModelTests", dependencies: ["LoupeModel", "LoupeCore"]),
        .testTarget(name: "LoupeToyWorldTests", dependencies: ["LoupeToyWorld", "LoupeModel", "LoupeCore"]),
        .testTarget(
            name: "LoupeAnalysisTests",
            dependencies: ["LoupeAnalysis", "LoupeFindings", "LoupeToyWorld", "LoupeModel", "LoupeCore", "LoupeChatStub"]
        ),
        .testTarget(name: "LoupeSiteTests", dependencies: ["LoupeSite", "LoupeFindings"]),
        .testTarget(
            name: "LoupeReportTests",
            dependencies: ["LoupeReport", "LoupeFindings", "LoupeSite", "LoupeModel", "LoupeCore", "LoupeAnalysis", "LoupeChatStub"]
        ),
        .testTarget(name: "LoupeCLITests", dependencies: ["LoupeCLI", "LoupeReport", "LoupeModel", "LoupeCore"]),
        // Opens built sites in headless Chromium over WebDriver; skipped unless LOUPE_BROWSER_TESTS is set (make browser-test).
        .testTarget(name: "LoupeBrowserTests"),
    ],
    swiftLanguageModes: [.v5]
)
