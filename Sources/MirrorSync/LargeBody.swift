import CGlibc
import Foundation

/// Peak memory of large pages. A page costs about ten times its size while it is parsed
/// (decoded text, libxml2's tree, the extracted strings); parsed side by side on every
/// processing thread, and with each thread's malloc arena keeping the peak of the largest page
/// it ever saw, a 2 MB tail drove peak RSS to 132 MiB at 30,000 articles (BENCHMARKS.md).
/// Pages from `threshold` bytes on are therefore processed one at a time, and the memory they
/// freed is handed back to the kernel (`malloc_trim`) before the next one starts.
enum LargeBody {
    /// Bytes of raw body from which a page counts as large.
    static let threshold = 256 * 1024
    private static let gate = NSLock()

    /// Runs `work` (which processes a body of `size` bytes), alone among large bodies.
    static func oneAtATime<T>(size: Int, _ work: () throws -> T) rethrows -> T {
        guard size >= threshold else { return try work() }
        gate.lock()
        defer {
            malloc_trim(0)
            gate.unlock()
        }
        return try work()
    }
}
