import Foundation

/// Which hosts stopped answering during one sync, or asked to be left alone, so that their
/// other URLs are not tried (or wait).
///
/// A host (`Transfer.hostKey`, and the proxy a request goes through) that fails `limit`
/// requests in a row without a response (DNS, connect, proxy or TLS failure, a timeout before
/// any byte, an empty reply: `counts`) is *down* until this value is dropped, at the end of the
/// run: every later request to it fails at once with `FetchError.hostDown`, and those still
/// queued in the `Fetcher` are not started. Any response at all (even a 5xx) resets the count.
///
/// A host that answers 429 or 503 with `Retry-After` (RFC 9110 section 10.2.3; RFC 6585
/// section 4) is *paused*: no request to it starts before that time, whichever URL asked, as
/// the header speaks for the server, not for one page. One asking for longer than `maxPause`
/// (`http.max_retry_delay`, what a run waits at most) is not asked again in the run
/// (`FetchError.hostBusy`).
///
/// Without it, a blackholed host cost every URL its `connect_timeout` twice (a timeout is
/// retried once): 39 URLs at `connect_timeout = "3s"` took a run of 65 s and 84 log lines,
/// and 3,000 at the default 10 s would take hours, `per_host_concurrency` at a time.
///
/// Thread-safe: the fetch thread records results and asks `refusal` and `isPaused`; the
/// run's tasks ask `refuses` before a retry.
public final class HostHealth: @unchecked Sendable {
    /// A host is down after this many failures in a row.
    public let limit: Int
    /// The longest `Retry-After` a host is waited for within the run, seconds.
    public let maxPause: Double
    /// Called once per host, on the fetch thread, when it is given up for the run: the host
    /// (with `via PROXY` when it is reached through one) and the error its other requests get.
    private let onDown: @Sendable (_ host: String, _ error: FetchError) -> Void
    private let lock = NSLock()
    private var failures: [String: Int] = [:]
    private var down: [String: FetchError] = [:]
    private var pausedUntil: [String: Date] = [:]

    public init(limit: Int = 3, maxPause: Double = 30,
                onDown: @escaping @Sendable (_ host: String, _ error: FetchError) -> Void = { _, _ in }) {
        self.limit = max(1, limit)
        self.maxPause = maxPause
        self.onDown = onDown
    }

    /// The key a request counts under: `host:port`, with ` via PROXY` for a proxied one
    /// (a dead proxy is down for every host behind it, each after its own `limit`); nil for
    /// `file:` URLs.
    static func key(_ request: FetchRequest, defaultProxy: String) -> String? {
        guard let host = Transfer.hostKey(request.url) else { return nil }
        let proxy = request.proxy ?? defaultProxy
        return proxy.isEmpty ? host : "\(host) via \(Fetcher.redacted(proxy))"
    }

    /// libcurl codes (curl/curl.h) that mean the host gave no response: 5 COULDNT_RESOLVE_PROXY,
    /// 6 COULDNT_RESOLVE_HOST, 7 COULDNT_CONNECT, 35 SSL_CONNECT_ERROR, 52 GOT_NOTHING,
    /// 60 PEER_FAILED_VERIFICATION, 97 PROXY; and 28 OPERATION_TIMEDOUT when nothing came (the
    /// connect, or no byte of a reply): a large image cut by `timeout` mid-body, or a reset
    /// in mid-body (56), says nothing of the host. The same failure for every URL of a host,
    /// unlike a body over `max_body_bytes`.
    static let noResponseCodes: Set<Int> = [5, 6, 7, 35, 52, 60, 97]

    /// Whether a result counts against its host (no response), for it (any response), or
    /// neither (a cancel, our own refusal of a body, a transfer cut after it began).
    static func counts(_ result: Result<FetchResponse, FetchError>) -> Bool? {
        switch result {
        case .success: return false
        case let .failure(.transfer(28, message)):
            let m = message.lowercased()
            return Fetcher.isConnectTimeout(message) || m.contains("with 0 bytes received") || m.contains("0 out of") ? true : nil
        case let .failure(.transfer(code, _)): return noResponseCodes.contains(code) ? true : nil
        case .failure(.http), .failure(.redirectLoop): return false
        case .failure: return nil
        }
    }

    /// The failure to answer a request to `key` with instead of trying it, when it is down.
    func refusal(_ key: String) -> FetchError? {
        lock.withLock { down[key] }
    }

    /// Whether requests to `key` wait (a `Retry-After` not yet over).
    func isPaused(_ key: String, now: Date = Date()) -> Bool {
        lock.withLock { pausedUntil[key].map { $0 > now } ?? false }
    }

    /// Whether `request` would be refused (its host is down): a caller about to wait before a
    /// retry asks first.
    public func refuses(_ request: FetchRequest, defaultProxy: String) -> Bool {
        guard let key = Self.key(request, defaultProxy: defaultProxy) else { return false }
        return refusal(key) != nil
    }

    /// Notes that `key` answered (a redirect elsewhere): its count of failures starts again.
    func responded(_ key: String) {
        lock.withLock { failures[key] = nil }
    }

    /// Notes a finished transfer's result for its host.
    func record(_ key: String, _ result: Result<FetchResponse, FetchError>, now: Date = Date()) {
        guard let failed = Self.counts(result) else { return }
        var wentDown: FetchError?
        lock.withLock {
            guard down[key] == nil else { return }
            if case let .success(r) = result, r.status == 429 || r.status == 503,
               let seconds = RetryPolicy.retryAfter(r.retryAfter, now: now) {
                if seconds > maxPause {
                    // (`retryAfter` is at most a year: the conversion cannot overflow.)
                    let busy = FetchError.hostBusy(host: key, status: r.status, seconds: Int(min(seconds, RetryPolicy.longestRetryAfter).rounded(.up)))
                    down[key] = busy
                    wentDown = busy
                } else {
                    pausedUntil[key] = max(pausedUntil[key] ?? now, now.addingTimeInterval(seconds))
                }
            }
            guard failed, case let .failure(error) = result else {
                failures[key] = nil
                return
            }
            let n = failures[key, default: 0] + 1
            failures[key] = n
            if n >= limit {
                let gone = FetchError.hostDown(host: key, failures: n, last: error.description)
                down[key] = gone
                wentDown = gone
            }
        }
        if let wentDown { onDown(key, wentDown) }
    }
}
