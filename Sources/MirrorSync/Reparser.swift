import Foundation
import Synchronization
import Logging
import MirrorCore
import MirrorExtract
import MirrorStore

/// The one way a parsed copy is made and written, for sync, reparse, recovery and
/// `mirrorctl show`: an article's parsed copy (`parsed/<host>/<stem>.json` and `.md`, each
/// written only if its bytes changed), pointed home first: images the mirror stores get
/// their `raw/…` path and links to articles the mirror tracks the path of their parsed `.md`
/// (`local`, relative to this copy; `src`/`url` keep the original), so the tree reads offline.
public struct ParsedWriter: Sendable {
    let tree: MirrorTree
    let database: MirrorDatabase

    public init(tree: MirrorTree, database: MirrorDatabase) {
        self.tree = tree
        self.database = database
    }

    /// The parsed copy of a stored version: its content hash, fetch time, and the parser
    /// version and rules that made it.
    /// - Parameter revision: the revision the copy shows (for the latest version, the
    ///   document's revision count).
    public static func copy(of article: ParsedArticle, url: String, version: VersionRecord, revision: Int) -> ParsedCopy {
        ParsedCopy(article: article, url: url, revision: revision, contentSHA256: version.contentSha256,
                   fetchedAt: RFC3339.string(version.fetchedAt), parserVersion: version.parserVersion, rulesHash: version.rulesHash)
    }

    /// Writes the copy, pointed home (see `localized`).
    func write(_ copy: ParsedCopy, for url: URI, ignoringQuery: Set<String>) throws {
        let copy = try localized(copy, for: url, ignoringQuery: ignoringQuery)
        let stem = MirrorTree.parsedStem(url)
        try tree.write(copy.json(), at: stem + ".json")
        try tree.write(copy.markdown(), at: stem + ".md")
    }

    /// The copy with its `local` paths filled in as the mirror stands now.
    /// - Parameter ignoringQuery: the source's `ignore_query` (cache-busters): a link to
    ///   `b.md?t=0519` is the tracked article `b.md`.
    public func localized(_ copy: ParsedCopy, for url: URI, ignoringQuery: Set<String>) throws -> ParsedCopy {
        var copy = copy
        let stem = MirrorTree.parsedStem(url)
        for i in copy.article.links.indices {
            guard let target = URI(copy.article.links[i].url)?.normalized(ignoringQuery: ignoringQuery),
                  let doc = try database.document(url: target.description), doc.kind == "article", !doc.gone else {
                copy.article.links[i].local = nil
                continue
            }
            copy.article.links[i].local = Self.relative(from: stem, to: MirrorTree.parsedStem(target) + ".md")
        }
        for i in copy.article.images.indices {
            guard let image = URI(copy.article.images[i].src)?.normalized(),
                  let asset = try database.document(url: image.description), asset.kind == "asset", asset.rawSha256 != nil else {
                copy.article.images[i].local = nil
                continue
            }
            copy.article.images[i].local = Self.relative(from: stem, to: MirrorTree.rawPath(image))
        }
        return copy
    }

    /// The path of `target` relative to the folder of `from` (both mirror-relative).
    static func relative(from: String, to target: String) -> String {
        let a = from.split(separator: "/").dropLast(), b = target.split(separator: "/")
        var common = 0
        while common < a.count, common < b.count - 1, a[a.startIndex + common] == b[common] { common += 1 }
        return (Array(repeating: "..", count: a.count - common) + b.dropFirst(common).map(String.init)).joined(separator: "/")
    }
}

/// What a reparse did.
public struct ReparseSummary: Sendable, Equatable {
    public var documents = 0
    public var versions = 0
    public var revisionsBefore = 0
    public var revisionsAfter = 0
    public var failures = 0
    /// Stopped before the end (shutdown): the documents not reached are still outdated and
    /// are regenerated next time.
    public var stopped = false

    public init() {}
}

/// Regenerates parsed content from stored raw versions, with no network access: when the
/// parser (`ArticleExtractor.parserVersion`) or a source's extraction rules changed since a
/// document's versions were parsed, their content hashes and revision numbering are
/// recomputed under the current parser, and the article's parsed copy is rewritten.
///
/// Recomputing the history, not just the latest copy, is what keeps an improved parser from
/// producing a wave of false revisions at the next fetch: the stored content hash the next
/// fetch compares against comes from the same parser. Raw blobs are only read. A second
/// reparse finds nothing outdated and changes nothing.
public struct Reparser: Sendable {
    let config: MirrorConfig
    let database: MirrorDatabase
    let blobs: BlobStore
    let writer: ParsedWriter
    let logger: Logger
    /// The parser identity to regenerate to (tests pretend a newer parser).
    public var parserVersion: Int

    public init(config: MirrorConfig, database: MirrorDatabase, blobs: BlobStore,
                parserVersion: Int = ArticleExtractor.parserVersion, logger: Logger = Logger(label: "mirrord.reparse")) {
        self.config = config
        self.database = database
        self.blobs = blobs
        self.writer = ParsedWriter(tree: MirrorTree(root: config.mirrorDir), database: database)
        self.parserVersion = parserVersion
        self.logger = logger
    }

