import Foundation
import Logging
import GRDB
import MirrorCore
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

final class SyncEngineTests: XCTestCase {
    func testFirstSyncMirrorsEveryLinkedArticle() async throws {
        let h = try Harness()
        let site = FixtureSite.standard()
        let run = try await h.sync()

        XCTAssertEqual(run.status, "completed")
        XCTAssertEqual(run.newDocuments, 6)  // README, 2 indexes, 3 articles
        XCTAssertEqual(run.newVersions, 6)
        XCTAssertEqual(run.newRevisions, 6)
        XCTAssertEqual(run.errors, 0)
        for (path, body) in site.files() {
            let raw = try Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("raw/\(h.hostDir)\(path)")))
            XCTAssertEqual([UInt8](raw), Array(body.utf8), "raw copy of \(path)")
            let doc = try XCTUnwrap(h.document(path), path)
            XCTAssertEqual(doc.rawSha256, sha256sum(Array(body.utf8)), "recorded sha256 of \(path)")
        }
        let j = try h.parsedJSON(202)
        XCTAssertEqual(j["title"] as? String, "河湾社区开办老年手机课")
        XCTAssertEqual(j["published"] as? String, "2025-06-05")
        XCTAssertEqual(j["source"] as? String, "河湾周报")
        XCTAssertEqual(j["reporter"] as? String, "韩雪")
        XCTAssertEqual(j["editor"] as? String, "邵峰")
        XCTAssertEqual(j["original_url"] as? String, "https://example.org/post/202")
        XCTAssertEqual((j["paragraphs"] as? [String])?.first, "河湾社区每周二下午在活动室开设手机使用课，教老人视频通话和网上挂号。")
        XCTAssertEqual((j["paragraphs"] as? [String])?.count, 3)
        let md = try String(contentsOfFile: h.mirrorFile("parsed/\(h.hostDir)/pages/1/202.md"), encoding: .utf8)
        for boilerplate in ["首页", "订阅山城晨报", "活动预告", "分享本文", "example.net", "track.example", "帮助"] {
            XCTAssertFalse(md.contains(boilerplate), "parsed .md contains boilerplate '\(boilerplate)'")
            XCTAssertFalse(String(describing: j).contains(boilerplate), "parsed .json contains boilerplate '\(boilerplate)'")
        }
    }

    func testSecondSyncWithNothingChangedRevalidatesAndWritesNothing() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let before = h.treeSnapshot()
        h.server.clearRequests()

        let run = try await h.sync(all: true)

        let requests = h.server.requests
        XCTAssertEqual(requests.count, 6)
        XCTAssertTrue(requests.allSatisfy { $0.headers["if-none-match"] != nil && $0.headers["if-modified-since"] != nil })
        XCTAssertEqual(run.notModified, 6)
        XCTAssertEqual(run.fetched, 0)
        XCTAssertEqual(run.newVersions, 0)
        XCTAssertEqual(run.newRevisions, 0)
        XCTAssertEqual(h.treeSnapshot(), before)
    }

    func testPlainRunChecksIndexesAndNewArticlesButNotArticlesThatAreNotDue() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        _ = try await h.sync()
        site.articles.append(FixtureSite.Article(
            id: 205, title: "河湾社区新开共享工具屋", paper: "河湾周报", date: "2025年6月10日", reporter: "韩雪", editor: "邵峰",
            paragraphs: ["河湾社区把闲置车库改成共享工具屋，居民可以免费借用梯子和电钻。", "借用需要登记，三天内归还。", "开放首周就有四十多人次借用。"]))
        site.indexes[0].ids.append(205)
        site.publish(to: h.server)
        h.server.clearRequests()

        let run = try await h.sync()

        // Articles were checked a moment ago and are due again only after poll_interval.
        XCTAssertEqual(Set(h.server.requests.map(\.path)),
                       ["/README.md", "/indexes/town.md", "/indexes/school.md", "/pages/1/205.md"])
        XCTAssertEqual(run.newDocuments, 1)
    }

    func testAStartURLTakenOutOfTheConfigIsKeptButNoLongerPolled() async throws {
        let h = try Harness()
        _ = try await h.sync()
        var changed = h.config
        changed.sources[0].start = [h.url("/indexes/town.md")]
        let engine = SyncEngine(config: changed, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        h.server.clearRequests()
        _ = try await engine.run(RunOptions(trigger: "test"))
        // Indexes discovered earlier stay on their poll; the retired start URL does not.
        XCTAssertEqual(Set(h.server.requests.map(\.path)), ["/indexes/town.md", "/indexes/school.md"])
        XCTAssertEqual(try h.document("/README.md")?.versionCount, 1, "kept")
    }

    /// Once a run has recorded every link of an index's body, a 304 on it reads nothing: the
    /// stored body is not parsed again (here its blob is even gone). Other link rules (a new
    /// max_depth) need its links again, so they read it (and here fail, naming the blob).
    func testA304OnAnIndexWhoseLinksAreKnownReadsNothing() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let town = try XCTUnwrap(h.document("/indexes/town.md"))
        let sha = try XCTUnwrap(town.rawSha256)
        XCTAssertEqual(town.linksKnown?.hasPrefix(sha + " "), true, "\(town.linksKnown ?? "nil")")
        // An article's links are not followed, but its images are (assets = same-site): its
        // mark says they were read.
        XCTAssertEqual(try h.document("/pages/1/201.md")?.linksKnown?.hasSuffix(" 1"), true)
        unlink(h.blobs.path(for: sha))

        let again = try await h.sync()
        XCTAssertEqual(again.errors, 0)
        XCTAssertEqual(again.notModified, 3)
        XCTAssertNil(try h.document("/indexes/town.md")?.error)

        var changed = h.config
        changed.sources[0].maxDepth = 4
        let engine = SyncEngine(config: changed, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        let other = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(other.errors, 1)
        XCTAssertEqual(try h.document("/indexes/town.md")?.error, "\(h.blobs.path(for: sha)): blob missing")
    }

    func testInterruptedRunRecordsNoErrorsOnDocuments() async throws {
        let h = try Harness()
        h.server.handler = { req in req.path.hasPrefix("/pages/") ? .init(status: 200, body: [0x41], delay: 5) : nil }
        let engine = h.engine
        let run = Task { try await engine.run(RunOptions(trigger: "test")) }
        while !h.server.requests.contains(where: { $0.path.hasPrefix("/pages/") }) { try await Task.sleep(nanoseconds: 10_000_000) }
        run.cancel()
        do {
            _ = try await run.value
            XCTFail("the run completed")
        } catch is CancellationError {}
        XCTAssertEqual(try h.database.runs().first?.status, "interrupted")
        let withErrors = try h.database.documents().filter { $0.error != nil }.map(\.url)
        XCTAssertEqual(withErrors, [])
        XCTAssertEqual(try h.database.totals().errors, 0)
    }

    func testServerIgnoringValidatorsCreatesNothing() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let before = h.treeSnapshot()
        h.server.ignoreValidators = true  // never 304: every body comes again and hashes decide

        let run = try await h.sync(all: true)

        XCTAssertEqual(run.fetched, 6)
        XCTAssertEqual(run.notModified, 0)
        XCTAssertEqual(run.newVersions, 0)
        XCTAssertEqual(run.newRevisions, 0)
        XCTAssertEqual(h.treeSnapshot(), before)
    }

    func testCacheBusterRegenerationAndOneNewArticle() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        _ = try await h.sync()

        site.token = "01010200"
        site.articles.append(FixtureSite.Article(
            id: 204, title: "松溪镇夜市增设便民摊位", paper: "松溪日报", date: "2025年6月9日", reporter: "高远", editor: "宋青",
            paragraphs: ["松溪镇夜市新增十个便民摊位，提供修鞋、配钥匙和缝补服务。",
                         "摊位免收租金，由镇里统一安排，每晚六点到十点营业。",
                         "居民说，过去这些小活要跑到县城去办，现在下楼就能解决。"]))
        site.indexes[1].ids.append(204)
        site.publish(to: h.server)
        let run = try await h.sync()

        XCTAssertEqual(run.newDocuments, 1)
        XCTAssertEqual(try h.document("/pages/1/204.md")?.kind, "article")
        for id in [201, 202, 203] {
            let d = try XCTUnwrap(h.document("/pages/1/\(id).md"))
            XCTAssertEqual([d.versionCount, d.revisionCount], [1, 1], "article \(id)")
        }
        let readme = try XCTUnwrap(h.document("/README.md"))
        XCTAssertEqual([readme.versionCount, readme.revisionCount], [2, 1], "README: new tokens only")
        let town = try XCTUnwrap(h.document("/indexes/town.md"))
        XCTAssertEqual([town.versionCount, town.revisionCount], [2, 1], "town index: new tokens only")
        let school = try XCTUnwrap(h.document("/indexes/school.md"))
        XCTAssertEqual([school.versionCount, school.revisionCount], [2, 2], "school index: one link added")
        XCTAssertEqual(run.newRevisions, 2)  // school index + the new article
    }

    func testBodyEditMakesExactlyOneRevision() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        _ = try await h.sync()

        site.edit(203) { $0.paragraphs[1] = "学校在入口处设置了登记台，并提醒居民爱护草坪、跑道和器材。" }
        site.edit(201) { $0.promo = "订阅山城晚报" }  // boilerplate only: a version, not a revision
        site.publish(to: h.server)
        let run = try await h.sync(all: true)

        XCTAssertEqual(run.newVersions, 2)
        XCTAssertEqual(run.newRevisions, 1)
        let edited = try XCTUnwrap(h.document("/pages/1/203.md"))
        XCTAssertEqual([edited.versionCount, edited.revisionCount], [2, 2])
        let promo = try XCTUnwrap(h.document("/pages/1/201.md"))
        XCTAssertEqual([promo.versionCount, promo.revisionCount], [2, 1])
        let j = try h.parsedJSON(203)
        XCTAssertEqual((j["paragraphs"] as? [String])?[1], "学校在入口处设置了登记台，并提醒居民爱护草坪、跑道和器材。")
        XCTAssertEqual(j["revision"] as? Int, 2)
        let revisions = try h.database.revisions(documentId: edited.id!)
        XCTAssertEqual(revisions.map(\.revision), [1, 2])
        XCTAssertEqual(Set(revisions.map(\.contentSha256)).count, 2)
        // The new version is stored as a delta against the one before (BlobStore), and reads back.
        let base = try await h.database.pool.read {
            try String.fetchOne($0, sql: "SELECT base_sha256 FROM blobs WHERE sha256 = ?", arguments: [revisions[1].rawSha256])
        }
        XCTAssertEqual(base, revisions[0].rawSha256)
        XCTAssertEqual(try BlobStore(root: h.blobs.root).read(revisions[1].rawSha256).depth, 1)
        XCTAssertEqual(sha256sum(try BlobStore(root: h.blobs.root).get(revisions[1].rawSha256)), revisions[1].rawSha256)
    }

    /// A page whose view and comment counters change at every check (an HTML article with
    /// them between its paragraphs): each check stores a version, none is a revision, until
    /// the text itself is edited.
    func testCountersThatChangeAtEveryCheckMakeNoRevision() async throws {
        let h = try Harness(site: nil)
        h.server.put("/README.md", "# Site\n\n#### [Ferry](pages/1/401.md)\n")
        final class Page: @unchecked Sendable {
            let checks = Counter()
            var closing = "Season tickets bought before the change stay valid for their full term."
        }
        let page = Page()
        h.server.handler = { req in
            guard req.path == "/pages/1/401.md" else { return nil }
            let n = page.checks.next()
            let html = """
                <html><head><title>Ferry timetable</title></head><body><article>
                <h1>Ferry timetable</h1>
                <p>\(1200 + 37 * n) views</p>
                <p>The ferry will run every forty minutes instead of every twenty from the first Monday of December.</p>
                <p>Evening crossings after nine are cancelled until March, and the last boat now leaves at half past eight.</p>
                <p>\(n + 3) comments</p>
                <p>\(page.closing)</p>
                </article></body></html>
                """
            return .init(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(html.utf8))
        }
        for _ in 0..<3 { _ = try await h.sync(all: true) }
        var doc = try XCTUnwrap(h.document("/pages/1/401.md"))
        XCTAssertEqual([doc.versionCount, doc.revisionCount], [3, 1])
        XCTAssertEqual((try h.parsedJSON(401)["paragraphs"] as? [String])?.count, 3)

        page.closing = "Season tickets bought before the change stay valid until they expire."
        let run = try await h.sync(all: true)
        XCTAssertEqual(run.newRevisions, 1)
        doc = try XCTUnwrap(h.document("/pages/1/401.md"))
        XCTAssertEqual([doc.versionCount, doc.revisionCount], [4, 2])
    }

    /// An index whose links carry a token that changes at every regeneration, with no
    /// `ignore_query` for it: the new documents that are known pages under another token are
    /// warned about once per run, naming the parameter; pages told apart by a query (`?id=`)
    /// are not.
    func testAnUnlistedCacheBusterIsWarnedAbout() async throws {
        let h = try Harness()
        let listPage = FixtureSite.standard().files()["/pages/1/203.md"]!
        let token = Counter()
        h.server.handler = { req in
            guard req.path == "/indexes/school.md" else { return nil }
            let t = token.next()
            let body = "### 校园\n\n#### [一](../pages/1/201.md?v=\(t))\n\n#### [二](../pages/1/202.md?v=\(t))\n\n#### [三](../pages/1/list.md?id=\(t))\n"
            return .init(status: 200, body: Array(body.utf8))
        }
        h.server.handler = { [inner = h.server.handler!] req in
            if req.path == "/pages/1/list.md" {
                // Another page for each id: its headline says which.
                let page = "### 名单第\(req.uri.split(separator: "=").last ?? "")页\n" + listPage.split(separator: "\n", maxSplits: 1)[1]
                return .init(status: 200, body: Array(page.utf8))
            }
            return inner(req)
        }
        let recorder = RecordingLogHandler()
        let engine = SyncEngine(config: h.config, database: h.database, blobs: h.blobs, fetcher: h.fetcher,
                                logger: Logger(label: "test") { _ in recorder })
        _ = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(recorder.messages.filter { $0.contains("cache-buster") }, [])
        _ = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(recorder.messages.filter { $0.contains("cache-buster") }, [
            "source 'town': 2 new documents are the same page as a known one under another value of the query parameter 'v' "
                + "(\(h.url("/pages/1/201.md?v=1")), known as \(h.url("/pages/1/201.md?v=0"))): a cache-buster? add it to the source's "
                + "ignore_query = [\"v\"], or every new value makes the page a new document",
        ])
    }

    func testFailedDocumentIsRecordedAndTheRunCompletes() async throws {
        let h = try Harness()
        h.server.remove("/pages/1/203.md")
        let run = try await h.sync()

        XCTAssertEqual(run.status, "completed")
        XCTAssertEqual(run.errors, 1)
        let d = try XCTUnwrap(h.document("/pages/1/203.md"))
        XCTAssertEqual(d.error, "HTTP 404 Not Found")
        XCTAssertEqual(d.lastStatus, 404)
        XCTAssertEqual(d.versionCount, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.mirrorFile("raw/\(h.hostDir)/pages/1/203.md")))
        let source = try XCTUnwrap(h.database.sources().first)
        XCTAssertEqual(source.lastError, "\(h.url("/pages/1/203.md")): HTTP 404 Not Found")

        // Two errors in the next poll, one after the other: the source shows the later one,
        // and that there were two.
        h.server.remove("/pages/1/202.md")
        h.server.handler = { req in req.path == "/pages/1/202.md" ? .init(status: 404, delay: 0.3) : nil }
        _ = try await h.sync(all: true)
        XCTAssertEqual(try h.database.sources().first?.lastError,
                       "\(h.url("/pages/1/202.md")): HTTP 404 Not Found (the last of 2 errors in this poll)")
    }

    func testBlobIsStoredCompressedAndReadsBack() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let doc = try XCTUnwrap(h.document("/pages/1/201.md"))
        let sha = try XCTUnwrap(doc.rawSha256)
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.blobs.path(for: sha)))
        XCTAssertEqual(try h.blobs.get(sha), Array(FixtureSite.standard().files()["/pages/1/201.md"]!.utf8))
    }
}

