import Foundation
import MirrorCore
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

final class RecoveryTests: XCTestCase {
    /// After an unclean stop (a run left `running`, now `interrupted`), the next run first puts
    /// the mirror tree back: missing raw and parsed copies rewritten from the store, temp files gone.
    func testTheRunAfterACrashRepairsTheMirrorTree() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let raw = h.mirrorFile("raw/\(h.hostDir)/pages/1/202.md")
        let json = h.mirrorFile("parsed/\(h.hostDir)/pages/1/203.json")
        let rawBytes = try Data(contentsOf: URL(fileURLWithPath: raw))
        let jsonBytes = try Data(contentsOf: URL(fileURLWithPath: json))
        try FileManager.default.removeItem(atPath: raw)
        try FileManager.default.removeItem(atPath: json)
        try Data("half a file".utf8).write(to: URL(fileURLWithPath: h.mirrorFile("raw/\(h.hostDir)/pages/1/.mirrord-99-1.tmp")))
        try Data("half a blob".utf8).write(to: URL(fileURLWithPath: h.blobs.root + "/tmp/.99-1.tmp"))
        _ = try h.database.startRun(trigger: "crashed", at: Date())
        try h.database.closeAbandonedRuns()  // what start-up does after kill -9

        h.server.clearRequests()
        _ = try await h.sync()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: raw)), rawBytes)
        let restored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let original = try JSONSerialization.jsonObject(with: jsonBytes) as? [String: Any]
        XCTAssertEqual(restored?["paragraphs"] as? [String], original?["paragraphs"] as? [String])
        XCTAssertEqual(restored?["revision"] as? Int, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.mirrorFile("raw/\(h.hostDir)/pages/1/.mirrord-99-1.tmp")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.blobs.root + "/tmp"), [])
    }

    /// A batch's blobs are made durable before its rows commit: a kill between the two leaves
    /// blob files no row names. Retention deletes versions, then their blobs: a kill between
    /// leaves blobs no version names. The run after the crash deletes exactly those; every
    /// blob a version names stays, byte for byte, and the store verifies with nothing
    /// unreferenced.
    func testTheRunAfterACrashDeletesBlobFilesNoRowNames() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let stored = Set(h.blobs.storedHashes())
        XCTAssertEqual(stored, try h.database.blobHashes())
        XCTAssertEqual(stored.count, 6)
        let bytesBefore = try stored.map { try Data(contentsOf: URL(fileURLWithPath: h.blobs.path(for: $0))) }
        let orphans = ["a body whose row never committed", "another one"].map { Array($0.utf8) }
        for body in orphans { try h.blobs.put(body, sha256: SHA256.hex(body)) }
        // And one whose versions retention deleted, killed before it deleted the blob itself.
        let pruned = Array("a version retention had deleted".utf8)
        let size = try h.blobs.put(pruned, sha256: SHA256.hex(pruned))
        try await h.database.pool.write { db in
            try db.execute(sql: "INSERT INTO blobs (sha256, size, stored_size) VALUES (?, ?, ?)",
                           arguments: [SHA256.hex(pruned), pruned.count, size])
        }
        XCTAssertEqual(try Verifier.verify(database: h.database, blobs: h.blobs).unreferencedBlobs, 3)
        _ = try h.database.startRun(trigger: "crashed", at: Date())
        try h.database.closeAbandonedRuns()

        let summary = try Recovery(config: h.config, database: h.database, blobs: h.blobs).run()

        XCTAssertEqual(summary.orphanBlobsRemoved, 2)
        XCTAssertEqual(summary.unreferencedBlobsRemoved, 1)
        XCTAssertEqual(try h.database.blobHashes(), stored)
        XCTAssertEqual(Set(h.blobs.storedHashes()), stored)
        for body in orphans + [pruned] { XCTAssertFalse(FileManager.default.fileExists(atPath: h.blobs.path(for: SHA256.hex(body)))) }
        XCTAssertEqual(try stored.map { try Data(contentsOf: URL(fileURLWithPath: h.blobs.path(for: $0))) }, bytesBefore)
        let report = try Verifier.verify(database: h.database, blobs: h.blobs)
        XCTAssertEqual(report.unreferencedBlobs, 0)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.blobs, 6)
    }

    /// A batch whose transaction fails (here a trigger refuses one article's version) leaves
    /// its blobs durable and unnamed while the run goes on and completes: the run deletes them
    /// at its end, and the next run stores the article as usual.
    func testBlobsOfABatchWhoseTransactionFailedAreDeletedAtTheEndOfTheRun() async throws {
        let h = try Harness()
        try await h.database.pool.write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse_202 BEFORE INSERT ON versions
                WHEN (SELECT url FROM documents WHERE id = NEW.document_id) LIKE '%/202.md'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                """)
        }
        let body202 = Array(FixtureSite.standard().files()["/pages/1/202.md"]!.utf8)

        let run = try await h.sync()

        XCTAssertEqual(run.status, "completed")
        XCTAssertGreaterThanOrEqual(run.errors, 1)
        XCTAssertNil(try h.document("/pages/1/202.md")?.currentVersionId)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.blobs.path(for: SHA256.hex(body202))))
        XCTAssertEqual(Set(h.blobs.storedHashes()), try h.database.blobHashes())
        XCTAssertEqual(try Verifier.verify(database: h.database, blobs: h.blobs).unreferencedBlobs, 0)

        try await h.database.pool.write { db in try db.execute(sql: "DROP TRIGGER refuse_202") }
        _ = try await h.sync(all: true)
        XCTAssertEqual(try h.document("/pages/1/202.md")?.rawSha256, SHA256.hex(body202))
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.blobs.path(for: SHA256.hex(body202))))
    }

    func testACleanHistoryNeedsNoRecovery() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let recovery = Recovery(config: h.config, database: h.database, blobs: h.blobs)
        XCTAssertEqual(try recovery.run(), Recovery.Summary())
    }
}

final class RetentionTests: XCTestCase {
    /// keep_versions = 1: of the versions that are not revisions only the newest (and the
    /// current) stay; revisions always stay; blobs nobody names are deleted.
    func testKeepVersionsPrunesOldNonRevisionVersionsAndTheirBlobs() async throws {
        let h = try Harness(extraSource: "keep_versions = 1")
        var site = FixtureSite.standard()
        _ = try await h.sync()
        for promo in ["订阅一", "订阅二", "订阅三"] {  // boilerplate-only edits: versions, not revisions
            site.edit(201) { $0.promo = promo }
            site.publish(to: h.server)
            _ = try await h.sync(all: true)
        }
        let doc = try XCTUnwrap(h.document("/pages/1/201.md"))
        let versions = try h.database.versions(documentId: doc.id!)
        XCTAssertEqual(versions.map(\.revision), [1, nil, nil], "the revision, the kept one, the current one")
        XCTAssertEqual(doc.versionCount, 3)
        XCTAssertEqual(doc.revisionCount, 1)
        let report = try Verifier.verify(database: h.database, blobs: h.blobs)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.unreferencedBlobs, 0, "the pruned version's blob is gone")
        XCTAssertEqual(report.blobs, 8)  // 6 first versions + 2 newer ones of 201 (README etc. unchanged)
    }

    func testRetentionIsOffByDefault() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        _ = try await h.sync()
        for promo in ["订阅一", "订阅二"] {
            site.edit(201) { $0.promo = promo }
            site.publish(to: h.server)
            _ = try await h.sync(all: true)
        }
        XCTAssertEqual(try h.document("/pages/1/201.md")?.versionCount, 3)
    }
}
