import Foundation
import MirrorCore
import MirrorDiscovery
import MirrorStore
import MirrorSync

/// A control request, decoupled from the HTTP library.
public struct ControlRequest: Sendable {
    public var method: String
    /// Path without the query (`/v1/status`).
    public var path: String
    /// Decoded query parameters.
    public var query: [String: String]
    public var body: [UInt8]

    public init(method: String, uri: String, body: [UInt8]) {
        self.method = method
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts[0])
        query = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[0])
                let value = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
                query[key] = value
            }
        }
        self.body = body
    }
}

public struct ControlResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType = "application/json"
    /// Further response headers (the web view's Content-Security-Policy and friends).
    public var headers: [(name: String, value: String)] = []

    public init(status: Int, body: [UInt8], contentType: String = "application/json", headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }

    static func json(_ status: Int, _ value: Any) -> ControlResponse {
        ControlResponse(status: status, body: Reports.encode(value))
    }

    static func error(_ status: Int, _ message: String) -> ControlResponse {
        json(status, ["error": message])
    }
}

/// The endpoints of the control API (DESIGN.md, "Control"). Every answer is JSON; every error
/// is `{"error": "…"}` with a 4xx/5xx status.
public struct ControlRouter: Sendable {
    let coordinator: SyncCoordinator
    let database: MirrorDatabase
    let blobs: BlobStore
    /// Re-reads the configuration; the reason on failure (the daemon's reload, also SIGHUP's).
    let reload: @Sendable () async -> Result<String, Error>

    public init(coordinator: SyncCoordinator, database: MirrorDatabase, blobs: BlobStore,
                reload: @escaping @Sendable () async -> Result<String, Error> = { .failure(ReloadUnsupported()) }) {
        self.coordinator = coordinator
        self.database = database
        self.blobs = blobs
        self.reload = reload
    }

