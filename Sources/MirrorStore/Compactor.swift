import CGlibc
import Foundation
import GRDB
import MirrorCore

/// What one compaction pass did.
public struct CompactionSummary: Sendable, Equatable {
    /// Blobs looked at (each is looked at once in the store's life).
    public var blobs = 0
    /// Of those, rewritten smaller.
    public var rewritten = 0
    public var bytesBefore = 0
    public var bytesAfter = 0
    /// The pass stopped early (`shouldStop`); the rest waits for the next one.
    public var stopped = false
}

/// Compaction, the store's `git gc`: bodies are stored at zstd level 3 as they arrive (the
/// cold mirror is CPU-bound), and compressed again at level 19 later, when the daemon is idle
/// (after each run) or by `mirrord --compact`. Deltas stay as they are (already about the size
/// of an edit), as do bodies over `BlobStore.maxCompactionBytes` and incompressible ones
/// (images). Each blob is rewritten atomically (temp file, `syncfs`, `rename`: a reader sees the
/// old or the new file, both whole) and marked `compacted`, so a pass resumes where the last
/// one stopped.
public struct Compactor: Sendable {
    public let database: MirrorDatabase
    public let blobs: BlobStore
    /// Blobs per transaction; `shouldStop` is asked between batches.
    public var batch = 64

    public init(database: MirrorDatabase, blobs: BlobStore) {
        self.database = database
        self.blobs = blobs
    }

    /// - Throws: `StoreError` or a database error (disk full); what was compacted before stays.
    public func run(shouldStop: () -> Bool = { false }) throws -> CompactionSummary {
        // What the run before freed goes back first (compaction starts on top of it), and
        // what compaction used goes back at the end: a daemon returns to its idle size.
        malloc_trim(0)
        defer {
            blobs.releaseCompactionState()
            malloc_trim(0)
        }
        var summary = CompactionSummary()
        while !shouldStop() {
            let pending = try database.pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT sha256, size, stored_size FROM blobs WHERE compacted = 0 LIMIT ?
                    """, arguments: [batch])
            }
            if pending.isEmpty { return summary }
            var staged: [StagedBlob] = []
            var done: [String] = []
            for row in pending {
                let sha: String = row["sha256"], size: Int = row["size"], stored: Int = row["stored_size"]
                summary.blobs += 1
                summary.bytesBefore += stored
                done.append(sha)
                // Stored nearly as large as it is (a JPEG): level 19 finds nothing either.
                guard stored < size - size / 20, let smaller = try blobs.compacted(sha) else {
                    summary.bytesAfter += stored
                    continue
                }
                staged.append(smaller)
                summary.rewritten += 1
                summary.bytesAfter += smaller.storedSize
            }
            try blobs.makeDurable(staged)
            try database.recordCompacted(staged, done: done)
        }
        summary.stopped = true
        return summary
    }
}

extension MirrorDatabase {
    /// Marks blobs compacted, with the new stored size of those rewritten.
    public func recordCompacted(_ rewritten: [StagedBlob], done: [String]) throws {
        try pool.write { db in
            let size = try db.cachedStatement(sql: "UPDATE blobs SET stored_size = ? WHERE sha256 = ?")
            for b in rewritten { try size.execute(arguments: [b.storedSize, b.sha256]) }
            let mark = try db.cachedStatement(sql: "UPDATE blobs SET compacted = 1 WHERE sha256 = ?")
            for sha in done { try mark.execute(arguments: [sha]) }
        }
    }

    /// Rebuilds the database file packed (`VACUUM`: B-tree pages filled, free pages dropped),
    /// then truncates the WAL. Blocks every reader and the writer meanwhile: `mirrord
    /// --compact` does it, with the store to itself; the daemon does not.
    /// - Returns: the file's bytes before and after.
    public func vacuum() throws -> (Int, Int) {
        func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0 }
        return try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")  // the pages in the WAL count too
            let before = size()
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return (before, size())
        }
    }

    /// How many blobs compaction has not been over yet.
    public func blobsToCompact() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM blobs WHERE compacted = 0") ?? 0 }
    }
}
