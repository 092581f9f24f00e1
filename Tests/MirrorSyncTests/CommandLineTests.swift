import Foundation
import MirrorCore
import MirrorStore
import TestSupport
import XCTest

/// The built `mirrord` and `mirrorctl` as a user runs them.
final class CommandLineTests: XCTestCase {
    static let products = Tool.products

    func run(_ tool: String, _ args: [String]) throws -> Tool.Output { try Tool.run(tool, args) }

    /// The standard fixture site, served and mirrored once by `mirrord --once` (exit 0).
    struct Mirrored {
        let dir: TemporaryDirectory
        let server: TestHTTPServer
        let config: String
    }

    func mirroredOnce() throws -> Mirrored {
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        let dir = TemporaryDirectory()
        let m = Mirrored(dir: dir, server: server, config: try writeConfig(dir, server: server))
        let once = try run("mirrord", ["--config", m.config, "--once"])
        XCTAssertEqual(once.status, 0, once.stderr)
        return m
    }

    func writeConfig(_ dir: TemporaryDirectory, server: TestHTTPServer, extra: String = "", extraSource: String = "") throws -> String {
        try Tool.writeConfig(dir, server: server, extra: extra, extraSource: extraSource)
    }

    /// An invalid content_xpath is named with its line, as every other config error, and
    /// libxml2's own "XPath error : Invalid predicate" no longer reaches the terminal.
    func testAnInvalidXPathIsNamedWithItsLineAndNothingElse() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        let config = try writeConfig(dir, server: server, extraSource: "content_xpath = \"//div[@id=story\"")
        let r = try run("mirrord", ["--config", config, "--once"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "mirrord: \(config):12: key 'source.content_xpath': '//div[@id=story' is not a valid XPath expression (source 'town')\n")
    }

    func testAnUnknownSourceCharsetIsNamedWithItsLine() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        let config = try writeConfig(dir, server: server, extraSource: "charset = \"gbk2312\"")
        let r = try run("mirrord", ["--config", config, "--once"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "mirrord: \(config):12: key 'source.charset': 'gbk2312' is no encoding mirrord knows (gbk, gb18030, big5, shift_jis, euc-kr, windows-1252, utf-8, …)\n")
    }

    func testBadConfigIsRejectedWithFileKeyAndReason() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        let config = try writeConfig(dir, server: server, extra: "pol_interval = \"1h\"")
        let r = try run("mirrord", ["--config", config, "--once"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "mirrord: \(config):5: key 'pol_interval': unknown key (known: control_socket, control_socket_group, http, mirror_dir, poll_interval, source, state_dir, web)\n")
    }

    /// The README's demo, on a copy of the bundled upstream: its local photos are mirrored too.
    func testTheDemoMirrorsItsLocalImages() throws {
        let dir = TemporaryDirectory()
        let upstream = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config/demo-upstream")
        try FileManager.default.copyItem(atPath: upstream.path, toPath: dir.file("upstream"))
        let demo = try String(contentsOf: upstream.deletingLastPathComponent().appendingPathComponent("demo.toml"), encoding: .utf8)
        try dir.write("demo.toml", demo.replacingOccurrences(of: "file:demo-state/upstream/README.md", with: "file:upstream/README.md"))
        let r = try run("mirrord", ["--config", dir.file("demo.toml"), "--once"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let mirror = dir.file("demo-state/mirror")
        let image = mirror + "/raw/local" + dir.file("upstream/images/harbor-lanterns.png")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: image)), try Data(contentsOf: upstream.appendingPathComponent("images/harbor-lanterns.png")))
        let json = mirror + "/parsed/local" + dir.file("upstream/pages/1/1001.json")
        let parsed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let local = try XCTUnwrap((parsed?["images"] as? [[String: Any]])?.first?["local"] as? String)
        XCTAssertEqual(URL(fileURLWithPath: json).deletingLastPathComponent().appendingPathComponent(local).standardizedFileURL.path, image)
        let list = try run("mirrorctl", ["--config", dir.file("demo.toml"), "list", "--kind", "asset", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.count, 2)
    }

