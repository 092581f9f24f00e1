import Foundation
import MirrorCore

/// The dateline that opens an article: `【希望之声2021年4月13日】（本台记者凌杉综合报导）`.
public struct Dateline: Sendable, Equatable {
    /// The publication (`希望之声`).
    public var source: String?
    /// `YYYY-MM-DD`.
    public var date: String?
    /// The reporter's name without role words.
    public var reporter: String?

    /// Parses a dateline at the start of `text`.
    /// - Returns: the dateline and the text after it, or nil when `text` does not open with one.
    public static func parse(prefixOf text: String) -> (Dateline, rest: String)? {
        // Most paragraphs open with neither bracket: no copy of their scalars for them.
        guard let open = text.unicodeScalars.first, open == "【" || open == "[" else { return nil }
        let scalars = Array(text.unicodeScalars)
        guard let closeIndex = scalars.firstIndex(where: { $0 == "】" || $0 == "]" }) else { return nil }
        let inside = String(String.UnicodeScalarView(scalars[1..<closeIndex]))
        guard let (dateRange, date) = findDate(in: inside) else { return nil }
        var line = Dateline()
        let source = inside[..<dateRange.lowerBound].trimmingWhitespace(newlines: false)
        line.source = source.isEmpty ? nil : source
        line.date = date
        var restScalars = scalars[(closeIndex + 1)...].drop { $0.properties.isWhitespace }
        if let p = restScalars.first, p == "（" || p == "(" ,
           let close = restScalars.firstIndex(where: { $0 == "）" || $0 == ")" }) {
            let credit = String(String.UnicodeScalarView(restScalars[(restScalars.startIndex + 1)..<close]))
            line.reporter = reporterName(credit)
            restScalars = restScalars[(close + 1)...]
        }
        let rest = String(String.UnicodeScalarView(restScalars)).trimmingWhitespace(newlines: false)
        return (line, rest)
    }

    /// Role words before a reporter's name and verbs after it, longest first.
    static let rolePrefixes = ["本台特约记者", "本报特约记者", "本台记者", "本报记者", "本网记者", "特约记者", "实习记者",
                               "大纪元记者", "新唐人记者", "记者", "编译", "撰稿"]
    static let verbSuffixes = ["综合报导", "综合报道", "采访报导", "采访报道", "编译报导", "编译报道", "综合编译",
                               "报导", "报道", "编译", "撰稿", "整理", "采访"]

    /// `本台记者凌杉综合报导` → `凌杉`. Nil when nothing is left.
    static func reporterName(_ credit: String) -> String? {
        var name = credit.trimmingWhitespace(newlines: false)
        for p in rolePrefixes where name.hasPrefix(p) {
            name = String(name.dropFirst(p.count))
            break
        }
        name = String(name.drop { $0 == "：" || $0 == ":" || $0.isWhitespace })
        // Verbs pile up (`采访整理`, `综合编译`): strip until none is left.
        while let s = verbSuffixes.first(where: { name.hasSuffix($0) && name.count > $0.count }) {
            name = String(name.dropLast(s.count))
        }
        name = name.trimmingWhitespace(newlines: false)
        return name.isEmpty ? nil : name
    }

    static let chineseDigits: [Character: Int] = [
        "〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    ]

    /// Finds `2021年4月13日` or `二零一六年十月三十日` (full-width digits too).
    /// - Returns: the range in `text` and the date as `YYYY-MM-DD`.
    static func findDate(in text: String) -> (Range<String.Index>, String)? {
        let chars = Array(text)
        func isDigitish(_ c: Character) -> Bool { c.isNumber || chineseDigits[c] != nil || c == "十" }
        var i = 0
        while i < chars.count {
            guard isDigitish(chars[i]) else { i += 1; continue }
            // year
            var j = i
            while j < chars.count, isDigitish(chars[j]) { j += 1 }
            guard j < chars.count, chars[j] == "年", let year = number(chars[i..<j]) else { i = j + 1; continue }
            var k = j + 1
            let mStart = k
            while k < chars.count, isDigitish(chars[k]) { k += 1 }
            guard k < chars.count, chars[k] == "月", let month = number(chars[mStart..<k]) else { i = j + 1; continue }
            var l = k + 1
            let dStart = l
            while l < chars.count, isDigitish(chars[l]) { l += 1 }
            guard l < chars.count, chars[l] == "日" || chars[l] == "号",
                  let day = number(chars[dStart..<l]),
                  (1...12).contains(month), (1...31).contains(day), (1000...2999).contains(year) else { i = j + 1; continue }
            let start = text.index(text.startIndex, offsetBy: i)
            let end = text.index(text.startIndex, offsetBy: l + 1)
            return (start..<end, UTCTime.fullDate(year, month, day))
        }
        return nil
    }

    /// Arabic or full-width digits; Chinese numerals positionally (`二零一六`) or with 十 (`三十`, `十二`).
    /// At most four characters (a year): a longer run of digits is no date part, and summing
    /// forty digits overflowed `Int` and trapped (found by fuzz-article).
    static func number(_ chars: ArraySlice<Character>) -> Int? {
        guard !chars.isEmpty, chars.count <= 4 else { return nil }
        // Arabic digits, ASCII or full-width; CJK numerals also have a wholeNumberValue (十 is 10)
        // but are not positional, so they go the second way.
        if chars.allSatisfy({ ($0.isASCII || ("０"..."９").contains($0)) && $0.wholeNumberValue != nil }) {
            return chars.reduce(0) { $0 * 10 + $1.wholeNumberValue! }
        }
        if let ten = chars.firstIndex(of: "十") {
            let before = chars[chars.startIndex..<ten]
            let after = chars[(ten + 1)...]
            guard before.count <= 1, after.count <= 1 else { return nil }
            let tens = before.isEmpty ? 1 : (chineseDigits[before.first!] ?? -100)
            let ones = after.isEmpty ? 0 : (chineseDigits[after.first!] ?? -100)
            let v = tens * 10 + ones
            return v >= 0 ? v : nil
        }
        var v = 0
        for c in chars {
            guard let d = chineseDigits[c] else { return nil }
            v = v * 10 + d
        }
        return v
    }
}
