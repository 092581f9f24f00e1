import Foundation
import MirrorCore
import MirrorDiff
import MirrorDiscovery
import MirrorExtract
import MirrorStore
import MirrorSync

/// Revision history of one document: `log`, `show` and `diff`, for the API and for
/// `mirrorctl --db`. Contents are regenerated from the stored raw blobs by the current parser.
public struct History: Sendable {
    let database: MirrorDatabase
    let blobs: BlobStore
    let config: MirrorConfig?

    public init(database: MirrorDatabase, blobs: BlobStore, config: MirrorConfig?) {
        self.database = database
        self.blobs = blobs
        self.config = config
    }

    func document(_ url: String) throws -> DocumentRecord {
        guard let doc = try Reports.findDocument(database: database, url: url, config: config) else {
            throw ReportError.unknownDocument(url)
        }
        return doc
    }

    func content(_ v: VersionRecord, _ doc: DocumentRecord) throws -> StoredContent {
        try StoredContent.load(v, of: doc, blobs: blobs, source: config?.source(named: doc.source))
    }

    /// What the diff compares: header fields and paragraphs (an index's "paragraphs" are its
    /// links, `text <url>`).
    static func diffable(_ c: StoredContent) -> DiffableContent {
        if let a = c.article {
            return DiffableContent(fields: [("title", a.title), ("published", a.published), ("source", a.source),
                                            ("reporter", a.reporter), ("editor", a.editor)],
                                   paragraphs: a.paragraphs)
        }
        let links = c.index?.links ?? []
        return DiffableContent(fields: [("title", c.index?.title)], paragraphs: links.map { "\($0.text) <\($0.url)>" })
    }

    /// `log URL --json`: the revisions, oldest first, each with its paragraph changes
    /// against the revision before it (`added`, `removed`, `changed`), the header fields that
    /// changed (`fields_changed`), and the revision it reverts to, if any.
    public func log(url: String) throws -> [[String: Any]] {
        let doc = try document(url)
        guard doc.kind != DocumentKind.asset.rawValue else { throw ReportError.asset(doc.url) }
        var previous: DiffableContent?
        return try database.revisions(documentId: doc.id!).map { v in
            let current = Self.diffable(try content(v, doc))
            let diff = previous.map { RevisionDiff.compute($0, current) }
            let stats = diff?.stats ?? (current.paragraphs.count, 0, 0)
            previous = current
            return [
                "revision": v.revision ?? 0,
                "fetched_at": RFC3339.string(v.fetchedAt),
                "raw_sha256": v.rawSha256,
                "content_sha256": v.contentSha256,
                "title": Reports.json(v.title),
                "size": v.size,
                "reverts_to": Reports.json(v.revertsTo),
                "added": stats.0, "removed": stats.1, "changed": stats.2,
                // Header fields that changed (title, published, source, reporter): a revision
                // that only retitles an article had read +0 -0 ~0.
                "fields_changed": diff?.fields.map(\.field) ?? [],
            ]
        }
    }

    /// The version behind revision `rev` (latest when nil).
    func revision(_ doc: DocumentRecord, _ rev: Int?) throws -> VersionRecord {
        let all = try database.revisions(documentId: doc.id!)
        guard let last = all.last else { throw ReportError.noRevisions(doc.url) }
        guard let rev else { return last }
        guard let v = all.first(where: { $0.revision == rev }) else {
            throw ReportError.unknownRevision(doc.url, rev, all.count)
        }
        return v
    }

    /// `show URL[@REV]`: the parsed copy of a revision as Markdown and JSON, and its raw bytes.
    public func show(url: String, revision rev: Int?) throws -> (markdown: [UInt8], json: [UInt8], raw: [UInt8]) {
        let doc = try document(url)
        if doc.kind == DocumentKind.asset.rawValue {
            // An image has no parsed copy: what is stored about it, and its bytes.
            guard rev == nil else { throw ReportError.asset(doc.url) }
            guard let v = try doc.currentVersionId.flatMap({ try database.version(id: $0) }) else {
                throw ReportError.noRevisions(doc.url)
            }
            let text = "# \(doc.url)\n\nAn asset (\(v.contentType ?? "no content type"), \(v.size) bytes, fetched "
                + "\(RFC3339.string(v.fetchedAt))), kept as stored: mirrorctl show --raw writes its bytes.\n"
            let json = Reports.encode(["url": doc.url, "kind": doc.kind, "content_type": Reports.json(v.contentType),
                                       "size": v.size, "raw_sha256": v.rawSha256, "fetched_at": RFC3339.string(v.fetchedAt)])
            return (Array(text.utf8), json, try blobs.get(v.rawSha256))
        }
        // Without @REV: the current version (the one the parsed copy on disk was made from; a
        // later body with the same content belongs to the latest revision too).
        let current = try rev == nil ? doc.currentVersionId.flatMap { try database.version(id: $0) } : nil
        let v = try current ?? revision(doc, rev)
        let c = try content(v, doc)
        if let a = c.article, let url = URI(doc.url) {
            // Made and pointed home as the parsed copy on disk is: for the latest revision,
            // `show --json` is the parsed `.json`, byte for byte.
            var copy = ParsedWriter.copy(of: a, url: doc.url, version: v, revision: v.revision ?? doc.revisionCount)
            if let config {
                let writer = ParsedWriter(tree: MirrorTree(root: config.mirrorDir), database: database)
                copy = try writer.localized(copy, for: url, ignoringQuery: Set(config.source(named: doc.source)?.ignoreQuery ?? []))
            }
            return (copy.markdown(), copy.json(), c.raw)
        }
        let d = Self.diffable(c)
        let text = "# \(d.fields.first?.value ?? doc.url)\n\n" + d.paragraphs.map { "- " + $0 }.joined(separator: "\n") + "\n"
        let json = Reports.encode(["url": doc.url, "revision": v.revision ?? 0, "title": Reports.json(c.index?.title),
                                   "links": (c.index?.links ?? []).map { ["url": $0.url.description, "text": $0.text] }])
        return (Array(text.utf8), json, c.raw)
    }

    /// `diff URL [REV1 [REV2]]`: by default the previous revision against the latest; with one
    /// revision, that one against the latest.
    public func diff(url: String, from: Int?, to: Int?, context: Int = 1) throws -> (renderer: DiffRenderer, title: String) {
        let doc = try document(url)
        guard doc.kind != DocumentKind.asset.rawValue else { throw ReportError.asset(doc.url) }
        let all = try database.revisions(documentId: doc.id!)
        guard let last = all.last else { throw ReportError.noRevisions(doc.url) }
        let newV = try revision(doc, to ?? last.revision)
        let oldV: VersionRecord
        if let from {
            oldV = try revision(doc, from)
        } else {
            guard all.count >= 2 else { throw ReportError.onlyOneRevision(doc.url) }
            oldV = all[all.count - 2]
        }
        let old = Self.diffable(try content(oldV, doc)), new = Self.diffable(try content(newV, doc))
        func label(_ v: VersionRecord) -> String { "\(doc.url) r\(v.revision ?? 0) (\(RFC3339.string(v.fetchedAt)))" }
        let renderer = DiffRenderer(diff: RevisionDiff.compute(old, new), old: old, new: new,
                                    oldLabel: label(oldV), newLabel: label(newV), context: context)
        return (renderer, "\(newV.title ?? doc.url): r\(oldV.revision ?? 0) → r\(newV.revision ?? 0)")
    }
}
