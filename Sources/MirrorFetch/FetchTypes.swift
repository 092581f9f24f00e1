import MirrorCore

/// One GET to perform.
public struct FetchRequest: Sendable {
    public var url: String
    /// Validators of the stored version, sent back exactly as the server gave them
    /// (RFC 9110 section 13.1.2 / 13.1.3): a weak ETag stays weak, `If-Modified-Since`
    /// carries the server's own `Last-Modified` string, never our clock.
    public var etag: String?
    public var lastModified: String?
    /// Proxy URL for this request (`socks5h://…`); nil: `http.proxy`; empty: none.
    public var proxy: String?
    /// Extra request headers (a source's `headers`).
    public var headers: [String: String]
    /// Ask for compressed transfer (`Accept-Encoding`). Turned off for the one retry after a
    /// server labelled a plain body `Content-Encoding: gzip`.
    public var acceptEncoding: Bool
    /// Overrides `http.max_body_bytes` (assets have `max_asset_bytes`).
    public var maxBodyBytes: Int?
    /// The setting `maxBodyBytes` comes from, as a "too large" error names it.
    public var maxBodySetting: String
    /// The run's record of hosts that stopped answering: a request to one of them fails at
    /// once with `FetchError.hostDown` (nil: always tried).
    public var health: HostHealth?

    public init(url: String, etag: String? = nil, lastModified: String? = nil, proxy: String? = nil,
                headers: [String: String] = [:], acceptEncoding: Bool = true, maxBodyBytes: Int? = nil,
                maxBodySetting: String = "max_body_bytes", health: HostHealth? = nil) {
        self.health = health
        self.maxBodyBytes = maxBodyBytes
        self.maxBodySetting = maxBodySetting
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.proxy = proxy
        self.headers = headers
        self.acceptEncoding = acceptEncoding
    }
}

/// A completed HTTP exchange (any status the server sent, or a `file://` read).
public struct FetchResponse: Sendable {
    /// HTTP status; `file://` reads report 200.
    public var status: Int
    public var body: [UInt8]
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    /// `Retry-After` as sent (delta-seconds or an HTTP-date), for 429/503.
    public var retryAfter: String?
    /// The URL after redirects.
    public var effectiveURL: String
    /// Where a permanent redirect (301/308 as the first hop) sent the request, to be used
    /// directly next time (RFC 9110 section 15.4.2 / 15.4.9); nil for temporary redirects.
    public var permanentRedirect: String?

    public init(status: Int, body: [UInt8], etag: String? = nil, lastModified: String? = nil, contentType: String? = nil,
                retryAfter: String? = nil, effectiveURL: String, permanentRedirect: String? = nil) {
        self.status = status
        self.body = body
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.retryAfter = retryAfter
        self.effectiveURL = effectiveURL
        self.permanentRedirect = permanentRedirect
    }

    public var isNotModified: Bool { status == 304 }
}

