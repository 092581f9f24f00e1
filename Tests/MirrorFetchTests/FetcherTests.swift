import Foundation
import MirrorCore
@testable import MirrorFetch
import TestSupport
import XCTest

final class FetcherTests: XCTestCase {
    func makeFetcher(_ change: (inout HTTPSettings) -> Void = { _ in }) -> Fetcher {
        var s = HTTPSettings()
        s.timeout = 5
        s.userAgent = "mirrord-test/1"
        change(&s)
        return Fetcher(settings: s)
    }

    func testValidatorsAreSentExactlyAsReceived() async throws {
        let server = try TestHTTPServer()
        server.handler = { req in
            .init(status: req.headers["if-none-match"] == "W/\"x-1\"" ? 304 : 200,
                  headers: [("ETag", "W/\"x-1\""), ("Last-Modified", "Tue, 05 Mar 2024 12:00:00 GMT")], body: Array("body".utf8))
        }
        let f = makeFetcher()
        defer { f.shutdown() }
        let first = try await f.fetch(FetchRequest(url: server.baseURL + "/a")).get()
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.etag, "W/\"x-1\"")
        XCTAssertEqual(first.lastModified, "Tue, 05 Mar 2024 12:00:00 GMT")
        XCTAssertEqual(first.body, Array("body".utf8))
        XCTAssertNil(server.requests[0].headers["if-none-match"])
        XCTAssertEqual(server.requests[0].headers["user-agent"], "mirrord-test/1")

