import Foundation
import GRDB
import MirrorCore
@testable import MirrorStore
import XCTest

final class ScratchDir {
    let path: String
    init() {
        var t = Array((NSTemporaryDirectory() + "/mirrord-store-XXXXXX").utf8CString)
        path = String(cString: mkdtemp(&t)!).replacingOccurrences(of: "//", with: "/")
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

final class BlobStoreTests: XCTestCase {
    func testPutIsContentAddressedCompressedAndDeduplicated() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        let bytes = Array(String(repeating: "石板路翻修完成。", count: 500).utf8)
        let sha = SHA256.hex(bytes)
        let stored = try blobs.put(bytes, sha256: sha)
        XCTAssertEqual(blobs.path(for: sha), "\(dir.path)/blobs/\(sha.prefix(2))/\(sha).zst")
        XCTAssertLessThan(stored, bytes.count / 10)
        let attrs = try FileManager.default.attributesOfItem(atPath: blobs.path(for: sha))
        XCTAssertEqual((attrs[.size] as? NSNumber)?.intValue, stored)
        let mtime = attrs[.modificationDate] as? Date
        XCTAssertEqual(try blobs.put(bytes, sha256: sha), stored)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: blobs.path(for: sha))[.modificationDate] as? Date, mtime)
        XCTAssertEqual(try blobs.get(sha), bytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/blobs/tmp"), [], "no temp file left")
    }

    /// A batch that fails after linking some of its blobs leaves their folder owed an fsync:
    /// the next batch syncs it even when all its own blobs are in place already (the names of
    /// a failed batch may be what a later row names). Here the second blob's shard is a file.
    func testAFolderLinkedIntoByAFailedBatchIsSyncedByTheNext() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        let bodies = (0..<64).map { Array("body \($0)".utf8) }
        let byShard = Dictionary(grouping: bodies) { SHA256.hex($0).prefix(2) }.values.map { $0[0] }
        let (first, second) = (byShard[0], byShard[1])
        let blocked = "\(dir.path)/blobs/\(SHA256.hex(second).prefix(2))"
        XCTAssertTrue(FileManager.default.createFile(atPath: blocked, contents: Data()))
        let staged = try [first, second].map { try blobs.stage($0, sha256: SHA256.hex($0)) }
        XCTAssertThrowsError(try blobs.makeDurable(staged)) { XCTAssertEqual("\($0)", "\(blocked): exists and is not a directory") }
        XCTAssertTrue(blobs.contains(SHA256.hex(first)), "linked before the failure")
        XCTAssertEqual(blobs.foldersOwedSync, ["\(dir.path)/blobs/\(SHA256.hex(first).prefix(2))"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/blobs/tmp"), [], "temp files removed")

        let again = try blobs.stage(first, sha256: SHA256.hex(first))
        XCTAssertNil(again.temp, "in place already")
        _ = try blobs.makeDurable([again])
        XCTAssertEqual(blobs.foldersOwedSync, [])
        XCTAssertEqual(try blobs.get(SHA256.hex(first)), first)
    }

    func testMissingAndCorruptBlobs() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        let missing = String(repeating: "ab", count: 32)
        XCTAssertThrowsError(try blobs.get(missing)) { XCTAssertEqual("\($0)", "\(blobs.path(for: missing)): blob missing") }
        try FileManager.default.createDirectory(atPath: dir.path + "/blobs/ab", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: blobs.path(for: missing), contents: Data("not zstd".utf8))
        XCTAssertThrowsError(try blobs.get(missing)) { XCTAssertEqual("\($0)", "\(blobs.path(for: missing)): not a zstd frame") }
    }
}

