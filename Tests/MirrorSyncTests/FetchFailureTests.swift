import Foundation
import MirrorControl
import Logging
import MirrorCore
import MirrorExtract
import MirrorMarkup
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

/// How fetch failures reach the store: recorded with a clear error, retried, rescheduled, and
/// never turned into a version or a changed mirror file.
final class FetchFailureTests: XCTestCase {
    /// Every failure kind, as `mirrorctl list --json` shows it.
    func testEveryFailureKindIsRecordedWithAClearError() async throws {
        let h = try Harness(http: "max_body_bytes = 5000\nretries = 0\nmax_redirects = 4\ntimeout = \"1s\"")
        let big = [UInt8](repeating: 0x41, count: 20_000)
        h.server.handler = { req in
            switch req.path {
            case "/pages/1/201.md": return .init(status: 200, body: big)
            case "/pages/1/202.md": return .init(status: 302, headers: [("Location", "/pages/1/202.md")])
            case "/pages/1/203.md": return .init(status: 200, body: [UInt8](big.prefix(3000)), truncateAfter: 10)
            default: return nil
            }
        }
        h.server.put("/indexes/school.md", "#### [一](../pages/1/203.md)\n\n#### [二](../pages/1/404.md)\n\n#### [三](../pages/1/slow.md)\n")
        h.server.put("/pages/1/slow.md", "late")
        let inner = h.server.handler!
        h.server.handler = { req in req.path == "/pages/1/slow.md" ? .init(status: 200, body: [0x41], delay: 3) : inner(req) }
        let run = try await h.sync()
        XCTAssertEqual(run.status, "completed")
        // As `mirrorctl list --json` shows them.
        let listed = try Reports.documents(database: h.database, kind: "article", source: nil)
        func error(_ path: String) throws -> String? {
            listed.first { $0["url"] as? String == h.url(path) }?["error"] as? String
        }
        XCTAssertEqual(try error("/pages/1/slow.md")?.hasPrefix("Operation timed out after"), true)
        XCTAssertEqual(try error("/pages/1/slow.md")?.hasSuffix("(timeout = 1s) (curl error 28)"), true)
        XCTAssertEqual(try error("/pages/1/201.md"), "body too large (over max_body_bytes = 5000)")
        XCTAssertEqual(try error("/pages/1/202.md"), "redirect loop: \(h.url("/pages/1/202.md")) → \(h.url("/pages/1/202.md"))")
        XCTAssertEqual(try error("/pages/1/203.md"), "transfer closed with 2990 bytes remaining to read (curl error 18)")
        XCTAssertEqual(try error("/pages/1/404.md"), "HTTP 404 Not Found")
        XCTAssertEqual(run.errors, 5)  // 201, 202, 203, 404, slow
        for path in ["/pages/1/201.md", "/pages/1/202.md", "/pages/1/203.md"] {
            XCTAssertEqual(try h.document(path)?.versionCount, 0, path)
            XCTAssertFalse(FileManager.default.fileExists(atPath: h.mirrorFile("raw/\(h.hostDir)\(path)")), path)
        }
        let gone = try XCTUnwrap(h.document("/pages/1/404.md"))
        XCTAssertTrue(gone.gone)
        XCTAssertEqual(gone.nextCheck!.timeIntervalSince(gone.lastChecked!), SyncEngine.goneRecheckInterval, accuracy: 1)
    }

