import CCurl
import Foundation
import MirrorCore

/// HTTP(S) and `file://` GETs through one libcurl multi handle.
///
/// One thread owns the multi handle and every easy handle (libcurl handles are not
/// thread-safe); `fetch` hands a request to it and suspends until the transfer completes.
/// At most `concurrency` transfers run at once, and at most `per_host_concurrency` to one
/// host (`Transfer.host`): the rest wait here, not inside libcurl, because libcurl's
/// `CURLOPT_TIMEOUT` counts the time a transfer spends queued behind
/// `CURLMOPT_MAX_HOST_CONNECTIONS` (a slow host's queued pages failed after "timeout" without
/// being requested, with "Failed to resolve host … with timeout after 0 ms"). That libcurl
/// limit stays set, for a redirect to another host. Connections and easy handles are reused.
public final class Fetcher: @unchecked Sendable {
    private let settings: HTTPSettings
    private let lock = NSLock()
    private var pending: [Transfer] = []
    private var running = true
    /// When the fetch thread last went round its loop (it wakes at least once a second).
    private var lastLoop = Date()

    /// Seconds since the fetch thread's loop last turned: the watchdog's evidence of life.
    public var secondsSinceLoop: Double {
        lock.lock()
        defer { lock.unlock() }
        return Date().timeIntervalSince(lastLoop)
    }
    private var multi: UnsafeMutableRawPointer?
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    public init(settings: HTTPSettings) {
        self.settings = settings
        Fetcher.globalInit
        multi = curl_multi_init()
        _ = mirrord_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, settings.perHostConcurrency)
        _ = mirrord_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.concurrency)
        let t = Thread { [unowned self] in self.loop() }
        t.name = "mirrord-fetch"
        thread = t
        t.start()
    }

    /// `curl_global_init` must run once before any other libcurl call in the process.
    static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    /// Stops the fetch thread; transfers still in flight complete with an error.
    public func shutdown() {
        lock.lock()
        let wasRunning = running
        running = false
        lock.unlock()
        guard wasRunning else { return }
        curl_multi_wakeup(multi)
        stopped.wait()
    }

    deinit {
        shutdown()
    }

    /// Performs one GET. Cancelling the calling task aborts the transfer.
    /// - Returns: the response (any HTTP status), or why there is none.
    public func fetch(_ request: FetchRequest) async -> Result<FetchResponse, FetchError> {
        let box = TransferBox()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let transfer = Transfer(request: request, maxBody: request.maxBodyBytes ?? settings.maxBodyBytes, continuation: continuation)
                transfer.healthKey = request.health == nil ? nil : HostHealth.key(request, defaultProxy: settings.proxy)
                lock.lock()
                box.transfer = transfer
                guard running, !Task.isCancelled else {
                    lock.unlock()
                    continuation.resume(returning: .failure(.cancelled))
                    return
                }
                pending.append(transfer)
                lock.unlock()
                curl_multi_wakeup(multi)
            }
        } onCancel: {
            lock.lock()
            if let t = box.transfer { cancelled.append(t) }
            lock.unlock()
            curl_multi_wakeup(multi)
        }
    }

    private var cancelled: [Transfer] = []

    // MARK: the fetch thread

    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    /// Transfers started and not yet finished, by `Transfer.host`.
    private var hostLoad: [String: Int] = [:]

    private func released(_ t: Transfer) {
        guard let host = t.host, let n = hostLoad[host] else { return }
        hostLoad[host] = n > 1 ? n - 1 : nil
    }

    private func loop() {
        while true {
            lock.lock()
            lastLoop = Date()
            let stop = !running
            var starting: [Transfer] = []
            pending.removeAll { t in cancelled.contains { $0 === t } && t.complete(.failure(.cancelled)) }
            // A request to a host that stopped answering in this run is answered without trying.
            pending.removeAll { t in t.refusal.map { t.complete(.failure($0)) } ?? false }
            if !stop {
                var i = 0
                while active.count + starting.count < settings.concurrency, i < pending.count {
                    if let host = pending[i].host, hostLoad[host, default: 0] >= settings.perHostConcurrency || pending[i].isPaused {
                        i += 1  // its host is busy, or asked for a pause: a later request to another host may go first
                        continue
                    }
                    let t = pending.remove(at: i)
                    if let host = t.host { hostLoad[host, default: 0] += 1 }
                    starting.append(t)
                }
            }
            let cancelling = cancelled
            cancelled.removeAll()
            lock.unlock()
            if stop { break }
            for t in cancelling { abort(t) }
            for t in starting { start(t) }
            var stillRunning: Int32 = 0
            curl_multi_perform(multi, &stillRunning)
            var queued: Int32 = 0
            var finished = false
            while let msg = curl_multi_info_read(multi, &queued) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
                finish(easy, code: mirrord_msg_result(msg))
                finished = true
            }
            // A finished transfer freed a slot: a request waiting for it (its host at
            // `per_host_concurrency`, or all at `concurrency`) starts now, not when the poll
            // next wakes (up to a second later: one page a second with per_host_concurrency = 1).
            curl_multi_poll(multi, nil, 0, finished ? 0 : 1000, nil)
        }
        for (easy, t) in active {
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
            t.complete(.failure(.cancelled))
        }
        active.removeAll()
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
        multi = nil
        lock.lock()
        let left = pending
        pending.removeAll()
        lock.unlock()
        for t in left { t.complete(.failure(.cancelled)) }
        stopped.signal()
    }

    private func start(_ t: Transfer) {
        let easy: UnsafeMutableRawPointer
        if let reused = idleHandles.popLast() {
            easy = reused
            curl_easy_reset(easy)
        } else {
            easy = curl_easy_init()!
        }
        t.configure(easy, settings: settings)
        active[easy] = t
        curl_multi_add_handle(multi, easy)
    }

    private func abort(_ t: Transfer) {
        guard let (easy, _) = active.first(where: { $0.value === t }) else { return }
        curl_multi_remove_handle(multi, easy)
        active.removeValue(forKey: easy)
        released(t)
        t.cleanupRequestState()
        idleHandles.append(easy)
        t.complete(.failure(.cancelled))
    }

    /// The `[http]` setting a timeout hit, for its log line and error: libcurl's message says
    /// how long it waited, not which of the three limits that was.
    static func limitHit(_ curlMessage: String, _ settings: HTTPSettings) -> String {
        func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s))s" : String(format: "%.1fs", s) }
        if curlMessage.lowercased().contains("too slow") {
            return "low_speed_limit = \(settings.lowSpeedLimit) bytes/s for low_speed_time = \(seconds(settings.lowSpeedTime))"
        }
        if isConnectTimeout(curlMessage) { return "connect_timeout = \(seconds(settings.connectTimeout))" }
        return "timeout = \(seconds(settings.timeout))"
    }

    /// Whether libcurl's message for a timeout (28) says the connection or the name lookup
    /// never completed. libcurl 7.88: "Failed to connect to HOST port N after 3000 ms: Timeout
    /// was reached" (older: "Connection timed out after 3001 milliseconds"), "Resolving timed
    /// out after …".
    static func isConnectTimeout(_ curlMessage: String) -> Bool {
        let m = curlMessage.lowercased()
        return m.contains("failed to connect") || m.contains("connection timed out") || m.contains("connection timeout")
            || m.contains("resolving timed out")
    }

    /// The proxy a failure happened at, when it did: no proxy host (5), no connection to the
    /// proxy (7, or a connect timeout, 28), or the proxy's handshake or its refusal to reach
    /// the target (97).
    public static func proxyInvolved(code: Int, message: String, _ request: FetchRequest, _ settings: HTTPSettings) -> String? {
        let proxy = request.proxy ?? settings.proxy
        guard !proxy.isEmpty, let host = URI(request.url)?.host?.lowercased() else { return nil }
        // `no_proxy` (libcurl's syntax: `*`, or hosts and domains, a leading dot optional).
        let bypassed = settings.noProxy.split(separator: ",").contains { entry in
            let e = entry.trimmingCharacters(in: .whitespaces).lowercased()
            let domain = e.hasPrefix(".") ? String(e.dropFirst()) : e
            return e == "*" || (!domain.isEmpty && (host == domain || host.hasSuffix("." + domain)))
        }
        guard !bypassed else { return nil }
        switch code {
        case 5, 7, 97: return redacted(proxy)
        case 28 where message.lowercased().contains("failed to connect"): return redacted(proxy)
        default: return nil
        }
    }

    /// A proxy URL without its `user:password@`, for messages: they reach the log, the
    /// database, `status` and the web view.
    public static func redacted(_ proxy: String) -> String {
        guard let scheme = proxy.range(of: "://") else { return proxy }
        let rest = proxy[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return proxy }
        return String(proxy[..<scheme.upperBound]) + "…@" + rest[rest.index(after: at)...]
    }

    private func finish(_ easy: UnsafeMutableRawPointer, code: CURLcode) {
        curl_multi_remove_handle(multi, easy)
        guard let t = active.removeValue(forKey: easy) else { return }
        released(t)
        var result = t.result(easy, code: code)
        if case let .failure(.transfer(c, message)) = result, c == Int(CURLE_OPERATION_TIMEDOUT.rawValue) {
            result = .failure(.transfer(code: c, message: message + " (" + Self.limitHit(message, settings) + ")"))
        }
        if case let .failure(.transfer(c, message)) = result, let proxy = Self.proxyInvolved(code: c, message: message, t.request, settings) {
            // libcurl names the proxy's address ("Failed to connect to 127.0.0.1 port 9050"),
            // not that it was the proxy: a user reads it as the upstream's failure.
            result = .failure(.transfer(code: c, message: message + " (through proxy \(proxy))"))
        }
        if let health = t.request.health, var key = t.healthKey {
            if case .failure = result, !t.hops.isEmpty {
                // It failed after a redirect: the host it was sent to gave no response, not
                // this one, which answered (a feed redirector before dead links).
                var effective: UnsafeMutablePointer<CChar>?
                _ = mirrord_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &effective)
                if let target = effective.map({ String(cString: $0) })
                    .flatMap({ HostHealth.key(FetchRequest(url: $0, proxy: t.request.proxy), defaultProxy: settings.proxy) }),
                   target != key {
                    health.responded(key)
                    key = target
                }
            }
            health.record(key, result)
        }
        t.cleanupRequestState()
        idleHandles.append(easy)
        t.complete(result)
    }
}