func sha256sum(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }

final class IdleCompactionTests: XCTestCase {
    /// The daemon compacts the store when idle: not while a run is in progress, and a
    /// finished pass leaves nothing for the next.
    func testTheStoreIsCompactedWhenNoRunIsInProgress() async throws {
        let h = try Harness()
        let coordinator = SyncCoordinator(engine: h.engine)
        let run = await coordinator.sync(RunOptions(trigger: "test"))
        let duringRun = await coordinator.compactWhenIdle()
        XCTAssertNil(duringRun, "a run is in progress")
        _ = try await run.value
        let blobs = try await h.database.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM blobs") ?? 0 }
        let started = await coordinator.compactWhenIdle()
        let task = try XCTUnwrap(started)
        let summary = try await task.value
        XCTAssertEqual(summary.blobs, blobs)
        XCTAssertGreaterThan(summary.rewritten, 0)
        XCTAssertEqual(try h.database.blobsToCompact(), 0)
        let second = await coordinator.compactWhenIdle()
        let again = try await XCTUnwrap(second).value
        XCTAssertEqual(again.blobs, 0)
        for doc in try h.database.documents() where doc.rawSha256 != nil {
            XCTAssertEqual(sha256sum(try h.blobs.get(doc.rawSha256!)), doc.rawSha256, doc.url)
        }
    }
}