final class MirrorTreeTests: XCTestCase {
    func testPathsFollowTheDesign() {
        let table: [(String, String, String)] = [
            ("http://127.0.0.1:8080/pages/19/425351.md", "raw/127.0.0.1_8080/pages/19/425351.md", "parsed/127.0.0.1_8080/pages/19/425351"),
            ("https://example.org/a/b.html", "raw/example.org/a/b.html", "parsed/example.org/a/b"),
            ("https://example.org/news/", "raw/example.org/news/index", "parsed/example.org/news/index"),
            ("https://example.org/", "raw/example.org/index", "parsed/example.org/index"),
            ("file:///srv/site/README.md", "raw/local/srv/site/README.md", "parsed/local/srv/site/README"),
            ("https://example.org/indexes/H%E5%8C%97%E7%BE%8E.md", "raw/example.org/indexes/H北美.md", "parsed/example.org/indexes/H北美"),
            ("https://example.org/a?id=3", "raw/example.org/a%3Fid=3", "parsed/example.org/a%3Fid=3"),
            ("https://example.org/a%2Fb/c", "raw/example.org/a%2Fb/c", "parsed/example.org/a%2Fb/c"),
            ("https://example.org/a/%2E%2E/b", "raw/example.org/a/%2E%2E/b", "parsed/example.org/a/%2E%2E/b"),
            ("https://example.org/a%5Cb%00c", "raw/example.org/a%5Cb%00c", "parsed/example.org/a%5Cb%00c"),
            ("https://example.org/100%25.md", "raw/example.org/100%25.md", "parsed/example.org/100%25"),
        ]
        for (url, raw, stem) in table {
            let u = URI(url)!
            XCTAssertEqual(MirrorTree.rawPath(u), raw, url)
            XCTAssertEqual(MirrorTree.parsedStem(u), stem, url)
        }
    }

    func testOverlongSegmentIsShortenedWithAHash() {
        let long = String(repeating: "长", count: 120)  // 360 bytes
        let path = MirrorTree.rawPath(URI("https://example.org/\(long).md")!)
        let last = path.split(separator: "/").last!
        XCTAssertLessThanOrEqual(last.utf8.count, 200)
        XCTAssertTrue(last.contains("~"))
        XCTAssertNotEqual(path, MirrorTree.rawPath(URI("https://example.org/\(long)x.md")!))
    }

    func testWriteSkipsIdenticalBytesAndRefusesSymlinkedDirectories() throws {
        let dir = ScratchDir()
        let outside = ScratchDir()
        let tree = MirrorTree(root: dir.path + "/mirror")
        XCTAssertTrue(try tree.write(Array("one".utf8), at: "raw/h/a.md"))
        XCTAssertFalse(try tree.write(Array("one".utf8), at: "raw/h/a.md"))
        XCTAssertTrue(try tree.write(Array("two".utf8), at: "raw/h/a.md"))
        XCTAssertEqual(try String(contentsOfFile: dir.path + "/mirror/raw/h/a.md", encoding: .utf8), "two")

        try FileManager.default.createSymbolicLink(atPath: dir.path + "/mirror/raw/evil", withDestinationPath: outside.path)
        XCTAssertThrowsError(try tree.write(Array("x".utf8), at: "raw/evil/a.md")) { error in
            XCTAssertEqual("\(error)", "\(tree.root)/raw/evil: is a symlink; refusing to write through it")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])

        // A symlink planted as the file itself is replaced, not followed.
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/mirror/raw/h/b.md", withDestinationPath: outside.path + "/stolen")
        XCTAssertTrue(try tree.write(Array("safe".utf8), at: "raw/h/b.md"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside.path + "/stolen"))
    }
}

final class DatabaseTests: XCTestCase {
    func body(_ raw: String, _ content: String, at: Date = Date()) -> FetchedBody {
        FetchedBody(rawSha256: raw, contentSha256: content, title: "t-\(content)", size: 10, storedSize: 5, httpStatus: 200,
                    etag: "\"\(raw)\"", lastModified: nil, contentType: "text/plain", fetchedAt: at, runId: nil, parserVersion: 1)
    }

