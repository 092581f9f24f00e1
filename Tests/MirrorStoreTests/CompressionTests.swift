import Foundation
import GRDB
import MirrorCore
@testable import MirrorStore
import XCTest

/// Synthetic pages of one made-up site: a shared template around seeded word-salad paragraphs.
enum SyntheticSite {
    static let words = ["harbour", "lantern", "quarry", "meadow", "copper", "ferry", "orchard", "beacon", "granite",
                        "thistle", "cobble", "willow", "saffron", "tannery", "mill", "ridge", "brook", "kiln"]

    static func paragraph(_ rng: inout SplitMix, words count: Int) -> String {
        (0..<count).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") + "."
    }

    static func page(_ i: Int, paragraphs: Int = 12, edit: Int = 0) -> [UInt8] {
        var rng = SplitMix(seed: UInt64(i))
        var body = (0..<paragraphs).map { _ in "<p>" + paragraph(&rng, words: 40) + "</p>" }
        if edit > 0 { body[paragraphs / 2] = "<p>correction \(edit): the ferry leaves the quarry at dawn.</p>" }
        let template = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Valley Gazette \(i)</title>
            <link rel="stylesheet" href="/static/gazette.css"><script src="/static/menu.js"></script></head>
            <body><nav><a href="/">Front page</a> <a href="/county">County</a> <a href="/weather">Weather</a>
            <a href="/letters">Letters</a> <a href="/archive">Archive</a></nav><main><h1>Story \(i)</h1>
            """
        let footer = "</main><footer>Valley Gazette, printed on the hill since the old mill closed. Subscribe at the kiln.</footer></body></html>"
        return Array((template + body.joined(separator: "\n") + footer).utf8)
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class BlobDeltaTests: XCTestCase {
    func testAnEditedVersionIsStoredAsADeltaAgainstThePreviousOne() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        let v1 = SyntheticSite.page(7), v2 = SyntheticSite.page(7, edit: 1)
        let s1 = SHA256.hex(v1), s2 = SHA256.hex(v2)
        let whole = try blobs.put(v1, sha256: s1)
        let staged = try blobs.stage(v2, sha256: s2, base: DeltaBase(sha256: s1, bytes: v1, depth: 0))
        try blobs.makeDurable([staged])
        XCTAssertEqual(staged.base, s1)
        XCTAssertLessThan(staged.storedSize, whole / 4, "a delta costs about the edit, not the page")
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: blobs.path(for: s2))))
        XCTAssertEqual(Array(file.prefix(4)), [0x5E, 0x2A, 0x4D, 0x18], "skippable frame first (RFC 8878 §3.1.2)")
        XCTAssertEqual(BlobStore.parseDeltaHeader(file)?.base, s1)
        XCTAssertEqual(BlobStore.parseDeltaHeader(file)?.depth, 1)
        // A fresh store (no cached body) undoes the delta from the files alone.
        let reopened = try BlobStore(root: dir.path + "/blobs")
        XCTAssertEqual(try reopened.get(s2), v2)
        XCTAssertEqual(try reopened.read(s2).depth, 1)
        XCTAssertEqual(try reopened.get(s1), v1)
        // The same bytes again (another document, or a batch a crash cut short before its rows):
        // nothing is written, and the row to come still learns the delta's base from the file.
        let again = try blobs.stage(v2, sha256: s2)
        XCTAssertNil(again.temp)
        XCTAssertEqual(again.base, s1)
        XCTAssertEqual(again.storedSize, staged.storedSize)
    }

    func testUnrelatedBodiesAndDeepChainsAreStoredWhole() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        // An unrelated base does not pay: the body is stored whole.
        let other = Array((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let page = SyntheticSite.page(1)
        let staged = try blobs.stage(page, sha256: SHA256.hex(page), base: DeltaBase(sha256: SHA256.hex(other), bytes: other, depth: 0))
        XCTAssertNil(staged.base)
        // A chain stops at maxDeltaDepth: the next version starts a new one.
        var previous = page, previousSHA = SHA256.hex(page), depth = 0
        try blobs.put(page, sha256: previousSHA)
        for edit in 1...(BlobStore.maxDeltaDepth + 1) {
            let next = SyntheticSite.page(1, edit: edit), sha = SHA256.hex(next)
            let s = try blobs.stage(next, sha256: sha, base: DeltaBase(sha256: previousSHA, bytes: previous, depth: depth))
            try blobs.makeDurable([s])
            depth = try blobs.read(sha).depth
            XCTAssertEqual(depth, edit <= BlobStore.maxDeltaDepth ? edit : 0, "version \(edit)")
            XCTAssertEqual(try BlobStore(root: dir.path + "/blobs").get(sha), next)
            previous = next
            previousSHA = sha
        }
    }

    /// The store reuses its zstd contexts across threads: eight tasks on every core at once
    /// store whole bodies and deltas and read them back through one store, and every body comes back
    /// byte for byte (a context handed to two threads, or one keeping a delta's prefix or
    /// window, would garble or fail some). Then a fresh store reads them all from the files.
    func testPooledContextsSurviveConcurrentBodiesAndDeltas() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        let failures = NSLock()
        nonisolated(unsafe) var problems: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            do {
                for i in 0..<12 {
                    let id = t * 100 + i
                    let v1 = SyntheticSite.page(id, paragraphs: 20 + i * 7), v2 = SyntheticSite.page(id, paragraphs: 20 + i * 7, edit: 1)
                    let s1 = SHA256.hex(v1), s2 = SHA256.hex(v2)
                    try blobs.put(v1, sha256: s1)
                    let staged = try blobs.stage(v2, sha256: s2, base: DeltaBase(sha256: s1, bytes: v1, depth: 0))
                    try blobs.makeDurable([staged])
                    if try blobs.get(s2) != v2 || blobs.get(s1) != v1 { failures.withLock { problems.append("page \(id)") } }
                }
            } catch {
                failures.withLock { problems.append("\(error)") }
            }
        }
        XCTAssertEqual(problems, [])
        let reopened = try BlobStore(root: dir.path + "/blobs")
        for t in 0..<8 {
            for i in 0..<12 {
                let id = t * 100 + i
                let v2 = SyntheticSite.page(id, paragraphs: 20 + i * 7, edit: 1)
                XCTAssertEqual(try reopened.get(SHA256.hex(v2)), v2, "page \(id)")
            }
        }
    }

    func testAMissingBaseIsNamedWithTheDelta() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/blobs")
        let v1 = SyntheticSite.page(3), v2 = SyntheticSite.page(3, edit: 1)
        let s1 = SHA256.hex(v1), s2 = SHA256.hex(v2)
        try blobs.put(v1, sha256: s1)
        try blobs.makeDurable([try blobs.stage(v2, sha256: s2, base: DeltaBase(sha256: s1, bytes: v1, depth: 0))])
        unlink(blobs.path(for: s1))
        XCTAssertThrowsError(try BlobStore(root: dir.path + "/blobs").get(s2)) {
            XCTAssertEqual("\($0)", "\(blobs.path(for: s2)): delta base \(s1): \(blobs.path(for: s1)): blob missing")
        }
    }
}

final class SourceDictionaryTests: XCTestCase {
    func testASourceTrainsItsDictionaryFromItsFirstBodiesAndUsesIt() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/state/blobs")
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let dictionaries = SourceDictionaries(blobs: blobs, database: db)
        var trained: SourceDictionaries.Trained?
        var offered = 0
        while trained == nil && offered < 1000 {
            let page = SyntheticSite.page(offered)
            try blobs.put(page, sha256: SHA256.hex(page))
            trained = try dictionaries.offer(page, sha256: SHA256.hex(page), source: "gazette")
            offered += 1
        }
        let t = try XCTUnwrap(trained)
        XCTAssertEqual(offered, SourceDictionaries.defaultSamplesToTrain, "4 KB pages: trained at the sample count")
        XCTAssertEqual(t.samples.count, SourceDictionaries.defaultSamplesToTrain)
        XCTAssertIdentical(dictionaries.dictionary(for: "gazette"), t.dictionary)
        XCTAssertNil(dictionaries.dictionary(for: "other"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: blobs.dictionaryPath(id: t.dictionary.id)))
        XCTAssertEqual(try db.dictionaries().map(\.0), [t.dictionary.id])
        XCTAssertNil(try dictionaries.offer(SyntheticSite.page(5000), sha256: "x", source: "gazette"), "trained once")

        // A new page: smaller with the dictionary, and readable by a fresh store from the files.
        let page = SyntheticSite.page(9999), sha = SHA256.hex(page)
        let plain = try blobs.compress(page).count
        let staged = try blobs.stage(page, sha256: sha, dictionary: t.dictionary)
        try blobs.makeDurable([staged])
        XCTAssertEqual(staged.dictionaryID, t.dictionary.id)
        XCTAssertLessThan(staged.storedSize, plain * 3 / 4)
        XCTAssertEqual(try BlobStore(root: dir.path + "/state/blobs").get(sha), page)
        XCTAssertEqual(try blobs.stage(page, sha256: sha).dictionaryID, t.dictionary.id, "read from the frame header")

        // The samples, stored before the dictionary, are compressed again with it.
        let first = t.samples[0]
        let before = try blobs.read(first).bytes
        let again = try XCTUnwrap(try blobs.recompress(first, with: t.dictionary))
        try blobs.makeDurable([again], replacing: true)
        XCTAssertEqual(try BlobStore(root: dir.path + "/state/blobs").get(first), before)
        XCTAssertNil(try blobs.recompress(first, with: t.dictionary), "already compressed with it")

        // A new process finds the source's dictionary; a missing dictionary file is named.
        XCTAssertEqual(SourceDictionaries(blobs: blobs, database: db).dictionary(for: "gazette")?.id, t.dictionary.id)
        unlink(blobs.dictionaryPath(id: t.dictionary.id))
        XCTAssertThrowsError(try BlobStore(root: dir.path + "/state/blobs").get(sha)) {
            XCTAssertEqual("\($0)", "\(blobs.path(for: sha)): its dictionary \(blobs.dictionaryPath(id: t.dictionary.id)) is missing")
        }
    }
}

final class GroupCommitTests: XCTestCase {
    static func body(_ page: [UInt8], _ blob: StagedBlob) -> FetchedBody {
        FetchedBody(rawSha256: blob.sha256, contentSha256: "c-" + blob.sha256, title: nil, size: page.count, storedSize: blob.storedSize,
                    httpStatus: 200, etag: nil, lastModified: nil, contentType: "text/html", fetchedAt: Date(), runId: nil,
                    parserVersion: 1, blobBase: blob.base, blobDictionary: blob.dictionaryID)
    }

    /// Eight threads record at once: every body is recorded, the one naming a missing document
    /// fails alone, and no row names a blob that is not in place.
    func testConcurrentBodiesCommitInBatchesAndFailAlone() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/state/blobs")
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let commits = GroupCommit(database: db, blobs: blobs)
        let ids = try (0..<8).map { i in
            try XCTUnwrap(db.ensureDocument(url: "https://e.org/\(i).html", source: "s", kind: "article", depth: 0, now: Date()).0.id)
        }
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var byBody: [Int: Result<RecordOutcome, Error>] = [:]
        }
        let results = Outcomes()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let page = SyntheticSite.page(i)
            let r = Result { () throws -> RecordOutcome in
                let blob = try blobs.stage(page, sha256: SHA256.hex(page))
                return try commits.record(blob, BodyToRecord(documentId: i == 5 ? 999 : ids[i], body: Self.body(page, blob),
                                                             nextCheck: nil, tracksRevisions: true))
            }
            results.lock.withLock { results.byBody[i] = r }
        }
        let outcomes = results.byBody
        for i in 0..<8 where i != 5 {
            XCTAssertEqual(try outcomes[i]?.get().newVersion, true, "body \(i)")
            XCTAssertEqual(try db.document(url: "https://e.org/\(i).html")?.rawSha256, SHA256.hex(SyntheticSite.page(i)))
        }
        XCTAssertThrowsError(try outcomes[5]?.get()) { XCTAssertEqual("\($0)", "\(db.path): document 999 vanished") }
        XCTAssertEqual(commits.bodies, 8)
        let named = try db.pool.read { try String.fetchAll($0, sql: "SELECT raw_sha256 FROM versions") }
        XCTAssertEqual(named.count, 7)
        for sha in named { XCTAssertEqual(SHA256.hex(try blobs.get(sha)), sha) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/blobs/tmp"), [])
    }

    /// Two documents bring the same new body in one batch, each staged as a delta against its
    /// own previous body: the first file stays in place (never replaced), and both rows name
    /// the base that file uses.
    func testTheSameNewBodyFromTwoDocumentsKeepsOneFileAndItsBase() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/state/blobs")
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let commits = GroupCommit(database: db, blobs: blobs)
        var bases: [String] = []
        var ids: [Int64] = []
        for i in 0..<2 {
            let id = try XCTUnwrap(db.ensureDocument(url: "https://e.org/\(i)", source: "s", kind: "article", depth: 0, now: Date()).0.id)
            let old = SyntheticSite.page(40 + i)
            let blob = try blobs.stage(old, sha256: SHA256.hex(old))
            _ = try commits.record(blob, BodyToRecord(documentId: id, body: Self.body(old, blob), nextCheck: nil, tracksRevisions: true))
            bases.append(blob.sha256)
            ids.append(id)
        }
        // A page both now redirect their text to, close to each old page (same template).
        let removed = Array(String(decoding: SyntheticSite.page(40), as: UTF8.self).replacingOccurrences(of: "harbour", with: "removed").utf8)
        let sha = SHA256.hex(removed)
        let staged = try (0..<2).map { i in
            try blobs.stage(removed, sha256: sha, base: DeltaBase(sha256: bases[i], bytes: SyntheticSite.page(40 + i), depth: 0))
        }
        XCTAssertNotNil(staged[0].temp)
        XCTAssertNotNil(staged[1].temp, "both staged before either is in place")
        XCTAssertEqual(staged[0].base, bases[0])
        XCTAssertNotEqual(staged[1].base, bases[0], "staged against its own previous body (or whole)")
        let placed = try blobs.makeDurable(staged)
        XCTAssertEqual(placed[1].base, placed[0].base, "the second describes the first's file")
        XCTAssertEqual(blobs.storage(of: blobs.path(for: sha)).base, placed[0].base)
        for i in 0..<2 {
            var b = Self.body(removed, placed[i])
            b.contentSha256 = "removed"
            _ = try db.recordBody(documentId: ids[i], b, nextCheck: nil)
        }
        XCTAssertEqual(try db.pool.read { try String.fetchOne($0, sql: "SELECT base_sha256 FROM blobs WHERE sha256 = ?", arguments: [sha]) },
                       placed[0].base)
        XCTAssertEqual(try Verifier.verify(database: db, blobs: blobs).problems, [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/blobs/tmp"), [])

        // A row that names another base than its file is reported.
        try db.pool.write { try $0.execute(sql: "UPDATE blobs SET base_sha256 = ? WHERE sha256 = ?", arguments: [bases[1] == placed[0].base ? bases[0] : bases[1], sha]) }
        XCTAssertEqual(try Verifier.verify(database: db, blobs: blobs).problems.count, 1)
    }

    /// Retention removes old versions' blobs, but not one a kept delta's chain goes through.
    func testGarbageCollectionKeepsTheBasesOfKeptDeltas() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/state/blobs")
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let commits = GroupCommit(database: db, blobs: blobs)
        let id = try XCTUnwrap(db.ensureDocument(url: "https://e.org/a.html", source: "s", kind: "index", depth: 0, now: Date()).0.id)
        var previous: DeltaBase?
        var shas: [String] = []
        for edit in 0..<4 {
            let page = SyntheticSite.page(1, edit: edit)
            let blob = try blobs.stage(page, sha256: SHA256.hex(page), base: previous)
            var b = Self.body(page, blob)
            b.contentSha256 = "same"  // index churn: versions, one revision
            _ = try commits.record(blob, BodyToRecord(documentId: id, body: b, nextCheck: nil, tracksRevisions: true))
            previous = DeltaBase(sha256: blob.sha256, bytes: page, depth: try blobs.read(blob.sha256).depth)
            shas.append(blob.sha256)
        }
        XCTAssertEqual(try db.pool.read { try String.fetchAll($0, sql: "SELECT base_sha256 FROM blobs WHERE base_sha256 IS NOT NULL ORDER BY base_sha256") }.sorted(),
                       [shas[0], shas[1], shas[2]].sorted())
        // Keep none but the revision and the current version: the two middle versions go, but
        // their blobs are the current version's chain (its base, and its base's base).
        XCTAssertEqual(try db.pruneVersions(source: "s", keepVersions: 0, olderThan: nil), 2)
        XCTAssertEqual(try db.collectUnreferencedBlobs(), [])
        XCTAssertEqual(try BlobStore(root: dir.path + "/state/blobs").get(shas[3]), SyntheticSite.page(1, edit: 3))
        let report = try Verifier.verify(database: db, blobs: blobs)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.unreferencedBlobs, 0)
    }
}

final class CompactorTests: XCTestCase {
    /// Whole text blobs are compressed again at level 19 (with the dictionary their frame
    /// names); a delta and an incompressible body are looked at and left; a second pass finds
    /// nothing; every blob still reads back to its bytes.
    func testCompactionShrinksWholeBlobsOnceAndKeepsEveryBodyReadable() throws {
        let dir = ScratchDir()
        let blobs = try BlobStore(root: dir.path + "/state/blobs")
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let commits = GroupCommit(database: db, blobs: blobs)
        let dictionaries = SourceDictionaries(blobs: blobs, database: db)
        var trained: BlobDictionary?
        for i in 0..<SourceDictionaries.defaultSamplesToTrain {
            let page = SyntheticSite.page(i)
            trained = try dictionaries.offer(page, sha256: SHA256.hex(page), source: "gazette")?.dictionary ?? trained
        }
        let dictionary = try XCTUnwrap(trained)
        var pages: [[UInt8]] = []
        func store(_ page: [UInt8], url: String, base: DeltaBase? = nil, dictionary: BlobDictionary? = nil) throws {
            let id = try XCTUnwrap(db.ensureDocument(url: url, source: "gazette", kind: "article", depth: 0, now: Date()).0.id)
            let blob = try blobs.stage(page, sha256: SHA256.hex(page), base: base, dictionary: dictionary)
            _ = try commits.record(blob, BodyToRecord(documentId: id, body: GroupCommitTests.body(page, blob), nextCheck: nil, tracksRevisions: true))
            pages.append(page)
        }
        for i in 0..<6 { try store(SyntheticSite.page(1000 + i), url: "https://e.org/\(i)", dictionary: dictionary) }
        try store(SyntheticSite.page(2000), url: "https://e.org/plain")
        let v1 = SyntheticSite.page(1000)
        try store(SyntheticSite.page(1000, edit: 1), url: "https://e.org/0", base: DeltaBase(sha256: SHA256.hex(v1), bytes: v1, depth: 0))
        var noise = SplitMix(seed: 9)
        try store((0..<20_000).map { _ in UInt8(truncatingIfNeeded: noise.next()) }, url: "https://e.org/photo.jpg")
        let before = try db.totals().storedBytes

        XCTAssertEqual(try Compactor(database: db, blobs: blobs).run(shouldStop: { true }), CompactionSummary(stopped: true))
        let summary = try Compactor(database: db, blobs: blobs).run()
        XCTAssertEqual(summary.blobs, 9)
        XCTAssertEqual(summary.rewritten, 7, "six dictionary frames and one plain frame (given the dictionary); not the delta, not the noise")
        XCTAssertLessThan(summary.bytesAfter, summary.bytesBefore)
        XCTAssertEqual(try db.totals().storedBytes, before - (summary.bytesBefore - summary.bytesAfter))
        XCTAssertEqual(try db.blobsToCompact(), 0)
        // The body stored before its source had a dictionary uses it now, file and row alike.
        let plain = SHA256.hex(SyntheticSite.page(2000))
        XCTAssertEqual(blobs.storage(of: blobs.path(for: plain)).dictionaryID, dictionary.id)
        XCTAssertEqual(try db.pool.read { try Int64.fetchOne($0, sql: "SELECT dictionary_id FROM blobs WHERE sha256 = ?", arguments: [plain]) },
                       Int64(dictionary.id))
        XCTAssertEqual(try Compactor(database: db, blobs: blobs).run(), CompactionSummary())
        let fresh = try BlobStore(root: dir.path + "/state/blobs")
        for page in pages { XCTAssertEqual(try fresh.get(SHA256.hex(page)), page) }
        XCTAssertEqual(try Verifier.verify(database: db, blobs: blobs).problems, [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/state/blobs/tmp"), [])

        // VACUUM (what `mirrord --compact` does after): a smaller or equal file, the same rows.
        let totals = try db.totals()
        try db.pool.write { try $0.execute(sql: "CREATE TABLE filler (x BLOB); INSERT INTO filler VALUES (zeroblob(200000)); DROP TABLE filler") }
        let (b, a) = try db.vacuum()
        XCTAssertLessThan(a, b, "the dropped table's pages are gone")
        XCTAssertEqual(try db.totals(), totals)
    }
}
