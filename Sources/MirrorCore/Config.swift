import Foundation
import TOMLKit

/// An error in a configuration file: which file, where, and why.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let key: String?
    public let reason: String

    public init(file: String, line: Int? = nil, key: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    /// `FILE:LINE: key 'KEY': REASON`, the shape compilers use so editors can jump to it.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "key '\(key)': " }
        return s + reason
    }
}

/// `[http]`: how mirrord talks to upstreams.
public struct HTTPSettings: Sendable, Equatable {
    public var userAgent = "mirrord/0.1 (+https://example.org/mirrord)"
    /// Total time allowed for one transfer, seconds.
    public var timeout: Double = 30
    /// Time allowed to establish a connection, seconds.
    public var connectTimeout: Double = 10
    /// Transfers in flight at once, all hosts together.
    public var concurrency = 16
    /// Connections to one host at once.
    public var perHostConcurrency = 4
    /// A body larger than this is aborted and recorded as `body too large`.
    public var maxBodyBytes = 20_000_000
    /// Proxy URL for every source without its own (`socks5h://127.0.0.1:1080`); empty: none.
    public var proxy = ""
    /// Hosts reached without the proxy (libcurl's `CURLOPT_NOPROXY` syntax: `localhost,.lan`).
    public var noProxy = ""
    /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted
    /// (a server dribbling one byte every few seconds would otherwise hold a slot for the
    /// whole `timeout`).
    public var lowSpeedLimit = 64
    public var lowSpeedTime: Double = 20
    /// Redirects followed before giving up.
    public var maxRedirects = 10
    /// Largest image (asset) body; larger ones are aborted and recorded as too large.
    public var maxAssetBytes = 10_000_000
    /// Extra attempts within a run after a transient failure (connect error, timeout, 429,
    /// 5xx, truncated body), spaced by exponential backoff with full jitter.
    public var retries = 2
    /// First backoff step, seconds; doubles per attempt, capped by `maxRetryDelay`.
    public var retryDelay: Double = 1
    /// Longest wait before a retry within a run, seconds; a longer `Retry-After` moves the
    /// document's next check instead.
    public var maxRetryDelay: Double = 30
    /// CA bundle to verify TLS peers with; nil: the system's. Verification is always on.
    public var caFile: String?

    public init() {}
}

/// `[web] listen = "HOST:PORT"`: the address of the read-only web view. Nothing is served
/// unless it is set; the host is whatever the user names (`127.0.0.1` keeps it on this
/// machine, which is what the examples use).
public struct WebListen: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:8080`, `localhost:8080`, `[::1]:8080`; nil for anything else.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let hostPart: Substring, portPart: Substring
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]"), t[t.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = t[t.index(after: t.startIndex)..<close]
            portPart = t[t.index(close, offsetBy: 2)...]
        } else {
            guard let colon = t.lastIndex(of: ":"), !t[..<colon].contains(":") else { return nil }
            hostPart = t[..<colon]
            portPart = t[t.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (1...65535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One `[[source]]`: an upstream with its start URLs and link rules.
public struct SourceConfig: Sendable, Equatable {
    public var name: String
    /// Absolute start URLs (relative `file:` paths already resolved). Start URLs are indexes.
    public var start: [String]
    /// Globs over a link's path relative to the directory of the first start URL.
    public var indexLinks: [String] = []
    public var articleLinks: [String] = []
    /// Globs of links never mirrored, whatever the other lists say.
    public var exclude: [String] = []
    /// Retention (off by default): keep at most this many raw versions per document that are
    /// not revisions (the newest; revisions and the current version are always kept).
    public var keepVersions: Int?
    /// Retention: drop versions that are not revisions once older than this many seconds.
    public var keepAge: Double?
    /// XPath of the article body, for sites the heuristics get wrong.
    public var contentXPath: String?
    /// XPaths of elements removed before extraction.
    public var removeXPath: [String] = []
    /// The encoding of the source's pages whatever their header or `<meta>` say (a site that
    /// serves GBK as `charset=utf-8` with no `<meta>`); a byte-order mark still wins.
    public var charset: String?
    /// Volatile query parameters that identity ignores (cache-busters such as `t`).
    public var ignoreQuery: [String] = []
    /// Seconds between polls of this source's indexes.
    public var pollInterval: Double
    /// Overrides `http.proxy` for this source when set.
    public var proxy: String?
    /// Extra request headers sent to this source (`Cookie`, `Authorization`, …).
    public var headers: [String: String] = [:]
    /// Which images of an article are mirrored as assets.
    public var assets: AssetPolicy = .sameSite
    /// Follow links found inside articles too (default: only index links are followed).
    public var followArticleLinks = false
    /// How many index-to-index hops discovery follows from a start URL.
    public var maxDepth = 5
    /// Revisit intervals for articles, seconds, shortest first (see `RevisitPolicy`).
    public var revisitTiers: [Double] = [3600, 3 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400]
    /// Articles whose content has not changed for this long are no longer re-checked
    /// (except by `--all`); nil: checked forever.
    public var maxArticleAge: Double?

    public init(name: String, start: [String], pollInterval: Double) {
        self.name = name
        self.start = start
        self.pollInterval = pollInterval
    }
}

/// Which of an article's images become `asset` documents.
public enum AssetPolicy: String, Sendable, Equatable {
    /// Images on the article's own host (and `file://` images of `file://` pages): the default,
    /// so a mirror asks no third party (a CDN, a tracker) unless told to.
    case sameSite = "same-site"
    /// Every image the parsed copy keeps, on any host (through the source's proxy).
    case all = "true"
    /// None.
    case none = "false"
}