final class StoreCompressionTests: XCTestCase {
    /// A sync trains its source's dictionary from the first articles (here 12), compresses
    /// those again with it, and stores the later ones with it; every body reads back.
    func testASyncTrainsTheSourceDictionaryFromItsArticles() async throws {
        var site = FixtureSite.standard()
        let words = ["石桥", "渡口", "茶园", "集市", "灯笼", "竹林", "码头", "稻田", "书院", "戏台", "溪水", "古井"]
        for i in 0..<30 {
            let paragraphs = (0..<6).map { p in
                (0..<40).map { w in words[(i * 7 + p * 5 + w * w) % words.count] }.joined() + "。"
            }
            site.articles.append(FixtureSite.Article(id: 300 + i, title: "镇上新闻\(i)", paper: "松溪日报", date: "2025年6月\(i % 28 + 1)日",
                                                     reporter: "高远", editor: "宋青", paragraphs: paragraphs))
        }
        site.indexes.append(("more", "更多新闻", (0..<30).map { 300 + $0 }))
        let h = try Harness(site: site)
        let dictionaries = SourceDictionaries(blobs: h.blobs, database: h.database, samplesToTrain: 12)
        let engine = SyncEngine(config: h.config, database: h.database, blobs: h.blobs, fetcher: h.fetcher, dictionaries: dictionaries)
        let run = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(run.errors, 0)
        let trained = try XCTUnwrap(dictionaries.dictionary(for: h.config.sources[0].name))
        XCTAssertEqual(try h.database.dictionaries().map(\.0), [trained.id])
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.blobs.dictionaryPath(id: trained.id)))
        let rows = try await h.database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT b.sha256, b.dictionary_id FROM blobs b JOIN documents d ON d.raw_sha256 = b.sha256 WHERE d.kind = 'article'
                """)
        }
        XCTAssertEqual(rows.count, 33)
        let withDictionary = rows.filter { ($0["dictionary_id"] as Int64?) == Int64(trained.id) }.count
        // Samples in flight while it was trained may stay plain; nearly all use it.
        XCTAssertGreaterThanOrEqual(withDictionary, 28, "\(withDictionary) of 33 articles compressed with the dictionary")
        for row in rows {
            let sha: String = row["sha256"]
            XCTAssertEqual(sha256sum(try BlobStore(root: h.blobs.root).get(sha)), sha)
        }
        XCTAssertEqual(try Verifier.verify(database: h.database, blobs: h.blobs).problems, [])
    }
}
