import Foundation

/// A thread-safe counter for server handlers.
public final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0

    public init() {}

    public var value: Int { lock.lock(); defer { lock.unlock() }; return n }

    /// Returns the value before incrementing.
    public func next() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n - 1 }
}