/// The whole configuration, with every relative path resolved against the config file's folder.
public struct MirrorConfig: Sendable, Equatable {
    /// Absolute path of the file this was read from.
    public var file: String
    public var stateDir: String
    public var mirrorDir: String
    public var controlSocket: String
    /// Group that owns the control socket (mode 0660), so its members can use mirrorctl; nil:
    /// the daemon's own group.
    public var controlSocketGroup: String?
    /// Seconds between polls of a source that sets no `poll_interval` of its own.
    public var pollInterval: Double = 900
    public var http = HTTPSettings()
    /// `[web] listen`: where the read-only web view is served; nil (the default): not served.
    public var web: WebListen?
    public var sources: [SourceConfig] = []

    public init(file: String, stateDir: String, mirrorDir: String, controlSocket: String) {
        self.file = file
        self.stateDir = stateDir
        self.mirrorDir = mirrorDir
        self.controlSocket = controlSocket
    }

    /// Path of the SQLite database inside `stateDir`.
    public var databasePath: String { Self.databasePath(stateDir: stateDir) }

    /// The SQLite database in a state_dir.
    public static func databasePath(stateDir: String) -> String { stateDir + "/mirror.sqlite3" }

    public func source(named name: String) -> SourceConfig? {
        sources.first { $0.name == name }
    }

    /// Reads and validates a TOML configuration file.
    /// - Throws: `ConfigError` naming the file, the line where it can, the key and the reason.
    public static func load(path: String) throws -> MirrorConfig {
        let (file, text) = try readText(path)
        return try parse(text, file: file)
    }

    /// A `ConfigError` for `key` of the `index`-th `[[source]]`, with its line in the file: for
    /// checks made after loading that MirrorCore cannot make itself (an XPath expression's
    /// validity, which libxml2 decides).
    public func sourceError(_ key: String, sourceIndex index: Int, reason: String) -> ConfigError {
        let text = (try? Self.readText(file).text) ?? ""
        return ConfigReader(text: text, file: file).error(key, reason, section: "source", occurrence: index)
    }

