// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kbq",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KBQ", targets: ["KBQ"]),
        // KBQ over a KB pushed to PostgreSQL, for programs that embed kbq (libpq).
        .library(name: "KBQPostgres", targets: ["KBQPostgres"]),
        .executable(name: "kbq", targets: ["kbq"]),
        .executable(name: "kbq-mcp", targets: ["kbq-mcp"]),
        .executable(name: "kbq-db", targets: ["kbq-db"]),
    ],
    dependencies: [
        // --help, shell completion scripts and usage errors of the kbq command (not on its
        // start-up path: see Sources/kbq/Options.swift).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation --target KBQ`: the DocC catalog in
        // Sources/KBQ/KBQ.docc. A plugin only; nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // `kbq mcp`: the Model Context Protocol server for AI agents (Sources/kbq-mcp), a
        // program of its own so that `kbq` does not link it (Sources/kbq/Subcommands.swift).
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        // The engine: no I/O beyond reading a KB file it is asked to load, never prints.
        .target(
            name: "KBQ",
            dependencies: ["KBQPattern", "CArticleKB"],
            exclude: ["Article/article.kb.json"]
        ),
        // The article KB as a compiled KB file, in the binary as C bytes on a 64-byte boundary
        // (scripts/embed-article-kb.sh writes them from `kbq build`): KBQ opens them in place.
        // Its debug information as DWARF 4: valgrind 3.19 (Debian 12) cannot read the DWARF 5
        // clang writes by default and gives up on the whole kbq (callgrind measurements,
        // make startup-order). SwiftPM puts its own -g after these flags, so -g0 would not hold.
        .target(name: "CArticleKB", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        // The linear-time pattern engine behind `matches`: patterns come from untrusted
        // query text, so it never backtracks and bounds every size. A module of its own, with
        // its own tests, that depends on nothing.
        .target(name: "KBQPattern"),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        // The interactive shell and the script runner's input loop (REPL, dot-commands, libedit,
        // completion, output), with the engine behind ``ShellEngine``: the KB file in memory for
        // kbq, a PostgreSQL connection for kbq-db. One copy for both programs, so that
        // `kbq --db` gives the REPL a user knows from the file.
        .target(
            name: "KBQShell",
            dependencies: ["KBQ", "CEditLine"]
        ),
        .executableTarget(
            name: "kbq",
            dependencies: ["KBQ", "KBQShell", "CEditLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // `kbq mcp`: answers AI agents' questions over MCP, each row with its citation.
        .executableTarget(
            name: "kbq-mcp",
            dependencies: ["KBQ", .product(name: "MCP", package: "swift-sdk")]
        ),
        // libpq, PostgreSQL's C client, for kbq-db alone.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // A KB in PostgreSQL from Swift: the connection (libpq), `push`, and `PostgresKB`,
        // which checks kbq's statements against the pushed schema and runs them as SQL.
        .target(
            name: "KBQPostgres",
            dependencies: ["KBQ", "CLibPQ"]
        ),
        // `kbq push` and `kbq --db`: kbq runs this program from beside itself, so that the
        // static kbq neither links nor loads a database client (its start-up stays as it was).
        // Dynamically linked: libpq comes from the system (libpq5).
        .executableTarget(
            name: "kbq-db",
            dependencies: ["KBQ", "KBQShell", "KBQPostgres"]
        ),
        // The library benchmark (scripts/bench.sh runs it): depends on the engine only.
        .executableTarget(
            name: "kbq-bench",
            dependencies: ["KBQ"]
        ),
        // A small program that embeds the library the way a host would (the tests run it).
        .executableTarget(
            name: "kbq-embed-example",
            dependencies: ["KBQ"],
            path: "Examples/Embedding"
        ),
        // A host running untrusted queries under Limits.untrusted, reporting time and peak
        // memory per query (the tests run it: HostileInputRound2Tests).
        .executableTarget(
            name: "kbq-untrusted-host",
            dependencies: ["KBQ"],
            path: "Tests/UntrustedHost"
        ),
        // Helpers the test targets share.
        .target(
            name: "KBQTestSupport",
            path: "Tests/KBQTestSupport"
        ),
        // Depends on the example and the host so that building the tests builds the
        // binaries they run.
        .testTarget(
            name: "KBQTests",
            dependencies: ["KBQ", "KBQTestSupport", "kbq-embed-example", "kbq-untrusted-host"],
            // The golden checked forms of Examples/ (CheckedQueryTests), read from the source tree.
            exclude: ["CheckedGolden"]
        ),
        // The pattern engine alone: syntax, errors with their positions, bounds, Unicode,
        // and its linear-time guarantee counted in steps.
        .testTarget(
            name: "KBQPatternTests",
            dependencies: ["KBQPattern", "KBQTestSupport"]
        ),
        // Pseudo-terminals and child processes for the CLI tests (Glibc does not export
        // posix_openpt and friends to Swift).
        .target(
            name: "CPseudoTerminal",
            path: "Tests/CPseudoTerminal"
        ),
        // Drives the real kbq binary: the script runner through pipes, the REPL under a
        // pseudo-terminal.
        .testTarget(
            name: "CLITests",
            dependencies: ["kbq", "kbq-mcp", "kbq-db", "KBQ", "KBQShell", "KBQPostgres", "KBQTestSupport", "CPseudoTerminal"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
