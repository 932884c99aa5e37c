// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kbq",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KBQ", targets: ["KBQ"]),
        .executable(name: "kbq", targets: ["kbq"]),
    ],
    targets: [
        // The engine: no I/O beyond reading a KB file it is asked to load, never prints.
        .target(
            name: "KBQ",
            exclude: ["Knowledge/Article/article.kb.json"]
        ),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .executableTarget(
            name: "kbq",
            dependencies: ["KBQ", "CEditLine"]
        ),
        .testTarget(
            name: "KBQTests",
            dependencies: ["KBQ"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