    /// The absolute path of `path` and its text.
    /// - Throws: `ConfigError` naming the file: unreadable (the reason from the errno), not UTF-8.
    private static func readText(_ path: String) throws -> (file: String, text: String) {
        let absolute = Paths.absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
        let data = try Paths.readFile(absolute) { ConfigError(file: absolute, reason: "cannot read the file (\($0))") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: absolute, reason: "not UTF-8 text")
        }
        return (absolute, text)
    }

    /// Parses configuration text as if read from `file` (used for relative paths and messages).
    public static func parse(_ text: String, file: String) throws -> MirrorConfig {
        let (text, table) = try table(text, file: file)
        return try ConfigReader(text: text, file: file).read(table)
    }

    /// The TOML table of configuration text, and the text it was read from.
    /// - Throws: `ConfigError` with the line of a TOML syntax error.
    private static func table(_ text: String, file: String) throws -> (text: String, table: TOMLTable) {
        // A byte-order mark (editors on some systems write one) is not TOML (found by fuzz-config).
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        try checkBeforeTOMLKit(text, file: file)
        do {
            return (text, try TOMLTable(string: text))
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line, reason: error.description)
        }
    }

    /// Where the store and the control socket are when the file names none.
    public static let defaultStateDir = "/var/lib/mirrord"
    public static let defaultControlSocket = "/run/mirrord/control.sock"

    /// The message for a source name that is not configured, as every command gives it.
    public static func noSource(_ name: String, among names: [String]) -> String {
        "no source named '\(name)' (configured: \(names.joined(separator: ", ")))"
    }

    /// `noSource` for this configuration's sources.
    public func noSource(_ name: String) -> String {
        Self.noSource(name, among: sources.map(\.name))
    }

    /// Where the file at `path` puts the control socket and the store, read with no other
    /// check: `state_dir` and `control_socket` when they are strings, else the defaults,
    /// relative ones resolved against the file's folder as `load` does. For `mirrorctl`, which
    /// must still reach a running daemon (to `reload` it, or ask its `status`) after the file
    /// was edited into one that does not validate.
    /// - Returns: nil when the file cannot be read or is not TOML at all.
    public static func locations(path: String) -> (controlSocket: String, stateDir: String)? {
        guard let (absolute, text) = try? readText(path) else { return nil }
        let folder = (absolute as NSString).deletingLastPathComponent
        // A file that is not even TOML any more (a key written twice, a quote left open) still
        // names them on their own lines before any table: read those lines, so that `reload`
        // reaches the daemon, which logs the error and keeps its configuration.
        let values: [String: String]
        if let (_, table) = try? table(text, file: absolute) {
            values = ["control_socket": table["control_socket"]?.string, "state_dir": table["state_dir"]?.string].compactMapValues { $0 }
        } else {
            values = topLevelStrings(text, keys: ["control_socket", "state_dir"])
        }
        func location(_ key: String, _ fallback: String) -> String {
            guard let value = values[key], !value.isEmpty else { return fallback }
            return Paths.absolute(value, relativeTo: folder)
        }
        return (location("control_socket", defaultControlSocket), location("state_dir", defaultStateDir))
    }

    /// `key = "value"` lines before the first `[table]` header, for a file TOMLKit refuses:
    /// basic strings without escapes only, the last one of a key winning.
    static func topLevelStrings(_ text: String, keys: Set<String>) -> [String: String] {
        var out: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { break }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard keys.contains(key), value.hasPrefix("\""), let close = value.dropFirst().firstIndex(of: "\"") else { continue }
            value = String(value[value.index(after: value.startIndex)..<close])
            guard !value.contains("\\") else { continue }
            out[key] = value
        }
        return out
    }
}

