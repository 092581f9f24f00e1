import Foundation
import MirrorCore
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

/// `max_depth` counts a document's shortest link distance from a start URL, whatever order
/// the run meets its links in. One check at a time (`concurrency = 1`): the queue's order is
/// the order the tests describe.
final class DepthTests: XCTestCase {
    /// An index page linking the given pages, in the fixture site's Markdown.
    private func index(_ title: String, _ links: [String]) -> String {
        (["### \(title)", ""] + links.map { "#### [\($0)](\($0))\n" }).joined(separator: "\n")
    }

    /// Serves each path as an index page linking the given (relative) paths.
    private func publish(_ h: Harness, _ pages: KeyValuePairs<String, [String]>) {
        for (path, links) in pages { h.server.put(path, index(path, links)) }
    }

    private func depth(_ h: Harness, _ path: String) throws -> Int? { try h.document(path)?.depth }

    /// The chain README → a → b (at `max_depth` 2). In the second run b gains a link to x (depth
    /// 3: passed over), and a new index c, linked from README, links x too (depth 2). b is
    /// checked before c, so x is met beyond `max_depth` first: it must still be queued from c.
    func testAnIndexPassedOverBeyondMaxDepthIsQueuedWhenAShorterPathFollowsInTheSameRun() async throws {
        let h = try Harness(http: "concurrency = 1", extraSource: "max_depth = 2")
        publish(h, [
            "/README.md": ["indexes/a.md"],
            "/indexes/a.md": ["b.md"],
            "/indexes/b.md": ["../pages/1/201.md"],
        ])
        let first = try await h.sync()
        XCTAssertEqual(first.newDocuments, 4)  // README, a, b, 201

        publish(h, [
            "/README.md": ["indexes/a.md", "indexes/c.md"],
            "/indexes/b.md": ["../pages/1/201.md", "x.md"],
            "/indexes/c.md": ["x.md"],
            "/indexes/x.md": ["../pages/1/203.md"],
        ])
        h.server.clearRequests()
        let second = try await h.sync()

        XCTAssertEqual(h.server.requests.map(\.path),
                       ["/README.md", "/indexes/a.md", "/indexes/b.md", "/indexes/c.md", "/indexes/x.md", "/pages/1/203.md"])
        XCTAssertEqual(second.newDocuments, 3)  // c, x, 203
        XCTAssertEqual(second.errors, 0)
        XCTAssertEqual(try depth(h, "/indexes/c.md"), 1)
        XCTAssertEqual(try depth(h, "/indexes/x.md"), 2)
        XCTAssertEqual(try depth(h, "/pages/1/203.md"), 2)
        XCTAssertEqual(try h.parsedJSON(203)["title"] as? String, "梅岭小学操场对外开放")
    }

    /// b sits at `max_depth` (README → a → b), so its link to c is passed over and its links are
    /// noted as known. When README links b directly, b's depth drops to 1 before b is checked:
    /// on its 304 the stored body is read again and c (depth 2) joins the run.
    func testAKnownIndexFoundCloserToTheStartFollowsTheLinksItHadPassedOver() async throws {
        let h = try Harness(http: "concurrency = 1", extraSource: "max_depth = 2")
        publish(h, [
            "/README.md": ["indexes/a.md"],
            "/indexes/a.md": ["b.md"],
            "/indexes/b.md": ["c.md"],
            "/indexes/c.md": ["../pages/1/202.md"],
        ])
        let first = try await h.sync()
        XCTAssertEqual(first.newDocuments, 3)  // README, a, b
        XCTAssertNil(try h.document("/indexes/c.md"))
        XCTAssertEqual(try depth(h, "/indexes/b.md"), 2)

        publish(h, ["/README.md": ["indexes/a.md", "indexes/b.md"]])
        h.server.clearRequests()
        let second = try await h.sync()

        XCTAssertEqual(h.server.requests.map(\.path),
                       ["/README.md", "/indexes/a.md", "/indexes/b.md", "/indexes/c.md", "/pages/1/202.md"])
        XCTAssertEqual(second.notModified, 2)  // a and b
        XCTAssertEqual(second.newDocuments, 2)  // c, 202
        XCTAssertEqual(try depth(h, "/indexes/b.md"), 1)
        XCTAssertEqual(try depth(h, "/indexes/c.md"), 2)
        XCTAssertEqual(try h.parsedJSON(202)["title"] as? String, "河湾社区开办老年手机课")

        // Nothing new: b's links are noted as known from its new depth.
        let third = try await h.sync()
        XCTAssertEqual(third.newDocuments, 0)
        XCTAssertEqual(third.notModified, 4)  // README, a, b, c
        XCTAssertEqual(try depth(h, "/indexes/b.md"), 1)
        XCTAssertEqual(try h.document("/indexes/b.md")?.linksKnown?.split(separator: " ").last, "1")
    }