/// Carries the transfer from the continuation to the cancellation handler.
final class TransferBox: @unchecked Sendable {
    var transfer: Transfer?
}

/// The state of one transfer; touched only by the fetch thread until `complete`.
public final class Transfer: @unchecked Sendable {
    let request: FetchRequest
    let maxBody: Int
    private var continuation: CheckedContinuation<Result<FetchResponse, FetchError>, Never>?
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var exceeded = false
    /// Status of each response in the redirect chain, and where each redirect pointed.
    var hops: [(status: Int, location: String?)] = []
    var visited: [String] = []
    var loop = false
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// CURLOPT_ERRORBUFFER: libcurl writes its detailed message here; must stay put.
    let errorBuffer: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        p.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return p
    }()

    deinit {
        errorBuffer.deallocate()
    }

    /// `host:port` of the request's URL (`hostKey`), which `per_host_concurrency` counts; nil
    /// for `file:` URLs.
    let host: String?
    /// What `request.health` counts this transfer under (`HostHealth.key`); nil without one.
    var healthKey: String?

    /// Why not to start this transfer: its host is down in this run.
    var refusal: FetchError? {
        guard let key = healthKey else { return nil }
        return request.health?.refusal(key)
    }

    /// Whether this transfer waits: its host's `Retry-After` is not over (the fetch thread
    /// looks again at least once a second).
    var isPaused: Bool {
        guard let key = healthKey else { return false }
        return request.health?.isPaused(key) ?? false
    }

    init(request: FetchRequest, maxBody: Int, continuation: CheckedContinuation<Result<FetchResponse, FetchError>, Never>) {
        self.request = request
        self.maxBody = maxBody
        self.continuation = continuation
        host = Self.hostKey(request.url)
    }

    /// `host:port` of an absolute http(s) URL, lowercased, with the scheme's default port when
    /// it names none, the port as a number and a trailing dot dropped (RFC 3986 section 3.2:
    /// userinfo dropped, an IPv6 literal kept in its brackets): what libcurl takes for one
    /// host; nil for other URLs. One pass over the bytes: through `URI` and its `host`
    /// and `port`, this was 3.7 % of a resync.
    public static func hostKey(_ url: String) -> String? {
        let b = Array(url.utf8)
        guard let colon = b.firstIndex(of: UInt8(ascii: ":")), colon + 2 < b.count,
              b[colon + 1] == UInt8(ascii: "/"), b[colon + 2] == UInt8(ascii: "/") else { return nil }
        let scheme = String(decoding: b[..<colon], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var start = colon + 3, end = start
        while end < b.count, b[end] != UInt8(ascii: "/"), b[end] != UInt8(ascii: "?"), b[end] != UInt8(ascii: "#") { end += 1 }
        if let at = b[start..<end].lastIndex(of: UInt8(ascii: "@")) { start = at + 1 }
        guard start < end else { return nil }
        var host = b[start..<end].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        var port = scheme == "https" ? 443 : 80
        let afterLiteral = host.lastIndex(of: UInt8(ascii: "]")).map { $0 + 1 } ?? 0
        if let portColon = host[afterLiteral...].lastIndex(of: UInt8(ascii: ":")) {
            let digits = host[(portColon + 1)...]
            if !digits.isEmpty {
                guard let n = Int(String(decoding: digits, as: UTF8.self)) else { return nil }
                port = n  // `:080` is port 80, as libcurl reads it
            }
            host.removeSubrange(portColon...)
        }
        if host.count > 1, host.last == UInt8(ascii: ".") { host.removeLast() }  // `example.org.`: the same host
        guard !host.isEmpty else { return nil }
        return String(decoding: host, as: UTF8.self) + ":\(port)"
    }

    /// Resumes the waiting task once; later calls do nothing.
    /// - Returns: true (so it can sit in a `removeAll(where:)` predicate).
    @discardableResult
    func complete(_ result: Result<FetchResponse, FetchError>) -> Bool {
        continuation?.resume(returning: result)
        continuation = nil
        return true
    }

    func configure(_ easy: UnsafeMutableRawPointer, settings: HTTPSettings) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = mirrord_easy_setopt_string(easy, CURLOPT_URL, request.url)
        _ = mirrord_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = mirrord_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))  // HTTP/2 over TLS where offered
        _ = mirrord_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        _ = mirrord_easy_setopt_long(easy, CURLOPT_MAXREDIRS, settings.maxRedirects)
        _ = mirrord_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https,file")
        _ = mirrord_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = mirrord_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(settings.timeout * 1000))
        _ = mirrord_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        _ = mirrord_easy_setopt_string(easy, CURLOPT_USERAGENT, settings.userAgent)
        if request.acceptEncoding {
            // Decoded here, not by libcurl (`decoded`): libcurl takes a gzip body that stops
            // short, its trailer missing, for a whole one, and a truncated page became a version.
            _ = mirrord_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "gzip, deflate")
        }
        _ = mirrord_easy_setopt_long(easy, CURLOPT_HTTP_CONTENT_DECODING, 0)  // keep the body as sent
        _ = mirrord_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, settings.lowSpeedLimit)
        _ = mirrord_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(settings.lowSpeedTime.rounded(.up))))
        if let ca = settings.caFile { _ = mirrord_easy_setopt_string(easy, CURLOPT_CAINFO, ca) }
        _ = mirrord_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxBody))
        errorBuffer[0] = 0
        _ = mirrord_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        let proxy = request.proxy ?? settings.proxy
        if !proxy.isEmpty {
            _ = mirrord_easy_setopt_string(easy, CURLOPT_PROXY, proxy)
            if !settings.noProxy.isEmpty { _ = mirrord_easy_setopt_string(easy, CURLOPT_NOPROXY, settings.noProxy) }
        } else {
            // Never pick up http_proxy & co. from the environment behind the config's back.
            _ = mirrord_easy_setopt_string(easy, CURLOPT_PROXY, "")
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        if let etag = request.etag {
            list = curl_slist_append(list, "If-None-Match: \(etag)")
        }
        if let lm = request.lastModified {
            list = curl_slist_append(list, "If-Modified-Since: \(lm)")
        }
        headerList = list
        if let list { _ = mirrord_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list) }
        _ = mirrord_easy_setopt_write(easy, CURLOPT_WRITEFUNCTION, transferWrite)
        _ = mirrord_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        _ = mirrord_easy_setopt_write(easy, CURLOPT_HEADERFUNCTION, transferHeader)
        _ = mirrord_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
    }

    func cleanupRequestState() {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
    }

    func header(_ name: String) -> String? {
        headers.last { $0.0 == name }?.1
    }

    /// The final response's `Content-Encoding` codings, lowercased, in the order applied
    /// (`identity` left out).
    var contentCodings: [String] {
        (header("content-encoding") ?? "").lowercased().split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "identity" }
    }

    /// The body with its `Content-Encoding` undone (RFC 9110 section 8.4): gzip, or deflate
    /// (zlib, or raw deflate as some servers send it). The stream must end and stay within
    /// `max_body_bytes` decoded. A coding not asked for (br, zstd) is refused like a corrupt
    /// one: `badContentEncoding`, after which the check asks again without `Accept-Encoding`.
    func decoded(_ raw: [UInt8]) -> Result<[UInt8], FetchError> {
        let codings = contentCodings
        guard !codings.isEmpty, !raw.isEmpty else { return .success(raw) }
        var bytes = raw
        do {
            for coding in codings.reversed() {  // applied in the order listed: undone last first
                switch coding {
                case "gzip", "x-gzip":
                    bytes = try Gzip.inflate(bytes, limit: maxBody)
                case "deflate":
                    do {
                        bytes = try Gzip.inflate(bytes, limit: maxBody, format: .zlib)
                    } catch is Gzip.Corrupt {
                        bytes = try Gzip.inflate(bytes, limit: maxBody, format: .raw)
                    }
                default:
                    return .failure(.badContentEncoding(message: "Content-Encoding \(coding) was not asked for"))
                }
            }
        } catch is Gzip.TooLarge {
            return .failure(.tooLarge(limit: maxBody, setting: request.maxBodySetting))
        } catch {
            return .failure(.badContentEncoding(message: "\(error)"))
        }
        return .success(bytes)
    }

    /// Whether a `Content-Encoding` of gzip or deflate is plainly wrong about `raw`: no gzip
    /// magic and no zlib header (RFC 1950: CM 8 in the first byte's low nibble, a header
    /// checksum divisible by 31), i.e. bytes that were never compressed.
    func labelIsAMistake(_ raw: [UInt8]) -> Bool {
        let codings = Set(contentCodings)
        guard !codings.isEmpty, codings.isSubset(of: ["gzip", "x-gzip", "deflate"]) else { return false }
        if Gzip.isGzip(raw) { return false }
        if raw.count >= 2, raw[0] & 0x0F == 8, (UInt16(raw[0]) << 8 | UInt16(raw[1])) % 31 == 0 { return false }
        return true
    }

    func result(_ easy: UnsafeMutableRawPointer, code: CURLcode) -> Result<FetchResponse, FetchError> {
        if exceeded || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(.tooLarge(limit: maxBody, setting: request.maxBodySetting))
        }
        if loop {
            return .failure(.redirectLoop(chain: visited))
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            if code == CURLE_BAD_CONTENT_ENCODING { return .failure(.badContentEncoding(message: message)) }
            return .failure(.transfer(code: Int(code.rawValue), message: message))
        }
        var status = 0
        _ = mirrord_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = mirrord_easy_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &effective)
        let effectiveURL = effective.map { String(cString: $0) } ?? request.url
        if status == 0 && effectiveURL.lowercased().hasPrefix("file:") { status = 200 }
        var permanent: String?
        if let first = hops.first, first.status == 301 || first.status == 308, visited.count > 1 {
            permanent = visited[1]
        }
        let body: [UInt8]
        switch decoded(self.body) {
        case .success(let b): body = b
        // An error page whose coding is broken: its status is the answer (a 404 stays a 404;
        // its body is stored by no one).
        case .failure where !(200..<300).contains(status): body = self.body
        // Asked without Accept-Encoding (the retry after a bad coding): a gzip or deflate label
        // on bytes that are not compressed at all is the server's mistake, and they are kept
        // as sent. A stream cut short, or a coding not asked for (br), stays an error.
        case .failure(.badContentEncoding) where !request.acceptEncoding && labelIsAMistake(self.body): body = self.body
        case .failure(let e): return .failure(e)
        }
        return .success(FetchResponse(status: status, body: body, etag: header("etag"),
                                      lastModified: header("last-modified"), contentType: header("content-type"),
                                      retryAfter: header("retry-after"), effectiveURL: effectiveURL,
                                      permanentRedirect: permanent))
    }
}

