import Foundation
import MirrorCore
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

final class RevisitPolicyTests: XCTestCase {
    let hour = 3600.0
    let policy = RevisitPolicy(tiers: [1, 3, 12, 24, 72, 168, 720].map { $0 * 3600 }, maxAge: nil)

    func testIntervalGrowsWithTheTimeSinceTheLastChange() {
        let table: [(age: Double, interval: Double)] = [
            (0, 1), (3, 1), (11.9, 1), (12, 3), (47, 3), (48, 12), (95, 12), (96, 24),
            (287, 24), (288, 72), (671, 72), (672, 168), (2879, 168), (2880, 720), (100_000, 720),
        ]
        for row in table {
            XCTAssertEqual(policy.interval(age: row.age * hour), row.interval * hour, "age \(row.age) h")
        }
    }

    /// An article that never changes, followed for a simulated month: 42 checks instead of the
    /// 720 an hourly poll would make.
    func testASimulatedMonthWithoutChanges() {
        var t = 0.0
        var checks: [Double] = []
        while true {
            t += policy.interval(age: t)!
            guard t <= 720 * hour else { break }
            checks.append(t / hour)
        }
        XCTAssertEqual(checks.count, 42)
        XCTAssertEqual(Array(checks.prefix(14)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 18])
        XCTAssertEqual(Array(checks.suffix(6)), [360, 432, 504, 576, 648, 720])
    }

    /// A change found at a check resets the age: hourly again.
    func testASimulatedMonthWithTwoEdits() {
        let edits: [Double] = [100, 400].map { $0 * hour }  // upstream edits, in hours from first sight
        var t = 0.0, changed = 0.0, checks = 0, found: [Double] = []
        var pending = edits
        while true {
            t += policy.interval(age: t - changed)!
            guard t <= 720 * hour else { break }
            checks += 1
            if let e = pending.first, e <= t {  // the check sees the edit
                pending.removeFirst()
                changed = t
                found.append(t / hour)
            }
        }
        XCTAssertEqual(found, [120, 408])  // each edit found at the next scheduled check
        // 29 checks up to the first find (hourly ×12, 3-hourly ×12, 12-hourly ×4, then 120 h),
        // 36 in the 288 h that follow each find (12 + 12 + 4 + 8 daily): 29 + 36 + 36.
        XCTAssertEqual(checks, 101)
    }

    func testMaxAgeRetiresAnArticle() {
        let p = RevisitPolicy(tiers: [3600], maxAge: 30 * 86400)
        XCTAssertEqual(p.interval(age: 29 * 86400), 3600)
        XCTAssertNil(p.interval(age: 30 * 86400))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        XCTAssertEqual(p.nextCheck(now: now, changed: now.addingTimeInterval(-31 * 86400)), .distantFuture)
    }
}

final class RevisitScheduleTests: XCTestCase {
    func testArticlesAreCheckedWhenDueNotEveryRun() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let articles = ["/pages/1/201.md", "/pages/1/202.md", "/pages/1/203.md"]
        func fetchedArticles() -> [String] { h.server.requests.map(\.path).filter { articles.contains($0) }.sorted() }

        h.server.clearRequests()
        h.clock.advance(30 * 60)
        _ = try await h.sync()
        XCTAssertEqual(fetchedArticles(), [], "checked 30 min ago, due after 1 h")

        h.server.clearRequests()
        h.clock.advance(31 * 60)
        let run = try await h.sync()
        XCTAssertEqual(fetchedArticles(), articles)
        XCTAssertEqual(run.notModified, 6)

        let doc = try XCTUnwrap(h.document("/pages/1/201.md"))
        XCTAssertEqual(doc.nextCheck!.timeIntervalSince(doc.lastChecked!), 3600, accuracy: 1)
    }

    /// A scheduled run polls the sources whose own `poll_interval` has come, not every source
    /// whenever the one with the shortest interval is due (a source set to `1h` beside one of
    /// `1m` had been polled every minute); the documents due of every source are still checked.
    func testAScheduledRunPollsOnlyTheSourcesThatAreDue() async throws {
        let h = try Harness(extraSource: """
            poll_interval = "1h"

            [[source]]
            name = "village"
            start = ["file:village/README.md"]
            poll_interval = "1m"
            """)
        try h.dir.write("village/README.md", "# Village\n")
        _ = try await h.engine.run(RunOptions(trigger: "startup"))
        let town = try XCTUnwrap(h.document("/README.md")), village = try XCTUnwrap(h.database.document(url: "file://\(h.dir.path)/village/README.md"))
        XCTAssertEqual(try h.engine.secondsUntilNextPoll(), 60, accuracy: 6.1)  // village's minute, ±10 %

        h.server.clearRequests()
        h.clock.advance(90)
        _ = try await h.engine.run(RunOptions(trigger: "scheduled", dueOnly: true))
        XCTAssertEqual(h.server.requests.map(\.path), [], "town polls hourly")
        XCTAssertEqual(try h.database.runs(limit: 2).map(\.scope), ["due documents; polled: village", "due documents; polled: town, village"])
        XCTAssertGreaterThan(try XCTUnwrap(h.database.document(id: village.id!)?.lastChecked), village.lastChecked!)
        XCTAssertEqual(try h.document("/README.md")?.lastChecked, town.lastChecked)
        let wait = try h.engine.secondsUntilNextPoll()
        XCTAssertGreaterThan(wait, 50)
        XCTAssertLessThan(wait, 70)

        h.server.clearRequests()
        h.clock.advance(3900)  // past the town's hour with its +10 % jitter
        _ = try await h.engine.run(RunOptions(trigger: "scheduled", dueOnly: true))
        XCTAssertTrue(h.server.requests.map(\.path).contains("/README.md"))
        // The town's articles came due meanwhile (hourly): checked with their index.
        XCTAssertTrue(h.server.requests.map(\.path).contains("/pages/1/201.md"))
    }

    func testAnArticleThatDropsOffEveryIndexIsKeptOnItsSchedule() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        _ = try await h.sync()
        site.indexes[1].ids = []  // 203 is no longer linked anywhere
        site.publish(to: h.server)
        h.clock.advance(2 * 3600)
        h.server.clearRequests()
        _ = try await h.sync()
        let doc = try XCTUnwrap(h.document("/pages/1/203.md"))
        XCTAssertTrue(h.server.requests.contains { $0.path == "/pages/1/203.md" }, "still re-checked when due")
        XCTAssertEqual(doc.versionCount, 1)
        XCTAssertNotNil(doc.nextCheck)
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.mirrorFile("parsed/\(h.hostDir)/pages/1/203.json")))
    }

    func testMaxArticleAgeStopsRechecksButAllStillChecks() async throws {
        let h = try Harness(extraSource: "max_article_age = \"2h\"")
        _ = try await h.sync()
        h.clock.advance(3 * 3600)
        _ = try await h.sync()  // checked once more (due), found unchanged for 3 h: retired
        let doc = try XCTUnwrap(h.document("/pages/1/201.md"))
        XCTAssertEqual(doc.nextCheck, .distantFuture)
        h.server.clearRequests()
        h.clock.advance(40 * 86400)
        _ = try await h.sync()
        XCTAssertFalse(h.server.requests.contains { $0.path == "/pages/1/201.md" })
        _ = try await h.sync(all: true)
        XCTAssertTrue(h.server.requests.contains { $0.path == "/pages/1/201.md" })
    }
}