    public struct ReloadUnsupported: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "this server cannot reload its configuration" }
    }

    public func handle(_ request: ControlRequest) async -> ControlResponse {
        let config = await coordinator.config
        let history = History(database: database, blobs: blobs, config: config)
        do {
            switch (request.method, request.path) {
            case ("GET", "/v1/status"):
                let state = DaemonState(uptime: coordinator.uptime, syncing: await coordinator.isSyncing,
                                        currentRun: await coordinator.currentRun, lastRun: await coordinator.lastRun)
                return .json(200, try Reports.status(database: database, config: config, daemon: state))
            case ("POST", "/v1/sync"):
                return await sync(request, config: config)
            case ("POST", "/v1/reparse"):
                return await reparse(request, config: config)
            case ("POST", "/v1/reload"):
                switch await reload() {
                case .success(let summary): return .json(200, ["reloaded": true, "summary": summary])
                case .failure(let error): return .error(422, "\(error)")
                }
            case ("GET", "/metrics"):
                return ControlResponse(status: 200, body: await metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            case ("GET", "/v1/runs"):
                var limit = 20
                if let v = request.query["limit"] {
                    guard let n = Int(v), n >= 1 else { return .error(400, "limit=\(v) is not a number of runs, 1 or more") }
                    limit = n
                }
                return .json(200, try database.runs(limit: limit).map(Reports.run))
            case ("GET", "/v1/documents"):
                // As `mirrorctl list` checks them: a kind or source that cannot match is a
                // mistake, not an empty list.
                let kinds = DocumentKind.allCases.map(\.rawValue)
                if let kind = request.query["kind"], !kinds.contains(kind) {
                    return .error(400, "kind=\(kind) is not \(kinds.joined(separator: ", "))")
                }
                let source = request.query["source"]
                // A source taken out of the config still lists the documents it kept.
                if let source, config.source(named: source) == nil, try !database.hasDocuments(source: source) {
                    return .error(404, config.noSource(source))
                }
                return .json(200, try Reports.documents(database: database, kind: request.query["kind"], source: source,
                                                        url: request.query["url"], config: config))
            case ("GET", "/v1/revisions"), ("GET", "/v1/show"), ("GET", "/v1/diff"):
                guard let url = request.query["url"] else { return .error(400, "missing ?url=") }
                do {
                    return try self.history(request, url: url, history: history)
                } catch let e as ReportError {
                    return .error(404, e.description)
                }
            case (_, "/v1/status"), (_, "/v1/sync"), (_, "/v1/reparse"), (_, "/v1/reload"), (_, "/metrics"), (_, "/v1/runs"),
                 (_, "/v1/documents"), (_, "/v1/revisions"),
                 (_, "/v1/show"), (_, "/v1/diff"):
                return .error(405, "\(request.method) not allowed on \(request.path)")
            default:
                return .error(404, "no endpoint \(request.path)")
            }
        } catch {
            return .error(500, "\(error)")
        }
    }

    /// `GET /v1/revisions?url=`, `GET /v1/show?url=&rev=&format=md|json|raw`,
    /// `GET /v1/diff?url=&from=&to=&format=text|json|html&context=`.
    func history(_ request: ControlRequest, url: String, history: History) throws -> ControlResponse {
        func number(_ key: String) throws -> Int? {
            guard let v = request.query[key], !v.isEmpty else { return nil }
            guard let n = Int(v.trimmingCharacters(in: CharacterSet(charactersIn: "r"))) else { throw BadParameter(key: key, value: v) }
            return n
        }
        /// `context`: a count of paragraphs, 0 or more.
        func count(_ key: String) throws -> Int? {
            guard let v = request.query[key], !v.isEmpty else { return nil }
            guard let n = Int(v), n >= 0 else { throw BadParameter(key: key, value: v, expected: "a number of paragraphs, 0 or more") }
            return n
        }
        do {
            switch request.path {
            case "/v1/revisions":
                return .json(200, try history.log(url: url))
            case "/v1/show":
                let shown = try history.show(url: url, revision: try number("rev"))
                switch request.query["format"] ?? "md" {
                case "md": return ControlResponse(status: 200, body: shown.markdown, contentType: "text/markdown; charset=utf-8")
                case "json": return ControlResponse(status: 200, body: shown.json)
                case "raw": return ControlResponse(status: 200, body: shown.raw, contentType: "application/octet-stream")
                case let f: return .error(400, "format '\(f)' is not md, json or raw")
                }
            default:
                let context = try count("context") ?? 1
                let (renderer, title) = try history.diff(url: url, from: try number("from"), to: try number("to"), context: context)
                switch request.query["format"] ?? "text" {
                case "text": return ControlResponse(status: 200, body: Array(renderer.text().utf8), contentType: "text/plain; charset=utf-8")
                case "json": return .json(200, renderer.jsonObject())
                case "html": return ControlResponse(status: 200, body: Array(renderer.html(title: title).utf8), contentType: "text/html; charset=utf-8")
                case let f: return .error(400, "format '\(f)' is not text, json or html")
                }
            }
        } catch let e as BadParameter {
            return .error(400, e.description)
        }
    }

    struct BadParameter: Error, CustomStringConvertible {
        let key: String
        let value: String
        var expected = "a revision number"
        var description: String { "\(key)=\(value) is not \(expected)" }
    }

    /// `GET /metrics`: the Prometheus text exposition.
    func metrics() async -> [UInt8] {
        let engine = await coordinator.engine
        return (try? engine.metrics.render(database: database, sources: engine.config.sources.map(\.name)))
            ?? Array("# metrics unavailable: store unreadable\n".utf8)
    }

    /// `POST /v1/reparse {"source"?, "force"?}`: waits and returns the counts.
    func reparse(_ request: ControlRequest, config: MirrorConfig) async -> ControlResponse {
        let body: RequestBody
        do {
            body = try RequestBody(request.body, schema: ["source": .string, "force": .bool])
        } catch let bad as BadRequest {
            return .error(bad.status, bad.message)
        } catch {
            return .error(400, "\(error)")
        }
        let source = body.string("source")
        if let source, config.source(named: source) == nil {
            return .error(404, config.noSource(source))
        }
        let force = body.bool("force") ?? false
        do {
            let r = try await coordinator.reparse(source: source, force: force).value
            return .json(200, ["documents": r.documents, "versions": r.versions, "revisions_before": r.revisionsBefore,
                               "revisions_after": r.revisionsAfter, "failures": r.failures])
        } catch {
            return .error(500, "reparse failed: \(error)")
        }
    }

    /// A rejected request: status and message.
    public struct BadRequest: Error, Equatable {
        public let status: Int
        public let message: String
    }

    /// Reads `POST /v1/sync`'s body `{"source"?, "all"?, "wait"?}` (an empty body is `{}`).
    /// - Parameter sources: the configured source names.
    public static func syncOptions(fromBody body: [UInt8], sources: [String]) -> Result<(options: RunOptions, wait: Bool), BadRequest> {
        var options = RunOptions(trigger: "manual")
        let fields: RequestBody
        do {
            fields = try RequestBody(body, schema: ["source": .string, "all": .bool, "wait": .bool])
        } catch let bad as BadRequest {
            return .failure(bad)
        } catch {
            return .failure(BadRequest(status: 400, message: "\(error)"))
        }
        if let name = fields.string("source") {
            guard sources.contains(name) else {
                return .failure(BadRequest(status: 404, message: MirrorConfig.noSource(name, among: sources)))
            }
            options.source = name
        }
        options.all = fields.bool("all") ?? false
        return .success((options, fields.bool("wait") ?? false))
    }

    /// `POST /v1/sync {"source"?, "all"?, "wait"?}`.
    func sync(_ request: ControlRequest, config: MirrorConfig) async -> ControlResponse {
        let options: RunOptions, wait: Bool
        switch Self.syncOptions(fromBody: request.body, sources: config.sources.map(\.name)) {
        case .success(let parsed): (options, wait) = parsed
        case .failure(let bad): return .error(bad.status, bad.message)
        }
        let joining = await coordinator.joining(options)
        let task = await coordinator.sync(options)
        // `coalesced`: the run in progress does what was asked; `queued`: it does not (`all`
        // during a plain run, another source), and a run after it will.
        let how: [String: Any] = ["started": joining == .starts, "coalesced": joining == .joins, "queued": joining == .queued]
        guard wait else {
            return .json(202, how)
        }
        do {
            let run = try await task.value
            return .json(200, how.merging(["run": Reports.run(run)]) { a, _ in a })
        } catch is CancellationError {
            return .error(503, "the run was interrupted (mirrord is stopping); it is recorded as interrupted")
        } catch {
            return .error(500, "run failed: \(error)")
        }
    }
}
