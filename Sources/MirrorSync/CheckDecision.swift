import Foundation
import MirrorCore
import MirrorDiscovery
import MirrorFetch
import MirrorStore

/// What one check of a document means, decided from the document's record and what the fetch
/// brought, with no I/O. Every check goes through it; `SyncEngine` then carries it out (rows,
/// blob, mirror tree, metrics, log), parsing a new body once on the way.
public enum CheckDecision: Equatable, Sendable {
    /// `304 Not Modified`: nothing to store; when to look again.
    case notModified(nextCheck: Date)
    /// No usable body (see `Failure`).
    case failed(Failure)
    /// A 2xx whose body is the current version's (a server that ignores validators): only the
    /// validators and the next check change.
    case sameBody(sha256: String, nextCheck: Date)
    /// A 2xx with a new body (`sha256` of its bytes): to parse and store. Its next check depends
    /// on whether its content changed, which only parsing tells (`CheckPolicy.nextCheck`).
    case newBody(sha256: String)

    /// A failed check: the HTTP status (0 for a transport failure), the error recorded on the
    /// document, when to look again, and whether the document is gone (404 or 410).
    public struct Failure: Equatable, Sendable {
        public var status: Int
        public var error: FetchError
        public var nextCheck: Date
        public var gone: Bool

        public init(status: Int, error: FetchError, nextCheck: Date, gone: Bool) {
            self.status = status
            self.error = error
            self.nextCheck = nextCheck
            self.gone = gone
        }
    }
}

/// The rules checks are decided by: a source's revisit schedule (`RevisitPolicy`) and the
/// failure backoff, at one moment.
public struct CheckPolicy: Sendable {
    /// A document that answered 404/410 is re-checked this rarely (seconds).
    public static let goneRecheckInterval: Double = 7 * 86400
    /// The push-back after repeated failures never exceeds this (seconds).
    public static let maxFailureBackoff: Double = 86400

    public var source: SourceConfig
    /// `http.max_retry_delay`: a longer `Retry-After` moves the next check instead.
    public var maxRetryDelay: Double
    public var now: Date

    public init(source: SourceConfig, maxRetryDelay: Double, now: Date) {
        self.source = source
        self.maxRetryDelay = maxRetryDelay
        self.now = now
    }

    /// - Parameter retryAfter: the server's `Retry-After` in seconds, for an HTTP failure.
    public func decide(_ doc: DocumentRecord, _ result: Result<FetchResponse, FetchError>, retryAfter: Double?) -> CheckDecision {
        switch result {
        case .failure(let error):
            return .failed(failure(doc, status: 0, error, retryAfter: nil))
        case .success(let r):
            if r.isNotModified { return .notModified(nextCheck: nextCheck(doc, changed: false)) }
            guard (200..<300).contains(r.status) else {
                return .failed(failure(doc, status: r.status, .http(status: r.status), retryAfter: retryAfter))
            }
            let sha = SHA256.hex(r.body)
            return sha == doc.rawSha256 ? .sameBody(sha256: sha, nextCheck: nextCheck(doc, changed: false)) : .newBody(sha256: sha)
        }
    }

    /// A failure and when to look again: a gone document (404/410) after
    /// `goneRecheckInterval`; after a `Retry-After` too long to wait within the run, then (but
    /// no later than `goneRecheckInterval`: `Retry-After: 9000000000000000` is a number too);
    /// otherwise after the source's `poll_interval` doubled per consecutive failure before this
    /// one, at most `maxFailureBackoff` (and never sooner than `poll_interval`).
    ///
    /// A document is gone after a 404 or 410, and stays gone through failures that are no
    /// answer about it (DNS, connect errors, timeouts, 408, 429, 5xx: `FetchError.isAnswer`):
    /// an upstream that is down for a while does not bring its deleted articles back. Any
    /// other answer (a 403, a 451, a body) ends it.
    public func failure(_ doc: DocumentRecord, status: Int, _ error: FetchError, retryAfter: Double?) -> CheckDecision.Failure {
        let delay: Double
        if error.isGone {
            delay = Self.goneRecheckInterval
        } else if let retryAfter, retryAfter > maxRetryDelay {
            delay = min(retryAfter, Self.goneRecheckInterval)
        } else {
            let doubled = source.pollInterval * pow(2, Double(min(doc.failures, 20)))
            delay = max(source.pollInterval, min(Self.maxFailureBackoff, doubled))
        }
        let gone = error.isGone || (doc.gone && !error.isAnswer)
        return CheckDecision.Failure(status: status, error: error, nextCheck: now.addingTimeInterval(delay), gone: gone)
    }

    /// When to look again after a successful check: an index after `poll_interval` (indexes
    /// are polled every run anyway), an image after the longest revisit tier (images rarely
    /// change; a new article showing one never waits for it), an article by its revisit
    /// schedule, counted from now when its content just changed.
    public func nextCheck(_ doc: DocumentRecord, changed: Bool) -> Date {
        switch doc.kind {
        case DocumentKind.index.rawValue:
            return now.addingTimeInterval(source.pollInterval)
        case DocumentKind.asset.rawValue:
            return now.addingTimeInterval(source.revisitTiers.last ?? 30 * 86400)
        default:
            return RevisitPolicy(source: source).nextCheck(now: now, changed: changed ? now : (doc.changedAt ?? doc.firstSeen))
        }
    }
}
