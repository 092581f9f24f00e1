import Foundation
import Logging
import MirrorCore
import MirrorDiff
import MirrorExtract
import MirrorStore
import MirrorSync
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The read-only web view (`[web] listen`): sources and their runs, articles (filter by source,
/// search by title), an article's revision timeline, the side-by-side diff of any two
/// revisions, the parsed copy with its mirrored images, and an Atom feed of new revisions.
///
/// Safe to point at a hostile upstream: every upstream string is HTML-escaped, links out are
/// `http(s)` only, images come from the mirror (never hot-linked), only GET and HEAD are
/// answered, and every response carries a Content-Security-Policy that allows no script at
/// all, so even a missed escape could not run code. No page needs JavaScript.
public struct WebRouter: Sendable {
    let database: MirrorDatabase
    let blobs: BlobStore
    var config: MirrorConfig
    /// The configuration in force for each request (the daemon's, after any reload); nil:
    /// `config` as given.
    let current: (@Sendable () async -> MirrorConfig)?

    public init(database: MirrorDatabase, blobs: BlobStore, config: MirrorConfig,
                current: (@Sendable () async -> MirrorConfig)? = nil) {
        self.database = database
        self.blobs = blobs
        self.config = config
        self.current = current
    }

    /// Sent with every answer: no script, no plugin, no framing; styles inline (the pages'
    /// own), images from this server only.
    public static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    /// The answer to `request`; a HEAD gets the GET's answer, whose body the server then
    /// leaves out (keeping its `Content-Length`).
    public func handle(_ request: ControlRequest) async -> ControlResponse {
        if let current {
            // Sources added, removed or renamed by a reload show at once, not after a restart.
            var live = self
            live.config = await current()
            return await live.answer(request)
        }
        return await answer(request)
    }

    func answer(_ request: ControlRequest) async -> ControlResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            var r = Self.page(405, "Method not allowed", "<p>This view is read-only: GET only.</p>")
            r.headers.append(("Allow", "GET, HEAD"))
            return r
        }
        let history = History(database: database, blobs: blobs, config: config)
        /// `?key=N` (or `rN`); nil when absent; a page saying why when it is not a number.
        func revision(_ key: String) throws -> Int? {
            guard let v = request.query[key], !v.isEmpty else { return nil }
            guard let n = Int(v.hasPrefix("r") ? String(v.dropFirst()) : v) else { throw WebParameterError(key: key, value: v) }
            return n
        }
        func url() throws -> String {
            guard let u = request.query["url"], !u.isEmpty else { throw WebParameterError(key: "url", value: "") }
            return u
        }
        do {
            switch request.path {
            case "/": return try home()
            case "/articles": return try articles(source: request.query["source"], search: request.query["q"])
            case "/article": return try article(try url(), history: history)
            case "/diff":
                let u = try url()
                let (renderer, title) = try history.diff(url: u, from: try revision("from"), to: try revision("to"))
                // The renderer's standalone page, with the view's way back.
                if renderer.diff.isEmpty {
                    // Not a table of equal rows: say so.
                    return Self.page(200, title, "<p><strong>No differences:</strong> the two revisions have the same content "
                        + "(a revert, or the same revision twice).</p><p><a href=\"/article?url=\(Self.query(u))\">all revisions of this article</a></p>")
                }
                let nav = "<body><nav style=\"margin-bottom:1em\"><a href=\"/\">mirrord</a> · <a href=\"/articles\">articles</a> · "
                    + "<a href=\"/article?url=\(Self.query(u))\">all revisions of this article</a></nav>"
                return Self.html(200, renderer.html(title: title).replacingOccurrences(of: "<body>", with: nav))
            case "/show": return try show(try url(), revision: try revision("rev"), history: history)
            case "/feed.atom": return try feed()
            default:
                if request.path.hasPrefix("/mirror/raw/") { return mirrored(String(request.path.dropFirst("/mirror/".count))) }
                return Self.page(404, "Not found", "<p>No page here. <a href=\"/\">Start</a></p>")
            }
        } catch let e as WebParameterError {
            return Self.page(400, "Bad request", "<p>\(Self.escape(e.description))</p>")
        } catch let e as ReportError {
            return Self.page(404, "Not found", "<p>\(Self.escape(e.description))</p><p><a href=\"/articles\">Articles</a></p>")
        } catch {
            return Self.page(500, "Error", "<p>\(Self.escape("\(error)"))</p>")
        }
    }

    // MARK: pages

    func home() throws -> ControlResponse {
        let sources = try database.sources()
        var body = "<h2>Sources</h2><table><tr><th>source</th><th>last poll</th><th>next poll</th><th>last error</th></tr>"
        for s in sources {
            body += "<tr><td><a href=\"/articles?source=\(Self.query(s.name))\">\(Self.escape(s.name))</a></td>"
                + "<td>\(Self.time(s.lastPoll))</td>"
                // A source taken out of the config keeps its documents, not its schedule.
                + "<td>\(config.source(named: s.name) == nil ? "not configured any more" : Self.time(s.nextPoll))</td>"
                + "<td>\(Self.escape(s.lastError ?? ""))</td></tr>"
        }
        body += "</table><h2>Runs</h2><table><tr><th>run</th><th>trigger</th><th>status</th><th>started</th>"
            + "<th>fetched</th><th>new versions</th><th>new revisions</th><th>errors</th></tr>"
        for r in try database.runs(limit: 20) {
            body += "<tr><td>#\(r.id ?? 0)</td><td>\(Self.escape(r.trigger))"
                + (r.scope.map { "<br><small>\(Self.escape($0))</small>" } ?? "")
                + "</td><td>\(Self.escape(r.status))"
                + (r.error.map { "<br><small>\(Self.escape($0))</small>" } ?? "")
                + "</td><td>\(Self.time(r.started))</td><td>\(r.fetched)</td><td>\(r.newVersions)</td><td>\(r.newRevisions)</td><td>\(r.errors)</td></tr>"
        }
        body += "</table><p><a href=\"/articles\">All articles</a> · <a href=\"/feed.atom\">Atom feed of new revisions</a></p>"
        return Self.page(200, "mirrord", body)
    }

    func articles(source: String?, search: String?) throws -> ControlResponse {
        let wanted = source.flatMap { $0.isEmpty ? nil : $0 }
        let needle = (search ?? "").trimmingCharacters(in: .whitespaces)
        let all = try database.documents(source: wanted, kind: "article")
        let shown = needle.isEmpty ? all : all.filter { ($0.title ?? "").localizedCaseInsensitiveContains(needle) }
        let names = try database.sources().map(\.name)
        var body = "<form method=\"get\" action=\"/articles\"><label>source <select name=\"source\"><option value=\"\">all</option>"
        for n in names {
            body += "<option value=\"\(Self.escape(n))\"\(n == wanted ? " selected" : "")>\(Self.escape(n))</option>"
        }
        body += "</select></label> <label>title <input name=\"q\" value=\"\(Self.escape(needle))\"></label> <button>Show</button></form>"
        body += "<p>\(shown.count) of \(all.count) articles</p><table><tr><th>title</th><th>source</th><th>revisions</th><th>last changed</th></tr>"
        for d in shown.sorted(by: { ($0.changedAt ?? $0.firstSeen) > ($1.changedAt ?? $1.firstSeen) }) {
            body += "<tr><td><a href=\"/article?url=\(Self.query(d.url))\">\(Self.escape(d.title ?? d.url))</a>"
                + (d.error.map { "<br><small>\(Self.escape($0))</small>" } ?? "")
                + "</td><td>\(Self.escape(d.source))</td><td>\(d.revisionCount)</td><td>\(Self.time(d.changedAt ?? d.firstSeen))</td></tr>"
        }
        return Self.page(200, "Articles", body + "</table>")
    }

    func article(_ url: String, history: History) throws -> ControlResponse {
        let log = try history.log(url: url)
        let latest = log.last?["title"] as? String ?? url
        var body = "<p class=\"meta\">\(Self.outLink(url))</p>"
        // A failed last check (a gone article) says so above the timeline, as `mirrorctl log` does.
        if let doc = try? history.document(url), let failed = Reports.failedCheck(Reports.document(doc, size: nil, contentType: nil)) {
            body += "<p class=\"meta\">\(Self.escape(failed))</p>"
        }
        body += "<table><tr><th>revision</th><th>fetched</th><th>paragraphs</th><th>title</th><th></th></tr>"
        for (i, r) in log.enumerated() {
            let n = r["revision"] as? Int ?? 0
            let fields = (r["fields_changed"] as? [String]) ?? []
            let stats = "+\(r["added"] as? Int ?? 0) −\(r["removed"] as? Int ?? 0) ~\(r["changed"] as? Int ?? 0)"
                + (fields.isEmpty ? "" : " [" + fields.joined(separator: ", ") + "]")
            let revert = (r["reverts_to"] as? Int).map { " (revert to r\($0))" } ?? ""
            let diff = i == 0 ? "" : "<a href=\"/diff?url=\(Self.query(url))&amp;from=\(n - 1)&amp;to=\(n)\">diff r\(n - 1)→r\(n)</a>"
            body += "<tr><td><a href=\"/show?url=\(Self.query(url))&amp;rev=\(n)\">r\(n)</a>\(revert)</td><td>\(Self.escape(r["fetched_at"] as? String ?? ""))</td>"
                + "<td>\(Self.escape(stats))</td><td>\(Self.escape(r["title"] as? String ?? ""))</td><td>\(diff)</td></tr>"
        }
        body += "</table>"
        if log.count >= 2 {
            func options(_ selected: Int) -> String {
                log.compactMap { $0["revision"] as? Int }.map { "<option\($0 == selected ? " selected" : "")>\($0)</option>" }.joined()
            }
            body += "<form method=\"get\" action=\"/diff\"><input type=\"hidden\" name=\"url\" value=\"\(Self.escape(url))\">"
                + "Compare <select name=\"from\">\(options(1))</select> with <select name=\"to\">\(options(log.count))</select> <button>Diff</button></form>"
        }
        return Self.page(200, latest, body)
    }

    func show(_ url: String, revision: Int?, history: History) throws -> ControlResponse {
        let shown = try history.show(url: url, revision: revision)
        guard let copy = try? JSONDecoder().decode(ParsedArticle.self, from: Data(shown.json)) else {
            return Self.page(200, url, "<pre>\(Self.escape(String(decoding: shown.markdown, as: UTF8.self)))</pre>")
        }
        let meta = [("published", copy.published), ("source", copy.source), ("reporter", copy.reporter), ("editor", copy.editor)]
            .compactMap { k, v in v.map { "\(k): \(Self.escape($0))" } }.joined(separator: " · ")
        // Which revision this is: the copy's own fields (the page had not said).
        let copyFields = (try? JSONSerialization.jsonObject(with: Data(shown.json))) as? [String: Any]
        let which = (copyFields?["revision"] as? Int).map { n in
            "revision r\(n)" + ((copyFields?["fetched_at"] as? String).map { ", fetched \(Self.escape($0))" } ?? "")
                + " · <a href=\"/article?url=\(Self.query(url))\">all revisions</a>"
        }
        var body = (which.map { "<p class=\"meta\">\($0)</p>" } ?? "")
            + "<p class=\"meta\">\(meta)</p><p class=\"meta\">\(Self.outLink(url))"
            + (copy.originalURL.map { " · original: " + Self.outLink($0) } ?? "") + "</p>"
        for image in copy.images {
            // Only the mirrored copy is shown: the view never asks a third party for anything.
            // Each segment percent-encoded: mirror file names keep a literal `%XX`, `#` or `?`.
            let mirrored = URI(image.src).flatMap { u in
                image.local != nil ? "/mirror/" + MirrorTree.rawPath(u.normalized()).split(separator: "/").map { Self.query(String($0)) }.joined(separator: "/") : nil
            }
            body += "<figure>" + (mirrored.map { "<img src=\"\(Self.escape($0))\" alt=\"\(Self.escape(image.alt ?? ""))\">" } ?? "")
                + "<figcaption>\(Self.escape(image.caption ?? image.alt ?? ""))\(mirrored == nil ? " (not mirrored)" : "")</figcaption></figure>"
        }
        for p in copy.paragraphs { body += "<p>\(Self.escape(p))</p>" }
        body += "<p><a href=\"/article?url=\(Self.query(url))\">all revisions</a></p>"
        return Self.page(200, copy.title ?? url, body)
    }

    /// An Atom feed (RFC 4287) of the 50 latest article revisions. The feed's author is the
    /// mirror (§4.1.1: a feed names one unless every entry does; the entries are the mirror's
    /// records of a revision, not the articles).
    func feed() throws -> ControlResponse {
        let entries = try database.recentRevisions(limit: 50)
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
            + "<title>mirrord: new revisions</title><author><name>mirrord</name></author>"
            + "<id>urn:mirrord:\(SHA256.hex(config.stateDir))</id>"
            + "<updated>\(RFC3339.string(entries.first?.version.fetchedAt ?? Date(timeIntervalSince1970: 0)))</updated>"
        for (doc, v) in entries {
            let n = v.revision ?? 0
            let title = (v.title ?? doc.url) + (n > 1 ? " (r\(n))" : "")
            let link = n > 1 ? "/diff?url=\(Self.query(doc.url))&from=\(n - 1)&to=\(n)" : "/show?url=\(Self.query(doc.url))&rev=\(n)"
            xml += "<entry><title>\(Self.xmlText(title))</title><id>\(Self.xmlText(doc.url))#r\(n)</id>"
                + "<updated>\(RFC3339.string(v.fetchedAt))</updated><link href=\"\(Self.escape(link))\"/>"
                + "<summary>\(Self.xmlText(n > 1 ? "revision \(n) of \(doc.url)" : "new article \(doc.url)"))</summary></entry>"
        }
        xml += "</feed>\n"
        return ControlResponse(status: 200, body: Array(xml.utf8), contentType: "application/atom+xml; charset=utf-8", headers: Self.securityHeaders)
    }

    /// A file of the mirror's `raw/` tree (the images parsed copies show), confined to it:
    /// no dot segments, no symlinks on the way (`MirrorTree.read`).
    func mirrored(_ relative: String) -> ControlResponse {
        let path = relative.removingPercentEncoding ?? relative
        guard !path.contains("\u{0}"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
              let bytes = MirrorTree(root: config.mirrorDir).read(path) else {
            return Self.page(404, "Not found", "<p>Not in the mirror.</p>")
        }
        let types = ["png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
                     "avif": "image/avif", "svg": "image/svg+xml"]
        let ext = (path as NSString).pathExtension.lowercased()
        // `sandbox` too: an upstream SVG opened on its own is a document, and runs nothing.
        let headers = Self.securityHeaders.map { $0.name == "Content-Security-Policy" ? ($0.name, $0.value + "; sandbox") : $0 }
        return ControlResponse(status: 200, body: bytes, contentType: types[ext] ?? "application/octet-stream", headers: headers)
    }

    // MARK: building blocks

    static func escape(_ s: String) -> String { DiffRenderer.escape(s) }

    /// Text for XML (the Atom feed): escaped, and without the control characters XML 1.0
    /// forbids (one in an upstream title would make the whole feed unreadable).
    static func xmlText(_ s: String) -> String {
        escape(String(String.UnicodeScalarView(s.unicodeScalars.filter { u in
            u.value == 0x9 || u.value == 0xA || u.value == 0xD || (u.value >= 0x20 && u.value != 0xFFFE && u.value != 0xFFFF)
        })))
    }

    /// A query parameter value, percent-encoded: every byte but RFC 3986's unreserved ASCII.
    public static func query(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func time(_ d: Date?) -> String { d.map { RFC3339.string($0) } ?? "–" }

    /// A link to the upstream when it is http(s); otherwise the URL as text.
    static func outLink(_ url: String) -> String {
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return escape(url) }
        return "<a href=\"\(escape(url))\" rel=\"noreferrer noopener\">\(escape(url))</a>"
    }

    static func html(_ status: Int, _ text: String) -> ControlResponse {
        ControlResponse(status: status, body: Array(text.utf8), contentType: "text/html; charset=utf-8", headers: securityHeaders)
    }

    static func page(_ status: Int, _ title: String, _ body: String) -> ControlResponse {
        html(status, """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:1.5em auto;max-width:60em;color:#222;line-height:1.6}
            table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd;vertical-align:top}
            th{color:#666;font-weight:normal}.meta{color:#555;font-size:.9em}small{color:#a33}nav a{margin-right:1em}
            figure{margin:1em 0}img{max-width:100%}figcaption{color:#555;font-size:.9em}
            </style></head><body><nav><a href="/">mirrord</a><a href="/articles">articles</a><a href="/feed.atom">feed</a></nav>
            <h1>\(escape(title))</h1>
            \(body)
            </body></html>
            """)
    }
}

