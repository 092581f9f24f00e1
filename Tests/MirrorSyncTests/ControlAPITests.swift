import Foundation
import MirrorControl
import MirrorCore
import MirrorFetch
import MirrorSync
import NIOPosix
import TestSupport
import XCTest

/// The control API over a real Unix socket, with `mirrorctl`'s client.
final class ControlAPITests: XCTestCase {
    /// The blocking client off the cooperative pool, so the in-process server keeps running.
    func call(_ client: ControlClient, _ method: String, _ path: String, body: [String: Any]? = nil) async throws -> Any {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let bytes = try await Task.detached {
            let object = try payload.map { try JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? nil
            return try client.call(method, path, body: object, timeout: 30).1
        }.value
        return try JSONSerialization.jsonObject(with: Data(bytes))
    }

    /// The coordinator behind the socket of the current `withControl`.
    var coordinator: SyncCoordinator!

    func withControl(_ body: (Harness, ControlClient) async throws -> Void) async throws {
        let h = try Harness()
        let coordinator = SyncCoordinator(engine: h.engine)
        self.coordinator = coordinator
        let router = ControlRouter(coordinator: coordinator, database: h.database, blobs: h.blobs)
        let server = ControlServer(socketPath: h.config.controlSocket, router: router)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await server.bind(group: group)
        do {
            try await body(h, ControlClient(socket: h.config.controlSocket))
        } catch {
            await server.close()
            try? await group.shutdownGracefully()
            throw error
        }
        await server.close()
        try await group.shutdownGracefully()
    }

    func testALiveSocketIsNeverTakenOverAndAStaleOneIsReplaced() async throws {
        try await withControl { h, client in
            // A second server (say, another mirrord with another state_dir) on the same path.
            let other = ControlServer(socketPath: h.config.controlSocket, router: ControlRouter(
                coordinator: SyncCoordinator(engine: h.engine), database: h.database, blobs: h.blobs))
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            do {
                try await other.bind(group: group)
                XCTFail("bound over a live socket")
            } catch let e as ControlSocketError {
                XCTAssertEqual(e.description, "\(h.config.controlSocket): another process is serving this socket (another mirrord with a different state_dir?)")
            }
            try await group.shutdownGracefully()
            _ = try await call(client, "GET", "/v1/status")  // the first one still answers
        }
        // After close, a leftover socket file (as after kill -9) is replaced.
        let h = try Harness()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        try FileManager.default.createDirectory(atPath: (h.config.controlSocket as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(h.config.controlSocket.utf8); raw.copyBytes(from: b); raw[b.count] = 0
        }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)  // bound, never listened, closed: a stale socket file
        let server = ControlServer(socketPath: h.config.controlSocket, router: ControlRouter(
            coordinator: SyncCoordinator(engine: h.engine), database: h.database, blobs: h.blobs))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await server.bind(group: group)
        await server.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.config.controlSocket))
        try await group.shutdownGracefully()
    }

    func testSocketIsGivenToTheConfiguredGroup() async throws {
        let h = try Harness()
        let group = getgrnam("nogroup") != nil ? "nogroup" : "daemon"
        let gid = try XCTUnwrap(getgrnam(group)).pointee.gr_gid
        let server = ControlServer(socketPath: h.config.controlSocket,
                                   router: ControlRouter(coordinator: SyncCoordinator(engine: h.engine), database: h.database, blobs: h.blobs),
                                   group: group)
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await server.bind(group: loop)
        var st = stat()
        XCTAssertEqual(stat(h.config.controlSocket, &st), 0)
        XCTAssertEqual(st.st_gid, gid)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)
        await server.close()
        try await loop.shutdownGracefully()
    }

    func testSocketIsCreatedMode0660() async throws {
        try await withControl { h, _ in
            var st = stat()
            XCTAssertEqual(stat(h.config.controlSocket, &st), 0)
            XCTAssertEqual(st.st_mode & 0o777, 0o660)
            XCTAssertEqual(st.st_mode & S_IFMT, S_IFSOCK)
        }
    }

    func testSyncNowWaitReturnsTheRunAndStatusShowsIt() async throws {
        try await withControl { h, client in
            let answer = try await call(client, "POST", "/v1/sync", body: ["wait": true])
            let run = try XCTUnwrap((answer as? [String: Any])?["run"] as? [String: Any])
            XCTAssertEqual(run["status"] as? String, "completed")
            XCTAssertEqual(run["new_documents"] as? Int, 6)
            XCTAssertEqual(run["new_revisions"] as? Int, 6)
            XCTAssertEqual(run["trigger"] as? String, "manual")

            let status = try await call(client, "GET", "/v1/status")
            let s = try XCTUnwrap(status as? [String: Any])
            XCTAssertEqual(s["state"] as? String, "idle")
            XCTAssertEqual(s["daemon"] as? String, "running")
            XCTAssertNotNil(s["uptime_s"] as? Int)
            let last = try XCTUnwrap(s["last_run"] as? [String: Any])
            XCTAssertEqual(last["id"] as? Int, run["id"] as? Int)
            XCTAssertEqual(last["new_versions"] as? Int, 6)
            let totals = try XCTUnwrap(s["totals"] as? [String: Any])
            XCTAssertEqual(totals["documents"] as? Int, 6)
            XCTAssertEqual(totals["articles"] as? Int, 3)
            XCTAssertEqual(totals["indexes"] as? Int, 3)
            let sources = try XCTUnwrap(s["sources"] as? [[String: Any]])
            XCTAssertEqual(sources.first?["name"] as? String, "town")
            XCTAssertTrue(sources.first?["last_error"] is NSNull)

            let docs = try await call(client, "GET", "/v1/documents?kind=article")
            let list = try XCTUnwrap(docs as? [[String: Any]])
            XCTAssertEqual(list.map { $0["url"] as? String }, [201, 202, 203].map { h.url("/pages/1/\($0).md") })
        }
    }

    /// `sync now --all` during a plain run is not that run: it is queued as a run after it
    /// (it had joined the plain run and returned its result, and no `--all` run happened). A
    /// plain request during the plain run joins it. The plain run is held on one slow article.
    func testAllDuringAPlainRunIsQueuedAfterIt() async throws {
        try await withControl { h, client in
            _ = try await call(client, "POST", "/v1/sync", body: ["wait": true])  // everything known
            h.server.clearRequests()
            let gate = DispatchSemaphore(value: 0)
            let held = NSLock()
            nonisolated(unsafe) var holding = true
            h.server.handler = { req in
                guard req.path == "/pages/1/203.md" else { return nil }
                held.lock()
                let hold = holding
                holding = false
                held.unlock()
                if hold { gate.wait() }  // the plain run's check of 203, until the requests below are in
                return nil
            }
            h.clock.advance(3 * 86400)  // articles due again: the plain run checks 203
            // Calls that block until a run ends go on threads of their own: on the two threads of
            // the cooperative pool they would leave none for the server that answers them.
            func post(_ body: [String: Bool]) -> Task<[UInt8], Error> {
                Task {
                    try await withCheckedThrowingContinuation { answer in
                        Thread.detachNewThread {
                            answer.resume(with: Result { try client.call("POST", "/v1/sync", body: body, timeout: 60).1 })
                        }
                    }
                }
            }
            let plain = post(["wait": true])
            while !h.server.requests.contains(where: { $0.path == "/pages/1/203.md" }) { try await Task.sleep(nanoseconds: 5_000_000) }

            let joinedAnswer = try await call(client, "POST", "/v1/sync", body: [:])
            let joined = try XCTUnwrap(joinedAnswer as? [String: Any])
            XCTAssertEqual(joined["coalesced"] as? Bool, true)
            XCTAssertEqual(joined["queued"] as? Bool, false)
            let all = post(["all": true, "wait": true])
            while await coordinator.queuedRun == nil { try await Task.sleep(nanoseconds: 5_000_000) }
            let queued = await coordinator.queuedRun
            XCTAssertEqual(queued?.all, true)
            gate.signal()

            let firstBytes = try await plain.value, allBytes = try await all.value
            let first = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(firstBytes)) as? [String: Any])?["run"] as? [String: Any])
            let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(allBytes)) as? [String: Any])
            XCTAssertEqual(answer["queued"] as? Bool, true)
            let second = try XCTUnwrap(answer["run"] as? [String: Any])
            XCTAssertEqual(second["id"] as? Int, (first["id"] as? Int).map { $0 + 1 })
            XCTAssertEqual((second["fetched"] as? Int ?? 0) + (second["not_modified"] as? Int ?? 0), 6, "every document, --all")
        }
    }

    /// A `--wait` whose run a stop cancels hears that it was interrupted (it had read 500 "run
    /// failed: CancellationError()"). Here the waiting request is the queued `--all` run, so
    /// the test knows it is in before the stop.
    func testAWaitEndedByAStopSaysTheRunWasInterrupted() async throws {
        try await withControl { h, client in
            _ = try await call(client, "POST", "/v1/sync", body: ["wait": true])
            h.server.clearRequests()
            let gate = DispatchSemaphore(value: 0)
            h.server.handler = { req in
                if req.path == "/pages/1/203.md" { gate.wait() }
                return nil
            }
            h.clock.advance(3 * 86400)
            _ = try await call(client, "POST", "/v1/sync", body: [:])  // the plain run, held on 203
            while !h.server.requests.contains(where: { $0.path == "/pages/1/203.md" }) { try await Task.sleep(nanoseconds: 5_000_000) }
            let waiting = Task {
                try await withCheckedThrowingContinuation { (answer: CheckedContinuation<Int, Error>) in
                    Thread.detachNewThread {
                        do {
                            _ = try client.call("POST", "/v1/sync", body: ["all": true, "wait": true], timeout: 60)
                            answer.resume(returning: 200)
                        } catch ControlClient.Failure.api(let status, let message) {
                            XCTAssertEqual(message, "the run was interrupted (mirrord is stopping); it is recorded as interrupted")
                            answer.resume(returning: status)
                        } catch {
                            answer.resume(throwing: error)
                        }
                    }
                }
            }
            while await coordinator.queuedRun == nil { try await Task.sleep(nanoseconds: 5_000_000) }
            let coordinator: SyncCoordinator = self.coordinator
            let stop = Task { await coordinator.cancelAndWait() }
            gate.signal()
            await stop.value
            let status = try await waiting.value
            XCTAssertEqual(status, 503)
            h.server.handler = nil
        }
    }

    /// Which run does what a `sync now` asks, and what the queued run takes in.
    func testRunOptionsCoverAndMerge() {
        let plain = RunOptions(trigger: "t"), all = RunOptions(trigger: "t", all: true)
        let town = RunOptions(trigger: "t", source: "town"), school = RunOptions(trigger: "t", source: "school")
        XCTAssertTrue(plain.covers(plain))
        XCTAssertTrue(plain.covers(town))
        XCTAssertFalse(plain.covers(all))
        XCTAssertTrue(all.covers(plain))
        XCTAssertFalse(town.covers(plain))
        XCTAssertFalse(town.covers(school))
        XCTAssertTrue(RunOptions(trigger: "t", all: true, source: "town").covers(town))
        XCTAssertEqual(town.merged(with: school), plain)
        XCTAssertEqual(town.merged(with: RunOptions(trigger: "x", all: true, source: "town")), RunOptions(trigger: "t", all: true, source: "town"))
        XCTAssertEqual(plain.merged(with: all), all)
    }

    /// A revision that only retitles an article names the field: its paragraph counts alone
    /// (+0 -0 ~0) had read as if nothing changed.
    func testTheLogNamesTheHeaderFieldsARevisionChanged() async throws {
        let h = try Harness()
        _ = try await h.sync()
        var site = FixtureSite.standard()
        site.edit(201) { $0.title = "松溪镇步行桥修缮完工恢复通行" }
        site.publish(to: h.server)
        _ = try await h.sync(all: true)
        let log = try History(database: h.database, blobs: h.blobs, config: h.config).log(url: h.url("/pages/1/201.md"))
        XCTAssertEqual(log.map { [$0["added"] as? Int, $0["removed"] as? Int, $0["changed"] as? Int] }, [[3, 0, 0], [0, 0, 0]])
        XCTAssertEqual(log.map { $0["fields_changed"] as? [String] }, [[], ["title"]])
    }

    func testRevisionsShowAndDiff() async throws {
        try await withControl { h, client in
            _ = try await call(client, "POST", "/v1/sync", body: ["wait": true])
            var site = FixtureSite.standard()
            site.edit(201) { $0.paragraphs[1] = "附近居民说，以前绕行要多走半小时，现在上学和买菜都方便多了。" }
            site.publish(to: h.server)
            _ = try await call(client, "POST", "/v1/sync", body: ["wait": true, "all": true])
            let url = h.url("/pages/1/201.md")
            let q = url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!

            let logAnswer = try await call(client, "GET", "/v1/revisions?url=\(q)")
            let log = try XCTUnwrap(logAnswer as? [[String: Any]])
            XCTAssertEqual(log.map { $0["revision"] as? Int }, [1, 2])
            XCTAssertEqual(log.map { [$0["added"] as? Int, $0["removed"] as? Int, $0["changed"] as? Int] }, [[3, 0, 0], [0, 0, 1]])

            let text = String(decoding: try await raw(client, "/v1/diff?url=\(q)&context=0"), as: UTF8.self)
            let lines = text.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 4)
            XCTAssertTrue(lines[0].hasPrefix("--- \(url) r1 ("))
            XCTAssertTrue(lines[1].hasPrefix("+++ \(url) r2 ("))
            XCTAssertEqual(Array(lines[2...]), [
                "@@ -2 +2 @@",
                "~ 附近居民说，以前绕行要多走[-二十分钟-]{+半小时+}，现在上学和买菜都方便多了。",
            ])

            let html = String(decoding: try await raw(client, "/v1/diff?url=\(q)&format=html"), as: UTF8.self)
            XCTAssertTrue(html.contains("<del>二十分钟</del>"))
            XCTAssertTrue(html.contains("<ins>半小时</ins>"))

            let shown = String(decoding: try await raw(client, "/v1/show?url=\(q)&rev=1"), as: UTF8.self)
            XCTAssertTrue(shown.contains("revision: 1\n"))
            XCTAssertTrue(shown.contains("以前绕行要多走二十分钟"))
            let rawBytes = try await raw(client, "/v1/show?url=\(q)&rev=2&format=raw")
            XCTAssertEqual(rawBytes, Array(site.files()["/pages/1/201.md"]!.utf8))

            await expectAPIError(404, "\(url): no revision 7 (it has r1…r2)", "revision 7") {
                try await self.raw(client, "/v1/show?url=\(q)&rev=7")
            }

            // A negative context is refused; a huge one shows every paragraph. Both had
            // trapped in the hunk arithmetic and killed the daemon.
            for bad in ["-5", "abc", "-9223372036854775808"] {
                await expectAPIError(400, "context=\(bad) is not a number of paragraphs, 0 or more", "context \(bad)") {
                    try await self.raw(client, "/v1/diff?url=\(q)&context=\(bad)")
                }
            }
            let all = String(decoding: try await raw(client, "/v1/diff?url=\(q)&context=9223372036854775807"), as: UTF8.self)
            XCTAssertEqual(all.split(separator: "\n").count, 2 + 1 + 3, all)  // labels, one hunk, three paragraphs
            let status = try await call(client, "GET", "/v1/status") as? [String: Any]
            XCTAssertNotNil(status?["state"], "the daemon still answers")
        }
    }

    func testOversizedBodiesAreRefused() async throws {
        try await withControl { h, client in
            await expectAPIError(413, "request body over 65536 bytes", "a 70 KB body") {
                try await self.call(client, "POST", "/v1/sync", body: ["source": String(repeating: "a", count: 70_000)])
            }
        }
    }

    func testReparseEndpoint() async throws {
        try await withControl { _, client in
            _ = try await call(client, "POST", "/v1/sync", body: ["wait": true])
            let first = try await call(client, "POST", "/v1/reparse", body: [:])
            let nothing = try XCTUnwrap(first as? [String: Any])
            XCTAssertEqual(nothing["documents"] as? Int, 0, "nothing outdated")
            let second = try await call(client, "POST", "/v1/reparse", body: ["force": true])
            let forced = try XCTUnwrap(second as? [String: Any])
            XCTAssertEqual(forced["documents"] as? Int, 6)
            XCTAssertEqual(forced["revisions_before"] as? Int, forced["revisions_after"] as? Int)
        }
    }

    /// The exposition parses as Prometheus text format 0.0.4: HELP/TYPE lines, then samples
    /// `name{label="value",…} number`, every sample's family declared.
    func testMetricsParseAsPrometheusText() async throws {
        try await withControl { h, client in
            h.server.remove("/pages/1/203.md")
            _ = try await call(client, "POST", "/v1/sync", body: ["wait": true])
            let text = String(decoding: try await raw(client, "/metrics"), as: UTF8.self)
            var types: [String: String] = [:]
            var samples: [String: Double] = [:]
            let sample = try Regex(#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$"#)
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    XCTAssertEqual(parts.count, 4, String(line))
                    XCTAssertTrue(["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])), String(line))
                    types[String(parts[2])] = String(parts[3])
                } else if line.hasPrefix("# HELP ") {
                    continue
                } else {
                    let m = try XCTUnwrap(try sample.wholeMatch(in: String(line)), "not a sample line: \(line)")
                    let name = String(m.output[1].substring!)
                    let family = ["_bucket", "_sum", "_count"].reduce(name) { n, s in types[n] == nil && n.hasSuffix(s) ? String(n.dropLast(s.count)) : n }
                    XCTAssertNotNil(types[family], "sample before its TYPE: \(line)")
                    samples[String(line.split(separator: " ")[0])] = Double(line.split(separator: " ").last!)
                }
            }
            XCTAssertEqual(types["mirrord_fetches_total"], "counter")
            XCTAssertEqual(samples["mirrord_fetches_total{class=\"2xx\"}"], 5)
            XCTAssertEqual(samples["mirrord_fetches_total{class=\"4xx\"}"], 1)
            XCTAssertEqual(samples["mirrord_errors_total{kind=\"gone\"}"], 1)
            XCTAssertEqual(samples["mirrord_documents{kind=\"article\"}"], 3)
            XCTAssertEqual(samples["mirrord_runs_total{trigger=\"manual\",status=\"completed\"}"], 1)
            XCTAssertEqual(types["mirrord_run_duration_seconds"], "histogram")
            XCTAssertEqual(samples["mirrord_run_duration_seconds_count"], 1)
            XCTAssertNotNil(samples["mirrord_due_documents"])
        }
    }

    /// `request` must fail with this API status and message.
    func expectAPIError(_ status: Int, _ message: String, _ what: String, line: UInt = #line,
                        _ request: () async throws -> Any) async {
        do {
            _ = try await request()
            XCTFail("\(what) succeeded", line: line)
        } catch let ControlClient.Failure.api(s, m) {
            XCTAssertEqual(s, status, what, line: line)
            XCTAssertEqual(m, message, what, line: line)
        } catch {
            XCTFail("\(what): \(error)", line: line)
        }
    }

    func raw(_ client: ControlClient, _ path: String) async throws -> [UInt8] {
        try await Task.detached { try client.callRaw("GET", path) }.value
    }

    func testBadRequestsGetJSONErrors() async throws {
        try await withControl { _, client in
            func expect(_ method: String, _ path: String, _ body: [String: Any]?, status: Int, message: String,
                        line: UInt = #line) async {
                await expectAPIError(status, message, "\(method) \(path)", line: line) {
                    try await self.call(client, method, path, body: body)
                }
            }
            await expect("GET", "/v1/nothing", nil, status: 404, message: "no endpoint /v1/nothing")
            await expect("DELETE", "/v1/status", nil, status: 405, message: "DELETE not allowed on /v1/status")
            await expect("POST", "/v1/sync", ["source": "nope"], status: 404, message: "no source named 'nope' (configured: town)")
            await expect("POST", "/v1/sync", ["al": true], status: 400, message: "unknown field 'al' (known: source, all, wait)")
            await expect("GET", "/v1/revisions?url=http%3A%2F%2Fx%2Fy", nil, status: 404,
                         message: "http://x/y: not a mirrored document (see mirrorctl list)")
            // A filter that cannot match is a mistake, as mirrorctl list says (it had answered []).
            await expect("GET", "/v1/documents?kind=zzz", nil, status: 400, message: "kind=zzz is not index, article, asset")
            await expect("GET", "/v1/documents?source=nope", nil, status: 404, message: "no source named 'nope' (configured: town)")
            await expect("GET", "/v1/runs?limit=abc", nil, status: 400, message: "limit=abc is not a number of runs, 1 or more")
        }
    }

    /// Every endpoint that takes a body reads it by the same rules: RFC 8259's grammar (no
    /// trailing comma, nothing after the object), declared field types (no number for a
    /// boolean), no unknown or repeated field; the 400 names the field or the byte.
    func testRequestBodiesAreStrictJSONOnEveryEndpoint() async throws {
        try await withControl { _, client in
            func post(_ path: String, _ body: String, line: UInt = #line) async throws -> String {
                let socket = client.socket
                let r = try await Task.detached {
                    try UnixSocketHTTP.request(socket: socket, method: "POST", path: path, body: Array(body.utf8), timeout: 30)
                }.value
                XCTAssertEqual(r.status, 400, "\(path) \(body)", line: line)
                return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["error"] as? String ?? ""
            }
            for path in ["/v1/sync", "/v1/reparse"] {
                var answer = try await post(path, #"{"source": "town",}"#)
                XCTAssertEqual(answer, "request body is not valid JSON: trailing comma before '}' at byte 18", path)
                answer = try await post(path, #"{"source": "town"} x"#)
                XCTAssertEqual(answer, "request body is not valid JSON: unexpected bytes after the object at byte 19", path)
                answer = try await post(path, "[true]")
                XCTAssertEqual(answer, #"request body must be a JSON object ({"…": …})"#, path)
                answer = try await post(path, "[true")
                XCTAssertEqual(answer, "request body is not valid JSON: expected a JSON object at byte 0", path)
                answer = try await post(path, #"{"source": 7}"#)
                XCTAssertEqual(answer, "'source' must be a string, not a number", path)
                answer = try await post(path, #"{"source": "town", "source": "town"}"#)
                XCTAssertEqual(answer, "field 'source' is given twice", path)
            }
            var answer = try await post("/v1/reparse", #"{"force": 1}"#)
            XCTAssertEqual(answer, "'force' must be true or false, not a number")
            answer = try await post("/v1/sync", #"{"wait": "yes"}"#)
            XCTAssertEqual(answer, "'wait' must be true or false, not a string")
            answer = try await post("/v1/reparse", #"{"forse": true}"#)
            XCTAssertEqual(answer, "unknown field 'forse' (known: source, force)")
        }
    }

    func testClientReportsDaemonNotRunning() throws {
        let dir = TemporaryDirectory()
        let client = ControlClient(socket: dir.file("absent.sock"))
        XCTAssertThrowsError(try client.call("GET", "/v1/status")) { error in
            guard case ControlClient.Failure.daemonNotRunning(let message) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(message, "daemon not running (\(dir.file("absent.sock")): no such socket)")
        }
    }
}