    /// The demo's second state (`Config/demo-edit`, applied by `scripts/demo`): new tokens on
    /// every index and one article edited make exactly two revisions, the article's and the
    /// index whose headline for it changed; `log` and `diff` show the edit.
    func testTheDemoEditMakesExactlyTheRevisionsItShows() throws {
        let dir = TemporaryDirectory()
        let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Config")
        try FileManager.default.copyItem(atPath: config.appendingPathComponent("demo-upstream").path, toPath: dir.file("upstream"))
        let demo = try String(contentsOf: config.appendingPathComponent("demo.toml"), encoding: .utf8)
        try dir.write("demo.toml", demo.replacingOccurrences(of: "file:demo-state/upstream/README.md", with: "file:upstream/README.md"))
        XCTAssertEqual(try run("mirrord", ["--config", dir.file("demo.toml"), "--once"]).status, 0)

        let edits = config.appendingPathComponent("demo-edit").path
        for case let rel as String in FileManager.default.enumerator(atPath: edits)! where rel.hasSuffix(".md") {
            try? FileManager.default.removeItem(atPath: dir.file("upstream/" + rel))
            try FileManager.default.copyItem(atPath: edits + "/" + rel, toPath: dir.file("upstream/" + rel))
        }
        let second = try run("mirrord", ["--config", dir.file("demo.toml"), "--once", "--all"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("new versions 5, new revisions 2, errors 0"), second.stderr)

        let article = "file://" + dir.file("upstream/pages/1/1003.md")
        let log = try run("mirrorctl", ["--config", dir.file("demo.toml"), "log", article])
        let lines = log.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, log.stdout)
        XCTAssertTrue(lines.last?.hasSuffix("石榴湾公交线路延长至南苑住宅区") == true, log.stdout)
        let diff = try run("mirrorctl", ["--config", dir.file("demo.toml"), "diff", article, "--color", "never"])
        XCTAssertEqual(diff.status, 0, diff.stderr)
        for change in ["title: 石榴湾公交线路延长至[-新建-]{+南苑+}住宅区", "延长[-四-]{+三+}站", "+ 湾口广场站因周边道路施工，将在下月中旬前暂停使用。"] {
            XCTAssertTrue(diff.stdout.contains(change), "\(change)\n\(diff.stdout)")
        }
        // `URL@x`: no such document, and the way to write a revision.
        let show = try run("mirrorctl", ["--config", dir.file("demo.toml"), "show", article + "@x"])
        XCTAssertEqual(show.status, 1)
        XCTAssertEqual(show.stderr, "mirrorctl: \(article)@x: not a mirrored document (see mirrorctl list); a revision is written URL@r2 or URL@2\n")
    }

    func testBadUsageExits2WithTheReason() throws {
        let cases: [(String, [String], String)] = [
            ("mirrorctl", ["list", "--kind", "bogus"], "Error: The value 'bogus' is invalid for '--kind <kind>'"),
            ("mirrorctl", ["runs", "--limit", "0"], "Error: --limit must be at least 1"),
            ("mirrorctl", ["log"], "Error: Missing expected argument '<url>'"),
            ("mirrord", ["--config", "x.toml", "--all"], "Error: --all and --source go with --once or --reparse"),
            ("mirrord", ["--config", "x.toml", "--compact", "--once"], "Error: --once, --reparse and --compact are separate jobs"),
            ("mirrord", ["--config", "x.toml", "--compact", "--all"], "Error: --compact covers the whole store: no --all or --source"),
            ("mirrord", ["--bogus"], "Error: Unknown option '--bogus'"),
            // A mistyped command is named, with the nearest one, wherever --config stands.
            ("mirrorctl", ["--config", "x.toml", "stauts"], "mirrorctl: unknown command 'stauts'; did you mean 'status'?"),
            ("mirrorctl", ["lst", "--kind", "article"], "mirrorctl: unknown command 'lst'; did you mean 'list'?"),
            // A negative count is refused as such (it had been "Missing value for '--limit'").
            ("mirrorctl", ["runs", "--limit", "-1"], "Error: --limit must be at least 1"),
            ("mirrorctl", ["diff", "x", "-U", "-1"], "Error: --context must be ≥ 0"),
            // `help` of no command is an error too (it had printed the overview, exit 0).
            ("mirrorctl", ["help", "frob"], "mirrorctl: unknown command 'frob' (commands:"),
        ]
        for (tool, args, message) in cases {
            let r = try run(tool, args)
            XCTAssertEqual(r.status, 2, "\(tool) \(args)")
            XCTAssertTrue(r.stderr.hasPrefix(message), "\(tool) \(args): \(r.stderr)")
        }
        // A command only the daemon does, given only --db: the socket tried is the default one,
        // and the message says why.
        let db = try run("mirrorctl", ["sync", "now", "--db", "/nonexistent/mirror.sqlite3"])
        XCTAssertEqual(db.status, 3)
        XCTAssertTrue(db.stderr.contains("(--db reads the store only: give --config or --socket to reach the daemon)"), db.stderr)
        // `help` needs no configuration, even when one is named.
        let help = try run("mirrorctl", ["--config", "x.toml", "help", "diff"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.hasPrefix("OVERVIEW: Show what changed between two revisions"), help.stdout)
        // Every command's help teaches by example (`runs` and `reload` had none).
        for command in [["status"], ["sync", "now"], ["runs"], ["list"], ["log"], ["show"], ["diff"], ["reparse"],
                        ["reload"], ["verify"]] {
            let r = try run("mirrorctl", ["help"] + command)
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("\nEXAMPLES\n  mirrorctl \(command[0])"), "\(command): \(r.stdout)")
        }
    }

