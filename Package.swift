// swift-tools-version:6.0
import PackageDescription

/// The executables carry the Swift runtime and Foundation inside them (`-static-stdlib`, what
/// `swift build --static-swift-stdlib` does), in every configuration, so that the tests run
/// the binaries users get. Only the code they use is linked and nothing is resolved at start:
/// at 3,000 articles the cold mirror's peak RSS went from 52 to 47 MiB and its CPU time down
/// by 5 % (BENCHMARKS.md). The C libraries (libcurl, SQLite, libxml2, zstd) stay Debian's.
///
/// The library modules are compiled as usual (against the shared runtime), so their objects
/// name the shared libraries' set; the static archives they need are named here, and lld
/// (shipped with the toolchain; it resolves archives in any order) links them.
let staticSwift: [LinkerSetting] = [.unsafeFlags(["-static-stdlib", "-use-ld=lld"] + [
    "Foundation", "FoundationEssentials", "FoundationInternationalization", "_FoundationICU", "_FoundationCollections",
    "_FoundationCShims", "CoreFoundation", "swiftSynchronization", "swift_StringProcessing", "swift_RegexParser",
    "swift_Concurrency", "swiftDispatch", "dispatch", "BlocksRuntime", "swiftGlibc",
].map { "-l" + $0 })]
/// The executables' own modules see the static runtime, whose module files name its archives.
let staticSwiftCompile: [SwiftSetting] = [.unsafeFlags(["-static-stdlib"])]

let package = Package(
    name: "mirrord",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mirrord", targets: ["mirrord"]),
        .executable(name: "mirrorctl", targets: ["mirrorctl"]),
        // The pure core, for the fuzz targets in Fuzz/ (a separate package built with sanitizers).
        .library(name: "MirrorCoreLibraries", targets: ["MirrorCore", "MirrorMarkup", "MirrorDiscovery", "MirrorExtract"]),
        .library(name: "MirrorControlLibrary", targets: ["MirrorControl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, reached through pkg-config.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CCmark", providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CGlibc", path: "Sources/CGlibc", providers: [.apt(["libc6-dev"])]),

        .target(name: "MirrorCore", dependencies: [
            "CCrypto",
            "CZlib",
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "MirrorFetch", dependencies: ["CCurl", "MirrorCore"]),
        .target(name: "MirrorMarkup", dependencies: ["CLibXML2", "CCmark", "MirrorCore"]),
        .target(name: "MirrorDiscovery", dependencies: ["MirrorCore", "MirrorMarkup"]),
        .target(name: "MirrorExtract", dependencies: ["CLibXML2", "MirrorCore", "MirrorMarkup"]),
        .target(name: "MirrorDiff", dependencies: ["MirrorMarkup"]),
        .target(name: "MirrorStore", dependencies: [
            "CGlibc", "CZstd", "MirrorCore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "MirrorSync", dependencies: [
            "CGlibc", "MirrorCore", "MirrorFetch", "MirrorDiscovery", "MirrorExtract", "MirrorStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "MirrorControl", dependencies: [
            "MirrorCore", "MirrorStore", "MirrorSync", "MirrorFetch", "MirrorDiff", "MirrorExtract",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "mirrord", dependencies: [
            "MirrorCore", "MirrorSync", "MirrorStore", "MirrorControl", "MirrorExtract", "MirrorMarkup",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: staticSwiftCompile, linkerSettings: staticSwift),
        .executableTarget(name: "mirrorctl", dependencies: [
            "MirrorCore", "MirrorStore", "MirrorControl", "MirrorFetch",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: staticSwiftCompile, linkerSettings: staticSwift),

        .executableTarget(name: "mirrord-bench", dependencies: ["MirrorCore", "MirrorDiff", "MirrorExtract", "MirrorMarkup"],
                          path: "Benchmarks/mirrord-bench", swiftSettings: staticSwiftCompile, linkerSettings: staticSwift),

        .testTarget(name: "MirrorCoreTests", dependencies: ["MirrorCore", "TestSupport"]),
        .testTarget(name: "MirrorMarkupTests", dependencies: ["MirrorMarkup", "TestSupport"]),
        .testTarget(name: "MirrorDiscoveryTests", dependencies: ["MirrorDiscovery"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MirrorExtractTests", dependencies: ["MirrorExtract"],
                    resources: [.copy("Fixtures"), .copy("HTMLFixtures")]),
        .testTarget(name: "MirrorDiffTests", dependencies: ["MirrorDiff"]),
        .testTarget(name: "MirrorStoreTests", dependencies: [
            "MirrorStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "MirrorFetchTests", dependencies: ["MirrorFetch", "TestSupport"]),
        .testTarget(name: "MirrorSyncTests", dependencies: [
            "MirrorSync", "MirrorStore", "MirrorControl", "MirrorFetch", "TestSupport",
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "TestSupport", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Tests/TestSupport"),
    ]
)
