import Foundation
import GRDB
import MirrorCore

/// Dates in the database: TEXT `yyyy-MM-dd HH:mm:ss.SSS` in UTC, the format GRDB's own `Date`
/// conversion writes, so stores written before read the same and SQL compares them as text
/// (`next_check <= ?`).
///
/// GRDB formats through a shared `DateFormatter` and parses through `Calendar`, which on Linux
/// means ICU: its first use mapped about 6 MiB of locale and zone data into the daemon, and
/// every check writes two dates and reads four. This codec is integer arithmetic
/// (`UTCTime`). Text in any other form SQLite or GRDB accepts (no milliseconds, a `T`, a
/// number of seconds) is read through GRDB's own parser.
public enum StoredDate {
    /// The 23-byte text, to the nearest millisecond (halves up), as GRDB's `DateFormatter`
    /// wrote it: CoreFoundation adds 0.5 ms before ICU truncates. Truncating instead would
    /// write a date read back from this text 1 ms earlier whenever the Double's error falls
    /// below the whole millisecond, so each save of a row could move its dates.
    public static func text(_ date: Date) -> String {
        let t = UTCTime(nearestMillisecond: date)
        var out = t.text(separator: UInt8(ascii: " "))
        out.append(UInt8(ascii: "."))
        UTCTime.append(t.millisecond, width: 3, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func text(_ date: Date?) -> String? {
        date.map { text($0) }
    }

    /// The date a column holds, or nil for NULL and for text that is no date (`2024-13-05`,
    /// `2023-02-29`: GRDB would have rolled these over into the next month or year).
    public static func date(_ value: DatabaseValue) -> Date? {
        if case .string(let s) = value.storage, let fields = fields(of: s) { return fields.date }
        return Date.fromDatabaseValue(value)
    }

    /// The fields of text shaped exactly `yyyy-MM-dd HH:mm:ss.SSS` (digits where digits go),
    /// not yet checked against the calendar; nil for any other shape.
    static func fields(of text: String) -> UTCTime? {
        var s = text
        return s.withUTF8 { b -> UTCTime? in
            guard b.count == 23, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x20, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E
            else { return nil }
            func number(_ from: Int, _ count: Int) -> Int? {
                var v = 0
                for i in from..<from + count {
                    let d = Int(b[i]) - 48
                    guard (0...9).contains(d) else { return nil }
                    v = v * 10 + d
                }
                return v
            }
            guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
                  let mi = number(14, 2), let se = number(17, 2), let ms = number(20, 3) else { return nil }
            return UTCTime(year: y, month: mo, day: d, hour: h, minute: mi, second: se, millisecond: ms)
        }
    }
}

/// The store's Codable records: snake_case columns, and dates through `StoredDate`.
public protocol StoreRecord: FetchableRecord, EncodableRecord {}

extension StoreRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .custom { StoredDate.date($0) }
    }
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .custom { StoredDate.text($0) }
    }
}
