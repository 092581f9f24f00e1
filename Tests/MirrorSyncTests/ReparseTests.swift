import Foundation
import MirrorCore
import MirrorExtract
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

final class ReparseTests: XCTestCase {
    func blobSnapshot(_ h: Harness) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        let root = h.blobs.root
        for case let rel as String in FileManager.default.enumerator(atPath: root)! {
            var st = stat()
            guard stat(root + "/" + rel, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            out[rel] = [Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
        }
        return out
    }

    /// A newer parser: every copy regenerated, raw blobs untouched, revisions unchanged where
    /// the text did not change, and a second reparse changes nothing.
    func testANewParserVersionRegeneratesEveryCopyWithoutFalseRevisions() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        _ = try await h.sync()
        site.edit(202) { $0.paragraphs[0] = "河湾社区每周三下午在活动室开设手机使用课，教老人视频通话和网上挂号。" }
        site.publish(to: h.server)
        _ = try await h.sync(all: true)
        let before = try h.database.totals()
        let blobs = blobSnapshot(h)
        XCTAssertEqual(try h.parsedJSON(201)["parser_version"] as? Int, ArticleExtractor.parserVersion)

        var newer = Reparser(config: h.config, database: h.database, blobs: h.blobs, parserVersion: ArticleExtractor.parserVersion + 1)
        newer.workers = 3  // as `mirrord --reparse` on a machine with three cores
        let summary = try newer.run()
        XCTAssertEqual(summary.documents, 6)  // 3 articles, README, 2 indexes
        XCTAssertEqual(summary.revisionsBefore, summary.revisionsAfter)
        XCTAssertEqual(try h.database.totals().revisions, before.revisions)
        XCTAssertEqual(try h.database.totals().versions, before.versions)
        for id in [201, 202, 203] {
            XCTAssertEqual(try h.parsedJSON(id)["parser_version"] as? Int, ArticleExtractor.parserVersion + 1, "article \(id)")
        }
        XCTAssertEqual(try h.parsedJSON(202)["revision"] as? Int, 2)
        XCTAssertEqual(blobSnapshot(h), blobs, "raw blobs are only read")
        let versions = try h.database.versions(documentId: try XCTUnwrap(h.document("/pages/1/202.md")?.id))
        XCTAssertEqual(versions.map(\.parserVersion), [ArticleExtractor.parserVersion + 1, ArticleExtractor.parserVersion + 1])
        XCTAssertEqual(versions.map(\.revision), [1, 2])

        let tree = h.treeSnapshot()
        XCTAssertEqual(try newer.run(), ReparseSummary(), "idempotent")
        XCTAssertEqual(h.treeSnapshot(), tree)
    }

    /// Shutdown during a reparse (SIGTERM while the daemon regenerates at start-up): it stops
    /// between two documents, each document is left wholly old or wholly new, and the next
    /// reparse regenerates the rest.
    func testAStoppedReparseLeavesEachDocumentWholeAndResumes() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let version = ArticleExtractor.parserVersion + 1
        let newer = Reparser(config: h.config, database: h.database, blobs: h.blobs, parserVersion: version)
        final class Asked: @unchecked Sendable {
            let lock = NSLock()
            var count = 0
            func next() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
        }
        let asked = Asked()
        let first = try newer.run(shouldStop: { asked.next() > 2 })
        XCTAssertTrue(first.stopped)
        XCTAssertEqual(first.documents, 2)
        var regenerated = 0
        for doc in try h.database.documents(source: h.config.sources[0].name) where doc.versionCount > 0 {
            let parsers = Set(try h.database.versions(documentId: doc.id!).map(\.parserVersion))
            XCTAssertEqual(parsers.count, 1, "\(doc.url): every version under one parser")
            if parsers == [version] { regenerated += 1 }
        }
        XCTAssertEqual(regenerated, 2)

        let rest = try newer.run()
        XCTAssertFalse(rest.stopped)
        XCTAssertEqual(rest.documents, 4)  // 6 documents in all: 3 articles, README, 2 indexes
        XCTAssertEqual(try newer.run(), ReparseSummary())
    }

    /// Extraction rules changed in the config: the documents they cover are regenerated.
    func testChangedExtractionRulesRegenerateAndRecomputeRevisions() async throws {
        let h = try Harness()
        _ = try await h.sync()
        var config = h.config
        // Drop the second body paragraph of every article from now on.
        config.sources[0].removeXPath = ["//div[contains(@class,'Content__Wrapper')]/p[3]"]
        let reparser = Reparser(config: config, database: h.database, blobs: h.blobs)
        let summary = try reparser.run()
        XCTAssertEqual(summary.documents, 3, "articles only: index content does not depend on the rules")
        XCTAssertEqual((try h.parsedJSON(201)["paragraphs"] as? [String])?.count, 2)
        XCTAssertEqual(try h.parsedJSON(201)["rules_sha256"] as? String, ExtractionRules(source: config.sources[0]).hash)
        // Revisions: one version each, still one revision each.
        XCTAssertEqual(try h.document("/pages/1/201.md")?.revisionCount, 1)
        // The next sync under the same rules sees no change.
        let engine = SyncEngine(config: config, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        let run = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(run.newRevisions, 0)
    }

    func testContentXPathPicksTheBody() throws {
        let html = """
            <html><body><div class="content"><p>Sidebar text that is long enough to look like a paragraph, with commas, and more.</p>
            <p>Another long sidebar paragraph, which heuristics could pick, because it is long and has commas.</p></div>
            <div id="real"><p>The real story is short.</p></div></body></html>
            """
        let url = URI("https://example.org/a.html")!
        let heuristic = ArticleExtractor.extract(text: html, format: .html, pageURL: url)
        XCTAssertNotEqual(heuristic.paragraphs, ["The real story is short."])
        let ruled = ArticleExtractor.extract(text: html, format: .html, pageURL: url,
                                             rules: ExtractionRules(contentXPath: "//div[@id='real']"))
        XCTAssertEqual(ruled.paragraphs, ["The real story is short."])
        XCTAssertEqual(ExtractionRules(contentXPath: "//div[@id=").invalidExpression, "//div[@id=")
        // These compile, but fail or select nothing when evaluated: refused at load too
        // (an XPath 2.0 function, an undeclared prefix, a number).
        for bad in ["//div[matches(@class, 'story')]", "//og:meta", "count(//p)"] {
            XCTAssertEqual(ExtractionRules(contentXPath: bad).invalidExpression, bad, bad)
        }
        XCTAssertNil(ExtractionRules(contentXPath: "//article[contains(@class, 'story')]", removeXPath: ["//aside"]).invalidExpression)
    }
}
