import Foundation
import MirrorCore
import MirrorStore

/// The JSON documents of the control API and `mirrorctl --json`, built from the store. The
/// daemon serves them; `mirrorctl --db` builds the same ones when the daemon is down.
///
/// Times are RFC 3339 UTC strings, sizes bytes, hashes lowercase hex SHA-256; an unknown value
/// is `null`, never omitted.
public enum Reports {
    public static func run(_ r: RunRecord) -> [String: Any] {
        [
            "id": r.id.map { Int($0) } as Any? ?? NSNull(),
            "trigger": r.trigger,
            "status": r.status,
            "started": RFC3339.string(r.started),
            "finished": json(RFC3339.string(r.finished)),
            "duration_s": json(r.finished.map { ($0.timeIntervalSince(r.started) * 1000).rounded() / 1000 }),
            "fetched": r.fetched,
            "not_modified": r.notModified,
            "new_documents": r.newDocuments,
            "new_versions": r.newVersions,
            "new_revisions": r.newRevisions,
            "errors": r.errors,
            "error": json(r.error),
            "scope": json(r.scope),
        ]
    }

    public static func totals(_ t: StoreTotals) -> [String: Any] {
        [
            "documents": t.documents, "indexes": t.indexes, "articles": t.articles, "assets": t.assets,
            "versions": t.versions, "revisions": t.revisions, "errors": t.errors,
            "raw_bytes": t.rawBytes, "stored_bytes": t.storedBytes,
        ]
    }

    /// `status --json`. `daemon` is what is known about the running daemon (nil when down).
    public static func status(database: MirrorDatabase, config: MirrorConfig?, daemon: DaemonState?) throws -> [String: Any] {
        let known = Dictionary(uniqueKeysWithValues: try database.sources().map { ($0.name, $0) })
        let names = config?.sources.map(\.name) ?? known.keys.sorted()
        let sources: [[String: Any]] = names.map { name in
            let s = known[name]
            return [
                "name": name,
                "last_poll": json(RFC3339.string(s?.lastPoll)),
                "next_poll": json(RFC3339.string(s?.nextPoll)),
                "last_error": json(s?.lastError),
            ]
        }
        return [
            "daemon": daemon == nil ? "not running" : "running",
            "state": daemon?.syncing == true ? "syncing" : "idle",
            "uptime_s": json(daemon.map { Int($0.uptime) }),
            "current_run": json(daemon?.currentRun.map(run)),
            "last_run": json(latest(try database.lastFinishedRun(), daemon?.lastRun).map(run)),
            "totals": totals(try database.totals()),
            "sources": sources,
        ]
    }

    /// The later of the database's last finished run and the daemon's own (by id; the
    /// daemon's wins a tie, as it is the one that ended).
    static func latest(_ stored: RunRecord?, _ live: RunRecord?) -> RunRecord? {
        guard let live, live.finished != nil else { return stored }
        guard let stored else { return live }
        return (live.id ?? 0) >= (stored.id ?? 0) ? live : stored
    }

    public static func document(_ d: DocumentRecord, size: Int? = nil, contentType: String? = nil) -> [String: Any] {
        [
            "size": json(size),
            "content_type": json(contentType),
            "url": d.url,
            "kind": d.kind,
            "source": d.source,
            "title": json(d.title),
            "versions": d.versionCount,
            "revisions": d.revisionCount,
            "last_status": json(d.lastStatus),
            "last_checked": json(RFC3339.string(d.lastChecked)),
            "next_check": json(RFC3339.string(d.nextCheck)),
            "raw_sha256": json(d.rawSha256),
            "content_sha256": json(d.contentSha256),
            "error": json(d.error),
            "failures": d.failures,
            "gone": d.gone,
            "fetch_url": json(d.fetchUrl),
        ]
    }

    /// `list`: every document, or those of one kind and/or source, or (`url`) the one document
    /// at that URL as a user pastes it (`findDocument`; none when it is not mirrored).
    public static func documents(database: MirrorDatabase, kind: String?, source: String?, url: String? = nil,
                                 config: MirrorConfig? = nil) throws -> [[String: Any]] {
        let info = try database.currentVersionInfo()
        let found = try url.map { try findDocument(database: database, url: $0, config: config).map { [$0] } ?? [] }
        return try (found ?? database.documents(source: source, kind: kind)).map { d in
            document(d, size: d.id.flatMap { info[$0]?.size }, contentType: d.id.flatMap { info[$0]?.contentType })
        }
    }

    /// Finds a document by URL as a user pastes it: exact, then normalized, then normalized
    /// with each source's `ignore_query` (so a link copied from an index, cache-buster and
    /// all, finds its article), then as the address a document was moved to.
    public static func findDocument(database: MirrorDatabase, url: String, config: MirrorConfig?) throws -> DocumentRecord? {
        if let d = try database.document(url: url) { return d }
        guard let uri = URI(url) else { return nil }
        var forms = [uri.normalized().description]
        for source in config?.sources ?? [] {
            forms.append(uri.normalized(ignoringQuery: Set(source.ignoreQuery)).description)
        }
        for form in forms {
            if let d = try database.document(url: form) { return d }
        }
        // The address a document was permanently moved to (301/308) finds it too.
        for form in [url] + forms {
            if let d = try database.document(fetchURL: form) { return d }
        }
        return nil
    }