    /// A host that stops answering (each connection closed without a reply) is given up for
    /// the rest of the run after `SyncEngine.hostFailureLimit` requests in a row (3 at one connection), retries
    /// included: its other documents are not tried, each records why (naming the host and the
    /// last failure), a gone one stays gone, and the next run tries them all again.
    func testAHostThatStopsAnsweringIsGivenUpForTheRestOfTheRun() async throws {
        let h = try Harness(http: "per_host_concurrency = 1")
        h.server.put("/indexes/school.md", "#### [一](../pages/1/201.md)\n\n#### [二](../pages/1/404.md)\n")
        let first = try await h.sync()
        XCTAssertEqual(first.errors, 1)  // the 404
        let documents = try h.database.totals().documents
        let before = Dictionary(uniqueKeysWithValues: try h.database.documents().map { ($0.id!, $0) })
        h.server.clearRequests()
        h.server.handler = { _ in .init(status: 200, hangUp: true) }
        let run = try await h.sync(all: true)
        XCTAssertEqual(run.status, "completed")
        // One more than the limit: the first request went out on the connection kept alive from
        // the first run, and libcurl sends a request again, once, on a fresh connection when a
        // reused one dies before any reply.
        XCTAssertEqual(h.server.requests.count, SyncEngine.hostFailureLimit(perHostConcurrency: 1) + 1)
        XCTAssertEqual(run.errors, documents)
        let empty = "Empty reply from server (curl error 52)"
        let down = "not tried: 127.0.0.1:\(h.server.port) gave no response to \(SyncEngine.hostFailureLimit(perHostConcurrency: 1)) requests in a row in this run (last: \(empty))"
        let errors = try Reports.documents(database: h.database, kind: nil, source: nil).compactMap { $0["error"] as? String }
        XCTAssertEqual(errors.count, documents)
        XCTAssertEqual(Set(errors), [empty, down])
        XCTAssertEqual(errors.filter { $0 == down }.count, documents - errors.filter { $0 == empty }.count)
        // Every document the server was asked for records its own failure, not "not tried"
        // (one waiting for its retry when the host was given up had been).
        let asked = Set(h.server.requests.map { h.url($0.path) })
        for doc in try h.database.documents() where asked.contains(doc.url) {
            XCTAssertEqual(doc.error, empty, doc.url)
        }
        XCTAssertLessThanOrEqual(errors.filter { $0 == empty }.count, SyncEngine.hostFailureLimit(perHostConcurrency: 1))
        XCTAssertEqual(try h.document("/pages/1/404.md")?.gone, true)
        XCTAssertEqual(try h.document("/pages/1/201.md")?.versionCount, 1)
        // The documents not tried were not checked: no failure counted, no backoff, no check time.
        let refused = try h.database.documents().filter { $0.error == down }
        XCTAssertFalse(refused.isEmpty)
        for doc in refused {
            XCTAssertEqual(doc.failures, before[doc.id!]?.failures, doc.url)
            XCTAssertEqual(doc.nextCheck, before[doc.id!]?.nextCheck, doc.url)
            XCTAssertEqual(doc.lastChecked, before[doc.id!]?.lastChecked, doc.url)
        }

        h.server.handler = nil
        h.server.clearRequests()
        let again = try await h.sync(all: true)
        XCTAssertEqual(again.errors, 1)  // the 404 again
        XCTAssertEqual(h.server.requests.count, documents)
    }

    /// A gone article stays gone while its server answers 503: that does not say the article
    /// is back (nor does a refused connection: `CheckDecisionTests`). A 403 is an answer, and
    /// ends it.
    func testAGoneArticleStaysGoneWhileItsServerFails() async throws {
        let h = try Harness(http: "retries = 0")
        h.server.put("/indexes/school.md", "#### [一](../pages/1/404.md)\n")
        _ = try await h.sync()
        XCTAssertEqual(try h.document("/pages/1/404.md")?.gone, true)
        h.server.handler = { req in req.path == "/pages/1/404.md" ? .init(status: 503) : nil }
        _ = try await h.sync(all: true)
        var doc = try XCTUnwrap(h.document("/pages/1/404.md"))
        XCTAssertEqual(doc.error, "HTTP 503 Service Unavailable")
        XCTAssertTrue(doc.gone)
        XCTAssertEqual(doc.failures, 2)
        h.server.handler = { req in req.path == "/pages/1/404.md" ? .init(status: 403) : nil }
        _ = try await h.sync(all: true)
        doc = try XCTUnwrap(h.document("/pages/1/404.md"))
        XCTAssertEqual(doc.error, "HTTP 403 Forbidden")
        XCTAssertFalse(doc.gone)
    }

