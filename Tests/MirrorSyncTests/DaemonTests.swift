import Foundation
import TestSupport
import XCTest

/// The daemon under a systemd-like supervisor: sd_notify messages, reload, stop, verify.
final class DaemonTests: XCTestCase {
    static let products = Tool.products

    /// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init(path: String) {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                let b = Array(path.utf8); raw.copyBytes(from: b); raw[b.count] = 0
            }
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// The next message, or nil after `timeout` seconds.
        func receive(timeout: Double) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            var buf = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { return String(decoding: buf[0..<n], as: UTF8.self) }
            }
            return nil
        }

        /// Messages until one satisfies `done` (included), or the timeout.
        func receive(until done: (String) -> Bool, timeout: Double) -> [String] {
            var out: [String] = []
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline, let m = receive(timeout: deadline.timeIntervalSinceNow) {
                out.append(m)
                if done(m) { break }
            }
            return out
        }
    }

    func writeConfig(_ dir: TemporaryDirectory, server: TestHTTPServer, extraSource: String = "") throws -> String {
        try Tool.writeConfig(dir, server: server, extra: "[http]\ntimeout = \"10s\"", extraSource: extraSource)
    }

    func run(_ tool: String, _ args: [String]) throws -> (Int32, String, String) {
        let o = try Tool.run(tool, args)
        return (o.status, o.stdout, o.stderr)
    }

    func startDaemon(config: String, notify: String?, watchdogUsec: Int? = nil) throws -> Process {
        let p = Process()
        p.executableURL = Self.products.appendingPathComponent("mirrord")
        p.arguments = ["--config", config]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        if let notify { env["NOTIFY_SOCKET"] = notify }
        if let watchdogUsec { env["WATCHDOG_USEC"] = "\(watchdogUsec)" }
        p.environment = env
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func testNotifyMessagesInOrder() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        let config = try writeConfig(dir, server: server)
        let notify = NotifySocket(path: dir.file("notify.sock"))
        let daemon = try startDaemon(config: config, notify: notify.path, watchdogUsec: 1_000_000)
        defer { if daemon.isRunning { daemon.terminate() } }

        var messages = notify.receive(until: { $0.hasPrefix("STATUS=run #") }, timeout: 30)
        XCTAssertEqual(messages.first?.split(separator: "\n").first, "READY=1", "\(messages)")
        XCTAssertTrue(messages.last?.hasPrefix("STATUS=run #1 completed at ") == true, "\(messages)")
        XCTAssertTrue(messages.last?.contains("6 new versions") == true, "\(messages)")

        messages = notify.receive(until: { $0 == "WATCHDOG=1" }, timeout: 5)
        XCTAssertEqual(messages.last, "WATCHDOG=1", "\(messages)")

        kill(daemon.processIdentifier, SIGHUP)
        messages = notify.receive(until: { $0.hasPrefix("READY=1") }, timeout: 10).filter { $0 != "WATCHDOG=1" }
        XCTAssertTrue(messages.first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(messages)")
        XCTAssertEqual(messages.last, "READY=1\nSTATUS=configuration reloaded: 1 source(s): 0 added, 0 removed, 0 changed")

        daemon.terminate()
        messages = notify.receive(until: { $0.hasPrefix("STOPPING=1") }, timeout: 15).filter { $0 != "WATCHDOG=1" }
        XCTAssertEqual(messages.last, "STOPPING=1\nSTATUS=stopping")
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
    }

    /// A second daemon on a socket the first one serves, with a state_dir of its own, stops
    /// (exit 3, naming the socket) before it creates or locks anything there.
    func testASecondDaemonOnTheSameSocketLeavesNoStoreBehind() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        let config = try writeConfig(dir, server: server)
        let notify = NotifySocket(path: dir.file("notify.sock"))
        let first = try startDaemon(config: config, notify: notify.path)
        defer { if first.isRunning { first.terminate() } }
        _ = notify.receive(until: { $0.hasPrefix("READY=1") }, timeout: 30)

        try dir.write("second.toml", try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "state_dir = \"state\"", with: "state_dir = \"state2\""))
        let (code, _, err) = try run("mirrord", ["--config", dir.file("second.toml")])
        XCTAssertEqual(code, 3)
        XCTAssertEqual(err, "mirrord: \(dir.file("run/control.sock")): another process is serving this socket "
            + "(another mirrord with a different state_dir?)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("state2")))
        XCTAssertTrue(first.isRunning)
    }

    func testReloadWithAGoodAndABadConfig() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        let config = try writeConfig(dir, server: server)
        let notify = NotifySocket(path: dir.file("notify.sock"))
        let daemon = try startDaemon(config: config, notify: notify.path)
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = notify.receive(until: { $0.hasPrefix("STATUS=run #") }, timeout: 30)

        // Good: a second source appears.
        _ = try writeConfig(dir, server: server, extraSource: """
            [[source]]
            name = "school"
            start = ["\(server.baseURL)/indexes/school.md"]
            article_links = ["../pages/**/*.md"]
            """)
        var (code, out, err) = try run("mirrorctl", ["--config", config, "reload"])
        XCTAssertEqual(code, 0, err)
        XCTAssertEqual(out, "reloaded: 2 source(s): 1 added, 0 removed, 0 changed\n")
        (code, out, _) = try run("mirrorctl", ["--config", config, "status", "--json"])
        let status = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        XCTAssertEqual((status?["sources"] as? [[String: Any]])?.map { $0["name"] as? String }, ["town", "school"])

        // Bad: an unknown key. The running configuration stays. mirrorctl, given the same
        // broken file, still finds the daemon's socket in it and says so; the daemon's answer
        // is the reload's error.
        let good = try String(contentsOfFile: config, encoding: .utf8)
        try dir.write("mirrord.toml", "bogus_key = 1\n" + good)
        let socket = dir.file("run/control.sock")
        let unknownKey = "\(config):1: key 'bogus_key': unknown key "
            + "(known: control_socket, control_socket_group, http, mirror_dir, poll_interval, source, state_dir, web)"
        (code, out, err) = try run("mirrorctl", ["--config", config, "reload"])
        XCTAssertEqual(code, 1)
        // Once, as the daemon's answer (a warning of mirrorctl's own had said it first).
        XCTAssertEqual(err, "mirrorctl: reload failed, running configuration kept: \(unknownKey)\n")
        (code, out, err) = try run("mirrorctl", ["--socket", socket, "reload"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(err, "mirrorctl: reload failed, running configuration kept: \(unknownKey)\n")
        // A file that is not TOML any more: its socket is still found on its own line, and the
        // daemon says why (it had stopped in mirrorctl, the daemon never told).
        try dir.write("mirrord.toml", "poll_interval =\n" + good)
        (code, out, err) = try run("mirrorctl", ["--config", config, "reload"])
        XCTAssertEqual(code, 1, out + err)
        XCTAssertTrue(err.hasPrefix("mirrorctl: reload failed, running configuration kept: \(config):1:"), err)
        (code, out, _) = try run("mirrorctl", ["--socket", socket, "sync", "now", "--wait", "--source", "school", "--json"])
        XCTAssertEqual(code, 0, "the daemon still runs with the good configuration: \(out)")

        // A change that needs a restart.
        try dir.write("mirrord.toml", good.replacingOccurrences(of: "state_dir = \"state\"", with: "state_dir = \"elsewhere\""))
        (code, _, err) = try run("mirrorctl", ["--socket", socket, "reload"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(err, "mirrorctl: reload failed, running configuration kept: state_dir cannot change on reload; restart mirrord to apply it\n")

        // A web view asked for on reload: the reload goes through and says what it cannot do.
        // (By now the notify socket, read no more, holds its 10 datagrams: the daemon's
        // RELOADING=1 had blocked there and this reload timed out after 30 s.)
        try dir.write("mirrord.toml", good + "\n[web]\nlisten = \"127.0.0.1:1\"\n")
        (code, out, err) = try run("mirrorctl", ["--socket", socket, "reload"])
        XCTAssertEqual(code, 0, err)
        XCTAssertEqual(out, "reloaded: 2 source(s): 0 added, 0 removed, 0 changed; [web] listen is read at start: restart mirrord to serve 127.0.0.1:1\n")
    }

    func testSIGTERMDuringASyncLeavesAStoreThatVerifies() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        server.handler = { req in req.path.hasPrefix("/pages/1/203") ? .init(status: 200, body: [0x41], delay: 20) : nil }
        let config = try writeConfig(dir, server: server)
        let notify = NotifySocket(path: dir.file("notify.sock"))
        let daemon = try startDaemon(config: config, notify: notify.path)
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = notify.receive(until: { $0.hasPrefix("READY=1") }, timeout: 30)
        // Wait until the slow article is in flight, then stop.
        let deadline = Date().addingTimeInterval(20)
        while !server.requests.contains(where: { $0.path == "/pages/1/203.md" }) && Date() < deadline { usleep(20_000) }
        let stopAt = Date()
        daemon.terminate()
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0)
        XCTAssertLessThan(Date().timeIntervalSince(stopAt), 15, "stopped within the grace period, not after the 20 s transfer")
        let (code, out, err) = try run("mirrorctl", ["--config", config, "verify"])
        XCTAssertEqual(code, 0, out + err)
        XCTAssertTrue(out.hasSuffix(": ok\n"), out)
        let (_, runs, _) = try run("mirrorctl", ["--config", config, "runs", "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(runs.utf8)) as? [[String: Any]]
        XCTAssertEqual(list?.first?["status"] as? String, "interrupted")
    }

    func testVerifyFindsACorruptBlob() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        let config = try writeConfig(dir, server: server)
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once"]).0, 0)
        let blobs = dir.file("state/blobs")
        let victim = try XCTUnwrap(FileManager.default.enumerator(atPath: blobs)?.compactMap { $0 as? String }.first { $0.hasSuffix(".zst") })
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: blobs + "/" + victim))
        let (code, out, err) = try run("mirrorctl", ["--config", config, "verify"])
        XCTAssertEqual(code, 1)
        XCTAssertTrue(out.contains("1 problem"), out)
        XCTAssertTrue(out.contains("\(blobs)/\(victim): not a zstd frame"), out)
        XCTAssertEqual(err, "mirrorctl: store has 1 problem(s)\n")
    }
}
