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
    /// Blobs that could not be read (corrupt, a dictionary missing): left as they are.
    public var failures: [String] = []
}

/// Compaction, the store's `git gc`: bodies are stored at zstd level 3 as they arrive (the
/// cold mirror is CPU-bound), and compressed again at level 19 later, when the daemon is idle
/// (after each run) or by `mirrord --compact`. Deltas stay as they are (already about the size
/// of an edit), as do bodies over `BlobStore.maxCompactionBytes` and incompressible ones
/// (images). Each blob is rewritten atomically (temp file, `fsync`, `rename`: a reader sees the
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
        let dictionaries = Dictionary(try database.dictionaries().map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
        // Blobs by the versions that name them (in id order, with their source, whose
        // dictionary a blob stored without one gets now); then any blob no version names
        // (the base of a kept delta).
        var after: Int64 = 0
        while !shouldStop() {
            let byVersion = try database.pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT v.id AS vid, b.sha256, b.size, b.stored_size, d.source FROM versions v
                    JOIN blobs b ON b.sha256 = v.raw_sha256 JOIN documents d ON d.id = v.document_id
                    WHERE v.id > ? AND b.compacted = 0 ORDER BY v.id LIMIT ?
                    """, arguments: [after, batch])
            }
            let pending = byVersion.isEmpty ? try database.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT sha256, size, stored_size FROM blobs WHERE compacted = 0 LIMIT ?", arguments: [batch])
            } : byVersion
            if pending.isEmpty { return summary }
            if let last = byVersion.last { after = last["vid"] }
            var staged: [StagedBlob] = []
            var kept: [(sha: String, size: Int)] = []
            var seen = Set<String>()
            for row in pending {
                let sha: String = row["sha256"], size: Int = row["size"], stored: Int = row["stored_size"]
                guard seen.insert(sha).inserted else { continue }  // two versions, one body
                let source: String? = row["source"]
                summary.blobs += 1
                summary.bytesBefore += stored
                // Stored nearly as large as it is (a JPEG): level 19 finds nothing either.
                var smaller: StagedBlob?
                if stored < size - size / 20 {
                    do {
                        smaller = try blobs.compacted(sha, sourceDictionary: source.flatMap { dictionaries[$0] })
                    } catch {
                        // A blob that does not read (`mirrorctl verify` names it) is left as it
                        // is and not tried again; the pass goes on.
                        summary.failures.append("\(error)")
                    }
                }
                if let smaller {
                    staged.append(smaller)
                    summary.rewritten += 1
                    summary.bytesAfter += smaller.storedSize
                } else {
                    // The file's real size: a pass that a crash cut short may have replaced it.
                    let actual = blobs.fileSize(sha) ?? stored
                    summary.bytesAfter += actual
                    kept.append((sha, actual))
                }
            }
            try blobs.makeDurable(staged, replacing: true)
            try database.recordRewritten(staged, kept: kept, compacted: true)
        }
        summary.stopped = true
        return summary
    }
}

extension MirrorDatabase {
    /// Records blob files written anew in place (`BlobStore.recompress`, `compacted`): their
    /// size and dictionary. With `compacted`, marks them, and `kept` (looked at and left as
    /// they are, with their file's size now), as done by compaction.
    public func recordRewritten(_ rewritten: [StagedBlob], kept: [(sha: String, size: Int)] = [], compacted: Bool) throws {
        try pool.write { db in
            let storage = try db.cachedStatement(sql: """
                UPDATE blobs SET stored_size = ?, dictionary_id = ?, compacted = compacted OR ? WHERE sha256 = ?
                """)
            for b in rewritten { try storage.execute(arguments: [b.storedSize, b.dictionaryID.map { Int64($0) }, compacted, b.sha256]) }
            let size = try db.cachedStatement(sql: "UPDATE blobs SET stored_size = ?, compacted = compacted OR ? WHERE sha256 = ?")
            for b in kept { try size.execute(arguments: [b.size, compacted, b.sha]) }
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