    /// A document's failed last check in one line, for `mirrorctl log` and the web view;
    /// nil when its last check did not fail. `last check 2026-…Z failed: HTTP 410 Gone (gone
    /// upstream, kept; next check …)`. A gone document whose re-check then failed otherwise
    /// (a 503, a timeout) stays gone, and says so: the 503 is not the reason.
    /// - Parameter document: a `list` entry (`Reports.document`).
    public static func failedCheck(_ document: [String: Any]) -> String? {
        guard let error = document["error"] as? String else { return nil }
        let checked = document["last_checked"] as? String ?? "-"
        let next = (document["next_check"] as? String).map { "next check \($0)" } ?? "checked again next run"
        let gone = document["gone"] as? Bool == true
        let why: String
        if gone && (error.hasPrefix("HTTP 404") || error.hasPrefix("HTTP 410")) {
            why = "gone upstream, kept; \(next)"
        } else if gone {
            why = "still gone: its last answer was a 404 or 410; \(next)"
        } else {
            why = next
        }
        return "last check \(checked) failed: \(error) (\(why))"
    }

    static func json(_ value: Any?) -> Any {
        value ?? NSNull()
    }

    /// Serializes a report: pretty, keys sorted, slashes unescaped, newline-terminated.
    ///
    /// Through `JSONEncoder`, not `JSONSerialization`: with `.sortedKeys` the latter compares
    /// keys with `NSString.compare(_:options:range:locale:)`, which opens an ICU collator, and
    /// its collation data (3 MiB resident) had stayed in a daemon that answered one `status`
    /// (`perf` of a daemon polled by `mirrorctl status`). Both print the same bytes for these
    /// reports (`ReportsTests`), except that keys differing in case or digits (a source named
    /// `Site2` beside `site10`) are in code-point order, as `jq -S` sorts them, instead of
    /// the locale's collation.
    public static func encode(_ value: Any) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONValue(value))) ?? Data("null".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 1)
        out.append(contentsOf: data)
        out.append(0x0A)
        return out
    }
}

/// A report value built from `[String: Any]`, `[Any]`, strings, numbers, booleans and
/// `NSNull`/nil, for `JSONEncoder`: the daemon's own values, or what `JSONSerialization`
/// parsed from its answer (`mirrorctl status --json`), where numbers are `NSNumber`s and
/// `true`/`false` `NSNumber`s of type `c`. Another value is written as its description.
struct JSONValue: Encodable {
    let value: Any?

    init(_ value: Any?) { self.value = value }

    func encode(to encoder: Encoder) throws {
        guard let value, !(value is NSNull) else {
            var c = encoder.singleValueContainer()
            return try c.encodeNil()
        }
        if let v = value as? [String: Any] {
            var c = encoder.container(keyedBy: Key.self)
            for (k, item) in v { try c.encode(JSONValue(item), forKey: Key(k)) }
            return
        }
        if let v = value as? [Any] {
            var c = encoder.unkeyedContainer()
            for item in v { try c.encode(JSONValue(item)) }
            return
        }
        var c = encoder.singleValueContainer()
        if let v = value as? String { return try c.encode(v) }
        // By exact type first: `as? Bool` also matches an NSNumber 0 or 1, and `as? Int` a
        // Swift `Bool` bridged to NSNumber.
        if Self.scalarTypes.contains(ObjectIdentifier(type(of: value))), let v = value as? any Encodable {
            return try c.encode(v)
        }
        if type(of: value) == Float.self, let v = value as? Float { return try c.encode(Double(v)) }
        if let n = value as? NSNumber {
            switch String(cString: n.objCType) {
            case "c": return try c.encode(n.boolValue)  // JSON true/false
            case "d", "f": return try c.encode(n.doubleValue)
            case "Q": return try c.encode(n.uint64Value)
            default: return try c.encode(n.int64Value)
            }
        }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {  // an Optional inside Any: its value, or null
            return try JSONValue(mirror.children.first?.value).encode(to: encoder)
        }
        try c.encode("\(value)")
    }

    /// Swift's own booleans, integers of every width and doubles, printed as they are.
    static let scalarTypes: Set<ObjectIdentifier> = Set([
        Bool.self, Int.self, Int64.self, Int32.self, Int16.self, Int8.self,
        UInt.self, UInt64.self, UInt32.self, UInt16.self, UInt8.self, Double.self,
    ].map { ObjectIdentifier($0 as any Encodable.Type) })

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// What the daemon knows that the database does not.
public struct DaemonState: Sendable {
    public var uptime: Double
    public var syncing: Bool
    public var currentRun: RunRecord?
    /// The last run that ended in this daemon, as it ended (newer than the database's when a
    /// full disk kept it from being recorded).
    public var lastRun: RunRecord?

    public init(uptime: Double, syncing: Bool, currentRun: RunRecord?, lastRun: RunRecord? = nil) {
        self.uptime = uptime
        self.syncing = syncing
        self.currentRun = currentRun
        self.lastRun = lastRun
    }
}

public enum ReportError: Error, CustomStringConvertible {
    case unknownDocument(String)
    case noRevisions(String)
    case onlyOneRevision(String)
    case unknownRevision(String, Int, Int)
    /// `log` or `diff` of an image or other asset, whose versions are bytes, not revisions.
    case asset(String)

    public var description: String {
        switch self {
        case let .unknownDocument(url): return "\(url): not a mirrored document (see mirrorctl list)"
        case let .noRevisions(url): return "\(url): no revision stored yet (see its error in mirrorctl list)"
        case let .onlyOneRevision(url): return "\(url): only one revision, nothing to compare (mirrorctl show shows it)"
        case let .unknownRevision(url, rev, count): return "\(url): no revision \(rev) (it has r1…r\(count))"
        case let .asset(url):
            return "\(url): an image or other asset: its bytes are kept as stored, with no revisions to list or compare "
                + "(mirrorctl show --raw writes them)"
        }
    }
}
