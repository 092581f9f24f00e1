import CGlibc
import Foundation
import NIOCore

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
            MallocTuning.trim()
            gate.unlock()
        }
        return try work()
    }
}

/// glibc malloc settings for a long-running daemon that parses pages on several threads.
/// Measured on a cold mirror of 30,000 articles with a tail of 2 MB pages (`scale.py`):
/// peak RSS 92 MiB with glibc's defaults, 80 with the arena cap alone, 74 with both.
public enum MallocTuning {
    /// Bytes from which an allocation is its own mapping, handed back to the kernel when freed.
    public static let mmapThreshold = LargeBody.threshold

    /// Applies both settings (`mallopt(3)`): once, at startup, before a sync's threads meet
    /// (the cap binds arenas created from then on). Idempotent.
    /// - `M_ARENA_MAX` = cores: glibc gives up to 8 arenas per core, one per thread that meets
    ///   contention, and each keeps the high-water mark of what was freed into it.
    /// - `M_MMAP_THRESHOLD` fixed at `mmapThreshold`: glibc raises its threshold (up to 32 MB)
    ///   each time a mapped chunk is freed, so after the first large page every later large
    ///   buffer would come from an arena and stay there. Fixing it also turns off that raise.
    public static func apply(cores: Int = System.coreCount) {
        mallopt(M_ARENA_MAX, Int32(max(1, cores)))
        mallopt(M_MMAP_THRESHOLD, Int32(mmapThreshold))
    }

    /// Checks between two `trim()`s in a run (see `SyncEngine.run`).
    public static let trimEvery = 256

    /// Hands the pages that freed memory left whole inside the arenas back to the kernel
    /// (`malloc_trim(3)`; glibc itself only gives back the top of an arena). A run does this
    /// every `trimEvery` checks and after each large body: the pages a check's parse touched
    /// stay resident otherwise. At 30,000 articles this took the cold mirror's resident heap
    /// from 23 to 20 MiB at the median (sampled every 20 ms), for about 1 ms a call.
    public static func trim() {
        malloc_trim(0)
    }
}
