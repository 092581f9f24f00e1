import Foundation
import MirrorControl
import MirrorCore
import MirrorFetch
import MirrorSync
import NIOPosix
import TestSupport
import XCTest

/// The read-only web view (`[web] listen`): what each page shows, and that a hostile upstream
/// cannot script it.
final class WebViewTests: XCTestCase {
    /// A seed-format article whose title and text carry markup as text (a page quoting HTML,
    /// or an attacker hoping the mirror pastes it into a page).
    static let hostileTitle = "<script>alert(1)</script>公交线路调整"
    static let hostileText = "居民说\"<img src=x onerror=alert(2)>\"和'引号'都应原样显示。"

    func mirror() async throws -> Harness {
        let h = try Harness(site: nil)
        h.server.put("/README.md", "# 站\n\n#### [目录](indexes/a.md)\n")
        h.server.put("/indexes/a.md", "### 目录\n\n#### [一](../pages/1/1.md)\n\n#### [二](../pages/2/2.md)\n")
        let escapedTitle = Self.hostileTitle.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        let escapedText = Self.hostileText.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        h.server.put("/pages/1/1.md", ArticleLinkTests.page(1, body: escapedText).replacingOccurrences(of: "### 第1篇", with: "### " + escapedTitle))
        h.server.put("/pages/2/2.md", ArticleLinkTests.page(2, body: "第二篇的正文，讲的是社区图书馆延长开放时间。"))
        _ = try await h.sync()
        return h
    }

    func get(_ router: WebRouter, _ path: String, method: String = "GET") async -> (status: Int, text: String, headers: [String: String]) {
        let r = await router.handle(ControlRequest(method: method, uri: path, body: []))
        return (r.status, String(decoding: r.body, as: UTF8.self), Dictionary(r.headers.map { ($0.name, $0.value) }) { a, _ in a })
    }

    func q(_ s: String) -> String { WebRouter.query(s) }

