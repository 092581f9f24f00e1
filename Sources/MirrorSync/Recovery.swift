import Foundation
import Logging
import MirrorCore
import MirrorExtract
import MirrorStore

/// Puts the mirror back in order after an unclean stop (kill -9, power loss, a full disk).
///
/// The write order makes this possible: blob (fsync'ed) → database row → mirror-tree files. So
/// after a crash the database is the truth: every row's blob exists, and at worst a mirror
/// file is missing or stale, a temp file is left over, or a blob file has no row. Recovery
/// removes leftover temp files (`blobs/tmp/*`, `.mirrord-*.tmp` in the tree) and blob files no
/// row names, and rewrites from the store any raw copy that is missing or of the wrong size and
/// any missing parsed copy. Blobs that rows name it only reads.
public struct Recovery: Sendable {
    let config: MirrorConfig
    let database: MirrorDatabase
    let blobs: BlobStore
    let logger: Logger

    public init(config: MirrorConfig, database: MirrorDatabase, blobs: BlobStore, logger: Logger = Logger(label: "mirrord.recovery")) {
        self.config = config
        self.database = database
        self.blobs = blobs
        self.logger = logger
    }

    public struct Summary: Sendable, Equatable {
        public var tempFilesRemoved = 0
        /// Blob files no `blobs` row names (`BlobStore.removeOrphans(rows:)`).
        public var orphanBlobsRemoved = 0
        /// Blobs no version names, left by retention cut off after its rows went.
        public var unreferencedBlobsRemoved = 0
        public var rawRewritten = 0
        public var parsedRewritten = 0

        public init() {}
    }

    public func run() throws -> Summary {
        var s = Summary()
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: blobs.root + "/tmp")) ?? [] {
            if unlink(blobs.root + "/tmp/" + name) == 0 { s.tempFilesRemoved += 1 }
        }
        if let files = fm.enumerator(atPath: config.mirrorDir) {
            for case let rel as String in files where (rel as NSString).lastPathComponent.hasPrefix(".mirrord-") && rel.hasSuffix(".tmp") {
                if unlink(config.mirrorDir + "/" + rel) == 0 { s.tempFilesRemoved += 1 }
            }
        }
        // Blobs made durable for a batch whose rows never committed (killed in between, or a
        // full disk failed the transaction): no row names them, and nothing will.
        (s.orphanBlobsRemoved, s.unreferencedBlobsRemoved) = try database.removeGarbageBlobs(blobs)
        let tree = MirrorTree(root: config.mirrorDir)
        for doc in try database.documents() where doc.kind != "asset" || doc.currentVersionId != nil {
            guard let vid = doc.currentVersionId, let v = try database.version(id: vid), let url = URI(doc.url) else { continue }
            let rawPath = config.mirrorDir + "/" + MirrorTree.rawPath(url)
            var st = stat()
            if stat(rawPath, &st) != 0 || Int(st.st_size) != v.size {
                try tree.write(try blobs.get(v.rawSha256), at: MirrorTree.rawPath(url))
                s.rawRewritten += 1
            }
            guard doc.kind == "article", let source = config.source(named: doc.source) else { continue }
            let jsonPath = config.mirrorDir + "/" + MirrorTree.parsedStem(url) + ".json"
            let mdPath = config.mirrorDir + "/" + MirrorTree.parsedStem(url) + ".md"
            guard access(jsonPath, F_OK) != 0 || access(mdPath, F_OK) != 0 else { continue }
            let content = try StoredContent.load(v, of: doc, blobs: blobs, source: source, limit: config.http.maxBodyBytes)
            if let article = content.article {
                try ParsedWriter(tree: tree, database: database).write(
                    ParsedWriter.copy(of: article, url: doc.url, version: v, revision: doc.revisionCount),
                    for: url, ignoringQuery: Set(source.ignoreQuery))
                s.parsedRewritten += 1
            }
        }
        if s != Summary() {
            logger.notice("recovery after an unclean stop: \(s.tempFilesRemoved) temp files, \(s.orphanBlobsRemoved) blobs without a row and \(s.unreferencedBlobsRemoved) no version names removed, \(s.rawRewritten) raw and \(s.parsedRewritten) parsed copies rewritten")
        }
        return s
    }
}
