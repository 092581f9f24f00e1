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
    /// blob files no row names. The run after the crash deletes exactly those; every blob a row
    /// names stays, byte for byte, and the store verifies with nothing unreferenced.
    func testTheRunAfterACrashDeletesBlobFilesNoRowNames() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let stored = Set(h.blobs.storedHashes())
        XCTAssertEqual(stored, try h.database.blobHashes())
        XCTAssertEqual(stored.count, 6)
        let bytesBefore = try stored.map { try Data(contentsOf: URL(fileURLWithPath: h.blobs.path(for: $0))) }
        let orphans = ["a body whose row never committed", "another one"].map { Array($0.utf8) }
        for body in orphans { try h.blobs.put(body, sha256: SHA256.hex(body)) }
        XCTAssertEqual(try Verifier.verify(database: h.database, blobs: h.blobs).unreferencedBlobs, 2)
        _ = try h.database.startRun(trigger: "crashed", at: Date())
        try h.database.closeAbandonedRuns()

        let summary = try Recovery(config: h.config, database: h.database, blobs: h.blobs).run()

        XCTAssertEqual(summary.orphanBlobsRemoved, 2)
        XCTAssertEqual(Set(h.blobs.storedHashes()), stored)
        for body in orphans { XCTAssertFalse(FileManager.default.fileExists(atPath: h.blobs.path(for: SHA256.hex(body)))) }
        XCTAssertEqual(try stored.map { try Data(contentsOf: URL(fileURLWithPath: h.blobs.path(for: $0))) }, bytesBefore)
        let report = try Verifier.verify(database: h.database, blobs: h.blobs)
        XCTAssertEqual(report.unreferencedBlobs, 0)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.blobs, 6)
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
