import Foundation
import GRDB
import MirrorCore

/// What recording a fetched body changed.
public struct RecordOutcome: Sendable {
    public var newVersion: Bool
    public var newRevision: Bool
    /// The document's revision count afterwards.
    public var revision: Int
    public var document: DocumentRecord
}

/// What a run's queue keeps of a document (see `documentRefs`).
public struct DocumentRef: Sendable {
    public var id: Int64
    public var url: String
    public var depth: Int
    public var kind: String

    public init(id: Int64, url: String, depth: Int, kind: String) {
        self.id = id
        self.url = url
        self.depth = depth
        self.kind = kind
    }
}

/// One body for `recordBodies`: what `recordBody(documentId:_:nextCheck:tracksRevisions:)` takes.
public struct BodyToRecord: Sendable {
    public var documentId: Int64
    public var body: FetchedBody
    public var nextCheck: Date?
    /// False for assets, which have versions but no revisions.
    public var tracksRevisions: Bool

    public init(documentId: Int64, body: FetchedBody, nextCheck: Date?, tracksRevisions: Bool) {
        self.documentId = documentId
        self.body = body
        self.nextCheck = nextCheck
        self.tracksRevisions = tracksRevisions
    }
}

/// A fetched body ready to record.
public struct FetchedBody: Sendable {
    public var rawSha256: String
    public var contentSha256: String
    public var title: String?
    public var size: Int
    public var storedSize: Int
    public var httpStatus: Int
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    public var fetchedAt: Date
    public var runId: Int64?
    public var parserVersion: Int
    public var rulesHash: String
    /// How the blob is stored: the blob it is a delta against, the dictionary it was
    /// compressed with (see `BlobStore`).
    public var blobBase: String?
    public var blobDictionary: UInt32?

    public init(rawSha256: String, contentSha256: String, title: String?, size: Int, storedSize: Int, httpStatus: Int,
                etag: String?, lastModified: String?, contentType: String?, fetchedAt: Date, runId: Int64?,
                parserVersion: Int, rulesHash: String = "none", blobBase: String? = nil, blobDictionary: UInt32? = nil) {
        self.rulesHash = rulesHash
        self.blobBase = blobBase
        self.blobDictionary = blobDictionary
        self.rawSha256 = rawSha256
        self.contentSha256 = contentSha256
        self.title = title
        self.size = size
        self.storedSize = storedSize
        self.httpStatus = httpStatus
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.fetchedAt = fetchedAt
        self.runId = runId
        self.parserVersion = parserVersion
    }
}

/// Totals over the whole store, for `status`.
public struct StoreTotals: Codable, Sendable, Equatable {
    public var documents = 0
    public var indexes = 0
    public var articles = 0
    public var assets = 0
    public var versions = 0
    public var revisions = 0
    public var errors = 0
    public var rawBytes = 0
    public var storedBytes = 0
}

extension MirrorDatabase {
    // MARK: documents

    public func document(url: String) throws -> DocumentRecord? {
        // One statement: SQLite's own implicit read transaction isolates it, so GRDB's
        // BEGIN/COMMIT around it (a sixth of a resync's CPU) is not needed.
        try pool.unsafeRead { db in try DocumentRecord.fetch(db, url: url) }
    }