    /// `URL@0` and `URL@r0` ask for a revision that cannot exist, and say so; they had been
    /// taken as a URL ending in "@0", "not a mirrored document".
    func testShowOfRevisionZeroSaysItIsNoRevision() throws {
        let m = try mirroredOnce(), config = m.config
        for suffix in ["0", "r0"] {
            let r = try run("mirrorctl", ["show", "\(m.server.baseURL)/pages/1/201.md@\(suffix)", "--config", config])
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("Error: '\(suffix)' is not a revision (r1, r2, … or 1, 2, …)\nUsage: mirrorctl show "), r.stderr)
        }
        let r1 = try run("mirrorctl", ["show", "\(m.server.baseURL)/pages/1/201.md@r1", "--config", config])
        XCTAssertEqual(r1.status, 0, r1.stderr)
    }

    func testLogFindsAnArticleByTheLinkAsCopiedFromAnIndex() throws {
        let m = try mirroredOnce(), config = m.config
        let r = try run("mirrorctl", ["log", "\(m.server.baseURL)/pages/1/201.md?t=01010100#top", "--config", config])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("r1  "), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("  松溪镇新修步行桥通行\n"), r.stdout)
        let unknown = try run("mirrorctl", ["log", "\(m.server.baseURL)/pages/1/999.md", "--config", config])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.stderr, "mirrorctl: \(m.server.baseURL)/pages/1/999.md: not a mirrored document (see mirrorctl list)\n")
    }

    /// A source renamed in the config keeps its documents: its start URL is still the same
    /// document, so the run gives the old name's documents, schedules and dictionary to the
    /// new one (they had stayed under the old name, and no run polled them again: an edit
    /// upstream was never fetched).
    func testARenamedSourceKeepsItsDocumentsAndGoesOnMirroring() throws {
        let server = try TestHTTPServer()
        var site = FixtureSite.standard()
        site.publish(to: server)
        let dir = TemporaryDirectory()
        let config = try writeConfig(dir, server: server)
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once"]).status, 0)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "name = \"town\"", with: "name = \"valley\"").write(toFile: config, atomically: true, encoding: .utf8)
        site.edit(202) { $0.paragraphs[1] = "授课的志愿者换成了社区大学的老师。" }
        site.publish(to: server)
        let again = try run("mirrord", ["--config", config, "--once", "--all"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("NOTICE source 'town' is not configured any more and its start URLs are 'valley''s: its 6 documents are now 'valley''s"), again.stderr)
        XCTAssertTrue(again.stderr.contains("revised article \(server.baseURL)/pages/1/202.md (revision 2)"), again.stderr)
        let listed = try run("mirrorctl", ["list", "--source", "valley", "--json", "--config", config])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any])?.count, 6)
        let old = try run("mirrorctl", ["list", "--source", "town", "--config", config])
        XCTAssertEqual(old.status, 2)
        XCTAssertTrue(old.stderr.contains("no source named 'town' (configured: valley)"), old.stderr)

        // Replaced instead by a source with another start page: what its links reach of the
        // removed source's documents becomes its own, and is checked.
        server.put("/hub.md", "# 枢纽\n\n#### [校园](indexes/school.md)\n")
        try text.replacingOccurrences(of: "name = \"town\"", with: "name = \"hill\"")
            .replacingOccurrences(of: "/README.md", with: "/hub.md").write(toFile: config, atomically: true, encoding: .utf8)
        let hill = try run("mirrord", ["--config", config, "--once", "--all"])
        XCTAssertEqual(hill.status, 0, hill.stderr)
        XCTAssertTrue(hill.stderr.contains("INFO \(server.baseURL)/pages/1/203.md (of source 'valley', no longer configured) is now 'hill''s"), hill.stderr)
        let adopted = try run("mirrorctl", ["list", "--source", "hill", "--json", "--config", config])
        let urls = ((try JSONSerialization.jsonObject(with: Data(adopted.stdout.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["url"] as? String }
        XCTAssertEqual(Set(urls), Set(["/hub.md", "/indexes/school.md", "/pages/1/203.md"].map { server.baseURL + $0 }))
        XCTAssertTrue(hill.stderr.contains("completed in"), hill.stderr)
        // 'valley' is gone from the config; what it kept is still listed by its name.
        let kept = try run("mirrorctl", ["list", "--source", "valley", "--json", "--config", config])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(kept.stdout.utf8)) as? [Any])?.count, 4, kept.stdout)
        // Filtered to nothing, it is still a known source (it had said "no source named").
        let noAssets = try run("mirrorctl", ["list", "--source", "valley", "--kind", "asset", "--json", "--config", config])
        XCTAssertEqual(noAssets.status, 0, noAssets.stderr)
        let typo = try run("mirrorctl", ["list", "--source", "valey", "--config", config])
        XCTAssertEqual(typo.status, 2)
        XCTAssertEqual(typo.stderr, "mirrorctl: no source named 'valey' (configured: hill)\n")
        XCTAssertTrue(hill.stderr.contains(": fetched 1, not modified 2, new documents 1,"), "the hub, then the two adopted: \(hill.stderr)")
    }

    /// A source split in two (each half one of its start URLs) is no rename: each start moves
    /// alone, and the rest goes to whichever half's links reach it. A run of one half only
    /// (`--source`) already moves the other's start.
    func testASourceSplitInTwoGivesEachHalfWhatItsLinksReach() throws {
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        server.put("/school.md", "# 校园\n\n#### [校园新闻](indexes/school.md)\n")
        server.put("/README.md", "# 山城新闻网\n\n#### [城镇新闻](indexes/town.md)\n")
        let dir = TemporaryDirectory()
        let config = try writeConfig(dir, server: server)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "start = [\"\(server.baseURL)/README.md\"]",
                                      with: "start = [\"\(server.baseURL)/README.md\", \"\(server.baseURL)/school.md\"]")
            .write(toFile: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once"]).status, 0)
        let source = { (name: String, start: String) in """
            [[source]]
            name = "\(name)"
            start = ["\(server.baseURL)/\(start)"]
            index_links = ["indexes/*.md"]
            article_links = ["pages/**/*.md"]
            ignore_query = ["t"]
            """ }
        try dir.write("mirrord.toml", "state_dir = \"state\"\nmirror_dir = \"mirror\"\ncontrol_socket = \"run/control.sock\"\n\n"
                      + source("news", "README.md") + "\n\n" + source("campus", "school.md") + "\n")
        let campus = try run("mirrord", ["--config", config, "--once", "--all", "--source", "campus"])
        XCTAssertEqual(campus.status, 0, campus.stderr)
        XCTAssertTrue(campus.stderr.contains("NOTICE start URL \(server.baseURL)/README.md of source 'news' was a document of source 'town'"), campus.stderr)
        XCTAssertFalse(campus.stderr.contains("are now"), "no rename: \(campus.stderr)")
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once", "--all"]).status, 0)
        func urls(_ name: String) throws -> Set<String> {
            let r = try run("mirrorctl", ["list", "--source", name, "--json", "--config", config])
            return Set(((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["url"] as? String })
        }
        XCTAssertEqual(try urls("news"), Set(["/README.md", "/indexes/town.md", "/pages/1/201.md", "/pages/1/202.md"].map { server.baseURL + $0 }))
        XCTAssertEqual(try urls("campus"), Set(["/school.md", "/indexes/school.md", "/pages/1/203.md"].map { server.baseURL + $0 }))
    }

    /// `log` of a document every check of which failed lists nothing, and says why on stderr
    /// (it had printed nothing at all); `--json` stays `[]`.
    func testLogOfADocumentWithNoRevisionSaysSo() throws {
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        server.put("/indexes/school.md", "#### [一](../pages/1/203.md)\n\n#### [二](../pages/1/404.md)\n")
        let dir = TemporaryDirectory()
        let config = try writeConfig(dir, server: server)
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once"]).status, 0)
        let missing = "\(server.baseURL)/pages/1/404.md"
        let r = try run("mirrorctl", ["log", missing, "--config", config])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.hasPrefix("mirrorctl: \(missing): no revision stored yet; last check 20"), r.stderr)
        XCTAssertTrue(r.stderr.contains("Z failed: HTTP 404 Not Found (gone upstream, kept; next check 20"), r.stderr)
        let json = try run("mirrorctl", ["log", missing, "--json", "--config", config])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count, 0, json.stdout)
        XCTAssertEqual(json.stderr, "")

        // An article with revisions that then goes: its log says so after them.
        server.handler = { req in req.path == "/pages/1/203.md" ? .init(status: 410) : nil }
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once", "--all"]).status, 0)
        let gone = try run("mirrorctl", ["log", "\(server.baseURL)/pages/1/203.md", "--config", config])
        XCTAssertEqual(gone.status, 0, gone.stderr)
        let lines = gone.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, gone.stdout)
        XCTAssertTrue(lines.first?.hasPrefix("r1  ") == true, gone.stdout)
        XCTAssertTrue(lines.last?.hasPrefix("last check 20") == true, gone.stdout)
        XCTAssertTrue(lines.last?.contains("Z failed: HTTP 410 Gone (gone upstream, kept; next check 20") == true, gone.stdout)
        // A re-check of the gone article that meets a 503: still gone, and not because of the 503.
        server.handler = { req in req.path == "/pages/1/203.md" ? .init(status: 503) : nil }
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once", "--all"]).status, 0)
        let down = try run("mirrorctl", ["log", "\(server.baseURL)/pages/1/203.md", "--config", config])
        XCTAssertTrue(down.stdout.contains("Z failed: HTTP 503 Service Unavailable (still gone: its last answer was a 404 or 410; next check 20"),
                      down.stdout)
    }

    /// `mirrord --compact` deletes blob files no row names (a failed or killed batch) and says
    /// how many; the store then verifies with none unreferenced.
    func testCompactDeletesBlobFilesNoRowNames() throws {
        let m = try mirroredOnce(), config = m.config
        let orphan = Array("a body whose transaction failed".utf8)
        let blobs = try BlobStore(root: m.dir.file("state/blobs"))
        try blobs.put(orphan, sha256: SHA256.hex(orphan))
        XCTAssertTrue(try run("mirrorctl", ["verify", "--config", config]).stdout.contains(", 1 unreferenced"))

        let r = try run("mirrord", ["--config", config, "--compact"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("compact: 1 blob file no database row names, removed\n"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: blobs.path(for: SHA256.hex(orphan))))
        let verify = try run("mirrorctl", ["verify", "--config", config])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains(", 0 unreferenced"), verify.stdout)
    }

    /// A state_dir that cannot be created is the store's own failure (exit 1, naming what is
    /// in the way), not "another mirrord holds the store" (exit 3). It had read
    /// "cannot create directory (The operation could not be completed. (NSCocoaErrorDomain error 512.))".
    func testAStateDirThatCannotBeCreatedExits1NamingWhatIsInTheWay() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        let config = try writeConfig(dir, server: server)
        try dir.write("state", "a file where the state folder should be")
        let r = try run("mirrord", ["--config", config, "--once"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "mirrord: \(dir.file("state")): exists and is not a directory\n")

        try dir.write("deeper.toml", try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "state_dir = \"state\"", with: "state_dir = \"state/store\""))
        let below = try run("mirrord", ["--config", dir.file("deeper.toml"), "--once"])
        XCTAssertEqual(below.status, 1)
        XCTAssertEqual(below.stderr, "mirrord: \(dir.file("state/store")): cannot create directory: \(dir.file("state")) is not a directory\n")
    }

    /// A document whose last check got no HTTP answer (connection refused) shows "-" in
    /// `list`'s STATUS column, not 0, and its error names the reason.
    func testListShowsNoStatusForAFetchWithoutAnAnswer() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        let config = try writeConfig(dir, server: server)
        let closed = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: server.baseURL, with: "http://127.0.0.1:9")
        try dir.write("mirrord.toml", closed)
        XCTAssertEqual(try run("mirrord", ["--config", config, "--once"]).status, 0)
        let r = try run("mirrorctl", ["list", "--config", config])
        XCTAssertEqual(r.status, 0, r.stderr)
        let row = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.contains("http://127.0.0.1:9/README.md") }, r.stdout)
        XCTAssertEqual(row.split(separator: " ", omittingEmptySubsequences: true)[3], "-", String(row))
        XCTAssertTrue(row.contains("error: "), String(row))
    }

    /// With no daemon on the socket and no configuration, the message names the socket tried.
    func testNoDaemonAndNoDatabaseNamesTheSocket() throws {
        let dir = TemporaryDirectory()
        let r = try run("mirrorctl", ["status", "--socket", dir.file("none.sock")])
        XCTAssertEqual(r.status, 3)
        XCTAssertEqual(r.stderr, "mirrorctl: mirrord is not running (no answer on \(dir.file("none.sock"))) and there is no "
            + "database to read (give --config or --db)\n")
    }

    func testStatusWithTheDaemonDownShowsTheDatabaseAndExits3() throws {
        let m = try mirroredOnce(), config = m.config

        let r = try run("mirrorctl", ["status", "--config", config])
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.stdout.hasPrefix("mirrord: not running"), r.stdout)
        XCTAssertTrue(r.stdout.contains("totals:  6 documents (3 indexes, 3 articles), 6 versions, 6 revisions, 0 errors"), r.stdout)
        XCTAssertEqual(r.stderr, "mirrorctl: mirrord is not running (no answer on \(m.dir.file("run/control.sock"))); showing the database\n")

        let j = try run("mirrorctl", ["--config", config, "status", "--json"])
        XCTAssertEqual(j.status, 3)
        let status = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((status["last_run"] as? [String: Any])?["new_documents"] as? Int, 6)
        XCTAssertEqual(status["state"] as? String, "idle")

        let list = try run("mirrorctl", ["list", "--kind", "article", "--json", "--config", config])
        XCTAssertEqual(list.status, 0)
        let docs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(docs.count, 3)

        let sync = try run("mirrorctl", ["--config", config, "sync", "now"])
        XCTAssertEqual(sync.status, 3)
        XCTAssertTrue(sync.stderr.hasPrefix("mirrorctl: daemon not running ("), sync.stderr)
    }

    func testDaemonServesSyncNowAndStopsOnSIGTERM() throws {
        let dir = TemporaryDirectory()
        let server = try TestHTTPServer()
        FixtureSite.standard().publish(to: server)
        let config = try writeConfig(dir, server: server)
        let daemon = Process()
        daemon.executableURL = Self.products.appendingPathComponent("mirrord")
        daemon.arguments = ["--config", config]
        let log = Pipe()
        daemon.standardError = log
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }

        // The daemon's first (startup) run completes; wait for it through the API itself.
        let socket = dir.file("run/control.sock")
        var lastRun: [String: Any]?
        for _ in 0..<500 where lastRun == nil {
            if let r = try? run("mirrorctl", ["status", "--json", "--socket", socket]), r.status == 0,
               let s = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] {
                lastRun = s["last_run"] as? [String: Any]
            }
            if lastRun == nil { usleep(20_000) }
        }
        XCTAssertEqual(lastRun?["trigger"] as? String, "startup")
        XCTAssertEqual(lastRun?["new_documents"] as? Int, 6)

        var st = stat()
        XCTAssertEqual(stat(socket, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o660)

        let second = try run("mirrord", ["--config", config])
        XCTAssertEqual(second.status, 3)
        XCTAssertEqual(second.stderr, "mirrord: \(dir.file("state/mirrord.lock")): store locked by another mirrord (pid \(daemon.processIdentifier))\n")

        let sync = try run("mirrorctl", ["--config", config, "sync", "now", "--wait", "--all", "--json"])
        XCTAssertEqual(sync.status, 0, sync.stderr)
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(sync.stdout.utf8)) as? [String: Any])
        let run2 = try XCTUnwrap(answer["run"] as? [String: Any])
        XCTAssertEqual(run2["trigger"] as? String, "manual")
        XCTAssertEqual(run2["not_modified"] as? Int, 6)
        XCTAssertEqual(run2["new_versions"] as? Int, 0)

        daemon.terminate()  // SIGTERM
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationReason, .exit)
        XCTAssertEqual(daemon.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "socket removed on stop")
        let stderr = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(stderr.contains("mirrord stopped"), stderr)
    }
}
