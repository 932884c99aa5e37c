import Foundation
import Testing

// Runs the example host program (Examples/Embedding, product `kbq-embed-example`) and checks
// what it prints, so the example cannot stop building or drift from the API.

private let root = URL(fileURLWithPath: repositoryRoot)

/// The example binary: beside the running test bundle (KBQTests depends on the example, so
/// building the tests builds it, whatever `--scratch-path` says), else in `.build/debug`, else
/// built now into a scratch folder of its own (the tests' own build folder is locked while
/// they run).
private func exampleBinary() throws -> String {
    let name = "kbq-embed-example"
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
    for candidate in [dir.appendingPathComponent(name), root.appendingPathComponent(".build/debug/\(name)")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate.path
    }
    let scratch = root.appendingPathComponent(".build-embed-example").path
    let build = try run("/usr/bin/env", ["swift", "build", "--product", name, "--scratch-path", scratch], in: root.path)
    guard build.status == 0 else { throw ExampleError(message: "swift build failed:\n\(build.output)") }
    return scratch + "/debug/" + name
}

private struct ExampleError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs a program to its end and returns its status and what it printed (stdout and stderr).
private func run(_ path: String, _ arguments: [String] = [], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var environment = ProcessInfo.processInfo.environment
    environment["NO_COLOR"] = "1"
    p.environment = environment
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // Read before waiting, so a full pipe cannot block the child.
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct EmbeddingExampleTests {
    @Test func theExamplePrintsTheContainersComparisonThroughTheAPI() throws {
        let (status, output) = try run(try exampleBinary())
        #expect(status == 0, "\(output)")
        // The comparison: both sources with their values, and the spread from the typed summary.
        #expect(output.contains("== containers comparison =="))
        #expect(output.contains("U.S. intelligence"))
        #expect(output.contains("South Korea"))
        #expect(output.contains("over 16,500"))
        #expect(output.contains("13,000"))
        #expect(output.contains("spread 3,500"))   // the rendered table
        #expect(output.contains("spread: 3,500"))  // read from ResultTable.summaries
        // A diagnostic drawn by SourceText, with its stable kind.
        #expect(output.contains("bad.kbq:1:17: error: unknown field 'topc' in estimates"))
        #expect(output.contains("did you mean 'topic'?"))
        #expect(output.contains("kind: unknown-field"))
        // Limits and cancellation end runs with their own kinds.
        #expect(output.contains("kind: too-many-rows"))
        #expect(output.contains("with limit 3: 3 rows"))
        #expect(output.contains("kind: cancelled"))
    }
}
