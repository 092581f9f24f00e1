import Foundation

/// A UTC instant broken into calendar fields, by integer arithmetic on the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`/`days_from_civil`, as C++20 `<chrono>` does it).
///
/// Why not `DateFormatter` or `Calendar`: Foundation on Linux runs both through ICU. GRDB's own
/// `Date` column conversion formats through a shared `DateFormatter`, and its first use maps
/// about 6 MiB of ICU's locale and time-zone data into the daemon (measured with `smaps`,
/// 2026-12-05), for timestamps that are always UTC with fixed-width fields.
public struct UTCTime: Equatable, Sendable {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int, second: Int
    /// 0...999.
    public var millisecond: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.millisecond) = (hour, minute, second, millisecond)
    }

    /// The fields of `date`, its fraction of a millisecond dropped. Years are clamped to
    /// 0001...9999: the text forms are four-digit years, and a later one would also sort before
    /// them as text (a `next_check` in year 10000 would be due at once).
    public init(_ date: Date) {
        self.init(milliseconds: Self.milliseconds(date.timeIntervalSince1970 * 1000))
    }

    /// The fields of `date` at the nearest millisecond (halves up), as the database stores
    /// it (`StoredDate`). A date read back from a row is `ms / 1000` as a Double, which can
    /// fall a hair below the millisecond: dropping the fraction would then give 08.999 for a
    /// stored 09.000, and a second that differs from the row's.
    public init(nearestMillisecond date: Date) {
        self.init(milliseconds: Self.milliseconds(date.timeIntervalSince1970 * 1000 + 0.5))
    }

    /// The fields of an instant counted in milliseconds since 1970-01-01T00:00:00Z, clamped
    /// like `init(_:)`.
    public init(milliseconds: Int64) {
        let ms = min(max(milliseconds, Self.earliest), Self.latest)
        let (days, msOfDay) = ms.quotientAndRemainder(dividingBy: 86_400_000)
        let (d, m) = msOfDay < 0 ? (days - 1, msOfDay + 86_400_000) : (days, msOfDay)
        (year, month, day) = Self.civil(fromDays: d)
        hour = Int(m / 3_600_000)
        minute = Int(m / 60_000 % 60)
        second = Int(m / 1000 % 60)
        millisecond = Int(m % 1000)
    }

    /// 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in milliseconds.
    static let earliest: Int64 = -62_135_596_800_000
    static let latest: Int64 = 253_402_300_799_999

    /// `value` (milliseconds, any Double) rounded down to a whole number, saturated to the
    /// clamped range: `Int64(_:)` traps beyond ±9.2e18, and `Date.distantFuture` is near it.
    public static func milliseconds(_ value: Double) -> Int64 {
        guard value.isFinite else { return value > 0 ? latest : earliest }
        return Int64(min(max(value.rounded(.down), Double(earliest)), Double(latest)))
    }

    /// The instant, or nil when a field is out of its range (month 13, minute 60…). Leap
    /// seconds (`:60`) are not accepted: neither SQLite nor GRDB writes them.
    public var date: Date? {
        guard (1...12).contains(month), (1...Self.daysIn(month, of: year)).contains(day), (0...23).contains(hour),
              (0...59).contains(minute), (0...59).contains(second), (0...999).contains(millisecond) else { return nil }
        let days = Self.days(fromCivil: year, month, day)
        let ms = ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000 + Int64(millisecond)
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    static func days(fromCivil y: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y - 1 : y)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * Int64(m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z: Int64) -> (Int, Int, Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `value` in decimal, zero-padded to `width` digits, as `String(format: "%0<width>d")`
    /// writes it without Foundation's formatter (0.7 % of a cold mirror, for dates in pages).
    public static func padded(_ value: Int, width: Int) -> String {
        var out: [UInt8] = []
        append(value, width: width, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3339's full-date, `yyyy-MM-dd`.
    public static func fullDate(_ year: Int, _ month: Int, _ day: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(10)
        append(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        append(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        append(day, width: 2, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value` in decimal, zero-padded to `width` digits (a year beyond 9999 gets more).
    public static func append(_ value: Int, width: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var v = value.magnitude
        var count = 1
        var rest = v / 10
        while rest > 0 { count += 1; rest /= 10 }
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(count, width)))
        var i = out.count - 1
        while v > 0 { out[i] = UInt8(48 + v % 10); v /= 10; i -= 1 }
    }

    /// `yyyy-MM-dd<separator>HH:mm:ss`, the part RFC 3339 and SQLite's date text share.
    public func text(separator: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        Self.append(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.append(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.append(day, width: 2, to: &out)
        out.append(separator)
        Self.append(hour, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.append(minute, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.append(second, width: 2, to: &out)
        return out
    }
}

/// Timestamps as the contract writes them: RFC 3339 in UTC, whole seconds (`2024-03-05T12:00:00Z`).
public enum RFC3339 {
    /// `2024-03-05T12:00:09Z`: the second of `date` taken at the nearest millisecond, as the
    /// database keeps it, so a time written both to a row and to a file (a parsed copy's
    /// `fetched_at`) names the same second in both (12:00:08.9996 had been :08 in the copy
    /// and :09.000 in the row, and a reparse rewrote the copy).
    public static func string(_ date: Date) -> String {
        var text = UTCTime(nearestMillisecond: date).text(separator: UInt8(ascii: "T"))
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    public static func string(_ date: Date?) -> String? {
        date.map { string($0) }
    }
}