    func testEveryUpstreamStringIsEscapedOnEveryPage() async throws {
        let h = try await mirror()
        let router = WebRouter(database: h.database, blobs: h.blobs, config: h.config)
        let url = q(h.url("/pages/1/1.md"))
        for path in ["/", "/articles", "/articles?q=\(q("公交"))", "/article?url=\(url)", "/show?url=\(url)", "/feed.atom"] {
            let page = await get(router, path)
            XCTAssertEqual(page.status, 200, path)
            XCTAssertFalse(page.text.contains("<script"), "\(path) has a <script>")
            XCTAssertFalse(page.text.contains("<img src=x"), "\(path) has the upstream's <img>")
            XCTAssertEqual(page.headers["Content-Security-Policy"]?.hasPrefix("default-src 'none';"), true, path)
            XCTAssertEqual(page.headers["X-Content-Type-Options"], "nosniff", path)
        }
        let show = await get(router, "/show?url=\(url)")
        XCTAssertTrue(show.text.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt;公交线路调整</h1>"), show.text)
        XCTAssertTrue(show.text.contains("<p>居民说&quot;&lt;img src=x onerror=alert(2)&gt;&quot;和&#39;引号&#39;都应原样显示。</p>"), show.text)
    }

    func testArticlesFilterBySourceAndSearchByTitle() async throws {
        let h = try await mirror()
        let router = WebRouter(database: h.database, blobs: h.blobs, config: h.config)
        let all = await get(router, "/articles")
        XCTAssertTrue(all.text.contains("<p>2 of 2 articles</p>"), all.text)
        let found = await get(router, "/articles?q=\(q("公交"))")
        XCTAssertTrue(found.text.contains("<p>1 of 2 articles</p>"), found.text)
        let source = h.config.sources[0].name
        let other = await get(router, "/articles?source=nosuchsource")
        XCTAssertTrue(other.text.contains("<p>0 of 0 articles</p>"), other.text)
        let mine = await get(router, "/articles?source=\(q(source))&q=\(q("第2篇"))")
        XCTAssertTrue(mine.text.contains("<p>1 of 2 articles</p>"), mine.text)
    }

    func testATimelineLeadsToTheDiffOfAnyTwoRevisions() async throws {
        let h = try await mirror()
        h.server.put("/pages/2/2.md", ArticleLinkTests.page(2, body: "第二篇的正文，讲的是社区图书馆延长开放时间到晚上九点。"))
        _ = try await h.sync(all: true)
        let router = WebRouter(database: h.database, blobs: h.blobs, config: h.config)
        let url = q(h.url("/pages/2/2.md"))
        let timeline = await get(router, "/article?url=\(url)")
        XCTAssertTrue(timeline.text.contains("<a href=\"/diff?url=\(url)&amp;from=1&amp;to=2\">diff r1→r2</a>"), timeline.text)
        XCTAssertTrue(timeline.text.contains("<form method=\"get\" action=\"/diff\">"), timeline.text)
        let diff = await get(router, "/diff?url=\(url)&from=1&to=2")
        XCTAssertEqual(diff.status, 200)
        XCTAssertTrue(diff.text.contains("<ins>到晚上九点</ins>"), diff.text)
        XCTAssertTrue(diff.text.contains("<a href=\"/article?url=\(url)\">all revisions of this article</a>"), "a way back")
        XCTAssertFalse(diff.text.contains("No differences"), diff.text)
        let same = await get(router, "/diff?url=\(url)&from=2&to=2")
        XCTAssertTrue(same.text.contains("<p><strong>No differences:</strong> the two revisions have the same content"), same.text)
        XCTAssertFalse(same.text.contains("<table"), "no table of equal rows: \(same.text)")
        // A shown revision says which it is.
        let shown = await get(router, "/show?url=\(url)&rev=1")
        XCTAssertTrue(shown.text.contains("<p class=\"meta\">revision r1, fetched 20"), shown.text)
        // A gone article's timeline says so.
        h.server.handler = { req in req.path == "/pages/2/2.md" ? .init(status: 404) : nil }
        _ = try await h.sync(all: true)
        let gone = await get(router, "/article?url=\(url)")
        XCTAssertTrue(gone.text.contains(" failed: HTTP 404 Not Found (gone upstream, kept; next check 20"), gone.text)
        XCTAssertTrue(gone.text.contains("diff r1→r2"), "the revisions are still listed")
        // A source taken out of the config shows no next poll that will never come.
        let front = await get(router, "/")
        XCTAssertFalse(front.text.contains("not configured any more"), front.text)
        var edited = h.config
        edited.sources[0].name = "valley"
        let reloaded = edited
        // As the daemon builds it: the configuration in force is asked for at each request.
        let live = WebRouter(database: h.database, blobs: h.blobs, config: h.config, current: { reloaded })
        let afterReload = await get(live, "/")
        XCTAssertTrue(afterReload.text.contains("</td><td>not configured any more</td>"), afterReload.text)
        let badRevision = await get(router, "/diff?url=\(url)&from=x&to=2")
        XCTAssertEqual(badRevision.status, 400)
        XCTAssertTrue(badRevision.text.contains("from=x is not a revision number"), badRevision.text)
        let noURL = await get(router, "/article")
        XCTAssertEqual(noURL.status, 400)
        XCTAssertTrue(noURL.text.contains("missing ?url="), noURL.text)
        let feed = await get(router, "/feed.atom")
        // RFC 4287 §4.1.1: a feed has an author unless every entry has one (the entries have none).
        XCTAssertTrue(feed.text.contains("<title>mirrord: new revisions</title><author><name>mirrord</name></author><id>urn:mirrord:"), feed.text)
        XCTAssertTrue(feed.text.contains("<link href=\"/diff?url=\(url)&amp;from=1&amp;to=2\"/>"), feed.text)
        let unknown = await get(router, "/article?url=\(q("https://example.org/never"))")
        XCTAssertEqual(unknown.status, 404)
    }

    func testReadOnlyAndConfinedToTheMirror() async throws {
        let h = try await mirror()
        let router = WebRouter(database: h.database, blobs: h.blobs, config: h.config)
        for method in ["POST", "PUT", "DELETE"] {
            let r = await get(router, "/", method: method)
            XCTAssertEqual(r.status, 405, method)
            XCTAssertEqual(r.headers["Allow"], "GET, HEAD")
        }
        let head = await get(router, "/", method: "HEAD")
        XCTAssertEqual(head.status, 200)
        let front = await get(router, "/")
        XCTAssertEqual(head.text, front.text, "the server leaves the body out (testServedOnLoopback)")
        func status(_ path: String) async -> Int { await get(router, path).status }
        let served = await status("/mirror/raw/\(h.hostDir)/pages/1/1.md")
        XCTAssertEqual(served, 200)
        let dotted = await status("/mirror/raw/\(h.hostDir)/../../../etc/passwd")
        XCTAssertEqual(dotted, 404)
        let encoded = await status("/mirror/raw/%2e%2e/%2e%2e/etc/passwd")
        XCTAssertEqual(encoded, 404)
        // A NUL would cut the path short while the type came from the whole name.
        let nul = await status("/mirror/raw/\(h.hostDir)/pages/1/1.md%00.svg")
        XCTAssertEqual(nul, 404)
        let file = await get(router, "/mirror/raw/\(h.hostDir)/pages/1/1.md")
        XCTAssertEqual(file.headers["Content-Security-Policy"]?.hasSuffix("; sandbox"), true)
        // A symlink planted in the tree is never followed.
        try FileManager.default.createSymbolicLink(atPath: h.mirrorFile("raw/\(h.hostDir)/planted"), withDestinationPath: "/etc")
        let planted = await status("/mirror/raw/\(h.hostDir)/planted/passwd")
        XCTAssertEqual(planted, 404)
        let parsed = await status("/mirror/parsed/\(h.hostDir)/pages/1/1.json")
        XCTAssertEqual(parsed, 404)
    }

    /// Over real TCP on 127.0.0.1, as `[web] listen` serves it.
    func testServedOnLoopback() async throws {
        let h = try await mirror()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = WebServer(listen: WebListen(host: "127.0.0.1", port: 0),  // the system picks the port
                               router: WebRouter(database: h.database, blobs: h.blobs, config: h.config))
        try await server.bind(group: group)
        let port = try XCTUnwrap(server.boundPort)
        let fetcher = Fetcher(settings: HTTPSettings())
        let r = await fetcher.fetch(FetchRequest(url: "http://127.0.0.1:\(port)/articles"))
        fetcher.shutdown()
        // HEAD, as `curl -I` sends it: the GET's head, Content-Length included (it had said 0),
        // and no body: the connection's bytes end with the blank line.
        // (A blocking read here is fine: the server answers on its own event loop thread.)
        let head = try Self.exchange(port: port, "HEAD /articles HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        // Not HTTP at all: a page that says so (it had been a 400 with no body).
        let garbage = try Self.exchange(port: port, "BLAH\r\n\r\n")
        await server.close()
        try await group.shutdownGracefully()
        let page = try r.get()
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.contentType, "text/html; charset=utf-8")
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("<p>2 of 2 articles</p>"))
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        XCTAssertTrue(head.lowercased().contains("\r\ncontent-length: \(page.body.count)\r\n"), head)
        XCTAssertTrue(head.hasSuffix("\r\n\r\n"), head)
        XCTAssertTrue(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), garbage)
        XCTAssertTrue(garbage.contains("<p>Malformed HTTP request: "), garbage)
    }

    /// Sends `request` to 127.0.0.1:`port` and reads until the server closes the connection.
    static func exchange(port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            out += buf.prefix(n)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
