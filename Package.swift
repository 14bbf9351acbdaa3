// swift-tools-version:6.0
// mlv: data versioning and reproducible pipelines with a built-in conv-net engine.
// Layout (dependencies point downward only):
//   mlv -> MLVCommands -> {MLVKit, MLVEngine}; MLVKit -> {MLVGit, MLVHTTP, MLVSupport}; MLVEngine -> MLVSupport.
// Each C library is imported by exactly one Swift module.
import PackageDescription

let package = Package(
    name: "mlv",
    products: [
        .executable(name: "mlv", targets: ["mlv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        // C libraries, each behind a modulemap and a one-line shim header.
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // libcurl is loaded at run time (see Sources/CCurl/shim.h); only its headers are needed to build.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // OpenBLAS is loaded at run time (see Sources/CBLAS/shim.h); only its headers are needed to build.
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // The "Basics" layer: files, locks, hashing (libcrypto), SQLite, YAML helpers. No domain words.
        .target(name: "MLVSupport", dependencies: ["CCrypto", "CSQLite", "Yams"]),
        // libgit2 behind one door.
        .target(name: "MLVGit", dependencies: ["CGit2", "MLVSupport"]),
        // libcurl behind one door (S3/MinIO transport and the SigV4 signer).
        .target(name: "MLVHTTP", dependencies: ["CCurl", "MLVSupport"]),
        // The conv-net engine: OpenBLAS and libpng behind one door.
        .target(name: "MLVEngine", dependencies: ["CBLAS", "CPNG", "MLVSupport", "Yams"]),
        // The domain: workspace, cache, pointers, pipelines, remotes.
        .target(name: "MLVKit", dependencies: ["MLVGit", "MLVHTTP", "MLVSupport", "Yams", "TOMLKit"]),
        // One small file per command; ArgumentParser lives here only.
        .target(name: "MLVCommands", dependencies: [
            "MLVKit", "MLVEngine", "MLVSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mlv", dependencies: ["MLVCommands"]),

        .target(name: "MLVTestSupport", dependencies: ["MLVSupport"], path: "Tests/MLVTestSupport"),
        .testTarget(name: "MLVSupportTests", dependencies: ["MLVSupport", "MLVTestSupport"]),
        .testTarget(name: "MLVGitTests", dependencies: ["MLVGit", "MLVTestSupport"]),
        .testTarget(name: "MLVHTTPTests", dependencies: ["MLVHTTP", "MLVTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "MLVKitTests", dependencies: ["MLVKit", "MLVTestSupport"]),
        .testTarget(name: "MLVCommandsTests", dependencies: ["MLVTestSupport"]),
        .testTarget(name: "MLVEngineTests", dependencies: ["MLVEngine", "MLVTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
