// swift-tools-version:6.0
// libFuzzer targets for mirrord's parsers. Built and run by `scripts/fuzz` with
// `-sanitize=fuzzer,address`; not part of the main build.
import PackageDescription

let core = Target.Dependency.product(name: "MirrorCoreLibraries", package: "main")
let driver = Target.Dependency.target(name: "FuzzDriver")
let package = Package(
    name: "mirrord-fuzz",
    dependencies: [.package(name: "main", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "fuzz-links", dependencies: [core, driver]),
        .executableTarget(name: "fuzz-article", dependencies: [core, driver]),
        .executableTarget(name: "fuzz-charset", dependencies: [core, driver]),
        .executableTarget(name: "fuzz-url", dependencies: [core, driver]),
        .executableTarget(name: "fuzz-config", dependencies: [core, driver]),
        .executableTarget(name: "fuzz-control", dependencies: [
            core, driver, .product(name: "MirrorControlLibrary", package: "main")]),
    ]
)
