import Foundation

/// When to try again: exponential backoff with full jitter within a run, `Retry-After`
/// honoured, and a capped push-back of the next check across runs.
public struct RetryPolicy: Sendable {
    /// Extra attempts within a run.
    public var retries: Int
    /// First backoff step, seconds.
    public var base: Double
    /// Longest wait within a run, seconds.
    public var cap: Double

    public init(retries: Int, base: Double, cap: Double) {
        self.retries = retries
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait before retry number `attempt` (0-based): uniformly random in
    /// [0, min(cap, base·2^attempt)] ("full jitter", which spreads many clients best).
    public func backoff(attempt: Int, random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Double {
        let ceiling = min(cap, base * pow(2, Double(min(attempt, 30))))
        return random(0...ceiling)
    }

    /// Parses `Retry-After` (RFC 9110 section 10.2.3): delta-seconds or an HTTP-date.
    /// - Returns: seconds from `now`, at least 0 and at most `longestRetryAfter`; nil when
    ///   absent or unreadable. (`Retry-After: 9223372036854775807` had become 2^63 seconds,
    ///   which no integer holds: converting it back aborted the daemon.)
    public static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if v.allSatisfy(\.isASCII), v.allSatisfy(\.isNumber) {
            return min(Double(v) ?? longestRetryAfter, longestRetryAfter)
        }
        guard let date = HTTPDate.parse(v) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), longestRetryAfter)
    }

    /// The longest wait a `Retry-After` is taken for: a year (in seconds).
    public static let longestRetryAfter: Double = 366 * 86400
}

/// HTTP-dates (RFC 9110 section 5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms
/// that recipients must still accept.
public enum HTTPDate {
    public static func parse(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "GMT")
            f.dateFormat = format
            if let d = f.date(from: text) { return d }
        }
        return nil
    }
}