/// What counts as a revision, end to end.
final class RevisionSemanticsTests: XCTestCase {
    func testWhitespaceAndCJKRewrapMakeNoRevisionOneCharacterDoes() async throws {
        let h = try Harness()
        let original = FixtureSite.standard().files()["/pages/1/201.md"]!
        _ = try await h.sync()
        // Re-wrapped by a prettifier: line breaks inside the CJK paragraph, CRLF, NBSP, full-width spaces.
        let rewrapped = original
            .replacingOccurrences(of: "松溪镇连接东西两岸的步行桥完成修缮，", with: "松溪镇连接东西两岸的\n     步行桥完成修缮，")
            .replacingOccurrences(of: "\n", with: "\r\n")
            .replacingOccurrences(of: "附近居民说，", with: "附近居民说，\u{00A0}\u{3000}")
        h.server.put("/pages/1/201.md", rewrapped)
        var run = try await h.sync(all: true)
        XCTAssertEqual([run.newVersions, run.newRevisions], [1, 0])

        h.server.put("/pages/1/201.md", rewrapped.replacingOccurrences(of: "防滑木板", with: "防滑木版"))
        run = try await h.sync(all: true)
        XCTAssertEqual([run.newVersions, run.newRevisions], [1, 1])
    }

    func testARevertIsMarked() async throws {
        let h = try Harness()
        let original = FixtureSite.standard().files()["/pages/1/202.md"]!
        _ = try await h.sync()
        h.server.put("/pages/1/202.md", original.replacingOccurrences(of: "网上挂号", with: "网上缴费"))
        _ = try await h.sync(all: true)
        h.server.put("/pages/1/202.md", original + "\n")  // the edit undone (bytes differ by a newline)
        _ = try await h.sync(all: true)
        let doc = try XCTUnwrap(h.document("/pages/1/202.md"))
        let revisions = try h.database.revisions(documentId: doc.id!)
        XCTAssertEqual(revisions.map(\.revision), [1, 2, 3])
        XCTAssertEqual(revisions.map(\.revertsTo), [nil, nil, 1])
        XCTAssertEqual(revisions[2].contentSha256, revisions[0].contentSha256)
    }

    func testGzipSitemapWithAndWithoutContentEncoding() async throws {
        let h = try Harness(site: nil, extraSource: "")
        let site = FixtureSite.standard()
        for (path, body) in site.files() where path.hasPrefix("/pages/") { h.server.put(path, body) }
        let urlset = """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc>\(h.url("/pages/1/201.md"))</loc></url><url><loc>\(h.url("/pages/1/202.md"))</loc></url>
            </urlset>
            """
        let gz = gzip(Array(urlset.utf8))
        // README (the start URL) is a sitemap index pointing at two gzip sitemaps.
        h.server.put("/README.md", """
            <?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>\(h.url("/plain.xml.gz"))</loc></sitemap><sitemap><loc>\(h.url("/encoded.xml.gz"))</loc></sitemap>
            </sitemapindex>
            """)
        h.server.handler = { req in
            switch req.path {
            case "/plain.xml.gz": return .init(status: 200, headers: [("Content-Type", "application/x-gzip")], body: gz)
            case "/encoded.xml.gz": return .init(status: 200, headers: [("Content-Type", "application/xml"), ("Content-Encoding", "gzip")], body: gz)
            default: return nil
            }
        }
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 0)
        XCTAssertEqual(try h.document("/plain.xml.gz")?.kind, "index")
        XCTAssertEqual(try h.document("/encoded.xml.gz")?.kind, "index")
        XCTAssertEqual(try h.document("/pages/1/201.md")?.versionCount, 1)
        XCTAssertEqual(try h.document("/pages/1/202.md")?.versionCount, 1)
        XCTAssertNil(try h.document("/pages/1/203.md"), "not in the sitemaps")
        // The raw copy is the body as served: still gzip for the plain one.
        let raw = try Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("raw/\(h.hostDir)/plain.xml.gz")))
        XCTAssertEqual([UInt8](raw), gz)
    }
}