    /// An article taken down (404) and put back: its return is logged once, with the answer
    /// it had been gone with, and it is no longer gone.
    func testAnArticlePutBackAfterBeingGoneIsLogged() async throws {
        let h = try Harness(http: "retries = 0")
        let recorder = RecordingLogHandler()
        let engine = SyncEngine(config: h.config, database: h.database, blobs: h.blobs, fetcher: h.fetcher,
                                logger: Logger(label: "test") { _ in recorder })
        _ = try await engine.run(RunOptions(trigger: "test"))
        let page = "/pages/1/202.md"
        let body = FixtureSite.standard().files()[page]!
        h.server.remove(page)
        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        let goneAt = try XCTUnwrap(h.document(page)?.lastChecked)
        XCTAssertEqual(try h.document(page)?.gone, true)
        h.server.put(page, body)
        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(try h.document(page)?.gone, false)
        XCTAssertEqual(recorder.messages.filter { $0.contains("answers again") },
                       // The same bytes as before it went: its stored ETag gets a 304.
                       ["\(h.url(page)): answers again (HTTP 304) after being gone (last answer: HTTP 404 Not Found, \(RFC3339.string(goneAt)))"])
    }

    /// A binary file where pages are (a PDF linked as an article, bytes with NULs labelled
    /// octet-stream) is a recorded error, not a version with a paragraph of control
    /// characters. A UTF-16 page, NULs and all, is still a page.
    func testABinaryFileWherePagesAreIsAnError() async throws {
        let h = try Harness()
        let binary = [UInt8](0...255) + [UInt8](0...255)
        let utf16 = [UInt8]([0xFF, 0xFE]) + Array(FixtureSite.standard().files()["/pages/1/202.md"]!.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        h.server.handler = { req in
            switch req.path {
            case "/pages/1/201.md": return .init(status: 200, headers: [("Content-Type", "application/pdf")], body: binary)
            case "/pages/1/203.md": return .init(status: 200, headers: [("Content-Type", "application/octet-stream")], body: binary)
            case "/pages/1/202.md": return .init(status: 200, headers: [("Content-Type", "text/markdown")], body: utf16)
            // A PNG labelled as a page, and an archive of binary bytes as gzip: judged by what they are.
            case "/pages/1/204.md": return .init(status: 200, headers: [("Content-Type", "text/html")], body: [0x89, 0x50, 0x4E, 0x47] + binary)
            case "/pages/1/205.md": return .init(status: 200, headers: [("Content-Type", "application/gzip")], body: gzip(binary))
            // A page with one stray NUL, labelled as text: still a page.
            case "/pages/1/206.md": return .init(status: 200, headers: [("Content-Type", "text/markdown; charset=utf-8")],
                                                 body: Array("### 有一个空字节的页面\u{0}\n\n正文一段。\n".utf8))
            default: return nil
            }
        }
        h.server.put("/indexes/school.md", "#### [三](../pages/1/203.md)\n\n#### [四](../pages/1/204.md)\n\n#### [五](../pages/1/205.md)\n\n#### [六](../pages/1/206.md)\n")
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 4)
        XCTAssertEqual(try h.document("/pages/1/204.md")?.error, "not a page: a PNG image (labelled text/html)")
        XCTAssertEqual(try h.document("/pages/1/205.md")?.error, "not a page: binary bytes (NUL) in a body labelled application/gzip")
        XCTAssertNil(try h.document("/pages/1/206.md")?.error)
        XCTAssertEqual(try h.document("/pages/1/206.md")?.versionCount, 1)
        let pdf = try XCTUnwrap(h.document("/pages/1/201.md"))
        XCTAssertEqual(pdf.error, "not a page: application/pdf (a file linked where pages are: mirrored as an asset only when an article shows it)")
        XCTAssertEqual(pdf.versionCount, 0)
        XCTAssertEqual(try h.document("/pages/1/203.md")?.error, "not a page: binary bytes (NUL) in a body labelled application/octet-stream")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.mirrorFile("raw/\(h.hostDir)/pages/1/201.md")))
        let page = try XCTUnwrap(h.document("/pages/1/202.md"))
        XCTAssertNil(page.error)
        XCTAssertEqual(try h.parsedJSON(202)["title"] as? String, "河湾社区开办老年手机课")
    }

    /// A server that stalls costs two attempts per sync, however many `retries` the config
    /// allows for other transient failures (each timeout takes the whole `timeout`).
    func testATimeoutIsRetriedAtMostOncePerSync() async throws {
        let h = try Harness(http: "retries = 3\ntimeout = \"1s\"")
        final class Attempts: @unchecked Sendable {
            let lock = NSLock()
            var count = 0
            func add() { lock.lock(); count += 1; lock.unlock() }
        }
        let attempts = Attempts()
        h.server.handler = { req in
            guard req.path == "/pages/1/201.md" else { return nil }  // the stored pages
            attempts.add()
            return .init(status: 200, body: [0x41], delay: 3)
        }
        let run = try await h.sync()
        XCTAssertEqual(run.status, "completed")
        XCTAssertEqual(attempts.count, 2)
        let error = try XCTUnwrap(h.document("/pages/1/201.md")?.error)
        XCTAssertTrue(error.hasPrefix("Operation timed out after"), error)
        XCTAssertTrue(error.hasSuffix("(timeout = 1s) (curl error 28)"), error)
    }

    /// A body with gzip's magic bytes that does not inflate (or inflates past max_body_bytes)
    /// is the upstream's failure: recorded with its reason and backed off like any other, not
    /// fetched again at every run.
    func testCorruptOrOversizedGzipBodiesBackOff() async throws {
        let h = try Harness(http: "max_body_bytes = 100000")
        // A real gzip stream of 1 MB of zeros: far past max_body_bytes once inflated.
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/sh")
        gz.arguments = ["-c", "head -c 1000000 /dev/zero | gzip -c"]
        let out = Pipe()
        gz.standardOutput = out
        try gz.run()
        let bomb = [UInt8](out.fileHandleForReading.readDataToEndOfFile())
        gz.waitUntilExit()
        h.server.handler = { req in
            switch req.path {
            case "/pages/1/201.md": return .init(status: 200, body: [0x1F, 0x8B, 0x08, 0x00, 0x42, 0x42, 0x42])
            case "/pages/1/202.md": return .init(status: 200, body: bomb)
            default: return nil
            }
        }
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 2)
        let corrupt = try XCTUnwrap(h.document("/pages/1/201.md"))
        XCTAssertTrue(corrupt.error?.hasPrefix("corrupt gzip body: ") == true, corrupt.error ?? "no error")
        XCTAssertEqual(try h.document("/pages/1/202.md")?.error, "gzip body expands past 100000 bytes (max_body_bytes)")
        for doc in [corrupt, try XCTUnwrap(h.document("/pages/1/202.md"))] {
            XCTAssertEqual(doc.versionCount, 0)
            let next = try XCTUnwrap(doc.nextCheck, "\(doc.url) has a next check")
            XCTAssertGreaterThanOrEqual(next.timeIntervalSince(try XCTUnwrap(doc.lastChecked)), h.config.sources[0].pollInterval - 1)
        }
        // The next run leaves them alone until then.
        let before = h.server.requests.count
        _ = try await h.sync()
        XCTAssertFalse(h.server.requests.dropFirst(before).contains { $0.path == "/pages/1/201.md" || $0.path == "/pages/1/202.md" })
    }

    func testFailedRecheckKeepsThePreviousVersionAndRawCopy() async throws {
        let h = try Harness(http: "max_body_bytes = 5000\nretries = 0")
        _ = try await h.sync()
        let raw = h.mirrorFile("raw/\(h.hostDir)/pages/1/201.md")
        let before = try Data(contentsOf: URL(fileURLWithPath: raw))
        h.server.handler = { req in
            req.path == "/pages/1/201.md" ? .init(status: 200, body: [UInt8](repeating: 0x42, count: 9000), truncateAfter: 4000) : nil
        }
        let run = try await h.sync(all: true)
        XCTAssertEqual(run.errors, 1)
        let doc = try XCTUnwrap(h.document("/pages/1/201.md"))
        XCTAssertEqual([doc.versionCount, doc.revisionCount, doc.failures], [1, 1, 1])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: raw)), before)
    }

    func testTransientFailuresAreRetriedWithinTheRun() async throws {
        let h = try Harness(http: "retries = 2")
        let attempts = Counter()
        h.server.handler = { req in
            guard req.path == "/pages/1/202.md" else { return nil }
            return attempts.next() < 2 ? .init(status: 503, body: Array("busy".utf8)) : nil
        }
        let run = try await h.sync()
        XCTAssertEqual(attempts.value, 3)
        XCTAssertEqual(run.errors, 0)
        XCTAssertEqual(try h.document("/pages/1/202.md")?.versionCount, 1)
    }

    func testRetryAfterBeyondTheCapMovesTheNextCheck() async throws {
        let h = try Harness(http: "retries = 3\nmax_retry_delay = \"2s\"")
        let attempts = Counter()
        h.server.handler = { req in
            guard req.path == "/pages/1/203.md" else { return nil }
            _ = attempts.next()
            return .init(status: 429, headers: [("Retry-After", "3600")])
        }
        _ = try await h.sync()
        XCTAssertEqual(attempts.value, 1, "a Retry-After longer than max_retry_delay is not waited out")
        let doc = try XCTUnwrap(h.document("/pages/1/203.md"))
        XCTAssertEqual(doc.error, "HTTP 429 Too Many Requests")
        XCTAssertEqual(doc.nextCheck!.timeIntervalSince(doc.lastChecked!), 3600, accuracy: 1)
    }

    /// The `Retry-After` speaks for the whole host: once one page gets 429 with a wait longer
    /// than a run waits, the host's other pages are not asked in that run, each recording why.
    func testALongRetryAfterLeavesTheHostAloneForTheRun() async throws {
        let h = try Harness(http: "max_retry_delay = \"2s\"\nper_host_concurrency = 1")
        _ = try await h.sync()
        let documents = try h.database.totals().documents
        h.server.clearRequests()
        h.server.handler = { _ in .init(status: 429, headers: [("Retry-After", "3600")]) }
        let run = try await h.sync(all: true)
        XCTAssertEqual(h.server.requests.count, 1)
        XCTAssertEqual(run.errors, documents)
        let busy = "not tried: 127.0.0.1:\(h.server.port) answered HTTP 429 Too Many Requests with Retry-After: 3600 in this run, longer than max_retry_delay"
        let errors = try Reports.documents(database: h.database, kind: nil, source: nil).compactMap { $0["error"] as? String }
        XCTAssertEqual(errors.sorted(), (["HTTP 429 Too Many Requests"] + Array(repeating: busy, count: documents - 1)).sorted())
    }

    func testPermanentRedirectIsRememberedForTheDocument() async throws {
        let h = try Harness()
        let site = FixtureSite.standard()
        h.server.put("/moved/203.md", site.files()["/pages/1/203.md"]!)
        h.server.handler = { req in
            req.path == "/pages/1/203.md" ? .init(status: 301, headers: [("Location", "/moved/203.md")]) : nil
        }
        _ = try await h.sync()
        let doc = try XCTUnwrap(h.document("/pages/1/203.md"))
        XCTAssertEqual(doc.fetchUrl, h.url("/moved/203.md"))
        XCTAssertEqual(doc.versionCount, 1)
        h.server.clearRequests()
        _ = try await h.sync(all: true)
        let paths = h.server.requests.map(\.path)
        XCTAssertTrue(paths.contains("/moved/203.md"))
        XCTAssertFalse(paths.contains("/pages/1/203.md"), "the old address is not asked again")
    }

    /// An index that later links the article's new address links the same document: it had
    /// become a second document (history split in two, both fetched every time).
    func testALinkToWhereADocumentMovedIsThatDocument() async throws {
        let h = try Harness()
        let site = FixtureSite.standard()
        h.server.put("/pages/2/2203.md", site.files()["/pages/1/203.md"]!)
        h.server.put("/indexes/sports.md", "### 体育\n\n#### [一](../pages/1/201.md)\n")
        h.server.handler = { req in
            // The new address with the site's cache-buster (in `ignore_query`), as redirects carry it.
            if req.path == "/pages/1/203.md" { return .init(status: 301, headers: [("Location", "/pages/2/2203.md?t=9")]) }
            // A deleted article sent to a section page: an index, which is a page of its own.
            if req.path == "/pages/1/202.md" { return .init(status: 301, headers: [("Location", "/indexes/sports.md")]) }
            return nil
        }
        _ = try await h.sync()
        XCTAssertEqual(try h.document("/pages/1/203.md")?.fetchUrl, h.url("/pages/2/2203.md"), "kept as links are")
        h.server.put("/indexes/school.md", "### 校园新闻\n\n#### [梅岭小学操场对外开放](../pages/2/2203.md?t=10)\n")
        h.server.put("/README.md", "# 站\n\n#### [城镇](indexes/town.md)\n\n#### [校园](indexes/school.md)\n\n#### [体育](indexes/sports.md)\n")
        h.server.clearRequests()
        let run = try await h.sync(all: true)
        XCTAssertNil(try h.document("/pages/2/2203.md"), "no second document")
        XCTAssertEqual(run.newDocuments, 1, "the sports index only")
        XCTAssertEqual(try h.document("/indexes/sports.md")?.kind, "index")
        XCTAssertEqual(h.server.requests.filter { $0.path == "/pages/2/2203.md" }.count, 1, "fetched once, for 203")
        XCTAssertEqual(try h.database.documents(kind: "article").count, 3)
        // The new address, pasted, finds the document.
        let history = History(database: h.database, blobs: h.blobs, config: h.config)
        XCTAssertEqual(try history.log(url: h.url("/pages/2/2203.md")).count, 1)
    }

    /// An index that links an article at its old address (301 to the new one) and at its new
    /// address, both met in one run: one document under the old URL, with one history; the
    /// new address's files go, and an edit later is one revision of it.
    func testAMovedArticleLinkedAtBothAddressesInOneRunIsOneDocument() async throws {
        let h = try Harness()
        let site = FixtureSite.standard()
        h.server.put("/pages/2/2203.md", site.files()["/pages/1/203.md"]!)
        h.server.put("/indexes/school.md", "### 校园新闻\n\n#### [旧址](../pages/1/203.md?t=1)\n\n#### [新址](../pages/2/2203.md?t=1)\n")
        h.server.handler = { req in
            req.path == "/pages/1/203.md" ? .init(status: 301, headers: [("Location", "/pages/2/2203.md?t=2")]) : nil
        }
        let run = try await h.sync()
        XCTAssertNil(try h.document("/pages/2/2203.md"), "joined into the old address's document")
        let doc = try XCTUnwrap(h.document("/pages/1/203.md"))
        XCTAssertEqual(doc.fetchUrl, h.url("/pages/2/2203.md"))
        XCTAssertEqual([doc.versionCount, doc.revisionCount], [1, 1])
        XCTAssertEqual(try h.database.versions(documentId: doc.id!).map(\.revision), [1])
        XCTAssertEqual(run.errors, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.mirrorFile("parsed/\(h.hostDir)/pages/2/2203.json")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.mirrorFile("raw/\(h.hostDir)/pages/2/2203.md")))
        XCTAssertEqual(try h.parsedJSON(203)["revision"] as? Int, 1)

        // An edit at the new address: a revision of the one document; no second document comes back.
        var edited = site
        edited.edit(203) { $0.paragraphs[0] = "操场周末向居民开放，开放时间为早六点至晚八点。" }
        h.server.put("/pages/2/2203.md", edited.files()["/pages/1/203.md"]!)
        h.server.clearRequests()
        _ = try await h.sync(all: true)
        XCTAssertNil(try h.document("/pages/2/2203.md"))
        XCTAssertEqual(try h.document("/pages/1/203.md")?.revisionCount, 2)
        XCTAssertEqual(h.server.requests.filter { $0.path == "/pages/2/2203.md" }.count, 1, "fetched once per run")
        let history = History(database: h.database, blobs: h.blobs, config: h.config)
        XCTAssertEqual(try history.log(url: h.url("/pages/2/2203.md")).count, 2)
    }

    /// A start page that moved (301) and the config then edited to its new address: the
    /// document that moved is that start URL; no second document is made (and joined into it
    /// again at the end of every run, its files removed each time).
    func testAStartURLEditedToWhereItsPageMovedIsTheSameDocument() async throws {
        let h = try Harness()
        let readme = FixtureSite.standard().files()["/README.md"]!
        h.server.put("/home.md", readme)
        h.server.handler = { req in req.path == "/README.md" ? .init(status: 301, headers: [("Location", "/home.md")]) : nil }
        _ = try await h.sync()
        XCTAssertEqual(try h.document("/README.md")?.fetchUrl, h.url("/home.md"))
        let text = try String(contentsOfFile: h.dir.file("mirrord.toml"), encoding: .utf8)
        try h.dir.write("edited.toml", text.replacingOccurrences(of: "/README.md", with: "/home.md"))
        let edited = try MirrorConfig.load(path: h.dir.file("edited.toml"))
        let engine = SyncEngine(config: edited, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        for _ in 0..<2 {
            let run = try await engine.run(RunOptions(trigger: "test", all: true))
            XCTAssertEqual(run.newDocuments, 0)
            XCTAssertEqual(run.newVersions, 0)
            XCTAssertNil(try h.document("/home.md"))
            XCTAssertEqual(try h.document("/README.md")?.versionCount, 1)
        }
    }

    func testGBKPageIsDecodedBeforeParsing() async throws {
        let h = try Harness()
        let site = FixtureSite.standard()
        let utf8 = site.files()["/pages/1/201.md"]!
        // Labelled GBK, encoded as its superset GB18030 (the promotion line has an emoji GBK lacks),
        // as real servers do: the label maps to GB18030 when decoding.
        let gbk = encode(utf8, as: "GB18030")
        XCTAssertNotEqual(gbk, Array(utf8.utf8))
        h.server.handler = { req in
            req.path == "/pages/1/201.md" ? .init(status: 200, headers: [("Content-Type", "text/plain; charset=GBK")], body: gbk) : nil
        }
        _ = try await h.sync()
        let j = try h.parsedJSON(201)
        XCTAssertEqual(j["title"] as? String, "松溪镇新修步行桥通行")
        XCTAssertEqual(j["reporter"] as? String, "高远")
        let raw = try Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("raw/\(h.hostDir)/pages/1/201.md")))
        XCTAssertEqual([UInt8](raw), gbk, "raw bytes are kept as served")
    }

    /// A GBK page served as `charset=utf-8` (a server's default): with its own `<meta>` it
    /// decodes as GBK and the overruled header is noted; without one it stays UTF-8, garbled,
    /// and a warning says so, once per new body.
    func testAWrongCharsetLabelIsOverruledByTheMarkupOrWarnedAbout() async throws {
        let h = try Harness(site: nil)
        h.server.put("/README.md", "# Site\n\n#### [a](pages/1/501.md)\n\n#### [b](pages/1/502.md)\n")
        let text = "<html><head>%@<title>河滨公园夜间开放</title></head><body><article><p>河滨公园管理处表示，自下月起公园夜间开放时间延长至晚上十点，东门和南门同时开放。</p><p>管理处提醒市民夜间游园注意安全。</p></article></body></html>"
        let withMeta = encode(text.replacingOccurrences(of: "%@", with: "<meta charset=\"gb2312\">"), as: "GBK")
        let without = encode(text.replacingOccurrences(of: "%@", with: ""), as: "GBK")
        h.server.handler = { req in
            let body: [UInt8]? = req.path == "/pages/1/501.md" ? withMeta : req.path == "/pages/1/502.md" ? without : nil
            return body.map { .init(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: $0) }
        }
        let recorder = RecordingLogHandler()
        let engine = SyncEngine(config: h.config, database: h.database, blobs: h.blobs, fetcher: h.fetcher,
                                logger: Logger(label: "test") { _ in recorder })
        _ = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(try h.parsedJSON(501)["title"] as? String, "河滨公园夜间开放")
        let lines = recorder.messages.filter { $0.contains("/pages/1/50") }
        XCTAssertEqual(lines.count, 2, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("\(h.url("/pages/1/501.md")): Content-Type says charset=utf-8, but the body is not UTF-8 (")
                          && $0.hasSuffix(" bad sequences); decoded as GB18030, as its markup declares (said once per source and run)") }, "\(lines)")
        let garbled = Charset.decode(without, contentType: "text/html; charset=utf-8").undecodable
        XCTAssertTrue(lines.contains("\(h.url("/pages/1/502.md")): \(garbled) byte sequences are not UTF-8 (its Content-Type charset, <meta> or UTF-8 by default), so the label is likely wrong; they read U+FFFD in the parsed copy (said once per source and run; set the source's charset to the right one)"), "\(lines)")

        // The same bodies again: no new version, no second line.
        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(recorder.messages.filter { $0.contains("/pages/1/50") }.count, 2)
    }

    /// A source whose server labels GBK pages `charset=utf-8` and whose pages declare nothing:
    /// its `charset = "gbk"` decodes them, on the first fetch and when its stored pages are
    /// read again; setting it regenerates the parsed copies made without it (rules hash).
    func testASourceCharsetDecodesPagesWhateverTheirLabel() async throws {
        let h = try Harness(site: nil, extraSource: "charset = \"gbk\"")
        h.server.put("/README.md", "# Site\n\n#### [a](pages/1/601.md)\n")
        let page = encode("<html><head><title>城东片区供水管网改造完成</title></head><body><article><p>经过三个月施工，城东片区老旧供水管网改造工程日前全部完成，涉及居民两千余户。</p><p>改造后，片区供水压力明显提升。</p></article></body></html>", as: "GBK")
        h.server.handler = { req in
            req.path == "/pages/1/601.md" ? .init(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: page) : nil
        }
        _ = try await h.sync()
        let json = try h.parsedJSON(601)
        XCTAssertEqual(json["title"] as? String, "城东片区供水管网改造完成")
        XCTAssertEqual((json["paragraphs"] as? [String])?.last, "改造后，片区供水压力明显提升。")
        let doc = try XCTUnwrap(h.document("/pages/1/601.md"))
        let version = try XCTUnwrap(h.database.versions(documentId: doc.id!).last)
        XCTAssertEqual(version.rulesHash, ExtractionRules(charset: "gbk").hash)
        XCTAssertNotEqual(version.rulesHash, "none")
        let stored = try StoredContent.load(version, of: doc, blobs: h.blobs, source: h.config.sources[0])
        XCTAssertEqual(stored.article?.title, "城东片区供水管网改造完成")
    }

    func testGzipLabelOnAPlainBodyIsRetriedWithoutCompression() async throws {
        let h = try Harness()
        let page = Array(FixtureSite.standard().files()["/pages/1/202.md"]!.utf8)
        h.server.handler = { req in
            req.path == "/pages/1/202.md" ? .init(status: 200, headers: [("Content-Encoding", "gzip")], body: page) : nil
        }
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 0)
        XCTAssertEqual(try h.parsedJSON(202)["title"] as? String, "河湾社区开办老年手机课")
    }

    func testA200WithTheSameETagButAnotherBodyIsAChange() async throws {
        let h = try Harness()
        var site = FixtureSite.standard()
        let before = Array(site.files()["/pages/1/203.md"]!.utf8)
        site.edit(203) { $0.paragraphs[0] = "梅岭小学的操场从下月起在周末对周边居民开放。" }
        let after = Array(site.files()["/pages/1/203.md"]!.utf8)
        let body = Counter()
        h.server.handler = { req in
            guard req.path == "/pages/1/203.md" else { return nil }
            // A server (or a CDN) that never updates its ETag, and ignores If-None-Match.
            return .init(status: 200, headers: [("ETag", "\"stuck\"")], body: body.value == 0 ? before : after)
        }
        _ = try await h.sync()
        _ = body.next()
        let run = try await h.sync(all: true)
        XCTAssertEqual(run.newRevisions, 1)
        XCTAssertEqual(try h.document("/pages/1/203.md")?.versionCount, 2)
    }

    func testChangedValidatorsReplaceTheStoredOnes() async throws {
        let h = try Harness()
        _ = try await h.sync()
        let before = try XCTUnwrap(h.document("/pages/1/201.md")?.etag)
        var site = FixtureSite.standard()
        site.edit(201) { $0.paragraphs[2] = "镇里表示将在桥头增设照明。" }
        site.publish(to: h.server)
        _ = try await h.sync(all: true)
        let after = try XCTUnwrap(h.document("/pages/1/201.md")?.etag)
        XCTAssertNotEqual(after, before)
        h.server.clearRequests()
        _ = try await h.sync(all: true)
        XCTAssertEqual(h.server.requests.first { $0.path == "/pages/1/201.md" }?.headers["if-none-match"], after)
    }
}
