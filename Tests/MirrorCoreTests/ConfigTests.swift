import MirrorCore
import TestSupport
import XCTest

final class ConfigTests: XCTestCase {
    let file = "/etc/mirrord/test.toml"

    func parse(_ text: String) throws -> MirrorConfig { try MirrorConfig.parse(text, file: file) }

    func expectError(_ text: String, _ message: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), line: line) { error in
            XCTAssertEqual("\(error)", message, line: line)
        }
    }

    let minimal = """
        [[source]]
        name = "news"
        start = ["https://example.org/news/README.md"]
        """

    func testDefaultsAndRelativePaths() throws {
        let c = try parse("state_dir = \"state\"\nmirror_dir = \"../mirror\"\ncontrol_socket = \"/run/x.sock\"\n" + minimal)
        XCTAssertEqual(c.stateDir, "/etc/mirrord/state")
        XCTAssertEqual(c.mirrorDir, "/etc/mirror")
        XCTAssertEqual(c.controlSocket, "/run/x.sock")
        XCTAssertEqual(c.pollInterval, 900)
        XCTAssertEqual(c.http.concurrency, 16)
        XCTAssertEqual(c.http.perHostConcurrency, 4)
        XCTAssertEqual(c.http.maxBodyBytes, 20_000_000)
        XCTAssertEqual(c.sources.map(\.name), ["news"])
        XCTAssertEqual(c.sources[0].pollInterval, 900)
        XCTAssertEqual(c.sources[0].maxDepth, 5)
        XCTAssertEqual(c.databasePath, "/etc/mirrord/state/mirror.sqlite3")
    }

    func testRelativeFileStartURLResolvesAgainstTheConfigFolder() throws {
        let c = try parse("""
            [[source]]
            name = "demo"
            start = ["file:demo-upstream/README.md", "file:///srv/other/新闻.md"]
            poll_interval = "1h30m"
            """)
        XCTAssertEqual(c.sources[0].start, ["file:///etc/mirrord/demo-upstream/README.md",
                                            "file:///srv/other/%E6%96%B0%E9%97%BB.md"])
        XCTAssertEqual(c.sources[0].pollInterval, 5400)
    }

    func testDurations() {
        XCTAssertEqual(DurationParser.seconds("15m"), 900)
        XCTAssertEqual(DurationParser.seconds("500ms"), 0.5)
        XCTAssertEqual(DurationParser.seconds("1d"), 86400)
        XCTAssertEqual(DurationParser.seconds("1.5h"), 5400)
        XCTAssertNil(DurationParser.seconds("15"))
        XCTAssertNil(DurationParser.seconds("fast"))
        XCTAssertNil(DurationParser.seconds(""))
        XCTAssertNil(DurationParser.seconds("3w"))
    }

    func testUnknownTopLevelKeyNamesFileLineAndKey() {
        expectError("state_dir = \"s\"\npoll_intervall = \"1h\"\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'poll_intervall': unknown key (known: control_socket, control_socket_group, http, mirror_dir, poll_interval, source, state_dir, web)")
    }

    /// The web view is off unless `[web] listen` names an address; a bad one is rejected with
    /// the file, line, key and reason.
    func testWebListen() throws {
        let base = "[[source]]\nname = \"a\"\nstart = [\"https://example.org/\"]\n"
        XCTAssertNil(try parse(base).web)
        XCTAssertEqual(try parse("[web]\nlisten = \"127.0.0.1:8080\"\n" + base).web, WebListen("127.0.0.1:8080"))
        XCTAssertEqual(try parse("[web]\nlisten = \"[::1]:9000\"\n" + base).web?.description, "[::1]:9000")
        XCTAssertThrowsError(try parse("[web]\nlisten = \"8080\"\n" + base)) { e in
            XCTAssertEqual("\(e)", "\(file):2: key 'web.listen': '8080' is not HOST:PORT (e.g. \"127.0.0.1:8080\", \"[::1]:8080\")")
        }
        XCTAssertThrowsError(try parse("[web]\nport = 1\n" + base)) { e in
            XCTAssertEqual("\(e)", "\(file):2: key 'web.port': unknown key (known: listen)")
        }
    }

    func testUnknownSourceKey() {
        expectError(minimal + "\nindex_link = [\"x\"]\n",
                    "/etc/mirrord/test.toml:4: key 'source.index_link': unknown key (known: article_links, assets, charset, content_xpath, exclude, follow_article_links, headers, ignore_query, index_links, keep_days, keep_versions, max_article_age, max_depth, name, poll_interval, proxy, remove_xpath, revisit_tiers, start)")
    }

    func testBadValues() {
        expectError("poll_interval = \"soon\"\n" + minimal,
                    "/etc/mirrord/test.toml:1: key 'poll_interval': 'soon' is not a duration (use ms, s, m, h or d, e.g. \"15m\")")
        expectError("[http]\nconcurrency = 0\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.concurrency': must be a positive integer")
        expectError("[http]\nproxy = \"ftp://x\"\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.proxy': 'ftp://x' is not a proxy URL (http://, https://, socks4://, socks4a://, socks5://, socks5h://)")
        expectError("[http]\nproxy = \"socks5h://127.0.0.1:99999\"\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.proxy': 'socks5h://127.0.0.1:99999': port 99999 is out of range (1-65535)")
        expectError("[http]\nproxy = \"socks5h://127.0.0.1:abc\"\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.proxy': 'socks5h://127.0.0.1:abc': 'abc' is no port number")
        expectError("[http]\nproxy = \"socks5h://\"\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.proxy': 'socks5h://' names no proxy host")
        expectError("[[source]]\nname = \"a\"\nstart = [\"gopher://x\"]\n",
                    "/etc/mirrord/test.toml:3: key 'source.start': 'gopher://x' is not an http://, https:// or file:// URL")
        // Accepted before: every run then failed with curl's "URL using bad/illegal format".
        for raw in ["http://", "https:///pages/1.md", "http://:80/"] {
            expectError("[[source]]\nname = \"a\"\nstart = [\"\(raw)\"]\n",
                        "/etc/mirrord/test.toml:3: key 'source.start': '\(raw)' names no host")
        }
        expectError("[[source]]\nname = \"a\"\nstart = [\"https://example.org/\"]\n\n[[source]]\nname = \"b\"\nstart = [\"https://example.org/\"]\n",
                    "/etc/mirrord/test.toml:7: key 'source.start': 'https://example.org/' is also a start URL of source 'a' (a document belongs to one source)")
        // Spelled otherwise, the same document.
        expectError("[[source]]\nname = \"a\"\nstart = [\"https://example.org\"]\n\n[[source]]\nname = \"b\"\nstart = [\"https://EXAMPLE.org:443/#top\"]\n",
                    "/etc/mirrord/test.toml:7: key 'source.start': 'https://EXAMPLE.org:443/#top' is also a start URL of source 'a' (a document belongs to one source)")
        // A nameless source is found by its header's line (it had said `source[0].name` alone).
        expectError("poll_interval = \"1h\"\n\n[[source]]\nstart = [\"https://example.org/\"]\n",
                    "/etc/mirrord/test.toml:3: key 'source.name': every [[source]] needs a name")
        // A glob written as an absolute path or a URL matches nothing: said at load.
        expectError("[[source]]\nname = \"a\"\nstart = [\"https://example.org/news/index.html\"]\narticle_links = [\"/news/a/**\"]\n",
                    "/etc/mirrord/test.toml:4: key 'source.article_links': '/news/a/**' is not relative: link rules are globs over the "
                    + "path relative to the first start URL's folder (here: https://example.org/news/), e.g. \"articles/**/*.html\"")
        expectError("[[source]]\nname = \"a\"\nstart = [\"https://example.org/\"]\nexclude = [\"https://example.org/ads/**\"]\n",
                    "/etc/mirrord/test.toml:4: key 'source.exclude': 'https://example.org/ads/**' is not relative: link rules are globs "
                    + "over the path relative to the first start URL's folder (here: https://example.org/), e.g. \"articles/**/*.html\"")
        expectError("", "/etc/mirrord/test.toml: no [[source]] configured: nothing to mirror")
        expectError(minimal + "\n" + minimal,
                    "/etc/mirrord/test.toml:5: key 'source.name': duplicate source name 'news'")
    }

    func testFetchSettings() throws {
        let c = try parse("""
            [http]
            no_proxy = "localhost,.lan"
            low_speed_limit = 512
            low_speed_time = "15s"
            max_redirects = 0
            retries = 0
            retry_delay = "250ms"
            max_retry_delay = "1m"
            proxy = "socks5h://127.0.0.1:9050"

            [[source]]
            name = "news"
            start = ["https://example.org/news/README.md"]
            headers = { Cookie = "consent=1", "Accept-Language" = "zh-CN" }
            proxy = ""
            """)
        XCTAssertEqual(c.http.noProxy, "localhost,.lan")
        XCTAssertEqual([c.http.lowSpeedLimit, c.http.maxRedirects, c.http.retries], [512, 0, 0])
        XCTAssertEqual([c.http.lowSpeedTime, c.http.retryDelay, c.http.maxRetryDelay], [15, 0.25, 60])
        XCTAssertEqual(c.http.proxy, "socks5h://127.0.0.1:9050")
        XCTAssertEqual(c.sources[0].headers, ["Cookie": "consent=1", "Accept-Language": "zh-CN"])
        XCTAssertEqual(c.sources[0].proxy, "", "an empty per-source proxy turns the global one off")
        XCTAssertNil(c.http.caFile)
    }

    func testDiscoveryAndRevisitSettings() throws {
        let c = try parse(minimal + """

            exclude = ["pages/ads/**"]
            revisit_tiers = ["30m", "2h", "1d"]
            max_article_age = "90d"
            """)
        XCTAssertEqual(c.sources[0].exclude, ["pages/ads/**"])
        XCTAssertEqual(c.sources[0].revisitTiers, [1800, 7200, 86400])
        XCTAssertEqual(c.sources[0].maxArticleAge, 90 * 86400)
        expectError(minimal + "\nrevisit_tiers = [\"1d\", \"1h\"]\n",
                    "/etc/mirrord/test.toml:4: key 'source.revisit_tiers': must list at least one duration, shortest first")
    }

    func testAssetPolicy() throws {
        XCTAssertEqual(try parse(minimal).sources[0].assets, .sameSite)
        XCTAssertEqual(try parse(minimal + "\nassets = true\n").sources[0].assets, .all)
        XCTAssertEqual(try parse(minimal + "\nassets = false\n").sources[0].assets, .none)
        XCTAssertEqual(try parse(minimal + "\nassets = \"same-site\"\n").sources[0].assets, .sameSite)
        XCTAssertEqual(try parse("[http]\nmax_asset_bytes = 1000\n" + minimal).http.maxAssetBytes, 1000)
        expectError(minimal + "\nassets = \"some\"\n", "/etc/mirrord/test.toml:4: key 'source.assets': must be true, false or \"same-site\"")
    }

    func testBadFetchSettings() {
        expectError("[http]\nca_file = \"/nonexistent/ca.pem\"\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.ca_file': cannot read '/nonexistent/ca.pem'")
        expectError("[http]\nretries = -1\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.retries': must be an integer ≥ 0")
        expectError(minimal + "\nheaders = { Cookie = 3 }\n",
                    "/etc/mirrord/test.toml:4: key 'source.headers': header 'Cookie' must be a single-line string")
    }

    /// Found by fuzz-config: this header made TOMLKit's parser abort the process.
    func testTableHeaderWithoutANameIsAnErrorNotAnAbort() {
        expectError(minimal + "\n[[   # a comment where the name should be\n",
                    "/etc/mirrord/test.toml:4: a table header needs a name after '[['")
        expectError("[\n", "/etc/mirrord/test.toml:1: a table header needs a name after '['")
        expectError("[[[[source\n", "/etc/mirrord/test.toml:1: a table header needs a name after '[['")
        expectError("[http.#x]\n", "/etc/mirrord/test.toml:1: a table header needs a name after '['")
        XCTAssertNoThrow(try parse("[ \"http\" ]\nconcurrency = 2\n" + minimal))
        // found by fuzz-config: a byte-order mark hid the header from the check
        expectError("\u{FEFF}[[\u{04}\n", "/etc/mirrord/test.toml:1: a table header needs a name after '[['")
        XCTAssertEqual(try parse("\u{FEFF}" + minimal).sources.map(\.name), ["news"])
    }

    /// Found by fuzz-config (10-minute run): a combining mark after `[` forms one grapheme
    /// cluster with it, so a check comparing `Character`s missed the header and toml++ aborted.
    /// The same holds after `[[`, after a dot, and for CRLF lines (`\r\n` is one `Character`).
    func testTableHeaderCheckWorksOnScalarsNotGraphemeClusters() {
        expectError("[\u{33E}\u{FFFD}p\n", "/etc/mirrord/test.toml:1: a table header needs a name after '['")
        expectError("[[\u{301}source]]\n", "/etc/mirrord/test.toml:1: a table header needs a name after '[['")
        expectError("[http.\u{33E}]\n", "/etc/mirrord/test.toml:1: a table header needs a name after '['")
        expectError("state_dir = \"/tmp/s\"\r\n[\u{33E}\r\n", "/etc/mirrord/test.toml:2: a table header needs a name after '['")
        XCTAssertEqual(try parse(minimal.replacingOccurrences(of: "\n", with: "\r\n")).sources.map(\.name), ["news"])
    }

    /// Only real header lines are headers: a line starting with `[` inside a multi-line string
    /// is text (a line-based check used to reject it as a header without a name).
    func testALineStartingWithABracketInsideAMultiLineStringIsNoHeader() throws {
        let config = try parse(minimal + "\n[http]\nuser_agent = \"\"\"\n[@home] bot\"\"\"\n")
        XCTAssertEqual(config.http.userAgent, "[@home] bot")
        expectError(minimal + "\n[@home]\n", "/etc/mirrord/test.toml:4: a table header needs a name after '['")
    }

    /// Found by fuzz-config (10-minute run): `}` where an array wants a value made toml++
    /// assert (an abort, or undefined behaviour in a release build). Every place it can stand.
    func testABraceWhereAnArrayWantsAValueIsAnErrorNotAnAbort() {
        let message = "/etc/mirrord/test.toml:%d: an array needs a value or ']' here, not '}'"
        expectError("start = [}]\n", String(format: message, 1))
        expectError("a = [1, }\n", String(format: message, 1))
        expectError("a = [ [ } ] ]\n", String(format: message, 1))
        expectError("a = [\n  # comment\n  }\n]\n", String(format: message, 3))
        expectError("a = {b = [}]}\n", String(format: message, 1))
        expectError("s = \"\"\"\nx\n\"\"\"\na = [\"}\", }\n", String(format: message, 4))
        // Lines are counted through line-ending backslashes and unterminated strings.
        expectError("s = \"\"\"a \\\n b\"\"\"\na = [\n}]\n", String(format: message, 4))
        // Braces inside strings and comments, and ordinary inline tables, are fine.
        XCTAssertNoThrow(try parse(minimal + "\nignore_query = [\"}\", '}', # }\n  \"t\"]\nheaders = { X = \"}\" }\n"))
        // Other misplaced brackets are toml++'s own (orderly) errors.
        expectError("a = }\n", "/etc/mirrord/test.toml:1: Error while parsing key-value pair: expected value, saw '}'")
    }

    func testTOMLSyntaxErrorHasItsLine() {
        XCTAssertThrowsError(try parse("state_dir = \"unterminated\n" + minimal)) { error in
            let e = error as? ConfigError
            XCTAssertEqual(e?.file, file)
            XCTAssertEqual(e?.line, 1)
        }
    }

    /// The reason is the one `cat` would give, from the errno (a directory had read
    /// "permission denied").
    func testAConfigFileThatCannotBeReadSaysWhyAsCatWould() throws {
        XCTAssertThrowsError(try MirrorConfig.load(path: "/nonexistent/mirrord.toml")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/mirrord.toml: cannot read the file (No such file or directory)")
        }
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("mirrord.toml"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try MirrorConfig.load(path: dir.file("mirrord.toml"))) { error in
            XCTAssertEqual("\(error)", "\(dir.file("mirrord.toml")): cannot read the file (Is a directory)")
        }
    }

    /// A bare number is seconds (systemd.time(7)); zero in any spelling is no interval at all.
    func testABareNumberIsSecondsAndZeroIsRejected() throws {
        XCTAssertEqual(try parse("poll_interval = 15\n" + minimal).pollInterval, 15)
        XCTAssertEqual(try parse("poll_interval = \"1h30m\"\n" + minimal).pollInterval, 5400)
        expectError("poll_interval = \"0s\"\n" + minimal,
                    "/etc/mirrord/test.toml:1: key 'poll_interval': '0s' is not a duration: it must be more than zero")
        expectError("[http]\ntimeout = 0\n" + minimal,
                    "/etc/mirrord/test.toml:2: key 'http.timeout': '0' is not a duration: it must be more than zero")
    }

    /// A required key that is missing is reported at its section's header.
    func testAMissingStartNamesTheSourcesLine() {
        expectError(minimal + "\n[[source]]\nname = \"other\"\n",
                    "/etc/mirrord/test.toml:4: key 'source.start': source 'other' needs at least one start URL")
    }
}
