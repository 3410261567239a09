// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loupe", targets: ["loupe"]),
        .executable(name: "loupe-bench", targets: ["LoupeBench"]),
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
        .target(name: "LoupeCore", dependencies: ["COpenBLAS", "CMalloc"]),
        .target(name: "LoupeModel", dependencies: ["LoupeCore"]),
        .target(name: "LoupeAnalysis", dependencies: ["LoupeCore", "LoupeModel"]),
        .target(
            name: "LoupeSite",
            dependencies: ["LoupeAnalysis", "CCmark", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(
            name: "LoupeCLI",
            dependencies: [
                "LoupeCore", "LoupeModel", "LoupeAnalysis", "LoupeSite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "loupe", dependencies: ["LoupeCLI"]),
        .executableTarget(name: "LoupeBench", dependencies: ["LoupeCore", "LoupeModel", "LoupeAnalysis", "LoupeSite"]),
        .testTarget(name: "LoupeCoreTests", dependencies: ["LoupeCore"]),
        .testTarget(name: "LoupeModelTests", dependencies: ["LoupeModel", "LoupeCore"]),
        .testTarget(name: "LoupeAnalysisTests", dependencies: ["LoupeAnalysis", "LoupeModel", "LoupeCore"]),
        .testTarget(name: "LoupeSiteTests", dependencies: ["LoupeSite", "LoupeAnalysis"]),
        .testTarget(name: "LoupeCLITests", dependencies: ["LoupeCLI", "LoupeModel", "LoupeCore"]),
    ],
    swiftLanguageModes: [.v5]
)
