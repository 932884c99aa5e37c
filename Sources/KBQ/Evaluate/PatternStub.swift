struct PatternError: Error, Sendable, Equatable { let message: String; let offset: Int }
struct Pattern: Sendable {
    init(_ source: String) throws(PatternError) {}
    func matches(_ s: String) -> Bool { false }
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { false }
}