/// Why a transfer produced no usable response. Every case renders to a message a user can act
/// on; none is ever blank.
public enum FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libcurl failed: its error code and its own explanation (DNS, connect, TLS, timeout…).
    case transfer(code: Int, message: String)
    /// The body exceeded `max_body_bytes` (decoded bytes are counted); the transfer was aborted.
    case tooLarge(limit: Int, setting: String = "max_body_bytes")
    /// The server answered with an error status.
    case http(status: Int)
    /// A redirect led back to a URL already visited.
    case redirectLoop(chain: [String])
    /// `Content-Encoding` promised a compression the body does not have, also on the retry
    /// without `Accept-Encoding`.
    case badContentEncoding(message: String)
    /// The body arrived but cannot be read: a gzip file (a sitemap `.xml.gz`) that is corrupt
    /// or expands past `max_body_bytes`. Not transient: the document backs off like any failure.
    case undecodableBody(message: String)
    /// The caller's task was cancelled (shutdown) or the fetcher stopped: not the upstream's fault.
    case cancelled
    /// Not tried: its host failed `failures` requests in a row in this run without a response
    /// (`HostHealth`); `last` is the last of those failures.
    case hostDown(host: String, failures: Int, last: String)
    /// Not tried: its host answered `status` (429 or 503) with a `Retry-After` of `seconds`,
    /// longer than a run waits (`http.max_retry_delay`; `HostHealth`).
    case hostBusy(host: String, status: Int, seconds: Int)

    public var description: String {
        switch self {
        case let .transfer(code, message): return "\(message) (curl error \(code))"
        case let .tooLarge(limit, setting): return "body too large (over \(setting) = \(limit))"
        case let .http(status): return "HTTP \(status)" + (HTTPStatus.reason(status).map { " " + $0 } ?? "")
        case let .redirectLoop(chain): return "redirect loop: " + chain.joined(separator: " → ")
        case let .badContentEncoding(message): return "bad Content-Encoding: \(message)"
        case let .undecodableBody(message): return message
        case .cancelled: return "cancelled"
        case let .hostDown(host, failures, last):
            return "not tried: \(host) gave no response to \(failures) requests in a row in this run (last: \(last))"
        case let .hostBusy(host, status, seconds):
            return "not tried: \(host) answered \(FetchError.http(status: status)) with Retry-After: \(seconds) in this run, longer than max_retry_delay"
        }
    }

    /// libcurl error codes (curl/curl.h) that name a condition worth retrying soon.
    static let transientCurlCodes: Set<Int> = [
        7,   // CURLE_COULDNT_CONNECT
        16,  // CURLE_HTTP2
        18,  // CURLE_PARTIAL_FILE: body shorter than Content-Length (truncated)
        28,  // CURLE_OPERATION_TIMEDOUT (also the low-speed limit)
        52,  // CURLE_GOT_NOTHING
        55,  // CURLE_SEND_ERROR
        56,  // CURLE_RECV_ERROR
        92,  // CURLE_HTTP2_STREAM
        97,  // CURLE_PROXY: a SOCKS proxy that could not reach the target this time (a Tor circuit)
    ]

    /// Connect errors, timeouts, truncated bodies, 408, 429 and 5xx: worth retrying within the
    /// run. DNS and TLS failures, 4xx and oversized bodies are not.
    public var isTransient: Bool {
        switch self {
        case let .transfer(code, _): return Self.transientCurlCodes.contains(code)
        case let .http(status): return Self.isTransient(status: status)
        default: return false
        }
    }

    /// The server answered for the URL itself: an HTTP status other than 407, 408, 429 and 5xx, a
    /// redirect (a loop), or a body (too large, or unreadable). A transfer failure (DNS,
    /// connect, TLS, timeout), a busy or broken server, and a cancel say nothing about the
    /// document, so they do not end what an earlier answer established (that it is gone).
    public var isAnswer: Bool {
        switch self {
        case .transfer, .cancelled, .hostDown, .hostBusy: return false
        // 407 is the proxy's answer (its credentials), not the upstream's.
        case let .http(status): return !(status == 407 || Self.isTransient(status: status))
        case .tooLarge, .redirectLoop, .badContentEncoding, .undecodableBody: return true
        }
    }

    /// 408, 429 and 5xx: a busy or broken server, worth asking again.
    static func isTransient(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// A timeout (the whole transfer, the connect, or the low-speed limit): a server that
    /// stalls once will likely stall again, so it is retried at most once per run.
    public var isTimeout: Bool {
        if case let .transfer(code, _) = self { return code == 28 }  // CURLE_OPERATION_TIMEDOUT
        return false
    }

    /// Not tried, its host given up for the run (`hostDown`, `hostBusy`).
    public var isHostRefusal: Bool {
        switch self {
        case .hostDown, .hostBusy: return true
        default: return false
        }
    }

    /// 404 and 410: the document is gone upstream (kept, listed, re-checked rarely).
    public var isGone: Bool {
        if case let .http(status) = self { return status == 404 || status == 410 }
        return false
    }
}

/// Reason phrases of the statuses an upstream commonly sends (RFC 9110 section 15).
public enum HTTPStatus {
    public static func reason(_ status: Int) -> String? {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 410: return "Gone"
        case 429: return "Too Many Requests"
        case 451: return "Unavailable For Legal Reasons"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return nil
        }
    }
}