/// A query parameter the web view cannot use.
struct WebParameterError: Error, CustomStringConvertible {
    let key: String
    let value: String
    var description: String { value.isEmpty ? "missing ?\(key)=" : "\(key)=\(value) is not a revision number" }
}

/// Serves the web view on `[web] listen` (TCP), with the control API's HTTP/1.1 handling
/// (bounded requests, a deadline for slow clients).
public final class WebServer: Service, @unchecked Sendable {
    public let listen: WebListen
    let router: WebRouter
    let logger: Logger
    private var channel: Channel?

    public init(listen: WebListen, router: WebRouter, logger: Logger = Logger(label: "mirrord.web")) {
        self.listen = listen
        self.router = router
        self.logger = logger
    }

    /// The port actually bound (`listen.port`, or the one the system chose for port 0 in tests).
    public var boundPort: Int? { channel?.localAddress?.port }

    /// - Throws: `ControlSocketError` naming the address and the reason (in use, not an
    ///   address of this machine, an unknown host name).
    public func bind(group: EventLoopGroup) async throws {
        let router = self.router
        do {
            channel = try await bootstrap(group: group, router: router).bind(host: listen.host, port: listen.port).get()
        } catch let e as IOError {
            throw ControlSocketError(path: listen.description, reason: "cannot listen (\(String(cString: strerror(e.errnoCode))))")
        } catch {
            throw ControlSocketError(path: listen.description, reason: "cannot listen (\(error))")
        }
        logger.notice("web view on http://\(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):\(boundPort ?? listen.port)/")
    }

    private func bootstrap(group: EventLoopGroup, router: WebRouter) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    try channel.pipeline.syncOperations.addHandler(MalformedRequestResponder { reason in
                        WebRouter.page(400, "Bad request", "<p>Malformed HTTP request: \(WebRouter.escape(reason)).</p>")
                    })
                    try channel.pipeline.syncOperations.addHandler(ControlHTTPHandler { await router.handle($0) })
                }
            }
    }

    public func close() async {
        try? await channel?.close()
        channel = nil
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