    /// Documents regenerated at once. 1 (the default) in the daemon, whose background reparse
    /// should leave the cores to syncing; `mirrord --reparse` uses one per core. Each document
    /// is independent (its own versions, rows and files), and SQLite serializes the writes.
    public var workers = 1

    /// - Parameters:
    ///   - source: only this source; nil: all.
    ///   - force: regenerate every document, outdated or not.
    ///   - shouldStop: asked before each document; once it says yes (SIGTERM during the
    ///     daemon's startup reparse), the documents in progress finish and the run returns
    ///     with `stopped` set. Each document is regenerated in one transaction, so stopping
    ///     between documents leaves every one either old or new, never half done.
    public func run(source: String? = nil, force: Bool = false,
                    shouldStop: @Sendable () -> Bool = { false }) throws -> ReparseSummary {
        let total = Mutex(ReparseSummary())
        let lastLog = Mutex(Date())
        for src in config.sources where source == nil || src.name == source {
            let rules = ExtractionRules(source: src)
            // Ids only: each document's record is read when its turn comes (30,000 records held
            // for the whole reparse had been a fifth of its peak RSS).
            let documents = try database.documentRefs(source: src.name, dueAt: nil).filter { $0.kind != "asset" }
            let next = Mutex(0)
            let failure = Mutex<Error?>(nil)
            DispatchQueue.concurrentPerform(iterations: max(1, min(workers, documents.count))) { _ in
                while true {
                    let i = next.withLock { n in defer { n += 1 }; return n }
                    guard i < documents.count, failure.withLock({ $0 == nil }) else { return }
                    if shouldStop() {
                        total.withLock { $0.stopped = true }
                        return
                    }
                    let rulesHash = documents[i].kind == "article" ? rules.hash : "none"
                    var one = ReparseSummary()
                    do {
                        guard let doc = try database.document(id: documents[i].id), doc.versionCount > 0 else { continue }
                        let versions = try database.versions(documentId: doc.id!)
                        guard force || versions.contains(where: { $0.parserVersion != parserVersion || $0.rulesHash != rulesHash }) else { continue }
                        do {
                            try LargeBody.oneAtATime(size: versions.map(\.size).max() ?? 0) {
                                try regenerate(doc, versions, source: src, rulesHash: rulesHash, into: &one)
                            }
                        } catch {
                            one.failures += 1
                            logger.error("reparse \(doc.url): \(error)")
                        }
                    } catch {
                        failure.withLock { $0 = error }  // the store itself failed: stop
                        return
                    }
                    let done = total.withLock { t in
                        t.documents += one.documents
                        t.versions += one.versions
                        t.revisionsBefore += one.revisionsBefore
                        t.revisionsAfter += one.revisionsAfter
                        t.failures += one.failures
                        return t.documents
                    }
                    let due = lastLog.withLock { last -> Bool in
                        guard Date().timeIntervalSince(last) >= 10 else { return false }
                        last = Date()
                        return true
                    }
                    if due {
                        logger.info("reparse progress: \(done) documents regenerated")
                    }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            if total.withLock({ $0.stopped }) { break }
        }
        let summary = total.withLock { $0 }
        if summary.stopped {
            logger.notice("reparse stopped after \(summary.documents) documents; the rest is regenerated at the next start")
        } else if summary.documents > 0 || summary.failures > 0 {
            logger.notice("reparse: \(summary.documents) documents (\(summary.versions) versions) regenerated to parser \(parserVersion); revisions \(summary.revisionsBefore) → \(summary.revisionsAfter); \(summary.failures) failures")
        }
        return summary
    }

    private func regenerate(_ doc: DocumentRecord, _ versions: [VersionRecord], source: SourceConfig, rulesHash: String,
                            into summary: inout ReparseSummary) throws {
        var updated: [VersionRecord] = []
        var latest: StoredContent?
        for var v in versions {
            let content = try StoredContent.load(v, of: doc, blobs: blobs, source: source, limit: config.http.maxBodyBytes)
            v.contentSha256 = content.article?.contentSHA256 ?? content.index?.contentSHA256 ?? v.contentSha256
            v.title = content.article?.title ?? content.index?.title ?? v.title
            v.parserVersion = parserVersion
            v.rulesHash = rulesHash
            updated.append(v)
            latest = content
        }
        VersionRecord.numberRevisions(&updated)
        let revision = updated.compactMap(\.revision).last ?? 0
        try database.replaceDerived(documentId: doc.id!, versions: updated)
        if let article = latest?.article, let last = updated.last, let url = URI(doc.url) {
            try writer.write(ParsedWriter.copy(of: article, url: doc.url, version: last, revision: revision),
                             for: url, ignoringQuery: Set(source.ignoreQuery))
        }
        summary.documents += 1
        summary.versions += updated.count
        summary.revisionsBefore += doc.revisionCount
        summary.revisionsAfter += revision
    }
}