extension MirrorConfig {
    /// Rejects, with their line, the texts on which toml++ (inside TOMLKit) asserts instead of
    /// reporting an error: an abort in a debug build, undefined behaviour in a release build.
    /// All were found by fuzz-config:
    /// - a table header without a name (`[[   # comment`, `[\u{33E}`: see `checkTableHeader`);
    /// - a `}` where an array wants a value or `]` (`start = [}`, `[1, }`).
    ///
    /// One scan over the UTF-8 bytes that knows strings (basic, literal, multi-line),
    /// comments, and the nesting of arrays and inline tables in values, so that only real
    /// header lines are checked as headers (a line starting with `[` inside a multi-line
    /// array or string is not one). Bytes, not `Character`s: a combining mark after `[` joins
    /// it into one grapheme cluster, which a `Character` comparison would not see as `[` while
    /// toml++ still does; and `\r\n` is one `Character`.
    static func checkBeforeTOMLKit(_ text: String, file: String) throws {
        let b = Array(text.utf8)
        var i = 0, line = 1
        var nesting: [UInt8] = []      // "[" or "{" of the values we are inside
        var expectValue = false        // just after "[" or "," inside an array
        var lineStart = true           // only blanks since the last line break
        func at(_ k: Int) -> UInt8? { k < b.count ? b[k] : nil }
        func skipString() {
            let q = b[i]
            let triple = at(i + 1) == q && at(i + 2) == q
            i += triple ? 3 : 1
            while i < b.count {
                let ch = b[i]
                if !triple && ch == 0x0A { return }  // unterminated: toml++ reports it; the caller counts the line
                if q == UInt8(ascii: "\"") && ch == UInt8(ascii: "\\") {
                    if at(i + 1) == 0x0A { line += 1 }  // a line-ending backslash
                    i += 2
                    continue
                }
                if ch == q && (!triple || (at(i + 1) == q && at(i + 2) == q)) {
                    i += triple ? 3 : 1
                    return
                }
                if ch == 0x0A { line += 1 }
                i += 1
            }
        }
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x0A:
                line += 1
                lineStart = true
                i += 1
                continue
            case 0x20, 0x09, 0x0D:
                i += 1
                continue
            case UInt8(ascii: "#"):
                while i < b.count && b[i] != 0x0A { i += 1 }
                continue
            default:
                break
            }
            if expectValue && c == UInt8(ascii: "}") {
                throw ConfigError(file: file, line: line, reason: "an array needs a value or ']' here, not '}'")
            }
            expectValue = false
            if nesting.isEmpty && lineStart && c == UInt8(ascii: "[") {
                let end = b[i...].firstIndex(of: 0x0A) ?? b.count
                try checkTableHeader(b[i..<end], line: line, file: file)
                i = end
                continue
            }
            lineStart = false
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                skipString()
                continue
            case UInt8(ascii: "["):
                nesting.append(c)
                expectValue = true
            case UInt8(ascii: "{"):
                nesting.append(c)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if !nesting.isEmpty { nesting.removeLast() }
            case UInt8(ascii: ","):
                expectValue = nesting.last == UInt8(ascii: "[")
            default:
                break
            }
            i += 1
        }
    }

    /// A table header line (from its first `[` to the line's end) must name a table: one or
    /// more dotted parts, each bare (ASCII `a-b_1`) or quoted, after `[` or `[[`.
    static func checkTableHeader(_ header: ArraySlice<UInt8>, line: Int, file: String) throws {
        func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        func bare(_ c: UInt8) -> Bool {
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F || c == 0x2D
        }
        let brackets = header.prefix { $0 == UInt8(ascii: "[") }.count
        let fail = ConfigError(file: file, line: line, reason: "a table header needs a name after '\(brackets == 1 ? "[" : "[[")'")
        guard brackets <= 2 else { throw fail }
        var rest = header.dropFirst(brackets)
        while true {
            rest = rest.drop(while: blank)
            guard let c = rest.first else { throw fail }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                guard let close = rest.dropFirst().firstIndex(of: c) else { throw fail }
                rest = rest[(close + 1)...]
            } else if bare(c) {
                rest = rest.drop(while: bare)
            } else {
                throw fail
            }
            rest = rest.drop(while: blank)
            guard rest.first == UInt8(ascii: ".") else { break }
            rest = rest.dropFirst()
        }
    }
}

/// Walks the parsed TOML, rejecting unknown keys and bad values with their line.
private struct ConfigReader {
    let text: String
    let file: String
    let lines: [Substring]

    init(text: String, file: String) {
        self.text = text
        self.file = file
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    var folder: String { (file as NSString).deletingLastPathComponent }

    /// The 1-based line assigning `key` in the `occurrence`-th `[section]` / `[[section]]` (top
    /// level when `section` is nil); for a key the section lacks (a required one missing), the
    /// section's header line. TOMLKit keeps no source positions for values, so the text is
    /// scanned.
    func line(of key: String, in section: String? = nil, occurrence: Int = 0) -> Int? {
        var current: String?
        var currentOccurrence = 0
        var headers: [String: Int] = [:]
        var header: Int?
        for (i, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("[") {
                let name = l.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                currentOccurrence = headers[name, default: 0]
                headers[name] = currentOccurrence + 1
                current = name
                if name == section, currentOccurrence == occurrence { header = i + 1 }
                continue
            }
            guard current == section, section == nil || currentOccurrence == occurrence else { continue }
            let bare = l.hasPrefix("\"") ? String(l.dropFirst()) : l
            if bare.hasPrefix(key) {
                let after = bare.dropFirst(key.count).drop { $0 == "\"" || $0 == " " || $0 == "\t" }
                if after.hasPrefix("=") { return i + 1 }
            }
        }
        return header
    }

    func error(_ key: String, _ reason: String, section: String? = nil, occurrence: Int = 0) -> ConfigError {
        let qualified = section.map { "\($0).\(key)" } ?? key
        return ConfigError(file: file, line: line(of: key, in: section, occurrence: occurrence),
                           key: qualified, reason: reason)
    }

    func read(_ root: TOMLTable) throws -> MirrorConfig {
        let known: Set = ["state_dir", "mirror_dir", "control_socket", "control_socket_group", "poll_interval", "http", "web", "source"]
        for key in root.keys where !known.contains(key) {
            throw error(key, "unknown key (known: \(known.sorted().joined(separator: ", ")))")
        }
        func path(_ key: String, _ fallback: String) throws -> String {
            let value = try string(root, key) ?? fallback
            guard !value.isEmpty else { throw error(key, "must not be empty") }
            return Paths.absolute(value, relativeTo: folder)
        }
        let stateDir = try path("state_dir", MirrorConfig.defaultStateDir)
        var config = MirrorConfig(
            file: file,
            stateDir: stateDir,
            mirrorDir: try path("mirror_dir", stateDir + "/mirror"),
            controlSocket: try path("control_socket", MirrorConfig.defaultControlSocket))
        config.pollInterval = try duration(root, "poll_interval") ?? config.pollInterval
        config.controlSocketGroup = try string(root, "control_socket_group")
        if let group = config.controlSocketGroup, getgrnam(group) == nil {
            throw error("control_socket_group", "no group named '\(group)' on this system")
        }
        if let value = root["http"] {
            guard let http = value.table else { throw error("http", "must be a table ([http])") }
            config.http = try readHTTP(http)
        }
        if let value = root["web"] {
            guard let web = value.table else { throw error("web", "must be a table ([web])") }
            for key in web.keys where key != "listen" {
                throw error(key, "unknown key (known: listen)", section: "web")
            }
            if let listen = try string(web, "listen", section: "web") {
                guard let parsed = WebListen(listen) else {
                    throw error("listen", "'\(listen)' is not HOST:PORT (e.g. \"127.0.0.1:8080\", \"[::1]:8080\")", section: "web")
                }
                config.web = parsed
            }
        }
        if let value = root["source"] {
            guard let array = value.array else { throw error("source", "must be an array of tables ([[source]])") }
            for (i, item) in array.enumerated() {
                guard let table = item.table else {
                    throw error("source", "each entry must be a table ([[source]])")
                }
                let source = try readSource(table, index: i, defaultPoll: config.pollInterval)
                if config.sources.contains(where: { $0.name == source.name }) {
                    throw error("name", "duplicate source name '\(source.name)'", section: "source", occurrence: i)
                }
                // A document belongs to one source: a start URL two sources share would be
                // polled under whichever came first, with the other's rules never applied.
                // Compared as the run will store them (normalized: case, default port, a
                // trailing `/` on a bare host, the fragment, `utm_*`), not as written.
                func key(_ s: String) -> String { URI(s)?.normalized().description ?? s }
                for start in source.start {
                    if let other = config.sources.first(where: { $0.start.map(key).contains(key(start)) }) {
                        throw error("start", "'\(start)' is also a start URL of source '\(other.name)' (a document belongs to one source)",
                                    section: "source", occurrence: i)
                    }
                }
                config.sources.append(source)
            }
        }
        if config.sources.isEmpty {
            throw ConfigError(file: file, reason: "no [[source]] configured: nothing to mirror")
        }
        return config
    }

    func readHTTP(_ t: TOMLTable) throws -> HTTPSettings {
        let s = "http"
        let known: Set = ["user_agent", "timeout", "connect_timeout", "concurrency", "per_host_concurrency",
                          "max_body_bytes", "max_asset_bytes", "proxy", "no_proxy", "low_speed_limit", "low_speed_time", "max_redirects",
                          "retries", "retry_delay", "max_retry_delay", "ca_file"]
        for key in t.keys where !known.contains(key) {
            throw error(key, "unknown key (known: \(known.sorted().joined(separator: ", ")))", section: s)
        }
        var http = HTTPSettings()
        http.userAgent = try string(t, "user_agent", section: s) ?? http.userAgent
        http.timeout = try duration(t, "timeout", section: s) ?? http.timeout
        http.connectTimeout = try duration(t, "connect_timeout", section: s) ?? http.connectTimeout
        http.concurrency = try positive(t, "concurrency", section: s) ?? http.concurrency
        http.perHostConcurrency = try positive(t, "per_host_concurrency", section: s) ?? http.perHostConcurrency
        http.maxBodyBytes = try positive(t, "max_body_bytes", section: s) ?? http.maxBodyBytes
        http.maxAssetBytes = try positive(t, "max_asset_bytes", section: s) ?? http.maxAssetBytes
        http.proxy = try proxy(t, "proxy", section: s) ?? ""
        http.noProxy = try string(t, "no_proxy", section: s) ?? ""
        http.lowSpeedLimit = try positive(t, "low_speed_limit", section: s) ?? http.lowSpeedLimit
        http.lowSpeedTime = try duration(t, "low_speed_time", section: s) ?? http.lowSpeedTime
        http.maxRedirects = try nonNegative(t, "max_redirects", section: s) ?? http.maxRedirects
        http.retries = try nonNegative(t, "retries", section: s) ?? http.retries
        http.retryDelay = try duration(t, "retry_delay", section: s) ?? http.retryDelay
        http.maxRetryDelay = try duration(t, "max_retry_delay", section: s) ?? http.maxRetryDelay
        if let ca = try string(t, "ca_file", section: s) {
            let path = Paths.absolute(ca, relativeTo: folder)
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw error("ca_file", "cannot read '\(path)'", section: s)
            }
            http.caFile = path
        }
        return http
    }

    func readSource(_ t: TOMLTable, index: Int, defaultPoll: Double) throws -> SourceConfig {
        let s = "source"
        let known: Set = ["name", "start", "index_links", "article_links", "ignore_query", "poll_interval",
                          "proxy", "headers", "follow_article_links", "max_depth", "exclude",
                          "revisit_tiers", "max_article_age", "content_xpath", "remove_xpath", "keep_versions", "keep_days",
                          "assets", "charset"]
        for key in t.keys where !known.contains(key) {
            throw error(key, "unknown key (known: \(known.sorted().joined(separator: ", ")))", section: s, occurrence: index)
        }
        guard let name = try string(t, "name", section: s, occurrence: index), !name.isEmpty else {
            throw error("name", "every [[source]] needs a name", section: s, occurrence: index)
        }
        guard let starts = try strings(t, "start", section: s, occurrence: index), !starts.isEmpty else {
            throw error("start", "source '\(name)' needs at least one start URL", section: s, occurrence: index)
        }
        let resolved = try starts.map { raw -> String in
            guard let url = StartURL.resolve(raw, relativeTo: folder) else {
                let web = raw.lowercased().hasPrefix("http://") || raw.lowercased().hasPrefix("https://")
                throw error("start", web ? "'\(raw)' names no host" : "'\(raw)' is not an http://, https:// or file:// URL",
                            section: s, occurrence: index)
            }
            return url
        }
        var source = SourceConfig(name: name, start: resolved,
                                  pollInterval: try duration(t, "poll_interval", section: s, occurrence: index) ?? defaultPoll)
        source.indexLinks = try strings(t, "index_links", section: s, occurrence: index) ?? []
        source.articleLinks = try strings(t, "article_links", section: s, occurrence: index) ?? []
        source.exclude = try strings(t, "exclude", section: s, occurrence: index) ?? []
        // Globs are over the path relative to the first start URL's folder: one written as an
        // absolute path or a URL matches nothing, and the run had found only its start page.
        for (key, globs) in [("index_links", source.indexLinks), ("article_links", source.articleLinks), ("exclude", source.exclude)] {
            if let bad = globs.first(where: { $0.hasPrefix("/") || $0.contains("://") }) {
                throw error(key, "'\(bad)' is not relative: link rules are globs over the path relative to the first start "
                            + "URL's folder (\(StartURL.folderHint(resolved.first ?? ""))), e.g. \"articles/**/*.html\"",
                            section: s, occurrence: index)
            }
        }
        source.ignoreQuery = try strings(t, "ignore_query", section: s, occurrence: index) ?? []
        if let v = t["assets"] {
            if let b = v.bool {
                source.assets = b ? .all : .none
            } else if v.string == "same-site" {
                source.assets = .sameSite
            } else {
                throw error("assets", "must be true, false or \"same-site\"", section: s, occurrence: index)
            }
        }
        source.keepVersions = try nonNegative(t, "keep_versions", section: s, occurrence: index)
        if let days = t["keep_days"] {
            guard let n = days.int, n > 0 else { throw error("keep_days", "must be a positive number of days", section: s, occurrence: index) }
            source.keepAge = Double(n) * 86400
        }
        source.contentXPath = try string(t, "content_xpath", section: s, occurrence: index)
        source.removeXPath = try strings(t, "remove_xpath", section: s, occurrence: index) ?? []
        source.charset = try string(t, "charset", section: s, occurrence: index)
        if let tiers = try strings(t, "revisit_tiers", section: s, occurrence: index) {
            source.revisitTiers = try tiers.map { tier in
                guard let seconds = DurationParser.seconds(tier), seconds > 0 else {
                    throw error("revisit_tiers", "'\(tier)' is not a duration", section: s, occurrence: index)
                }
                return seconds
            }
            guard !source.revisitTiers.isEmpty, source.revisitTiers == source.revisitTiers.sorted() else {
                throw error("revisit_tiers", "must list at least one duration, shortest first", section: s, occurrence: index)
            }
        }
        source.maxArticleAge = try duration(t, "max_article_age", section: s, occurrence: index)
        source.proxy = try proxy(t, "proxy", section: s, occurrence: index)
        if let v = t["headers"] {
            guard let table = v.table else {
                throw error("headers", "must be a table of strings (headers = { Cookie = \"a=b\" })", section: s, occurrence: index)
            }
            for name in table.keys {
                guard let value = table[name]?.string, !name.isEmpty,
                      !name.contains(":"), !name.contains(where: \.isNewline), !value.contains(where: \.isNewline) else {
                    throw error("headers", "header '\(name)' must be a single-line string", section: s, occurrence: index)
                }
                source.headers[name] = value
            }
        }
        if let v = t["follow_article_links"] {
            guard let b = v.bool else { throw error("follow_article_links", "must be true or false", section: s, occurrence: index) }
            source.followArticleLinks = b
        }
        source.maxDepth = try positive(t, "max_depth", section: s, occurrence: index) ?? source.maxDepth
        return source
    }

    // MARK: typed accessors

    func string(_ t: TOMLTable, _ key: String, section: String? = nil, occurrence: Int = 0) throws -> String? {
        guard let v = t[key] else { return nil }
        guard let s = v.string else { throw error(key, "must be a string", section: section, occurrence: occurrence) }
        return s
    }

    func strings(_ t: TOMLTable, _ key: String, section: String? = nil, occurrence: Int = 0) throws -> [String]? {
        guard let v = t[key] else { return nil }
        if let s = v.string { return [s] }
        guard let a = v.array else {
            throw error(key, "must be a list of strings", section: section, occurrence: occurrence)
        }
        return try a.map { item in
            guard let s = item.string else {
                throw error(key, "must be a list of strings", section: section, occurrence: occurrence)
            }
            return s
        }
    }

    func duration(_ t: TOMLTable, _ key: String, section: String? = nil, occurrence: Int = 0) throws -> Double? {
        guard let v = t[key] else { return nil }
        // A bare number is seconds, as in systemd.time(7).
        guard let seconds = v.int.map(Double.init) ?? v.string.flatMap(DurationParser.seconds) else {
            throw error(key, "'\(v.string ?? v.debugDescription)' is not a duration (use ms, s, m, h or d, e.g. \"15m\")",
                        section: section, occurrence: occurrence)
        }
        guard seconds > 0 else {
            throw error(key, "'\(v.string ?? v.debugDescription)' is not a duration: it must be more than zero", section: section, occurrence: occurrence)
        }
        return seconds
    }

    func positive(_ t: TOMLTable, _ key: String, section: String? = nil, occurrence: Int = 0) throws -> Int? {
        guard let v = t[key] else { return nil }
        guard let n = v.int, n > 0 else {
            throw error(key, "must be a positive integer", section: section, occurrence: occurrence)
        }
        return n
    }

    func nonNegative(_ t: TOMLTable, _ key: String, section: String? = nil, occurrence: Int = 0) throws -> Int? {
        guard let v = t[key] else { return nil }
        guard let n = v.int, n >= 0 else {
            throw error(key, "must be an integer ≥ 0", section: section, occurrence: occurrence)
        }
        return n
    }

    func proxy(_ t: TOMLTable, _ key: String, section: String? = nil, occurrence: Int = 0) throws -> String? {
        guard let p = try string(t, key, section: section, occurrence: occurrence) else { return nil }
        let schemes = ["http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"]
        guard p.isEmpty || schemes.contains(where: { p.lowercased().hasPrefix($0) }) else {
            throw error(key, "'\(p)' is not a proxy URL (\(schemes.joined(separator: ", ")))",
                        section: section, occurrence: occurrence)
        }
        // What libcurl would refuse at every request ("Unsupported proxy syntax"), refused now.
        if !p.isEmpty {
            guard let uri = URI(p), let host = uri.host, !host.isEmpty else {
                throw error(key, "'\(p)' names no proxy host", section: section, occurrence: occurrence)
            }
            if let port = uri.port, !(1...65535).contains(port) {
                throw error(key, "'\(p)': port \(port) is out of range (1-65535)", section: section, occurrence: occurrence)
            }
            // A port that is no number at all (`:abc`, or too long for one).
            if let authority = uri.authority, let colon = authority.lastIndex(of: ":"),
               !authority[colon...].contains("]"), uri.port == nil, authority.index(after: colon) != authority.endIndex {
                throw error(key, "'\(p)': '\(authority[authority.index(after: colon)...])' is no port number", section: section, occurrence: occurrence)
            }
        }
        return p
    }
}

/// Start URLs: absolute http(s)/file URLs, or a `file:` URL / bare path relative to the config.
enum StartURL {
    /// `here: https://example.org/news/` for a message about relative link rules.
    static func folderHint(_ start: String) -> String {
        guard let slash = start.lastIndex(of: "/"), start.distance(from: start.startIndex, to: slash) > 8 else { return "its folder" }
        return "here: " + start[...slash]
    }

    static func resolve(_ raw: String, relativeTo folder: String) -> String? {
        let lower = raw.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            // `http://` alone, or `https:///path`: curl would refuse it at every run.
            guard let host = URI(raw)?.host, !host.isEmpty else { return nil }
            return raw
        }
        var path: String
        if lower.hasPrefix("file://") {
            path = String(raw.dropFirst("file://".count))
        } else if lower.hasPrefix("file:") {
            path = String(raw.dropFirst("file:".count))
        } else if !raw.contains("://") {
            path = raw
        } else {
            return nil
        }
        path = path.removingPercentEncoding ?? path
        let absolute = Paths.absolute(path, relativeTo: folder)
        return "file://" + Paths.percentEncodePath(absolute)
    }
}

/// Path helpers shared by the config and the stores.
public enum Paths {
    /// `path` made absolute against `base` and with `.`/`..` segments removed.
    public static func absolute(_ path: String, relativeTo base: String) -> String {
        let joined = path.hasPrefix("/") ? path : base + "/" + path
        var out: [Substring] = []
        for part in joined.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = out.popLast(); continue }
            out.append(part)
        }
        return "/" + out.joined(separator: "/")
    }

    /// Percent-encodes what RFC 3986 does not allow in a path, keeping `/`.
    public static func percentEncodePath(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "%;?#[]")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    /// The whole file at `path`.
    /// - Throws: `failure(reason)`, with the reason as `cat` would give it: the system's
    ///   message for the errno of `open(2)` or `read(2)` ("No such file or directory",
    ///   "Permission denied"), or "Is a directory".
    public static func readFile(_ path: String, failure: (String) -> Error) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw failure(String(cString: strerror(EISDIR))) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(String(cString: strerror(errno)))
            }
            if n == 0 { return data }
            data.append(contentsOf: chunk[..<n])
        }
    }
}
