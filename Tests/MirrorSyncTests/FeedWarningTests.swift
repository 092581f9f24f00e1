import Foundation
import Logging
import MirrorCore
import MirrorSync
import XCTest

/// A feed whose items all carry one `<guid>` loses items in readers keyed on the guid; mirrord
/// keeps every item (identity is the link) and warns once per feed and sync, naming the feed.
final class FeedWarningTests: XCTestCase {
    func testARepeatedGUIDIsWarnedAboutOncePerFeedAndSync() async throws {
        let h = try Harness()
        let items = (201...203).map { i in
            "<item><title>第\(i)条</title><link>\(h.url("/pages/1/\(i).md"))</link><guid isPermaLink=\"false\">one-guid</guid></item>"
        }.joined()
        h.server.put("/indexes/school.md", "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>学校</title>\(items)</channel></rss>")
        let recorder = RecordingLogHandler()
        let engine = SyncEngine(config: h.config, database: h.database, blobs: h.blobs, fetcher: h.fetcher,
                                logger: Logger(label: "test") { _ in recorder })
        let feed = h.url("/indexes/school.md")
        func warnings() -> [String] { recorder.messages.filter { $0.contains("<guid>") } }

        let first = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(first.status, "completed")
        XCTAssertEqual(warnings(), ["\(feed): 2 feed items repeat an earlier item's <guid> (first: 'one-guid'); every item is kept, by its link"])
        for i in 201...203 { XCTAssertNotNil(try h.document("/pages/1/\(i).md"), "item \(i) kept") }

        // The next sync (a 304 or the same body) warns again, once.
        _ = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(warnings().count, 2)
        // So its links are never noted as known: the stored feed is parsed on every 304.
        XCTAssertNil(try h.document("/indexes/school.md")?.linksKnown)
    }
}