    /// A lowered depth goes down a chain of known indexes: README → a → b → c at `max_depth`
    /// 3 leaves c's link to d (depth 4) passed over. When README links b, b drops to 1, and on
    /// its 304 its links are read again: c drops to 2 before its own check, which then reads
    /// its links again and reaches d (depth 3), all in one run.
    func testALoweredDepthReachesTheIndexesBelowInTheSameRun() async throws {
        let h = try Harness(http: "concurrency = 1", extraSource: "max_depth = 3")
        publish(h, [
            "/README.md": ["indexes/a.md"],
            "/indexes/a.md": ["b.md"],
            "/indexes/b.md": ["c.md"],
            "/indexes/c.md": ["d.md"],
            "/indexes/d.md": ["../pages/1/201.md"],
        ])
        _ = try await h.sync()
        XCTAssertEqual(try depth(h, "/indexes/c.md"), 3)
        XCTAssertNil(try h.document("/indexes/d.md"))

        publish(h, ["/README.md": ["indexes/a.md", "indexes/b.md"]])
        h.server.clearRequests()
        let second = try await h.sync()

        XCTAssertEqual(h.server.requests.map(\.path),
                       ["/README.md", "/indexes/a.md", "/indexes/b.md", "/indexes/c.md", "/indexes/d.md", "/pages/1/201.md"])
        XCTAssertEqual(second.notModified, 3)  // a, b, c
        XCTAssertEqual(second.newDocuments, 2)  // d, 201
        XCTAssertEqual([try depth(h, "/indexes/b.md"), try depth(h, "/indexes/c.md"), try depth(h, "/indexes/d.md")], [1, 2, 3])
    }

    /// A page met through the links first and named as a start URL later starts at depth 0.
    func testAPageMadeAStartURLStartsAtDepthZero() async throws {
        let h = try Harness(http: "concurrency = 1", extraSource: "max_depth = 1")
        publish(h, [
            "/README.md": ["indexes/a.md"],
            "/indexes/a.md": ["b.md"],
            "/indexes/b.md": ["../pages/1/201.md"],
        ])
        _ = try await h.sync()
        XCTAssertEqual(try depth(h, "/indexes/a.md"), 1)
        XCTAssertNil(try h.document("/indexes/b.md"))

        let moved = try Tool.writeConfig(h.dir, server: h.server, pollInterval: nil, extra: "[http]\nconcurrency = 1\n",
                                         extraSource: "max_depth = 1")
        var config = try MirrorConfig.load(path: moved)
        config.sources[0].start.append(h.url("/indexes/a.md"))
        let engine = SyncEngine(config: config, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        let run = try await engine.run(RunOptions(trigger: "test"))

        XCTAssertEqual(run.errors, 0)
        XCTAssertEqual(try depth(h, "/indexes/a.md"), 0)
        XCTAssertEqual(try depth(h, "/indexes/b.md"), 1)
        XCTAssertEqual(try depth(h, "/pages/1/201.md"), 1)
    }
}
