import Foundation
import MirrorControl
import MirrorCore
import MirrorFetch
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

/// A full disk, for real: the store lives on a tmpfs of 1 MiB that the test mounts (as root;
/// skipped otherwise), then grows to 64 MiB.
final class DiskFullTests: XCTestCase {
    func testAFullDiskStopsTheRunLosesNothingAndResumesWhenSpaceReturns() async throws {
        try XCTSkipIf(getuid() != 0, "needs root to mount a small tmpfs")
        let dir = TemporaryDirectory()
        let mnt = dir.file("small")
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]
        try mount.run()
        mount.waitUntilExit()
        try XCTSkipIf(mount.terminationStatus != 0, "cannot mount a tmpfs here")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mnt]
            try? umount.run()
            umount.waitUntilExit()
        }

        // 30 articles of 96 KiB of random bytes: incompressible, about 3 MiB in all. Only bytes
        // from 0x80 up: random ASCII now and then spelled an image (`![…](…)`, `<img src=…>`),
        // which the run then fetched as an asset, one more document than the test counts.
        let server = try TestHTTPServer()
        var rng = SystemRandomNumberGenerator()
        var index = "### 目录\n\n"
        for i in 1...30 {
            server.put("/pages/1/\(i).md", (0..<98_304).map { _ in UInt8.random(in: 0x80...0xFF, using: &rng) })
            index += "#### [第\(i)篇](pages/1/\(i).md)\n\n"
        }
        server.put("/README.md", index)
        try dir.write("mirrord.toml", """
            state_dir = "small/state"
            mirror_dir = "small/mirror"
            control_socket = "run.sock"
            [http]
            retries = 0
            [[source]]
            name = "big"
            start = ["\(server.baseURL)/README.md"]
            article_links = ["pages/**/*.md"]
            """)
        let config = try MirrorConfig.load(path: dir.file("mirrord.toml"))
        let database = try MirrorDatabase(path: config.databasePath)
        let blobs = try BlobStore(root: config.stateDir + "/blobs")
        let fetcher = Fetcher(settings: config.http)
        defer { fetcher.shutdown() }
        let engine = SyncEngine(config: config, database: database, blobs: blobs, fetcher: fetcher)
        let coordinator = SyncCoordinator(engine: engine)

        // Through the coordinator, as the daemon runs it.
        do {
            _ = try await coordinator.sync(RunOptions(trigger: "test")).value
            XCTFail("3 MiB fitted in 1 MiB")
        } catch let e as RunStopped {
            // The message names the condition and the write it struck.
            XCTAssertTrue(e.description.hasPrefix("disk full, run stopped: "), e.description)
            XCTAssertTrue(e.description.contains("(ENOSPC)") || e.description.contains("(SQLITE_FULL)"), e.description)
            XCTAssertTrue(e.description.contains("\(server.baseURL)/"), "names the document being written: \(e.description)")
        }
        // The failed run and its reason are what `status` shows, with the failed write counted,
        // whether or not the full disk let the run's row be updated.
        let lastRun = await coordinator.lastRun
        let failed = try XCTUnwrap(lastRun)
        XCTAssertEqual(failed.status, "failed")
        XCTAssertEqual(failed.errors, 1)
        let status = try Reports.status(database: database, config: config,
                                        daemon: DaemonState(uptime: 1, syncing: false, currentRun: nil, lastRun: failed))
        let last = try XCTUnwrap(status["last_run"] as? [String: Any])
        XCTAssertEqual(last["status"] as? String, "failed")
        XCTAssertEqual(last["errors"] as? Int, 1)
        XCTAssertTrue((last["error"] as? String)?.hasPrefix("disk full, run stopped: ") == true, "\(last)")
        // Still readable, nothing partial: every row names a blob that is there and intact, and
        // the read-only reports answer (documents, an index's revisions).
        let partial = try database.totals()
        XCTAssertLessThan(partial.versions, 31)
        XCTAssertEqual(try Verifier.verify(database: database, blobs: blobs).problems, [])
        XCTAssertEqual(try Reports.documents(database: database, kind: nil, source: nil).count, partial.documents)
        XCTAssertEqual(try History(database: database, blobs: blobs, config: config).log(url: "\(server.baseURL)/README.md").count, 1)

        // Space returns: the next run picks up where it stopped.
        let grow = Process()
        grow.executableURL = URL(fileURLWithPath: "/bin/mount")
        grow.arguments = ["-o", "remount,size=64m", mnt]
        try grow.run()
        grow.waitUntilExit()
        let run = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(run.status, "completed")
        XCTAssertEqual(run.errors, 0)
        let totals = try database.totals()
        XCTAssertEqual(totals.documents, 31)
        XCTAssertEqual(totals.versions, 31)
        XCTAssertEqual(try Verifier.verify(database: database, blobs: blobs).problems, [])
        for i in 1...30 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: config.mirrorDir + "/raw/127.0.0.1_\(server.port)/pages/1/\(i).md"), "raw copy \(i)")
        }
    }
}