        let second = try await f.fetch(FetchRequest(url: server.baseURL + "/a", etag: first.etag, lastModified: first.lastModified)).get()
        XCTAssertEqual(second.status, 304)
        XCTAssertTrue(second.body.isEmpty)
        XCTAssertEqual(server.requests[1].headers["if-none-match"], "W/\"x-1\"")
        XCTAssertEqual(server.requests[1].headers["if-modified-since"], "Tue, 05 Mar 2024 12:00:00 GMT")
    }

    /// Header lines are read as bytes (RFC 9112 section 5): names match whatever their case,
    /// optional whitespace (SP, HTAB) around a value is not part of it, inner spaces are.
    func testHeaderFieldsAreTrimmedOfOptionalWhitespaceAndNamesMatchInAnyCase() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in
            .init(status: 200, headers: [("eTaG", "\t \"v-1\"  \t"), ("LAST-MODIFIED", " Tue, 05 Mar 2024 12:00:00 GMT"),
                                         ("Content-Type", "text/markdown;  charset=utf-8\t")], body: Array("x".utf8))
        }
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = try await f.fetch(FetchRequest(url: server.baseURL + "/a")).get()
        XCTAssertEqual(r.etag, "\"v-1\"")
        XCTAssertEqual(r.lastModified, "Tue, 05 Mar 2024 12:00:00 GMT")
        XCTAssertEqual(r.contentType, "text/markdown;  charset=utf-8")
    }

    func testBodyOverTheLimitIsAbortedAnnouncedOrNot() async throws {
        let server = try TestHTTPServer()
        let big = [UInt8](repeating: 0x61, count: 50_000)
        server.handler = { req in
            req.path == "/chunked" ? .init(status: 200, headers: [("Transfer-Encoding", "chunked")], body: big)
                                   : .init(status: 200, body: big)
        }
        let f = makeFetcher { $0.maxBodyBytes = 10_000 }
        defer { f.shutdown() }
        for path in ["/announced", "/chunked"] {
            let r = await f.fetch(FetchRequest(url: server.baseURL + path))
            XCTAssertEqual(r.failure, .tooLarge(limit: 10_000), path)
            XCTAssertEqual(r.failure?.description, "body too large (over max_body_bytes = 10000)")
        }
    }

    func testTimeoutIsAClearError() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("late".utf8), delay: 3) }
        let f = makeFetcher { $0.timeout = 0.5 }
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: server.baseURL + "/slow"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("expected a transfer error, got \(r)") }
        XCTAssertEqual(code, 28)  // CURLE_OPERATION_TIMEDOUT
        XCTAssertTrue(message.hasPrefix("Operation timed out after"), message)
    }

    func testConnectionRefusedNamesTheReason() async throws {
        let port = unusedPort()
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = await f.fetch(FetchRequest(url: "http://127.0.0.1:\(port)/x"))
        guard case let .transfer(code, message)? = r.failure else { return XCTFail("expected a transfer error, got \(r)") }
        XCTAssertEqual(code, 7)  // CURLE_COULDNT_CONNECT
        XCTAssertTrue(message.contains("Connection refused") || message.contains("Couldn't connect"), message)
    }

    func testRedirectIsFollowedAndReported() async throws {
        let server = try TestHTTPServer()
        server.put("/new", "moved here")
        server.handler = { req in req.path == "/old" ? .init(status: 301, headers: [("Location", "/new")]) : nil }
        let f = makeFetcher()
        defer { f.shutdown() }
        let r = try await f.fetch(FetchRequest(url: server.baseURL + "/old")).get()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, Array("moved here".utf8))
        XCTAssertEqual(r.effectiveURL, server.baseURL + "/new")
        XCTAssertEqual(r.contentType, "text/plain; charset=utf-8")
    }

    func testFileURLsAreRead() async throws {
        let dir = TemporaryDirectory()
        try dir.write("页面.md", "### 标题\n")
        let f = makeFetcher()
        defer { f.shutdown() }
        let url = "file://" + Paths.percentEncodePath(dir.file("页面.md"))
        let r = try await f.fetch(FetchRequest(url: url)).get()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "### 标题\n")
        let missing = await f.fetch(FetchRequest(url: "file:///nonexistent/x.md"))
        guard case let .transfer(code, _)? = missing.failure else { return XCTFail("expected an error, got \(missing)") }
        XCTAssertEqual(code, 37)  // CURLE_FILE_COULDNT_READ_FILE
    }

    func testSeveralTransfersAreInFlightAtOnce() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("x".utf8), delay: 0.8) }
        let f = makeFetcher { $0.concurrency = 4; $0.perHostConcurrency = 4 }
        defer { f.shutdown() }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<4 { group.addTask { _ = await f.fetch(FetchRequest(url: server.baseURL + "/\(i)")) } }
        }
        let arrivals = server.requests.map(\.received)
        XCTAssertEqual(arrivals.count, 4)
        // One at a time, each request would arrive only after the previous 0.8 s answer.
        XCTAssertLessThan(arrivals.max()!.timeIntervalSince(arrivals.min()!), 0.7)
    }

    /// libcurl's CURLOPT_TIMEOUT counts the time a transfer waits behind
    /// CURLMOPT_MAX_HOST_CONNECTIONS: queued there, the third of three 0.6 s answers from one
    /// host at one connection failed at timeout = 1s ("Failed to resolve host … with timeout
    /// after 0 ms") without being requested. Queued in the fetcher, each gets its whole second.
    func testTheTimeoutCountsFromTheRequestNotFromTheQueueForItsHost() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("x".utf8), delay: 0.6) }
        let f = makeFetcher { $0.concurrency = 8; $0.perHostConcurrency = 1; $0.timeout = 1 }
        defer { f.shutdown() }
        let results = await withTaskGroup(of: Result<FetchResponse, FetchError>.self) { group in
            for i in 0..<3 { group.addTask { await f.fetch(FetchRequest(url: server.baseURL + "/\(i)")) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.compactMap { try? $0.get().status }, [200, 200, 200], "\(results)")
        XCTAssertEqual(server.requests.count, 3)
    }

    /// What `per_host_concurrency` counts: one key per host and port, whatever the case,
    /// userinfo or an explicit default port.
    func testHostKeys() {
        let cases: KeyValuePairs<String, String?> = [
            "http://Example.ORG/a?b#c": "example.org:80",
            "https://example.org": "example.org:443",
            "HTTPS://user:pw@example.org:8443/x": "example.org:8443",
            "http://example.org:/x": "example.org:80",
            "http://[2001:DB8::1]/x": "[2001:db8::1]:80",
            "http://[2001:db8::1]:8080": "[2001:db8::1]:8080",
            "http://127.0.0.1:34567/pages/1.md": "127.0.0.1:34567",
            "http://example.org:080/": "example.org:80",
            "https://example.org./a": "example.org:443",
            "http://example.org:x/": nil,
            "file:///srv/site/README.md": nil,
            "http:///path": nil,
            "not a url": nil,
        ]
        for (url, key) in cases { XCTAssertEqual(Transfer.hostKey(url), key, url) }
    }

    func testPerHostLimitQueuesTheRest() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("x".utf8), delay: 0.6) }
        let f = makeFetcher { $0.concurrency = 8; $0.perHostConcurrency = 2 }
        defer { f.shutdown() }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<6 { group.addTask { _ = await f.fetch(FetchRequest(url: server.baseURL + "/\(i)")) } }
        }
        let arrivals = server.requests.map(\.received).sorted()
        XCTAssertEqual(arrivals.count, 6)
        // Two connections to the host: requests arrive in pairs, a response time apart.
        for (i, t) in arrivals.enumerated() {
            let overlapping = arrivals[..<i].filter { t.timeIntervalSince($0) < 0.4 }.count + 1
            XCTAssertLessThanOrEqual(overlapping, 2, "request \(i) arrived while two were in flight")
        }
        XCTAssertGreaterThan(arrivals.last!.timeIntervalSince(arrivals.first!), 1.0)
    }

    /// A request queued behind `per_host_concurrency` starts when the transfer before it ends.
    /// It had waited for the fetch thread's poll to time out (1 s) when nothing else was in
    /// flight: a host at `per_host_concurrency = 1` got one page a second.
    func testAQueuedRequestStartsAsSoonAsItsHostHasASlot() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("x".utf8)) }
        let f = makeFetcher { $0.concurrency = 8; $0.perHostConcurrency = 1 }
        defer { f.shutdown() }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<5 { group.addTask { _ = await f.fetch(FetchRequest(url: server.baseURL + "/\(i)")) } }
        }
        let arrivals = server.requests.map(\.received).sorted()
        XCTAssertEqual(arrivals.count, 5)
        // Each gap was a whole poll timeout (1 s); a slot freed now costs a loop turn.
        for (a, b) in zip(arrivals, arrivals.dropFirst()) {
            XCTAssertLessThan(b.timeIntervalSince(a), 0.5)
        }
    }

    /// `Retry-After: 9223372036854775807` (Int.max) had become 2^63 seconds, whose conversion
    /// back to an integer aborted the daemon on the fetch thread; it is read as a year at most.
    func testAHugeRetryAfterIsAYearAndNoCrash() async throws {
        XCTAssertEqual(RetryPolicy.retryAfter("9223372036854775807", now: Date()), RetryPolicy.longestRetryAfter)
        XCTAssertEqual(RetryPolicy.retryAfter("99999999999999999999999999", now: Date()), RetryPolicy.longestRetryAfter)
        XCTAssertEqual(RetryPolicy.retryAfter("120", now: Date()), 120)
        XCTAssertNil(RetryPolicy.retryAfter("-5", now: Date()))
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 503, headers: [("Retry-After", "9223372036854775807")]) }
        let f = makeFetcher()
        defer { f.shutdown() }
        let health = HostHealth(limit: 3, maxPause: 30)
        let first = await f.fetch(FetchRequest(url: server.baseURL + "/a", health: health))
        XCTAssertEqual(try first.get().status, 503)
        let second = await f.fetch(FetchRequest(url: server.baseURL + "/b", health: health))
        XCTAssertEqual(second.failure, .hostBusy(host: "127.0.0.1:\(server.port)", status: 503, seconds: 366 * 86400))
    }

    func testCancellationAbortsTheTransfer() async throws {
        let server = try TestHTTPServer()
        server.handler = { _ in .init(status: 200, body: Array("x".utf8), delay: 4) }
        let f = makeFetcher()
        defer { f.shutdown() }
        let task = Task { await f.fetch(FetchRequest(url: server.baseURL + "/slow")) }
        while server.requests.isEmpty { try await Task.sleep(nanoseconds: 10_000_000) }
        task.cancel()
        let r = await task.value
        XCTAssertEqual(r.failure, .cancelled)
    }
}

extension Result {
    var failure: Failure? {
        if case let .failure(e) = self { return e }
        return nil
    }
}

/// A loopback port that was free a moment ago: bound, read back and closed synchronously.
func unusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
