import Foundation
import Synchronization
import Testing

// The history file is the one file kbq writes. It is rewritten whole after every entry,
// so a kill in the middle of a write must leave the old file or the new one, never a
// torn one: kbq writes a temporary file and renames it over the history.

/// The first line libedit writes in a history file.
private let historyHeader = "_HiStOrY_V2_\n"

private func inode(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
}

/// Reads a file with one read(2) per chunk, as another process would see it at an instant.
private func snapshot(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += chunk[0..<n]
    }
    return out
}

/// A complete history file: the header, then whole lines.
private func isWhole(_ bytes: [UInt8]) -> Bool {
    bytes.starts(with: Array(historyHeader.utf8)) && bytes.last == 0x0A
}

/// What the reading thread saw.
private final class Watch: Sendable {
    let done = Atomic<Bool>(false)
    let reads = Atomic<Int>(0)
    let torn = Atomic<Int>(0)
}

/// The entries of a history file (libedit writes a space as `\040`).
private func entries(_ bytes: [UInt8]) -> [String] {
    String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: "\\040", with: " ") }
}

@Suite("history file written atomically") struct AtomicHistoryTests {
    let scratch: Scratch
    init() throws { scratch = try Scratch() }

    @Test func eachSaveReplacesTheFileInsteadOfRewritingIt() throws {
        let history = scratch.file("history")
        let kbq = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try kbq.expect("kbq> ")
        kbq.send("sources limit 1 select id\r")
        try kbq.expect("(1 row)")
        try kbq.expect("kbq> ")
        let first = try #require(snapshot(history))
        #expect(isWhole(first))
        // A second name for the file as it is now: rewriting in place would change what it
        // shows; replacing the file leaves it alone.
        #expect(link(history, history + ".before") == 0)
        let before = inode(history)
        kbq.send("sources limit 2 select id\r")
        try kbq.expect("(2 rows)")
        try kbq.expect("kbq> ")
        #expect(inode(history) != before)
        #expect(snapshot(history + ".before") == first)
        #expect(entries(snapshot(history) ?? []).last == "sources limit 2 select id")
        // No temporary file is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty)
        kbq.send("\u{04}")
        #expect(kbq.waitForExit() == 0)
    }

    @Test func twoSessionsSideBySideKeepEachOthersEntries() throws {
        let history = scratch.file("history")
        let a = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        let b = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try a.expect("kbq> ")
        try b.expect("kbq> ")
        try a.enter("sources limit 1 select id", expecting: "(1 row)")
        try b.enter("sources limit 2 select id", expecting: "(2 rows)")
        try a.enter("sources limit 3 select id", expecting: "(3 rows)")
        // Each write was the file as it stood plus the new entry: B's is kept between A's.
        #expect(entries(snapshot(history) ?? []) == ["sources limit 1 select id", "sources limit 2 select id", "sources limit 3 select id"])
        for s in [a, b] {
            s.send("\u{04}")
            #expect(s.waitForExit() == 0)
        }
    }

    @Test func aReaderNeverSeesATornFileAndAKillLeavesAWholeOne() throws {
        let history = scratch.file("history")
        let kbq = try TerminalSession(scratch: scratch, environment: ["KBQ_HISTORY": history])
        try kbq.expect("kbq> ")
        // Another process's view, read as fast as it can while kbq saves after each entry.
        let watch = Watch()
        let reader = Thread { [history, watch] in
            while !watch.done.load(ordering: .relaxed) {
                guard let bytes = snapshot(history) else { continue }
                watch.reads.add(1, ordering: .relaxed)
                if !isWhole(bytes) { watch.torn.add(1, ordering: .relaxed) }
            }
        }
        reader.start()
        // One entry at a time: lines that arrive together are read as one paste (one
        // history entry), and on a loaded machine even two sent apart can arrive together.
        for i in 1...40 {
            try kbq.enter("sentences limit \(i) select id", expecting: i == 1 ? "(1 row)" : "(\(i) rows)")
        }
        // Killed without warning, straight after more entries: whatever the moment, the file
        // is whole.
        kbq.send("sources limit 1\rsources limit 2\r")
        kill(kbq.pid, SIGKILL)
        #expect(kbq.waitForExit() == 128 + SIGKILL)
        watch.done.store(true, ordering: .relaxed)
        while !reader.isFinished { usleep(1000) }
        #expect(watch.torn.load(ordering: .relaxed) == 0)
        #expect(watch.reads.load(ordering: .relaxed) > 0)
        let last = try #require(snapshot(history))
        #expect(isWhole(last))
        #expect(entries(last).contains("sentences limit 40 select id"))
    }
}
