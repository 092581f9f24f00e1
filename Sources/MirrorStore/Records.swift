import Foundation
import GRDB

/// One configured upstream as the database knows it.
public struct SourceRecord: Codable, Sendable, StoreRecord, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sources"

    public var name: String
    public var lastPoll: Date?
    public var nextPoll: Date?
    public var lastError: String?
}

/// One normalized URL the mirror tracks.
public struct DocumentRecord: Codable, Sendable, StoreRecord, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "documents"

    public var id: Int64?
    public var url: String
    public var source: String
    /// `index`, `article` or `asset`.
    public var kind: String
    /// Index-to-index hops from a start URL.
    public var depth: Int
    public var title: String?
    public var firstSeen: Date
    public var lastChecked: Date?
    public var nextCheck: Date?
    /// Last HTTP status (or 0 when the transfer itself failed).
    public var lastStatus: Int?
    /// Validators of the current version, exactly as the server sent them.
    public var etag: String?
    public var lastModified: String?
    /// The last failure, or nil after a success.
    public var error: String?
    public var currentVersionId: Int64?
    public var rawSha256: String?
    /// Content hash of the latest revision.
    public var contentSha256: String?
    public var versionCount: Int
    public var revisionCount: Int
    /// Consecutive failed checks.
    public var failures: Int = 0
    /// The upstream answered 404 or 410.
    public var gone: Bool = false
    /// Target of a permanent redirect, fetched instead of `url`; nil: `url` itself.
    public var fetchUrl: String?
    /// When the content last changed (fetch time of the latest revision).
    public var changedAt: Date?
    /// `"<raw_sha256> <fingerprint>"`: every link of that body, under link rules with that
    /// fingerprint, is a known document (see `SyncEngine.SourcePlan.linksFingerprint`).
    public var linksKnown: String?

    public init(url: String, source: String, kind: String, depth: Int, firstSeen: Date) {
        self.url = url
        self.source = source
        self.kind = kind
        self.depth = depth
        self.firstSeen = firstSeen
        self.versionCount = 0
        self.revisionCount = 0
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// GRDB's reader (the query interface, `fetchAll(db, keys:)`): such requests select
    /// `databaseSelection`, which is `columns` in their order, so the row is read by position
    /// as `init(columns:)` reads it. (Read column by column, not through `Decodable`, which
    /// had cost 18 % of a resync that listed every document.)
    public init(row: Row) throws {
        self.init(columns: row)
    }

    /// What GRDB's requests select for a document: `columns`, in `init(columns:)`'s order.
    public static var databaseSelection: [any SQLSelectable] { columnNames.map { Column($0) } }
}

extension DocumentRecord {
    // The hot paths of a sync read and write documents through statements prepared once per
    // connection: GRDB's query interface compiled its SQL and ran its authorizer on every call,
    // and its `Encodable` path converted every column name to snake case, together 15 % of a
    // cold mirror's CPU (perf, 3,000 articles).

