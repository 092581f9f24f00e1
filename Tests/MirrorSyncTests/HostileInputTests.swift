import Foundation
import MirrorControl
import MirrorCore
import MirrorDiscovery
import MirrorExtract
import MirrorMarkup
import MirrorSync
import NIOPosix
import TestSupport
import XCTest

/// Hostile or broken upstreams and clients: nothing escapes mirror_dir, nothing crashes,
/// nothing runs unbounded.
final class HostileInputTests: XCTestCase {
    func testNoUpstreamURLCanWriteOutsideMirrorDir() async throws {
        let h = try Harness(site: nil)
        let outside = TemporaryDirectory("outside")
        let page = FixtureSite.standard().files()["/pages/1/201.md"]!
        h.server.handler = { req in req.path.hasPrefix("/pages/") ? .init(status: 200, body: Array(page.utf8)) : nil }
        let long = String(repeating: "x", count: 300)
        let hostile = [
            "pages/1/%2e%2e/%2e%2e/%2e%2e/%2e%2e/escape1.md",
            "pages/1/..%2F..%2F..%2Fescape2.md",
            "pages/1/a%5C..%5C..%5Cescape3.md",
            "pages/1/nul%00byte.md",
            "pages/1/\(long).md",
            "pages/evil/landed.md",
        ]
        h.server.put("/README.md", "# 站\n\n" + hostile.map { "#### [x](\($0))\n\n" }.joined())
        // A symlink planted inside the mirror, pointing outside.
        try FileManager.default.createDirectory(atPath: h.mirrorFile("raw/\(h.hostDir)/pages"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: h.mirrorFile("raw/\(h.hostDir)/pages/evil"), withDestinationPath: outside.path)

        let run = try await h.sync()
        XCTAssertEqual(run.status, "completed")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [], "nothing written through the symlink")
        // Everything written is under mirror_dir (and not a symlink).
        let root = h.config.mirrorDir
        for case let rel as String in FileManager.default.enumerator(atPath: root)! {
            let full = URL(fileURLWithPath: root + "/" + rel).resolvingSymlinksInPath().path
            if rel == "raw/\(h.hostDir)/pages/evil" { continue }
            XCTAssertTrue(full.hasPrefix(root + "/"), "\(rel) resolves outside: \(full)")
        }
        for name in ["escape1.md", "escape2.md", "escape3.md"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: (root as NSString).deletingLastPathComponent + "/" + name))
        }
        let symlinked = try XCTUnwrap(h.database.documents().first { $0.url.hasSuffix("/pages/evil/landed.md") })
        XCTAssertEqual(symlinked.error, "\(root)/raw/\(h.hostDir)/pages/evil: is a symlink; refusing to write through it")
        let longDoc = try XCTUnwrap(h.database.documents().first { $0.url.contains(long) })
        XCTAssertNil(longDoc.error)
    }

    func testFeedsCannotReadLocalFilesOrExpandEntityBombs() throws {
        let rules = LinkRules(source: {
            var s = SourceConfig(name: "f", start: ["https://example.org/feed.xml"], pollInterval: 3600)
            s.articleLinks = ["**"]
            return s
        }())
        let xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
            <rss version="2.0"><channel><title>t</title>
            <item><title>&secret;</title><link>https://example.org/a</link></item></channel></rss>
            """
        let a = IndexContent.read(text: xxe, contentType: "application/rss+xml", pageURL: URI("https://example.org/feed.xml")!, rules: rules)
        XCTAssertEqual(a.links.map(\.url.description), ["https://example.org/a"])
        XCTAssertFalse(a.links.contains { $0.text.contains("root:") }, "no local file read")

        var bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n"
        for i in 1...10 {
            bomb += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i == 1 ? "" : String(i - 1));", count: 10) + "\">\n"
        }
        bomb += "]>\n<rss version=\"2.0\"><channel><title>&lol10;</title><item><title>&lol10;</title><link>https://example.org/b</link></item></channel></rss>"
        let started = Date()
        let b = IndexContent.read(text: bomb, contentType: "application/rss+xml", pageURL: URI("https://example.org/feed.xml")!, rules: rules)
        XCTAssertTrue(b.links.allSatisfy { $0.text.count < 1000 }, "10^10 'lol's were not expanded")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertNotNil(b.parseError, "the bomb is reported, to be recorded on the document")

        let deep = "<?xml version=\"1.0\"?><rss>" + String(repeating: "<x>", count: 100_000) + String(repeating: "</x>", count: 100_000) + "</rss>"
        XCTAssertEqual(IndexContent.read(text: deep, contentType: nil, pageURL: URI("https://example.org/feed.xml")!, rules: rules).links.count, 0)
    }

    func testBrokenHTMLAndMarkdownNeverCrashAndGiveWhatTheyCan() {
        let url = URI("https://example.org/news/a.html")!
        let deep = "<html><body><div class=\"content\">" + String(repeating: "<div>", count: 10_000)
            + "<p>Deep inside, a paragraph that is long enough to be the body of this page, surely.</p>"
            + String(repeating: "</div>", count: 10_000) + "</div></body></html>"
        XCTAssertEqual(ArticleExtractor.extract(text: deep, format: .html, pageURL: url).paragraphs,
                       ["Deep inside, a paragraph that is long enough to be the body of this page, surely."])
        XCTAssertGreaterThanOrEqual(ArticleExtractor.extract(text: String(repeating: "> ", count: 10_000) + "引用", format: .markdown, pageURL: url).paragraphs.count, 0)

        let line = String(repeating: "很长的一行没有任何换行。", count: 1_400_000)  // 36 bytes × 1.4 M ≈ 50 MB of UTF-8
        let huge = "<html><body><div><p>" + line + "</p><p>第二段。</p></div></body></html>"
        XCTAssertGreaterThan(huge.utf8.count, 48_000_000)
        let big = ArticleExtractor.extract(text: huge, format: .html, pageURL: url)
        XCTAssertEqual(big.paragraphs.first?.count, line.count)

        let invalid = Charset.decode([0x3C, 0x70, 0x3E, 0xFF, 0xFE, 0x41, 0x00, 0x42, 0xC3, 0x3C, 0x2F, 0x70, 0x3E], contentType: "text/html").text
        _ = ArticleExtractor.extract(text: invalid, format: .html, pageURL: url)
        let script = """
            <html><body><div class="content"><p>Real first paragraph, which is long enough to count as text here.</p>
            <script>document.write("</p><p>Injected paragraph from a script</p>")</script>
            <p>Real second paragraph, also long enough to be counted as body text.</p></div></body></html>
            """
        let s = ArticleExtractor.extract(text: script, format: .html, pageURL: url)
        XCTAssertFalse(s.paragraphs.contains { $0.contains("Injected") }, "\(s.paragraphs)")
        XCTAssertEqual(s.paragraphs.count, 2)
    }
}

/// Clients that misbehave: the control server stays up for everyone else.
final class HostileClientTests: XCTestCase {
    func testTricklingSilentAndManyClientsDoNotStarveOthers() async throws {
        ControlServer.requestDeadline = 1
        defer { ControlServer.requestDeadline = 30 }
        let h = try Harness()
        let server = ControlServer(socketPath: h.config.controlSocket,
                                   router: ControlRouter(coordinator: SyncCoordinator(engine: h.engine), database: h.database, blobs: h.blobs))
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await server.bind(group: loop)
        func connect() -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                let b = Array(h.config.controlSocket.utf8); raw.copyBytes(from: b); raw[b.count] = 0
            }
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            return fd
        }
        // 1,000 idle connections and one that trickles half a request.
        let idle = (0..<1000).map { _ in connect() }
        let trickler = connect()
        _ = Array("GET /v1/sta".utf8).withUnsafeBytes { write(trickler, $0.baseAddress, $0.count) }
        // Others are still served.
        let client = ControlClient(socket: h.config.controlSocket)
        let statusBytes = try await Task.detached { try client.call("GET", "/v1/status").1 }.value
        let status = try JSONSerialization.jsonObject(with: Data(statusBytes)) as? [String: Any]
        XCTAssertEqual(status?["daemon"] as? String, "running")
        // Malformed JSON and a malformed request line get 4xx, not a crash.
        do {
            _ = try await Task.detached { try client.callRaw("POST", "/v1/sync?x") }.value
        } catch {}
        let bad = connect()
        _ = Array("BLAH\r\n\r\n".utf8).withUnsafeBytes { write(bad, $0.baseAddress, $0.count) }
        var buf = [UInt8](repeating: 0, count: 4096)
        var answer: [UInt8] = []
        var tvBad = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(bad, SOL_SOCKET, SO_RCVTIMEO, &tvBad, socklen_t(MemoryLayout<timeval>.size))
        while true {  // until the server closes: the 400 says why, then the connection ends
            let n = buf.withUnsafeMutableBytes { read(bad, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            answer += buf.prefix(n)
        }
        let text = String(decoding: answer, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), text)
        XCTAssertTrue(text.contains("\r\n\r\n{\n  \"error\" : \"malformed HTTP request: "), "a JSON error, as every other: \(text)")
        // The trickler and the idle ones are closed after the deadline: read() returns 0 (EOF).
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(trickler, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let eof = buf.withUnsafeMutableBytes { read(trickler, $0.baseAddress, $0.count) }
        XCTAssertEqual(eof, 0, "a trickling client is closed")
        (idle + [trickler, bad]).forEach { close($0) }
        await server.close()
        try await loop.shutdownGracefully()
    }
}
