import Foundation
import MirrorCore
import MirrorFetch
import Synchronization
import TestSupport
import XCTest

/// Faults and protocol corners, each against a local server that misbehaves on purpose.
final class FetcherFaultTests: XCTestCase {
    func makeFetcher(_ change: (inout HTTPSettings) -> Void = { _ in }) -> Fetcher {
        var s = HTTPSettings()
        s.timeout = 10
        change(&s)
        return Fetcher(settings: s)
    }

    func testLowSpeedLimitCutsADribblingServer() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("0123456789".utf8), dribble: 2) }
        let f = makeFetcher { $0.lowSpeedLimit = 100; $0.lowSpeedTime = 1; $0.timeout = 30 }
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/drip"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("expected a transfer error, got \(r)") }
        XCTAssertEqual(code, 28)
        XCTAssertTrue(message.hasPrefix("Operation too slow"), message)
        // The error names the setting that cut it.
        XCTAssertTrue(message.hasSuffix("(low_speed_limit = 100 bytes/s for low_speed_time = 1s)"), message)
        XCTAssertTrue(r.failure!.isTransient)
    }

    func testTruncatedBodyIsATransientError() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: [UInt8](repeating: 0x41, count: 1000), truncateAfter: 100) }
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/cut"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("expected a transfer error, got \(r)") }
        XCTAssertEqual(code, 18)  // CURLE_PARTIAL_FILE
        XCTAssertTrue(message.contains("900 bytes remaining"), message)
        XCTAssertTrue(r.failure!.isTransient)
    }

    func testRedirectLoopIsDetectedAndNamed() async throws {
        let server = try TestHTTPServer()
        server.handler = { req in
            switch req.path {
            case "/a": return .init(status: 302, headers: [("Location", "/b")])
            case "/b": return .init(status: 302, headers: [("Location", "\(server.baseURL)/a#frag")])
            default: return nil
            }
        }
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/a"))
        XCTAssertEqual(r.failure, .redirectLoop(chain: [server.baseURL + "/a", server.baseURL + "/b", server.baseURL + "/a"]))
        XCTAssertEqual(r.failure?.description, "redirect loop: \(server.baseURL)/a → \(server.baseURL)/b → \(server.baseURL)/a")
        XCTAssertEqual(server.requests.count, 2, "stopped at the first repeat")
    }

    func testRedirectLimit() async throws {
        let server = try TestHTTPServer()
        server.handler = { req in
            let n = Int(req.path.dropFirst()) ?? 0
            return .init(status: 302, headers: [("Location", "/\(n + 1)")])
        }
        let f = makeFetcher { $0.maxRedirects = 3 }
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/0"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("expected a transfer error, got \(r)") }
        XCTAssertEqual(code, 47)  // CURLE_TOO_MANY_REDIRECTS
        XCTAssertEqual(message, "Maximum (3) redirects followed")
    }

    func testPermanentRedirectIsReportedTemporaryIsNot() async throws {
        let server = try TestHTTPServer()
        server.put("/new", "here")
        server.handler = { req in
            switch req.path {
            case "/moved": return .init(status: 301, headers: [("Location", "/new")])
            case "/moved308": return .init(status: 308, headers: [("Location", "new")])
            case "/away": return .init(status: 302, headers: [("Location", "/new")])
            default: return nil
            }
        }
        let f = makeFetcher()
        defer { f.shutdown() }
        let moved = try await f.fetch(FetchRequest(url: server.baseURL + "/moved")).get()
        XCTAssertEqual(moved.permanentRedirect, server.baseURL + "/new")
        let moved308 = try await f.fetch(FetchRequest(url: server.baseURL + "/moved308")).get()
        XCTAssertEqual(moved308.permanentRedirect, server.baseURL + "/new")
        let away = try await f.fetch(FetchRequest(url: server.baseURL + "/away")).get()
        XCTAssertNil(away.permanentRedirect)
        XCTAssertEqual(away.effectiveURL, server.baseURL + "/new")
    }

    static let gzipped = [UInt8](Data(base64Encoded: "H4sIAAAAAAACA3va1/18z8rns1qerV38bFq7QnJ+bkFRanFxaopCUn5KJRcAI/4LayAAAAA=")!)

    func testCompressedTransferIsDecoded() async throws {
        let server = try TestHTTPServer()
        server.handler = { req in
            guard req.headers["accept-encoding"]?.contains("gzip") == true else { return .init(status: 406) }
            return .init(status: 200, headers: [("Content-Encoding", "gzip")], body: Self.gzipped)
        }
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = try await f.fetch(FetchRequest(url: server.baseURL + "/z")).get()
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "压缩的正文 compressed body\n")
    }

    /// A decompression bomb: 40 MB of zeros in 40 KB of gzip. Decoded bytes are what counts.
    func testGzipBombIsCutAtTheLimit() async throws {
        let server = try TestHTTPServer()
        let bomb = gzip([UInt8](repeating: 0, count: 40_000_000))
        XCTAssertLessThan(bomb.count, 100_000)
        server.handler = { _ in .init(status: 200, headers: [("Content-Encoding", "gzip")], body: bomb) }
        let f = makeFetcher { $0.maxBodyBytes = 1_000_000 }
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/bomb"))
        XCTAssertEqual(r.failure, .tooLarge(limit: 1_000_000))
    }

    /// A gzip body that stops short (its trailer missing, Content-Length matching what was
    /// sent): an error, asked again without compression too. libcurl had decoded what there
    /// was and called it whole, and the truncated page became a version.
    func testAGzipStreamCutShortIsAnError() async throws {
        let server = try TestHTTPServer()
        let page = Array(String(repeating: "第一段正文，讲的是河堤加固工程的进展。", count: 200).utf8)
        let whole = gzip(page)
        let cut = Array(whole.prefix(whole.count / 2))
        server.handler = { _ in .init(status: 200, headers: [("Content-Encoding", "gzip")], body: cut) }
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/cut"))
        XCTAssertEqual(r.failure, .badContentEncoding(message: "corrupt gzip body: truncated"))
        let again = await f.fetch(FetchRequest(url: server.baseURL + "/cut", acceptEncoding: false))
        XCTAssertEqual(again.failure, .badContentEncoding(message: "corrupt gzip body: truncated"))
        // Whole, it decodes.
        server.handler = { _ in .init(status: 200, headers: [("Content-Encoding", "gzip")], body: whole) }
        let decoded = try await f.fetch(FetchRequest(url: server.baseURL + "/whole")).get()
        XCTAssertEqual(decoded.body, page)
        // deflate as RFC 9110 means it (zlib) and as some servers send it (raw).
        for raw in [false, true] {
            let body = deflate(page, raw: raw)
            server.handler = { _ in .init(status: 200, headers: [("Content-Encoding", "deflate")], body: body) }
            let inflated = try await f.fetch(FetchRequest(url: server.baseURL + "/deflate")).get()
            XCTAssertEqual(inflated.body, page, raw ? "raw deflate" : "zlib")
        }
    }

    /// A coding not asked for (br) is refused, also on the retry without Accept-Encoding (its
    /// bytes had been kept as the page); an error page whose coding is broken keeps its status.
    func testACodingNotAskedForIsRefusedAndAnErrorPageKeepsItsStatus() async throws {
        let server = try TestHTTPServer()
        let brotli: [UInt8] = [0x1B, 0x2C, 0x00, 0xF8, 0x25, 0x00, 0x82, 0x02]
        server.handler = { req in
            req.path == "/br" ? .init(status: 200, headers: [("Content-Encoding", "br")], body: brotli)
                : .init(status: 404, headers: [("Content-Encoding", "gzip")], body: Array("<h1>Not Found</h1>".utf8))
        }
        let f = makeFetcher()
        defer { f.shutdown() }
        let br = await f.fetch(FetchRequest(url: server.baseURL + "/br"))
        XCTAssertEqual(br.failure, .badContentEncoding(message: "Content-Encoding br was not asked for"))
        let again = await f.fetch(FetchRequest(url: server.baseURL + "/br", acceptEncoding: false))
        XCTAssertEqual(again.failure, .badContentEncoding(message: "Content-Encoding br was not asked for"))
        let missing = try await f.fetch(FetchRequest(url: server.baseURL + "/gone")).get()
        XCTAssertEqual(missing.status, 404)
    }

    func testGzipLabelOnAPlainBody() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, headers: [("Content-Encoding", "gzip")], body: Array("plain, not gzip".utf8)) }
        let f = makeFetcher()
        defer { f.shutdown() }
        let lied = await f.fetch(FetchRequest(url: server.baseURL + "/lie"))
        guard case .badContentEncoding? = lied.failure else { return XCTFail("expected badContentEncoding, got \(lied)") }
        let plain = try await f.fetch(FetchRequest(url: server.baseURL + "/lie", acceptEncoding: false)).get()
        XCTAssertEqual(String(decoding: plain.body, as: UTF8.self), "plain, not gzip")
        XCTAssertNil(server.requests.last?.headers["accept-encoding"])
    }

    func testExtraHeadersAreSent() async throws {
        let server = try TestHTTPServer()
        server.put("/h", "ok")
        let f = makeFetcher()
        defer { f.shutdown() }
        _ = try await f.fetch(FetchRequest(url: server.baseURL + "/h", headers: ["Cookie": "session=abc", "X-Mirror": "1"])).get()
        XCTAssertEqual(server.requests.last?.headers["cookie"], "session=abc")
        XCTAssertEqual(server.requests.last?.headers["x-mirror"], "1")
    }

    func testHTTPProxyCarriesTheRequest() async throws {
        let proxy = try TestHTTPServer()
        proxy.handler = { req in .init(status: 200, body: Array("via proxy: \(req.uri)".utf8)) }
        let f = makeFetcher { $0.proxy = proxy.baseURL }
        defer { f.shutdown() }
        let r = try await f.fetch(FetchRequest(url: "http://upstream.invalid/news/a.md")).get()
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "via proxy: http://upstream.invalid/news/a.md")
    }

    func testSOCKS5hResolvesTheHostThroughTheProxy() async throws {
        let socks = try SOCKS5Server(body: "tunnelled")
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = try await f.fetch(FetchRequest(url: "http://upstream.invalid/page", proxy: "socks5h://127.0.0.1:\(socks.port)")).get()
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "tunnelled")
        // The name reached the proxy unresolved: no local DNS lookup leaked it.
        XCTAssertEqual(socks.requested, ["upstream.invalid:80"])
    }

    /// A proxy that is down: the error says it was the proxy (libcurl names only its address),
    /// and a host in `no_proxy` is not said to have gone through it.
    func testAFailureAtTheProxyNamesTheProxy() async throws {
        let dead = "socks5h://127.0.0.1:\(unusedPort())"
        let f = makeFetcher { $0.proxy = dead; $0.noProxy = "localhost, .lan" }
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: "http://upstream.invalid/page"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("\(r)") }
        XCTAssertEqual(code, 7)
        XCTAssertTrue(message.hasSuffix(" (through proxy \(dead))"), message)
        var settings = HTTPSettings()
        settings.proxy = dead
        settings.noProxy = "localhost, .lan"
        XCTAssertNil(Fetcher.proxyInvolved(code: 7, message: "", FetchRequest(url: "http://printer.lan/"), settings))
        XCTAssertNil(Fetcher.proxyInvolved(code: 7, message: "", FetchRequest(url: "http://a.example/", proxy: ""), settings))
        XCTAssertEqual(Fetcher.proxyInvolved(code: 97, message: "", FetchRequest(url: "http://a.example/"), settings), dead)
        XCTAssertNil(Fetcher.proxyInvolved(code: 28, message: "Operation timed out after 30000 ms", FetchRequest(url: "http://a.example/"), settings))
        // Credentials never reach a message (the log, the database, the web view).
        settings.proxy = "http://user:s3cret@proxy.lan:3128"
        XCTAssertEqual(Fetcher.proxyInvolved(code: 7, message: "", FetchRequest(url: "http://a.example/"), settings), "http://…@proxy.lan:3128")
        XCTAssertEqual(Fetcher.redacted("socks5h://127.0.0.1:9050"), "socks5h://127.0.0.1:9050")
    }

    func testNoProxyBypassesTheProxy() async throws {
        let server = try TestHTTPServer()
        server.put("/direct", "direct")
        let f = makeFetcher { $0.proxy = "http://127.0.0.1:\(unusedPort())"; $0.noProxy = "127.0.0.1" }
        defer { f.shutdown() }
        let r = try await f.fetch(FetchRequest(url: server.baseURL + "/direct")).get()
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "direct")
    }

    func testDNSFailureNamesTheHost() async throws {
        // A 70-character label is not a valid DNS name: the resolver fails it locally, so the
        // test sends nothing to any name server.
        let host = String(repeating: "a", count: 70) + ".invalid"
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: "http://\(host)/x"))
        XCTAssertEqual(r.failure, .transfer(code: 6, message: "Could not resolve host: \(host)"))
        XCTAssertEqual(r.failure?.description, "Could not resolve host: \(host) (curl error 6)")
        XCTAssertFalse(r.failure!.isTransient)
    }

    /// A host that drops packets: the connect times out, and the error names `connect_timeout`
    /// (libcurl 7.88 words it "Failed to connect … Timeout was reached"; it had been blamed on
    /// `timeout`).
    func testAConnectTimeoutNamesConnectTimeout() async throws {
        let hole = try Blackhole()
        let f = makeFetcher { $0.connectTimeout = 1; $0.timeout = 30 }
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: hole.baseURL + "/x"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("\(r)") }
        XCTAssertEqual(code, 28)
        XCTAssertTrue(message.hasPrefix("Failed to connect to 127.0.0.1 port \(hole.port) after "), message)
        XCTAssertTrue(message.hasSuffix(" (connect_timeout = 1s)"), message)
        XCTAssertTrue(r.failure!.isTimeout)
    }

    /// With a `HostHealth`, a host that gives no response `limit` times in a row is refused
    /// without a connection, queued requests included; without one, it is always tried.
    func testARequestToAHostThatStoppedAnsweringIsNotSent() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, hangUp: true) }
        let f = makeFetcher { $0.perHostConcurrency = 1 }
        defer { f.shutdown() }
        final class Lines: Sendable { let list = Mutex<[String]>([]) }
        let downs = Lines()
        let health = HostHealth(limit: 2) { host, error in downs.list.withLock { $0.append("\(host): \(error)") } }
        let results = await withTaskGroup(of: FetchError?.self) { group in
            for i in 0..<6 {
                group.addTask { await f.fetch(FetchRequest(url: server.baseURL + "/\(i)", health: health)).failure }
            }
            return await group.reduce(into: [FetchError?]()) { $0.append($1) }
        }
        let key = "127.0.0.1:\(server.port)"
        let empty = FetchError.transfer(code: 52, message: "Empty reply from server")
        XCTAssertEqual(server.requests.count, 2)
        XCTAssertEqual(results.filter { $0 == empty }.count, 2)
        XCTAssertEqual(results.filter { $0 == .hostDown(host: key, failures: 2, last: empty.description) }.count, 4)
        XCTAssertEqual(downs.list.withLock { $0 }, ["\(key): not tried: \(key) gave no response to 2 requests in a row in this run (last: Empty reply from server (curl error 52))"])
        XCTAssertEqual(FetchError.hostDown(host: key, failures: 2, last: empty.description).description,
                       "not tried: \(key) gave no response to 2 requests in a row in this run (last: Empty reply from server (curl error 52))")
        XCTAssertTrue(health.refuses(FetchRequest(url: server.baseURL + "/later"), defaultProxy: ""))
        let direct = await f.fetch(FetchRequest(url: server.baseURL + "/7"))
        XCTAssertEqual(direct.failure, empty)
        XCTAssertEqual(server.requests.count, 3)
    }

    /// A redirect to a host that does not answer charges that host, not the one that
    /// redirected (a feed redirector before dead links stays usable).
    func testAFailureAfterARedirectCountsAgainstItsTarget() async throws {
        let dead = unusedPort()
        let server = try TestHTTPServer()
        server.handler = { req in
            req.path.hasPrefix("/go/") ? .init(status: 302, headers: [("Location", "http://127.0.0.1:\(dead)\(req.path)")]) : .init(status: 200, body: Array("ok".utf8))
        }
        let f = makeFetcher { $0.perHostConcurrency = 1 }
        defer { f.shutdown() }
        let health = HostHealth(limit: 2)
        for i in 0..<3 {
            let r = await f.fetch(FetchRequest(url: server.baseURL + "/go/\(i)", health: health))
            XCTAssertNotNil(r.failure)
        }
        XCTAssertEqual(server.requests.count, 3, "the redirector is asked every time")
        XCTAssertTrue(health.refuses(FetchRequest(url: "http://127.0.0.1:\(dead)/x"), defaultProxy: ""))
        XCTAssertFalse(health.refuses(FetchRequest(url: server.baseURL + "/page"), defaultProxy: ""))
        let page = await f.fetch(FetchRequest(url: server.baseURL + "/page", health: health))
        XCTAssertEqual(try page.get().status, 200)
    }

    /// A 429 with `Retry-After` speaks for the host: no request to it starts before that time,
    /// whichever URL it was for (RFC 6585 section 4). One asking for longer than a run waits
    /// (`maxPause`) gives the host up for the run, naming the status and the wait.
    func testRetryAfterOnA429PausesTheWholeHost() async throws {
        let server = try TestHTTPServer()
        let first = Counter()
        server.handler = { _ in
            first.next() == 0 ? .init(status: 429, headers: [("Retry-After", "1")]) : .init(status: 200, body: Array("x".utf8))
        }
        let f = makeFetcher { $0.perHostConcurrency = 1 }
        defer { f.shutdown() }
        let health = HostHealth(limit: 3, maxPause: 30)
        let statuses = await withTaskGroup(of: Int?.self) { group in
            for i in 0..<3 {
                group.addTask { try? await f.fetch(FetchRequest(url: server.baseURL + "/\(i)", health: health)).get().status }
            }
            return await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses.compactMap { $0 }.sorted(), [200, 200, 429])
        let arrivals = server.requests.map(\.received).sorted()
        XCTAssertEqual(arrivals.count, 3)
        // The two others waited out the second the server asked for.
        XCTAssertGreaterThanOrEqual(arrivals[1].timeIntervalSince(arrivals[0]), 0.95)

        let busy = try TestHTTPServer()
        busy.handler = { _ in .init(status: 503, headers: [("Retry-After", "3600")]) }
        let impatient = HostHealth(limit: 3, maxPause: 30)
        let results = await withTaskGroup(of: Result<FetchResponse, FetchError>.self) { group in
            for i in 0..<4 { group.addTask { await f.fetch(FetchRequest(url: busy.baseURL + "/\(i)", health: impatient)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(busy.requests.count, 1)
        XCTAssertEqual(results.compactMap { try? $0.get().status }, [503])
        let refusal = FetchError.hostBusy(host: "127.0.0.1:\(busy.port)", status: 503, seconds: 3600)
        XCTAssertEqual(results.filter { $0.failure == refusal }.count, 3)
        XCTAssertEqual(refusal.description, "not tried: 127.0.0.1:\(busy.port) answered HTTP 503 Service Unavailable with Retry-After: 3600 in this run, longer than max_retry_delay")
    }

    func testTLSPeerIsVerifiedAndCAFileIsHonoured() async throws {
        let dir = TemporaryDirectory()
        let tls = try TLSServer(dir: dir)
        defer { tls.stop() }
        let untrusted = makeFetcher()
        defer { untrusted.shutdown() }
        let r = await untrusted.fetch(FetchRequest(url: "https://localhost:\(tls.port)/"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("expected a TLS error, got \(r)") }
        XCTAssertEqual(code, 60)  // CURLE_PEER_FAILED_VERIFICATION
        XCTAssertTrue(message.hasPrefix("SSL certificate problem"), message)
        XCTAssertFalse(r.failure!.isTransient)

        let trusting = makeFetcher { $0.caFile = dir.file("cert.pem") }
        defer { trusting.shutdown() }
        let ok = try await trusting.fetch(FetchRequest(url: "https://localhost:\(tls.port)/")).get()
        XCTAssertEqual(ok.status, 200)
    }
}

/// `openssl s_server -www` with a fresh self-signed certificate for `localhost`.
final class TLSServer {
    let process = Process()
    let port = unusedPort()

    init(dir: TemporaryDirectory) throws {
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        gen.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                         "-addext", "subjectAltName=DNS:localhost", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem")]
        gen.standardError = FileHandle.nullDevice
        try gen.run()
        gen.waitUntilExit()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", dir.file("cert.pem"),
                             "-key", dir.file("key.pem"), "-www", "-quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it accepts connections (bounded).
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if ok { return }
            usleep(20_000)
        }
    }

    /// s_server does not exit on SIGTERM while it waits for a connection: SIGKILL it.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