    /// The document with this id, or nil.
    public static func fetch(_ db: Database, id: Int64) throws -> DocumentRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM documents WHERE id = ?"), arguments: [id])
            .map(DocumentRecord.init(columns:))
    }

    /// The document with this (normalized) URL, or nil.
    public static func fetch(_ db: Database, url: String) throws -> DocumentRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM documents WHERE url = ?"), arguments: [url])
            .map(DocumentRecord.init(columns:))
    }

    /// The documents with these ids, by id (ids that name no row are absent). Up to
    /// `idsPerStatement` ids go in one statement, prepared once per connection: unused places
    /// hold -1, an id no row has.
    public static func fetch(_ db: Database, ids: some Collection<Int64>) throws -> [Int64: DocumentRecord] {
        var out: [Int64: DocumentRecord] = [:]
        guard !ids.isEmpty else { return out }
        let statement = try db.cachedStatement(sql: byIdsSQL)
        var rest = Array(ids)[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(idsPerStatement)
            rest = rest.dropFirst(chunk.count)
            let padded = Array(chunk) + Array(repeating: -1, count: idsPerStatement - chunk.count)
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(padded))
            while let row = try rows.next() {
                let d = DocumentRecord(columns: row)
                if let id = d.id { out[id] = d }
            }
        }
        return out
    }

    public static let idsPerStatement = 64
    static let byIdsSQL = "SELECT \(columns) FROM documents WHERE id IN ("
        + Array(repeating: "?", count: idsPerStatement).joined(separator: ", ") + ")"

    /// The columns `init(columns:)` reads, in its order.
    static let columnNames = [
        "id", "url", "source", "kind", "depth", "title", "first_seen", "last_checked", "next_check", "last_status",
        "etag", "last_modified", "error", "current_version_id", "raw_sha256", "content_sha256", "version_count",
        "revision_count", "failures", "gone", "fetch_url", "changed_at", "links_known",
    ]
    static let columns = columnNames.joined(separator: ", ")

    /// A row of `SELECT \(columns)`, read by position: looking each column up by name was a
    /// third of the time of reading a document, which every check does once.
    init(columns row: Row) {
        id = row[0]
        url = row[1]
        source = row[2]
        kind = row[3]
        depth = row[4]
        title = row[5]
        firstSeen = StoredDate.date(row[6]) ?? .distantPast
        lastChecked = StoredDate.date(row[7])
        nextCheck = StoredDate.date(row[8])
        lastStatus = row[9]
        etag = row[10]
        lastModified = row[11]
        error = row[12]
        currentVersionId = row[13]
        rawSha256 = row[14]
        contentSha256 = row[15]
        versionCount = row[16]
        revisionCount = row[17]
        failures = row[18]
        gone = row[19]
        fetchUrl = row[20]
        changedAt = StoredDate.date(row[21])
        linksKnown = row[22]
    }

    /// Writes every column of an existing row (by `id`). `depth` only ever goes down: a check
    /// that read its row before the run found a shorter path to it (`lowerDepth`) keeps the
    /// shorter one.
    public func save(_ db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE documents SET url = ?, source = ?, kind = ?, depth = MIN(depth, ?), title = ?, first_seen = ?, last_checked = ?,
              next_check = ?, last_status = ?, etag = ?, last_modified = ?, error = ?, current_version_id = ?,
              raw_sha256 = ?, content_sha256 = ?, version_count = ?, revision_count = ?, failures = ?, gone = ?,
              fetch_url = ?, changed_at = ?, links_known = ?
            WHERE id = ?
            """).execute(arguments: [url, source, kind, depth, title, StoredDate.text(firstSeen), StoredDate.text(lastChecked),
                                     StoredDate.text(nextCheck), lastStatus, etag, lastModified, error, currentVersionId,
                                     rawSha256, contentSha256, versionCount, revisionCount, failures, gone, fetchUrl,
                                     StoredDate.text(changedAt), linksKnown, id])
    }
}

/// One distinct raw body fetched for a document.
public struct VersionRecord: Codable, Sendable, StoreRecord, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "versions"

    public var id: Int64?
    public var documentId: Int64
    public var rawSha256: String
    public var contentSha256: String
    /// The revision number this version started (1, 2, …), or nil when its content equals
    /// the previous revision's (a boilerplate-only or cache-buster-only change).
    public var revision: Int?
    public var title: String?
    public var httpStatus: Int
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    /// Bytes of the raw body.
    public var size: Int
    public var fetchedAt: Date
    public var runId: Int64?
    /// `ArticleExtractor.parserVersion` that computed `contentSha256`.
    public var parserVersion: Int
    /// For a revision whose content equals an earlier revision's (not the latest): that
    /// revision's number. An upstream that undoes an edit shows up as a revert, not as news.
    public var revertsTo: Int?
    /// `ExtractionRules.hash` of the source rules that computed `contentSha256`.
    public var rulesHash: String = "none"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// Inserts the row through a statement prepared once per connection (see
    /// `DocumentRecord.fetch(_:id:)`) and sets `id`.
    public mutating func insertRow(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO versions (document_id, raw_sha256, content_sha256, revision, title, http_status, etag,
              last_modified, content_type, size, fetched_at, run_id, parser_version, reverts_to, rules_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [documentId, rawSha256, contentSha256, revision, title, httpStatus, etag,
                                     lastModified, contentType, size, StoredDate.text(fetchedAt), runId, parserVersion, revertsTo, rulesHash])
        id = db.lastInsertedRowID
    }
}

extension VersionRecord {
    /// Numbers a document's revisions over its versions, oldest first, from their content
    /// hashes: a version whose hash differs from the one before is the next revision (and
    /// `revertsTo` the latest earlier revision with the same hash); one with the same hash is
    /// no revision.
    public static func numberRevisions(_ versions: inout [VersionRecord]) {
        var previous: String?
        var revision = 0
        var seen: [String: Int] = [:]  // content hash → latest revision that had it
        for k in versions.indices {
            let hash = versions[k].contentSha256
            if hash != previous {
                revision += 1
                versions[k].revision = revision
                versions[k].revertsTo = seen[hash]
                seen[hash] = revision
            } else {
                versions[k].revision = nil
                versions[k].revertsTo = nil
            }
            previous = hash
        }
    }
}

/// One sync pass and its counters.
public struct RunRecord: Codable, Sendable, StoreRecord, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "runs"

    public var id: Int64?
    /// `scheduled`, `manual` (sync now), `once` (mirrord --once) or `startup`.
    public var trigger: String
    public var started: Date
    public var finished: Date?
    /// `running`, `completed`, `interrupted` or `failed`.
    public var status: String
    public var fetched = 0
    public var notModified = 0
    public var newDocuments = 0
    public var newVersions = 0
    public var newRevisions = 0
    public var errors = 0
    public var error: String?
    /// What the run covered: `all documents` (`--all`) or `due documents`, and the sources
    /// whose start URLs and indexes it polled (`due documents; polled: news, town`); nil for
    /// runs recorded before it was kept.
    public var scope: String?

    public init(trigger: String, started: Date) {
        self.trigger = trigger
        self.started = started
        self.status = "running"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
