import Foundation
import MirrorCore

/// How often an article is re-checked: the longer its content has stayed the same, the less
/// often, so a mirror of 100,000 articles does not refetch them all every poll.
///
/// The interval is a quarter of the time since the article's content last changed (or since it
/// was first seen), rounded down to one of the source's `revisit_tiers` and never below the
/// first one: with the default tiers (1 h, 3 h, 12 h, 1 d, 3 d, 7 d, 30 d) an article changed
/// an hour ago is re-checked hourly, one unchanged for a week every day, one unchanged for four
/// months every 30 days. A new revision resets the age to zero. Past `max_article_age` an
/// article is no longer re-checked (only `--all` does).
public struct RevisitPolicy: Sendable, Equatable {
    /// Seconds, ascending.
    public var tiers: [Double]
    /// Seconds; nil: no limit.
    public var maxAge: Double?

    public init(tiers: [Double], maxAge: Double?) {
        precondition(!tiers.isEmpty, "at least one tier")
        self.tiers = tiers
        self.maxAge = maxAge
    }

    public init(source: SourceConfig) {
        self.init(tiers: source.revisitTiers, maxAge: source.maxArticleAge)
    }

    /// - Parameter age: seconds since the content last changed.
    /// - Returns: seconds until the next check, or nil when the article is retired.
    public func interval(age: Double) -> Double? {
        if let maxAge, age >= maxAge { return nil }
        let target = max(0, age) / 4
        return tiers.last { $0 <= target } ?? tiers[0]
    }

    /// The next check of an article checked at `now` whose content last changed at `changed`;
    /// `Date.distantFuture` when retired.
    public func nextCheck(now: Date, changed: Date) -> Date {
        interval(age: now.timeIntervalSince(changed)).map { now.addingTimeInterval($0) } ?? .distantFuture
    }
}