/// CURLOPT_WRITEFUNCTION: appends to the transfer's body; returning less than given aborts
/// the transfer, which is how `max_body_bytes` cuts a body whose size was not announced.
private let transferWrite: curl_write_callback = { data, size, count, user in
    guard let user, let data else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    if t.body.count + n > t.maxBody {
        t.exceeded = true
        return 0
    }
    if t.body.isEmpty, let declared = t.header("content-length").flatMap({ Int($0) }), declared > n {
        // Room for the declared body at once: appended chunk by chunk, an array doubles its
        // capacity, so a 2 MB page had held up to 4 MB while it arrived (heaptrack, cold
        // mirror of 30,000). A compressed body decodes to more: it grows from there.
        t.body.reserveCapacity(min(declared, t.maxBody))
    }
    data.withMemoryRebound(to: UInt8.self, capacity: n) { p in
        t.body.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    }
    return n
}

/// CURLOPT_HEADERFUNCTION: one header line per call; a status line starts a new response
/// (after a redirect or `100 Continue`), so only the final response's headers are kept.
private let transferHeader: curl_write_callback = { data, size, count, user in
    guard let user, let data else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    // Bytes, not Strings: a header line's framing is ASCII (RFC 9112 section 5: field-name ":"
    // OWS field-value OWS, OWS being SP or HTAB, the line ended by CRLF). Trimming each line as
    // Unicode text had cost 8 % of a resync's CPU (3,000 documents), Foundation's
    // trimmingCharacters before that as much again.
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: n)
    let line = trimmedOWS(bytes[...], newlines: true)
    if line.starts(with: "HTTP/".utf8) {
        t.headers.removeAll()
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
        t.hops.append((status: parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0, location: nil))
        if t.visited.isEmpty { t.visited.append(t.request.url) }
    } else if line.isEmpty {
        // End of one response's headers: follow a redirect's Location in our own books to
        // catch a loop before libcurl spends its whole redirect budget on it.
        if let hop = t.hops.last, (300...399).contains(hop.status), let location = t.header("location"),
           let current = URI(t.visited.last ?? t.request.url), let next = current.resolving(location) {
            var target = next
            target.fragment = nil
            let s = target.description
            let seen = t.visited.contains(s)
            t.visited.append(s)
            t.hops[t.hops.count - 1].location = s
            if seen {
                t.loop = true
                return 0  // aborts the transfer
            }
        }
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        // Field names are case-insensitive ASCII tokens (RFC 9110 section 5.1): kept lowercased.
        let name = trimmedOWS(line[..<colon], newlines: false).map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        let value = trimmedOWS(line[(colon + 1)...], newlines: false)
        t.headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
    return n
}

/// `bytes` without leading and trailing SP and HTAB (RFC 9110 section 5.6.3's OWS), and CR
/// and LF with `newlines`.
private func trimmedOWS(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, newlines: Bool) -> Slice<UnsafeBufferPointer<UInt8>> {
    func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || (newlines && (b == 0x0D || b == 0x0A)) }
    var lo = bytes.startIndex, hi = bytes.endIndex
    while lo < hi, blank(bytes[lo]) { lo += 1 }
    while hi > lo, blank(bytes[hi - 1]) { hi -= 1 }
    return bytes[lo..<hi]
}
