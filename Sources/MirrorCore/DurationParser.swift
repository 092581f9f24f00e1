/// Parses the configuration's durations: a number followed by `ms`, `s`, `m`, `h` or `d`
/// (`"15m"`, `"1.5h"`, `"500ms"`), or several run together (`"1h30m"`).
public enum DurationParser {
    /// - Returns: seconds, or `nil` when `text` is not a duration.
    public static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            default: return nil
            }
        }
        return total
    }
}

import Foundation
