import Foundation
import GRDB
import MirrorCore

/// Whether an error means the disk (or quota) is full: a blob write's ENOSPC/EDQUOT, or
/// SQLite's `SQLITE_FULL`. Such an error stops the run; it resumes by itself when space returns.
public func isDiskFull(_ error: Error) -> Bool {
    diskFullCode(error) != nil
}

/// The name of the condition behind a disk-full error, for logs and `status`: `ENOSPC` or
/// `EDQUOT` (a blob or mirror file), `SQLITE_FULL` or `SQLITE_IOERR_WRITE` (the database);
/// nil for any other error.
public func diskFullCode(_ error: Error) -> String? {
    if let e = error as? StoreError, e.isDiskFull { return e.errno == EDQUOT ? "EDQUOT" : "ENOSPC" }
    if let e = error as? DatabaseError {
        if e.resultCode == .SQLITE_FULL { return "SQLITE_FULL" }
        if e.extendedResultCode == .SQLITE_IOERR_WRITE { return "SQLITE_IOERR_WRITE" }
    }
    return nil
}

/// The SQLite store (WAL, through GRDB's `DatabasePool`): sources, documents, versions, runs.
///
/// One process writes (the daemon); readers (`mirrorctl --db`, the control API) read
/// snapshots and never block it.
public final class MirrorDatabase: Sendable {
    public let pool: DatabasePool
    public let path: String
    /// Page cache of each connection, KiB (`PRAGMA cache_size`; see `init`).
    static let cacheKiB = 256

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// - Parameter readOnly: open without migrating or writing (for `mirrorctl --db`).
    /// - Throws: `StoreError` naming the file and SQLite's reason.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var config = Configuration()
        config.readonly = readOnly
        // Readers and the writer wait for each other instead of failing with SQLITE_BUSY.
        config.busyMode = .timeout(10)
        // Each connection keeps its own page cache (SQLite's default: up to 2 MiB). Three
        // readers serve the run loop, the checking threads and the control API (their reads
        // are single indexed lookups of microseconds; a fourth waits that long), where GRDB's
        // default of five had let a 30,000-document mirror hold 12 MiB of cached pages.
        config.maximumReaderCount = 3
        config.prepareDatabase { db in
            // WAL + synchronous=NORMAL: a commit survives a process crash (kill -9) because WAL
            // frames are in the OS page cache; only a power loss may drop the last commits,
            // never corrupt the file. Blobs are fsync'ed before their rows, so no row can
            // point at a missing blob either way.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            // 256 KiB of page cache per connection (SQLite's default is 2 MiB): at 30,000
            // documents the file outgrows every connection's cache anyway, and four full ones
            // had been 8 MiB of the daemon's RSS (1 MiB each: 4). A miss is a pread served by
            // the OS page cache; a run reads and writes its rows in id order. With 256 KiB the
            // cold mirror at 30,000 peaked at 63.1-66.5 MiB over three runs, against 65.0-66.0
            // with 1 MiB (the peak moves by 2 MiB between runs of one binary), and resync and
            // reparse were no slower (seven resyncs at 3,000: 178-187 against 185-190 ms median).
            try db.execute(sql: "PRAGMA cache_size = -\(Self.cacheKiB)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        if !readOnly {
            try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
        } else if !FileManager.default.fileExists(atPath: path) {
            throw StoreError(path: path, reason: "no database here (has mirrord run with this config?)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            if !readOnly { try Self.migrator.migrate(pool) }
        } catch let error as DatabaseError {
            throw StoreError(path: path, reason: error.message ?? error.description)
        }
    }

    /// Append-only, named schema migrations.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-sources-documents-versions-runs") { db in
            try db.create(table: "sources") { t in
                t.column("name", .text).primaryKey()
                t.column("last_poll", .datetime)
                t.column("next_poll", .datetime)
                t.column("last_error", .text)
            }
            try db.create(table: "documents") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("url", .text).notNull().unique()
                t.column("source", .text).notNull().indexed()
                t.column("kind", .text).notNull()
                t.column("depth", .integer).notNull().defaults(to: 0)
                t.column("title", .text)
                t.column("first_seen", .datetime).notNull()
                t.column("last_checked", .datetime)
                t.column("next_check", .datetime).indexed()
                t.column("last_status", .integer)
                t.column("etag", .text)
                t.column("last_modified", .text)
                t.column("error", .text)
                t.column("current_version_id", .integer)
                t.column("raw_sha256", .text)
                t.column("content_sha256", .text)
                t.column("version_count", .integer).notNull().defaults(to: 0)
                t.column("revision_count", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "versions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("document_id", .integer).notNull().references("documents")
                t.column("raw_sha256", .text).notNull().indexed()
                t.column("content_sha256", .text).notNull()
                t.column("revision", .integer)
                t.column("title", .text)
                t.column("http_status", .integer).notNull()
                t.column("etag", .text)
                t.column("last_modified", .text)
                t.column("content_type", .text)
                t.column("size", .integer).notNull()
                t.column("fetched_at", .datetime).notNull()
                t.column("run_id", .integer)
                t.column("parser_version", .integer).notNull()
            }
            try db.create(index: "versions_by_document", on: "versions", columns: ["document_id", "id"])
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("trigger", .text).notNull()
                t.column("started", .datetime).notNull()
                t.column("finished", .datetime)
                t.column("status", .text).notNull()
                for c in ["fetched", "not_modified", "new_documents", "new_versions", "new_revisions", "errors"] {
                    t.column(c, .integer).notNull().defaults(to: 0)
                }
                t.column("error", .text)
            }
            try db.create(table: "blobs") { t in
                t.column("sha256", .text).primaryKey()
                t.column("size", .integer).notNull()
                t.column("stored_size", .integer).notNull()
            }
        }
        m.registerMigration("v2-failures-gone-permanent-redirects") { db in
            try db.alter(table: "documents") { t in
                // Consecutive failed checks; drives the push-back of next_check.
                t.add(column: "failures", .integer).notNull().defaults(to: 0)
                // 404/410 upstream: kept and listed, re-checked rarely.
                t.add(column: "gone", .boolean).notNull().defaults(to: false)
                // Where a permanent redirect (301/308) moved the document: fetched from there.
                t.add(column: "fetch_url", .text)
            }
        }
        m.registerMigration("v3-revisit-schedule-and-reverts") { db in
            try db.alter(table: "documents") { t in
                // When the content last changed (the latest revision's fetch): drives revisits.
                t.add(column: "changed_at", .datetime)
            }
            try db.alter(table: "versions") { t in
                // The earlier revision whose content this revision restores, if any.
                t.add(column: "reverts_to", .integer)
            }
            // Due documents come from these, never from a scan of the table.
            try db.create(index: "documents_due", on: "documents", columns: ["source", "next_check"])
            try db.create(index: "documents_kind", on: "documents", columns: ["source", "kind"])
            try db.execute(sql: """
                UPDATE documents SET changed_at = (SELECT MAX(fetched_at) FROM versions v
                  WHERE v.document_id = documents.id AND v.revision IS NOT NULL)
                """)
        }
        m.registerMigration("v4-extraction-rules-hash") { db in
            try db.alter(table: "versions") { t in
                // Hash of the source's content_xpath/remove_xpath that computed content_sha256.
                t.add(column: "rules_hash", .text).notNull().defaults(to: "none")
            }
        }
        m.registerMigration("v5-totals-covering-index") { db in
            // `totals()` (every `status`) aggregates these columns per kind: scanning this
            // narrow index instead of the wide rows took the query from 11 to 3.5 ms at
            // 30,000 documents, and status answers while a sync holds the cores busy.
            try db.create(index: "documents_totals", on: "documents",
                          columns: ["kind", "version_count", "revision_count", "error"])
        }
        m.registerMigration("v6-blob-deltas-dictionaries-leaner-indexes") { db in
            // Blobs are looked up by hash only: keyed by it (WITHOUT ROWID) instead of a rowid
            // table plus an index holding every hash a second time. New columns: the blob a
            // delta is compressed against (kept while the delta is), the zstd dictionary a
            // whole blob is compressed with, and whether `Compactor` has been over it.
            try db.execute(sql: """
                CREATE TABLE blobs_v6 (sha256 TEXT NOT NULL PRIMARY KEY, size INTEGER NOT NULL,
                  stored_size INTEGER NOT NULL, base_sha256 TEXT, dictionary_id INTEGER,
                  compacted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
                INSERT INTO blobs_v6 (sha256, size, stored_size) SELECT sha256, size, stored_size FROM blobs;
                DROP TABLE blobs;
                ALTER TABLE blobs_v6 RENAME TO blobs;
                CREATE INDEX blobs_to_compact ON blobs (sha256) WHERE compacted = 0;
                """)
            // Nothing looks versions up by raw hash (garbage collection scans them once), and
            // `documents_due` and `documents_kind` both lead with `source`.
            try db.execute(sql: "DROP INDEX IF EXISTS versions_on_raw_sha256")
            try db.execute(sql: "DROP INDEX IF EXISTS documents_on_source")
            try db.create(table: "dictionaries") { t in
                t.column("id", .integer).primaryKey()  // zstd dictionary ID, the file's name
                t.column("source", .text).notNull()
                t.column("created", .datetime).notNull()
                t.column("size", .integer).notNull()
                t.column("samples", .integer).notNull()
            }
        }
        m.registerMigration("v7-index-links-known") { db in
            try db.alter(table: "documents") { t in
                // "<raw_sha256> <link rules fingerprint>" of the body whose links a run has
                // recorded in full: a 304 on it needs no parse for its links.
                t.add(column: "links_known", .text)
            }
        }
        m.registerMigration("v8-documents-by-fetch-url") { db in
            // A link to where a document was permanently moved is that document (see
            // `document(fetchURL:)`); few rows have one, so the index is small.
            try db.execute(sql: "CREATE INDEX documents_by_fetch_url ON documents (fetch_url) WHERE fetch_url IS NOT NULL")
        }
        m.registerMigration("v9-run-scope") { db in
            // What a run covered (`RunRecord.scope`): runs before it have none.
            try db.alter(table: "runs") { t in t.add(column: "scope", .text) }
        }
        return m
    }
}