    /// `status` runs this on every call, during syncs too: it must read the narrow covering
    /// index, not every wide document row.
    func testTotalsAreAnsweredFromTheCoveringIndex() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let details = try db.pool.read { d in
            try Row.fetchAll(d, sql: "EXPLAIN QUERY PLAN " + MirrorDatabase.totalsByKindSQL).map { $0["detail"] as String }
        }
        XCTAssertEqual(details, ["SCAN documents USING COVERING INDEX documents_totals"])
    }

    /// A batch of 304s: each row gets its own times and status, validators are kept where the
    /// check brought none, and a previous failure is cleared.
    func testUnchangedChecksAreWrittenAsOneBatch() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let a = try XCTUnwrap(db.ensureDocument(url: "https://e.org/a.md", source: "s", kind: "article", depth: 0, now: Date()).0.id)
        let b = try XCTUnwrap(db.ensureDocument(url: "https://e.org/b.md", source: "s", kind: "article", depth: 0, now: Date()).0.id)
        _ = try db.recordBody(documentId: a, body("r1", "c1"), nextCheck: nil)
        try db.recordFailure(documentId: b, status: 503, error: "HTTP 503", checkedAt: Date(timeIntervalSince1970: 1))
        let t1 = Date(timeIntervalSince1970: 1_800_000_000), t2 = t1.addingTimeInterval(60)
        try db.recordUnchanged([
            UnchangedCheck(documentId: a, status: 304, checkedAt: t1, etag: nil, lastModified: nil, nextCheck: t1.addingTimeInterval(3600)),
            UnchangedCheck(documentId: b, status: 200, checkedAt: t2, etag: "\"e2\"", lastModified: nil, nextCheck: t2.addingTimeInterval(7200)),
        ])
        let da = try XCTUnwrap(db.document(url: "https://e.org/a.md")), dbb = try XCTUnwrap(db.document(url: "https://e.org/b.md"))
        XCTAssertEqual([da.lastStatus, dbb.lastStatus], [304, 200])
        XCTAssertEqual([da.lastChecked, dbb.lastChecked], [t1, t2])
        XCTAssertEqual([da.nextCheck, dbb.nextCheck], [t1.addingTimeInterval(3600), t2.addingTimeInterval(7200)])
        XCTAssertEqual([da.etag, dbb.etag], ["\"r1\"", "\"e2\""])
        XCTAssertEqual([da.failures, dbb.failures], [0, 0])
        XCTAssertNil(dbb.error)
        XCTAssertNoThrow(try db.recordUnchanged([]))
    }

    /// GRDB's own requests (`documents(source:kind:)`, the web view's recent revisions) read a
    /// document as the hot paths do, by position from `databaseSelection`: every field the same.
    func testEveryReaderOfADocumentReadsTheSameRow() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let a = try XCTUnwrap(db.ensureDocument(url: "https://e.org/a.md", source: "s", kind: "article", depth: 2, now: Date()).0.id)
        let b = try XCTUnwrap(db.ensureDocument(url: "https://e.org/b.md", source: "s", kind: "index", depth: 1, now: Date()).0.id)
        _ = try db.recordBody(documentId: a, body("r1", "c1", at: Date(timeIntervalSince1970: 1_750_000_000)),
                              nextCheck: Date(timeIntervalSince1970: 1_800_000_000))
        try db.recordFailure(documentId: b, status: 503, error: "HTTP 503", checkedAt: Date(timeIntervalSince1970: 1_700_000_000))
        func fields(_ d: DocumentRecord) -> [String] {
            [d.url, d.kind, "\(d.depth)", d.etag ?? "-", d.error ?? "-", "\(d.failures)", "\(d.versionCount)", d.rawSha256 ?? "-",
             d.lastChecked.map { StoredDate.text($0) } ?? "-", d.nextCheck.map { StoredDate.text($0) } ?? "-"]
        }
        let single = try [a, b].map { try fields(XCTUnwrap(db.document(id: $0))) }
        XCTAssertEqual(single[0], ["https://e.org/a.md", "article", "2", "\"r1\"", "-", "0", "1", "r1", "2025-06-15 15:06:40.000", "2027-01-15 08:00:00.000"])
        XCTAssertEqual(single[1][4...6], ["HTTP 503", "1", "0"])
        XCTAssertEqual(try db.documents(source: "s").map(fields), [single[0], single[1]])  // kind, url order
        XCTAssertEqual(try db.documents(source: "s", kind: "index").map(fields), [single[1]])
        let recent = try db.recentRevisions(limit: 5)
        XCTAssertEqual(recent.map { fields($0.document) }, [single[0]])
        XCTAssertEqual(recent.map(\.version.revision), [1])
    }

    func testVersionsAndRevisions() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let (doc, isNew) = try db.ensureDocument(url: "https://e.org/a.md", source: "s", kind: "article", depth: 0, now: Date())
        XCTAssertTrue(isNew)
        XCTAssertFalse(try db.ensureDocument(url: "https://e.org/a.md", source: "s", kind: "article", depth: 0, now: Date()).1)
        let id = try XCTUnwrap(doc.id)

        let o1 = try db.recordBody(documentId: id, body("r1", "c1"), nextCheck: nil)
        XCTAssertEqual([o1.newVersion, o1.newRevision], [true, true])
        let o2 = try db.recordBody(documentId: id, body("r1", "c1"), nextCheck: nil)
        XCTAssertEqual([o2.newVersion, o2.newRevision], [false, false], "same raw bytes: nothing new")
        let o3 = try db.recordBody(documentId: id, body("r2", "c1"), nextCheck: nil)
        XCTAssertEqual([o3.newVersion, o3.newRevision], [true, false], "new bytes, same content")
        let o4 = try db.recordBody(documentId: id, body("r3", "c2"), nextCheck: nil)
        XCTAssertEqual([o4.newVersion, o4.newRevision], [true, true])
        XCTAssertEqual(o4.revision, 2)

        let d = try XCTUnwrap(db.document(url: "https://e.org/a.md"))
        XCTAssertEqual([d.versionCount, d.revisionCount], [3, 2])
        XCTAssertEqual(d.etag, "\"r3\"")
        XCTAssertEqual(try db.versions(documentId: id).map(\.revision), [1, nil, 2])
        XCTAssertEqual(try db.revisions(documentId: id).map(\.contentSha256), ["c1", "c2"])
        let t = try db.totals()
        XCTAssertEqual([t.documents, t.articles, t.versions, t.revisions], [1, 1, 3, 2])
        XCTAssertEqual([t.rawBytes, t.storedBytes], [30, 15])

        try db.recordFailure(documentId: id, status: 503, error: "HTTP 503", checkedAt: Date())
        XCTAssertEqual(try db.document(url: "https://e.org/a.md")?.error, "HTTP 503")
        XCTAssertEqual(try db.totals().errors, 1)
        XCTAssertEqual(try db.document(url: "https://e.org/a.md")?.versionCount, 3, "a failure keeps the versions")
    }

    func testRunsAndAbandonedRuns() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/mirror.sqlite3")
        var r = try db.startRun(trigger: "once", at: Date())
        r.fetched = 3
        r.finished = Date()
        r.status = "completed"
        try db.saveRun(r)
        _ = try db.startRun(trigger: "scheduled", at: Date())
        try db.closeAbandonedRuns()
        XCTAssertEqual(try db.runs().map(\.status), ["interrupted", "completed"])
        XCTAssertEqual(try db.lastFinishedRun()?.fetched, 3)
    }

    func testWALAndReadOnlyOpen() throws {
        let dir = ScratchDir()
        let path = dir.path + "/mirror.sqlite3"
        let db = try MirrorDatabase(path: path)
        XCTAssertEqual(try db.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }, "wal")
        _ = try db.ensureDocument(url: "u", source: "s", kind: "index", depth: 0, now: Date())
        let reader = try MirrorDatabase(path: path, readOnly: true)
        XCTAssertEqual(try reader.totals().documents, 1)
        XCTAssertThrowsError(try MirrorDatabase(path: dir.path + "/absent.sqlite3", readOnly: true)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/absent.sqlite3: no database here (has mirrord run with this config?)")
        }
    }

    func testStateLockNamesTheHolder() throws {
        let dir = ScratchDir()
        let lock = try StateLock(stateDir: dir.path)
        XCTAssertThrowsError(try StateLock(stateDir: dir.path)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/mirrord.lock: store locked by another mirrord (pid \(getpid()))")
        }
        withExtendedLifetime(lock) {}
    }
}
