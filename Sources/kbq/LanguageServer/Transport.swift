#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import KBQ

/// What the transport read: a message body, or why the bytes at that point were no message.
enum IncomingMessage {
    /// The body of one message (JSON text, not yet parsed).
    case body([UInt8])
    /// A header block without a usable Content-Length, or a body over the size bound (read
    /// and dropped): the server answers with an error and goes on with the next message.
    case malformed(String)
    /// The input ended.
    case end
}

/// The base protocol of the Language Server Protocol over a pair of file descriptors:
/// header lines (`Content-Length: N`, and any others, which are read and ignored), a blank
/// line, then N bytes of JSON. Written with read(2) and write(2): no Foundation.
final class MessageTransport {
    /// The largest message body read; a larger one is read and dropped.
    static let maxBodyBytes = 64 << 20
    /// The longest header line; the most header lines in one block.
    static let maxHeaderLineBytes = 8 << 10
    static let maxHeaderLines = 64

    private let input: Int32
    private let output: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(input: Int32 = 0, output: Int32 = 1) {
        self.input = input
        self.output = output
    }

    /// Reads more bytes into the buffer; false at the end of the input.
    private func fill() -> Bool {
        if atEnd { return false }
        if start > 0, start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        if start > 1 << 20 { buffer.removeFirst(start); start = 0 }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return true }
            if n < 0, kbq_errno() == EINTR { continue }
            atEnd = true
            return false
        }
    }

    /// One header line without its line ending, `nil` at the end of the input. A line over
    /// the bound is read to its end and returned cut.
    private func readLine() -> [UInt8]? {
        var line: [UInt8] = []
        while true {
            if start == buffer.count, !fill() { return line.isEmpty ? nil : line }
            while start < buffer.count {
                let b = buffer[start]
                start += 1
                if b == 0x0A {
                    if line.last == 0x0D { line.removeLast() }
                    return line
                }
                if line.count < MessageTransport.maxHeaderLineBytes { line.append(b) }
            }
        }
    }

    /// The next message.
    func receive() -> IncomingMessage {
        var length: Int?
        var problem: String?
        var lines = 0
        // Headers: as many lines as come before a blank one; only Content-Length matters.
        while true {
            guard let line = readLine() else { return .end }
            if line.isEmpty {
                if lines == 0 { continue }  // stray blank lines between messages
                break
            }
            lines += 1
            if lines > MessageTransport.maxHeaderLines { problem = "more than \(MessageTransport.maxHeaderLines) header lines" }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                problem = problem ?? "a header line without ':'"
                continue
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased().trimmingCharacters(" \t")
            guard name == "content-length" else { continue }
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(" \t")
            if let n = Int(value), n >= 0 { length = n } else { problem = "Content-Length '\(value.prefix(40))' is not a number" }
        }
        guard let length else { return .malformed(problem ?? "a message without a Content-Length header") }
        if let problem { skip(length); return .malformed(problem) }
        if length > MessageTransport.maxBodyBytes {
            skip(length)
            return .malformed("a message of \(length) bytes; the limit is \(MessageTransport.maxBodyBytes)")
        }
        var body: [UInt8] = []
        body.reserveCapacity(length)
        while body.count < length {
            if start == buffer.count, !fill() { return .end }
            let take = min(length - body.count, buffer.count - start)
            body.append(contentsOf: buffer[start..<(start + take)])
            start += take
        }
        return .body(body)
    }

    /// Reads and drops `count` bytes.
    private func skip(_ count: Int) {
        var left = count
        while left > 0 {
            if start == buffer.count, !fill() { return }
            let take = min(left, buffer.count - start)
            start += take
            left -= take
        }
    }

    /// Writes one message with its header.
    func send(_ json: String) {
        var bytes = Array("Content-Length: \(json.utf8.count)\r\n\r\n".utf8)
        bytes.append(contentsOf: json.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
            if n > 0 { offset += n } else if n < 0, kbq_errno() == EINTR { continue } else { return }
        }
    }
}

extension String {
    /// Without the given characters at either end.
    func trimmingCharacters(_ set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
