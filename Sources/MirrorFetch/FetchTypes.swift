import MirrorCore

/// One GET to perform.
public struct FetchRequest: Sendable {
    public var url: String
    /// Validators of the stored version, sent back exactly as the server gave them
    /// (RFC 9110 section 13.1.2 / 13.1.3).
    public var etag: String?
    public var lastModified: String?
    /// Proxy URL for this request (`socks5h://…`); nil or empty: none.
    public var proxy: String?

    public init(url: String, etag: String? = nil, lastModified: String? = nil, proxy: String? = nil) {
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.proxy = proxy
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
    /// The URL after redirects.
    public var effectiveURL: String

    public var isNotModified: Bool { status == 304 }
}

/// Why a transfer produced no usable response.
public enum FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libcurl failed: its error code and its own explanation (DNS, connect, TLS, timeout…).
    case transfer(code: Int, message: String)
    /// The body exceeded `max_body_bytes`; the transfer was aborted.
    case tooLarge(limit: Int)
    /// The server answered with an error status.
    case http(status: Int)

    public var description: String {
        switch self {
        case let .transfer(code, message): return "\(message) (curl error \(code))"
        case let .tooLarge(limit): return "body too large (over max_body_bytes = \(limit))"
        case let .http(status): return "HTTP \(status)"
        }
    }
}