    /// The document permanently moved (301/308) to `url`, if any: a link to the new address
    /// is that document, not a new one (an index that later links the article's new URL had
    /// made a second document, and both were fetched).
    public func document(fetchURL url: String) throws -> DocumentRecord? {
        try pool.unsafeRead { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(DocumentRecord.columns) FROM documents WHERE fetch_url = ? LIMIT 1"),
                             arguments: [url]).map(DocumentRecord.init(columns:))
        }
    }

    /// The documents a run checks: every index of the source (unless `indexes` is false: a
    /// source whose poll is not due), and the other documents whose `next_check` has come by
    /// `due` (or that were never checked); with `due` nil, all of the source's. Served by the
    /// `documents_kind` and `documents_due` indexes, not a scan. As the few columns a run's
    /// queue holds, read through a cursor: a run over 30,000 documents
    /// does not keep 30,000 full records while it works through them, nor 30,000 copied rows
    /// while it lists them (10 MB, the peak of a resync at 30,000, heaptrack).
    public func documentRefs(source: String, dueAt due: Date?, indexes: Bool = true) throws -> [DocumentRef] {
        try pool.read { db in
            let columns = "id, url, depth, kind"
            let rows: RowCursor
            if let due {
                let indexRows = indexes ? "SELECT \(columns) FROM documents WHERE source = ? AND kind = 'index' UNION ALL " : ""
                rows = try Row.fetchCursor(db, sql: indexRows + """
                    SELECT \(columns) FROM documents WHERE source = ? AND next_check IS NULL AND kind != 'index'
                    UNION ALL
                    SELECT \(columns) FROM documents WHERE source = ? AND next_check <= ? AND kind != 'index'
                    """, arguments: StatementArguments((indexes ? [source] : []) + [source, source, StoredDate.text(due)]))
            } else {
                rows = try Row.fetchCursor(db, sql: "SELECT \(columns) FROM documents WHERE source = ? ORDER BY kind, id", arguments: [source])
            }
            var refs: [DocumentRef] = []
            while let row = try rows.next() {
                refs.append(DocumentRef(id: row[0], url: row[1], depth: row[2], kind: row[3]))
            }
            return refs
        }
    }

    /// One document by id.
    public func document(id: Int64) throws -> DocumentRecord? {
        try pool.unsafeRead { db in try DocumentRecord.fetch(db, id: id) }  // one statement (see above)
    }

    /// The documents with these ids, by id (ids that name no row are absent), in as few
    /// statements as `DocumentRecord.fetch(_:ids:)` takes: a run reads the rows of its next
    /// checks this way. One read per check had cost 7 % of a resync's CPU, nearly all of it in
    /// taking and handing back a reader connection.
    public func documents(ids: some Collection<Int64>) throws -> [Int64: DocumentRecord] {
        guard !ids.isEmpty else { return [:] }
        return try pool.unsafeRead { db in try DocumentRecord.fetch(db, ids: ids) }
    }

    /// Size and content type of each document's current version, by document id.
    public func currentVersionInfo() throws -> [Int64: (size: Int, contentType: String?)] {
        try pool.read { db in
            var out: [Int64: (Int, String?)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT d.id, v.size, v.content_type FROM documents d JOIN versions v ON v.id = d.current_version_id
                """) {
                out[row["id"]] = (row["size"], row["content_type"])
            }
            return out
        }
    }

    /// How many documents a run started now would check (without `--all`): of `sources` (the
    /// configured ones: a removed source's documents are checked by no run), every index and
    /// what is due.
    public func dueCount(now: Date, sources: [String]) throws -> Int {
        guard !sources.isEmpty else { return 0 }
        let places = Array(repeating: "?", count: sources.count).joined(separator: ", ")
        return try pool.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM documents WHERE source IN (\(places))
                  AND (kind = 'index' OR next_check IS NULL OR next_check <= ?)
                """, arguments: StatementArguments(sources + [StoredDate.text(now)])) ?? 0
        }
    }

    public func documents(source: String? = nil, kind: String? = nil) throws -> [DocumentRecord] {
        try pool.read { db in
            var q = DocumentRecord.all()
            if let source { q = q.filter(Column("source") == source) }
            if let kind { q = q.filter(Column("kind") == kind) }
            return try q.order(Column("kind"), Column("url")).fetchAll(db)
        }
    }

    /// Inserts the document unless its URL is known.
    /// - Returns: the stored document and whether it was new.
    public func ensureDocument(url: String, source: String, kind: String, depth: Int, now: Date) throws -> (DocumentRecord, Bool) {
        if let existing = try document(url: url) { return (existing, false) }  // no write lock for known URLs
        return try pool.write { db in
            if let existing = try DocumentRecord.fetch(db, url: url) {
                return (existing, false)
            }
            var d = DocumentRecord(url: url, source: source, kind: kind, depth: depth, firstSeen: now)
            try db.cachedStatement(sql: """
                INSERT INTO documents (url, source, kind, depth, first_seen, version_count, revision_count, failures, gone)
                VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0)
                """).execute(arguments: [url, source, kind, depth, StoredDate.text(now)])
            d.id = db.lastInsertedRowID
            return (d, true)
        }
    }

    /// A 304, or a 200 whose body equals the current version: only the check is recorded.
    /// Validators are replaced only when the response carried new ones (a 304 may omit them).
    public func recordUnchanged(documentId: Int64, status: Int, checkedAt: Date, etag: String?, lastModified: String?,
                                nextCheck: Date?) throws {
        try recordUnchanged([UnchangedCheck(documentId: documentId, status: status, checkedAt: checkedAt, etag: etag,
                                            lastModified: lastModified, nextCheck: nextCheck)])
    }

    /// Many unchanged checks in one transaction: a resync of thousands of documents that all
    /// answer 304 commits a few times instead of once per document. Losing a batch to a crash
    /// loses only these row updates (`last_checked`, `next_check`, the reset of `failures`,
    /// `error` and `gone`): those documents are checked again; no content is lost.
    public func recordUnchanged(_ checks: [UnchangedCheck]) throws {
        guard !checks.isEmpty else { return }
        try pool.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE documents SET last_checked = ?, last_status = ?, error = NULL, next_check = ?,
                  etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), failures = 0, gone = 0
                WHERE id = ?
                """)
            for c in checks {
                try update.execute(arguments: [StoredDate.text(c.checkedAt), c.status, StoredDate.text(c.nextCheck), c.etag, c.lastModified, c.documentId])
            }
        }
    }

    /// A failed check: the error is kept on the document, `failures` counts up; its versions,
    /// validators and mirror files are untouched.
    public func recordFailure(documentId: Int64, status: Int, error: String, checkedAt: Date,
                              nextCheck: Date? = nil, gone: Bool = false) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE documents SET last_checked = ?, last_status = ?, error = ?, next_check = ?,
                  failures = failures + 1, gone = ?
                WHERE id = ?
                """, arguments: [StoredDate.text(checkedAt), status, error, StoredDate.text(nextCheck), gone, documentId])
        }
    }

    /// Records why a document was not tried in a run (its host was given up: `hostDown`,
    /// `hostBusy`): the error only, no check, no failure counted; its next check stays, or
    /// moves to `notBefore` when later (a host's long `Retry-After`).
    public func recordNotTried(documentId: Int64, error: String, notBefore: Date?) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE documents SET error = ?,
                  next_check = CASE WHEN ? IS NOT NULL AND (next_check IS NULL OR next_check < ?) THEN ? ELSE next_check END
                WHERE id = ?
                """, arguments: [error, StoredDate.text(notBefore), StoredDate.text(notBefore), StoredDate.text(notBefore), documentId])
        }
    }

    /// Records that `url` was found `depth` links from a start URL, when that is shorter than
    /// the depth its row holds (a document's depth is its shortest known distance; its links
    /// count from it against `max_depth`).
    /// - Returns: the document's id when its row was lowered; nil when it was at `depth` or
    ///   closer already, or there is no row for `url`.
    @discardableResult
    public func lowerDepth(url: String, to depth: Int) throws -> Int64? {
        try pool.write { db in
            try Int64.fetchOne(db.cachedStatement(sql: "UPDATE documents SET depth = ? WHERE url = ? AND depth > ? RETURNING id"),
                               arguments: [depth, url, depth])
        }
    }

    /// Records that every link of a document's body is a known document (see
    /// `DocumentRecord.linksKnown`).
    public func recordLinksKnown(documentId: Int64, _ value: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE documents SET links_known = ? WHERE id = ?", arguments: [value, documentId])
        }
    }

    /// Remembers (or forgets, with nil) where a permanent redirect moved a document.
    public func recordFetchURL(documentId: Int64, _ url: String?) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE documents SET fetch_url = ? WHERE id = ?", arguments: [url, documentId])
        }
    }

    /// Records a fetched body whose blob is already durable. A body equal to the current
    /// version's creates nothing; a new body creates a version, and a revision when its content
    /// hash differs from the latest revision's.
    /// - Parameter tracksRevisions: false for assets, which have versions but no revisions.
    public func recordBody(documentId: Int64, _ body: FetchedBody, nextCheck: Date?, tracksRevisions: Bool = true) throws -> RecordOutcome {
        do {
            return try pool.write { db in
                try self.recordBody(db, BodyToRecord(documentId: documentId, body: body, nextCheck: nextCheck, tracksRevisions: tracksRevisions))
            }
        } catch let vanished as DocumentVanished {
            throw StoreError(path: path, reason: "\(vanished)")
        }
    }

    /// Group commit: many bodies (their blobs durable already) in one transaction. A body
    /// whose document vanished fails alone (nothing of it was written: that is checked first);
    /// any other error (`SQLITE_FULL`) rolls the whole transaction back and throws for all.
    /// (A savepoint per body had cost 4 % of a cold mirror's CPU.)
    /// - Returns: one result per body, in order.
    public func recordBodies(_ bodies: [BodyToRecord]) throws -> [Result<RecordOutcome, Error>] {
        try pool.write { db in
            var results: [Result<RecordOutcome, Error>] = []
            results.reserveCapacity(bodies.count)
            for item in bodies {
                do {
                    results.append(.success(try self.recordBody(db, item)))
                } catch let vanished as DocumentVanished {
                    results.append(.failure(StoreError(path: path, reason: "\(vanished)")))
                }
            }
            return results
        }
    }

    /// The document a body was fetched for is no longer in the database.
    struct DocumentVanished: Error, CustomStringConvertible {
        let id: Int64
        var description: String { "document \(id) vanished" }
    }

    func recordBody(_ db: Database, _ item: BodyToRecord) throws -> RecordOutcome {
        let body = item.body, documentId = item.documentId
        guard var doc = try DocumentRecord.fetch(db, id: documentId) else { throw DocumentVanished(id: documentId) }
        doc.lastChecked = body.fetchedAt
        doc.lastStatus = body.httpStatus
        doc.error = nil
        doc.failures = 0
        doc.gone = false
        doc.etag = body.etag
        doc.lastModified = body.lastModified
        doc.nextCheck = item.nextCheck
        if doc.rawSha256 == body.rawSha256 {
            try doc.save(db)
            return RecordOutcome(newVersion: false, newRevision: false, revision: doc.revisionCount, document: doc)
        }
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO blobs (sha256, size, stored_size, base_sha256, dictionary_id) VALUES (?, ?, ?, ?, ?)
            """).execute(arguments: [body.rawSha256, body.size, body.storedSize, body.blobBase, body.blobDictionary.map { Int64($0) }])
        let isRevision = item.tracksRevisions && doc.contentSha256 != body.contentSha256
        var revertsTo: Int?
        if isRevision {
            revertsTo = try Int.fetchOne(db.cachedStatement(sql: """
                SELECT revision FROM versions
                WHERE document_id = ? AND revision IS NOT NULL AND content_sha256 = ?
                ORDER BY id DESC LIMIT 1
                """), arguments: [documentId, body.contentSha256])
        }
        var v = VersionRecord(documentId: documentId, rawSha256: body.rawSha256, contentSha256: body.contentSha256,
                              revision: isRevision ? doc.revisionCount + 1 : nil, title: body.title,
                              httpStatus: body.httpStatus, etag: body.etag, lastModified: body.lastModified,
                              contentType: body.contentType, size: body.size, fetchedAt: body.fetchedAt,
                              runId: body.runId, parserVersion: body.parserVersion, revertsTo: revertsTo,
                              rulesHash: body.rulesHash)
        try v.insertRow(db)
        doc.currentVersionId = v.id
        doc.rawSha256 = body.rawSha256
        doc.versionCount += 1
        if isRevision {
            doc.revisionCount += 1
            doc.contentSha256 = body.contentSha256
            doc.changedAt = body.fetchedAt
        }
        if let t = body.title { doc.title = t }
        try doc.save(db)
        return RecordOutcome(newVersion: true, newRevision: isRevision, revision: doc.revisionCount, document: doc)
    }

    /// Replaces what the parser derived for a document's versions (content hashes, revision
    /// numbers, reverts, titles, parser identity) in one transaction, after a reparse.
    public func replaceDerived(documentId: Int64, versions: [VersionRecord]) throws {
        try pool.write { db in
            guard var doc = try DocumentRecord.fetch(db, id: documentId) else { return }
            for v in versions { try v.update(db) }
            let revisions = versions.filter { $0.revision != nil }
            doc.revisionCount = revisions.count
            doc.contentSha256 = versions.last?.contentSha256
            doc.changedAt = revisions.last?.fetchedAt
            if let t = versions.last?.title { doc.title = t }
            try doc.save(db)
        }
    }

    /// URLs of documents that start with `prefix` (a page's address up to its `?`), at most
    /// `limit`: a range over the unique index on `url` (`?` is 0x3F, so every such URL sorts
    /// before `prefix` with its last byte raised to `@`).
    public func urls(withPrefix prefix: String, limit: Int) throws -> [String] {
        guard prefix.hasSuffix("?") else { return [] }
        let upper = String(prefix.dropLast()) + "@"
        return try pool.read { db in
            try String.fetchAll(db, sql: "SELECT url FROM documents WHERE url >= ? AND url < ? LIMIT ?",
                                arguments: [prefix, upper, limit])
        }
    }

    /// Documents whose permanent new address (`fetch_url`) is another document's URL, of the
    /// same kind and source (another source's documents stay its own): (that document, the
    /// one that moved), for `merge`.
    public func movedOntoOtherDocuments() throws -> [(duplicate: Int64, survivor: Int64)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT d.id AS duplicate, a.id AS survivor FROM documents a JOIN documents d ON d.url = a.fetch_url
                WHERE a.fetch_url IS NOT NULL AND d.kind = a.kind AND d.source = a.source AND d.id != a.id ORDER BY a.id
                """).map { ($0["duplicate"], $0["survivor"]) }
        }
    }

    /// Makes two documents one: `duplicate` (a page found at the address `survivor` moved to
    /// with a 301/308, known as its own document before the move was) is folded into
    /// `survivor`, whose URL stays the document's identity. The duplicate's versions join the
    /// survivor's, except one whose content the survivor fetched in the same run (the one
    /// page, fetched under both addresses); revisions are numbered again over the whole,
    /// by fetch time (`VersionRecord.numberRevisions`); the duplicate's row goes. One
    /// transaction. Blobs stay (garbage collection finds any left unreferenced).
    /// - Returns: the duplicate's record as it was, and how many of its versions were moved;
    ///   nil when either row is gone or they are the same.
    public func merge(duplicate: Int64, into survivor: Int64) throws -> (duplicate: DocumentRecord, moved: Int)? {
        try pool.write { db in
            guard duplicate != survivor, var kept = try DocumentRecord.fetch(db, id: survivor),
                  let gone = try DocumentRecord.fetch(db, id: duplicate) else { return nil }
            let own = try VersionRecord.filter(Column("document_id") == survivor).fetchAll(db)
            // The page fetched under both addresses in one run: the same content (a nonce in the
            // markup makes the raw bytes differ, not the content).
            let twice = Set(own.compactMap { v in v.runId.map { "\($0) \(v.contentSha256)" } })
            var moved = 0
            for var v in try VersionRecord.filter(Column("document_id") == duplicate).fetchAll(db) {
                if let run = v.runId, twice.contains("\(run) \(v.contentSha256)") {
                    try v.delete(db)
                } else {
                    v.documentId = survivor
                    try v.update(db)
                    moved += 1
                }
            }
            var all = try VersionRecord.filter(Column("document_id") == survivor)
                .order(Column("fetched_at"), Column("id")).fetchAll(db)
            if kept.kind == "asset" {
                for k in all.indices { all[k].revision = nil; all[k].revertsTo = nil }  // (assets have none)
            } else {
                VersionRecord.numberRevisions(&all)
            }
            for v in all { try v.update(db) }
            let revisions = all.filter { $0.revision != nil }
            if let last = all.last {
                kept.currentVersionId = last.id
                kept.rawSha256 = last.rawSha256
                kept.contentSha256 = last.contentSha256
                if let t = last.title { kept.title = t }
            }
            kept.versionCount = all.count
            kept.revisionCount = revisions.count
            kept.changedAt = revisions.last?.fetchedAt
            kept.firstSeen = min(kept.firstSeen, gone.firstSeen)
            kept.depth = min(kept.depth, gone.depth)
            try db.execute(sql: "DELETE FROM documents WHERE id = ?", arguments: [duplicate])
            try kept.save(db)
            return (gone, moved)
        }
    }

    /// Retention: deletes a source's versions that are neither revisions nor current, beyond
    /// the newest `keepVersions` per document or older than `olderThan`.
    /// - Returns: how many version rows were deleted.
    public func pruneVersions(source: String, keepVersions: Int?, olderThan: Date?) throws -> Int {
        guard keepVersions != nil || olderThan != nil else { return 0 }
        return try pool.write { db in
            var deleted = 0
            let candidates = try Row.fetchAll(db, sql: """
                SELECT v.id, v.document_id, v.fetched_at FROM versions v JOIN documents d ON d.id = v.document_id
                WHERE d.source = ? AND v.revision IS NULL AND v.id != d.current_version_id
                ORDER BY v.document_id, v.id DESC
                """, arguments: [source])
            var seen: [Int64: Int] = [:]
            for row in candidates {
                let id: Int64 = row["id"], doc: Int64 = row["document_id"], at = StoredDate.date(row["fetched_at"])
                let rank = seen[doc, default: 0]
                seen[doc] = rank + 1
                let tooMany = keepVersions.map { rank >= $0 } ?? false
                // A date that does not read is never "too old": an archive keeps what it cannot date.
                let tooOld = olderThan.map { limit in at.map { $0 < limit } ?? false } ?? false
                guard tooMany || tooOld else { continue }
                try db.execute(sql: "DELETE FROM versions WHERE id = ?", arguments: [id])
                try db.execute(sql: "UPDATE documents SET version_count = version_count - 1 WHERE id = ?", arguments: [doc])
                deleted += 1
            }
            return deleted
        }
    }

    /// Blobs no version names any more; their rows are removed here, their files by the caller
    /// after this commits (a crash in between leaves a file that the next collection removes).
    /// A blob that a kept delta is compressed against is kept too, however far down its chain.
    public func collectUnreferencedBlobs() throws -> [String] {
        try pool.write { db in
            let gone = try String.fetchAll(db, sql: "SELECT sha256 FROM blobs WHERE sha256 NOT IN (\(Self.keptBlobsSQL))")
            try db.execute(sql: "DELETE FROM blobs WHERE sha256 NOT IN (\(Self.keptBlobsSQL))")
            return gone
        }
    }

    /// The SHA-256 of every row of the `blobs` table, or of those starting with `shard` (two
    /// hex digits, a blob folder; read through the primary key). See
    /// `BlobStore.removeOrphans(rows:)`.
    public func blobHashes(shard: String? = nil) throws -> Set<String> {
        try pool.read { db in
            guard let shard else { return Set(try String.fetchAll(db, sql: "SELECT sha256 FROM blobs")) }
            return Set(try String.fetchAll(db, sql: "SELECT sha256 FROM blobs WHERE sha256 >= ? AND sha256 < ?",
                                           arguments: [shard, shard + "~"]))
        }
    }

    /// Deletes the blob files no row names (`BlobStore.removeOrphans(rows:)`) and the blobs
    /// no version names any more, row and file (`collectUnreferencedBlobs`: retention that a
    /// kill cut off between its two steps).
    /// - Returns: how many files of each kind went.
    public func removeGarbageBlobs(_ blobs: BlobStore) throws -> (orphans: Int, unreferenced: Int) {
        let orphans = try blobs.removeOrphans { try blobHashes(shard: $0) }
        let unreferenced = try collectUnreferencedBlobs()
        unreferenced.forEach(blobs.remove)
        return (orphans.count, unreferenced.count)
    }

    /// Every blob a version names, and the bases of their deltas, recursively.
    static let keptBlobsSQL = """
        WITH RECURSIVE kept(sha) AS (
          SELECT raw_sha256 FROM versions
          UNION SELECT b.base_sha256 FROM blobs b JOIN kept ON b.sha256 = kept.sha WHERE b.base_sha256 IS NOT NULL)
        SELECT sha FROM kept
        """

    // MARK: versions

    public func versions(documentId: Int64) throws -> [VersionRecord] {
        try pool.read { db in
            try VersionRecord.filter(Column("document_id") == documentId).order(Column("id")).fetchAll(db)
        }
    }

    /// The versions that started a revision, oldest first.
    public func revisions(documentId: Int64) throws -> [VersionRecord] {
        try pool.read { db in
            try VersionRecord.filter(Column("document_id") == documentId && Column("revision") != nil)
                .order(Column("id")).fetchAll(db)
        }
    }

    public func version(id: Int64) throws -> VersionRecord? {
        try pool.read { db in try VersionRecord.fetchOne(db, key: id) }
    }

    // MARK: sources

    public func updateSource(_ name: String, lastPoll: Date?, nextPoll: Date?, lastError: String?) throws {
        try pool.write { db in
            try SourceRecord(name: name, lastPoll: lastPoll, nextPoll: nextPoll, lastError: lastError).save(db)
        }
    }

    /// The latest revisions of articles across the mirror, newest first, each with its
    /// document (the web view's Atom feed).
    public func recentRevisions(limit: Int) throws -> [(document: DocumentRecord, version: VersionRecord)] {
        try pool.read { db in
            let versions = try VersionRecord.fetchAll(db, sql: """
                SELECT versions.* FROM versions JOIN documents ON documents.id = versions.document_id
                WHERE versions.revision IS NOT NULL AND documents.kind = 'article'
                ORDER BY versions.fetched_at DESC, versions.id DESC LIMIT ?
                """, arguments: [limit])
            let byId = try DocumentRecord.fetch(db, ids: Set(versions.map(\.documentId)))
            return versions.compactMap { v in byId[v.documentId].map { ($0, v) } }
        }
    }

    /// Gives every document, dictionary and schedule of source `old` to source `new` (a
    /// source renamed in the config: its start URL is still the same document). One
    /// transaction; `new`'s own schedule row, if it has one, is kept.
    /// - Returns: how many documents moved.
    public func renameSource(from old: String, to new: String) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "UPDATE documents SET source = ? WHERE source = ?", arguments: [new, old])
            let moved = db.changesCount
            try db.execute(sql: "UPDATE dictionaries SET source = ? WHERE source = ?", arguments: [new, old])
            try db.execute(sql: "UPDATE OR IGNORE sources SET name = ? WHERE name = ?", arguments: [new, old])
            try db.execute(sql: "DELETE FROM sources WHERE name = ?", arguments: [old])
            return moved
        }
    }

    /// Gives one document to `source` at `depth` (its distance from that source's starts): a
    /// removed source's page found by another source's links, or a page made a start URL.
    /// Its links count as unread (`links_known` cleared), so its next check reads them and
    /// its new source reaches what it links to.
    public func adopt(documentId: Int64, source: String, depth: Int) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE documents SET source = ?, depth = ?, links_known = NULL WHERE id = ?",
                           arguments: [source, depth, documentId])
        }
    }

    /// Whether any document belongs to `source` (a source taken out of the config keeps its).
    public func hasDocuments(source: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM documents WHERE source = ?)", arguments: [source]) ?? false
        }
    }

    /// The start URLs a source has had: its indexes at depth 0.
    public func startURLs(source: String) throws -> Set<String> {
        try pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT url FROM documents WHERE source = ? AND kind = 'index' AND depth = 0",
                                    arguments: [source]))
        }
    }

    public func sources() throws -> [SourceRecord] {
        try pool.read { db in try SourceRecord.order(Column("name")).fetchAll(db) }
    }

    /// `sources()` by name.
    public func sourcesByName() throws -> [String: SourceRecord] {
        Dictionary(try sources().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: runs

    public func startRun(trigger: String, at: Date) throws -> RunRecord {
        try pool.write { db in
            var r = RunRecord(trigger: trigger, started: at)
            try r.insert(db)
            return r
        }
    }

    public func saveRun(_ run: RunRecord) throws {
        try pool.write { db in try run.update(db) }
    }

    /// Marks runs left `running` by a crash as `interrupted`.
    public func closeAbandonedRuns() throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        }
    }

    public func runs(limit: Int = 20) throws -> [RunRecord] {
        try pool.read { db in try RunRecord.order(Column("id").desc).limit(limit).fetchAll(db) }
    }

    public func lastFinishedRun() throws -> RunRecord? {
        try pool.read { db in
            try RunRecord.filter(Column("finished") != nil).order(Column("id").desc).fetchOne(db)
        }
    }

    // MARK: totals

    /// Counts per kind for `totals()`; answered from the `documents_totals` covering index.
    static let totalsByKindSQL = """
        SELECT kind, COUNT(*) AS n, SUM(error IS NOT NULL) AS e, SUM(version_count) AS v, SUM(revision_count) AS r
        FROM documents GROUP BY kind
        """

    public func totals() throws -> StoreTotals {
        try pool.read { db in
            var t = StoreTotals()
            let rows = try Row.fetchAll(db, sql: Self.totalsByKindSQL)
            for row in rows {
                let n: Int = row["n"]
                t.documents += n
                t.errors += row["e"] ?? 0
                t.versions += row["v"] ?? 0
                t.revisions += row["r"] ?? 0
                switch row["kind"] as String {
                case "index": t.indexes = n
                case "article": t.articles = n
                case "asset": t.assets = n
                default: break
                }
            }
            if let b = try Row.fetchOne(db, sql: "SELECT COALESCE(SUM(size),0) AS s, COALESCE(SUM(stored_size),0) AS z FROM blobs") {
                t.rawBytes = b["s"]
                t.storedBytes = b["z"]
            }
            return t
        }
    }
}

/// A check that found the document unchanged (304, or the same bytes): what `recordUnchanged`
/// writes on its row.
public struct UnchangedCheck: Sendable, Equatable {
    public var documentId: Int64
    public var status: Int
    public var checkedAt: Date
    public var etag: String?
    public var lastModified: String?
    public var nextCheck: Date?

    public init(documentId: Int64, status: Int, checkedAt: Date, etag: String?, lastModified: String?, nextCheck: Date?) {
        self.documentId = documentId
        self.status = status
        self.checkedAt = checkedAt
        self.etag = etag
        self.lastModified = lastModified
        self.nextCheck = nextCheck
    }
}
