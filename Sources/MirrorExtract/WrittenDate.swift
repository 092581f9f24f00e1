import Foundation
import MirrorCore

/// Publication dates as pages write them, to RFC 3339: a full timestamp only when the time
/// *and* its offset are given, otherwise the bare date (`2024-03-05`); a time zone is never
/// invented.
///
/// Understood:
/// - ISO 8601 / RFC 3339 (`2024-03-05T10:00:00+01:00`, `2024-03-05 10:00`, `2024-03-05`,
///   `20240305`), `2024/03/05`, `2024.03.05`;
/// - RFC 822/1123 as feeds write it, also with the day and month names of other languages
///   (`Tue, 05 Mar 2024 10:00:00 GMT`, `Di, 05 Mär 2024 10:00:00 +0100`);
/// - written dates with month names in English, German, French, Spanish, Italian,
///   Portuguese and Dutch (`March 5, 2024`, `5. März 2024`, `le 5 mars 2024`,
///   `5 de marzo de 2024`), and European numeric dates (`05.03.2024`);
/// - Chinese and Japanese dates (`2024年3月5日`, `二〇二四年三月五日`, see `Dateline.findDate`).
public enum WrittenDate {
    /// Month names and abbreviations (lowercased, without a trailing dot) → month number.
    static let months: [String: Int] = {
        var m: [String: Int] = [:]
        let names: [[String]] = [
            ["january", "jan", "januar", "jänner", "jän", "janvier", "janv", "enero", "ene", "gennaio", "gen", "janeiro", "januari"],
            ["february", "feb", "febr", "februar", "février", "févr", "fevrier", "febrero", "febbraio", "fevereiro", "fev", "februari"],
            ["march", "mar", "märz", "mär", "mrz", "maerz", "mars", "marzo", "março", "marco", "maart", "mrt"],
            ["april", "apr", "avril", "avr", "abril", "abr", "aprile"],
            ["may", "mai", "mayo", "maggio", "mag", "maio", "mei"],
            ["june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho"],
            ["july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho"],
            ["august", "aug", "août", "aout", "agosto", "ago", "augustus"],
            ["september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set", "setembro"],
            ["october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro", "out"],
            ["november", "nov", "novembre", "noviembre", "novembro"],
            ["december", "dec", "dezember", "dez", "décembre", "déc", "decembre", "diciembre", "dic", "dicembre", "dezembro"],
        ]
        for (i, list) in names.enumerated() { for n in list { m[n] = i + 1 } }
        return m
    }()

    /// Named zones RFC 822 section 5.1 allows, and the common European ones.
    static let zones: [String: Int] = [
        "gmt": 0, "ut": 0, "utc": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
        "mdt": -360, "pst": -480, "pdt": -420, "cet": 60, "cest": 120, "mez": 60, "mesz": 120, "bst": 60, "wet": 0,
        "west": 60, "eet": 120, "eest": 180,
    ]

    /// - Returns: `YYYY-MM-DD` or a full RFC 3339 timestamp, or nil when `text` holds no date.
    public static func parse(_ text: String) -> String? {
        let t = text.trimmingWhitespace()
        guard !t.isEmpty, t.unicodeScalars.count <= 400 else { return nil }
        if let iso = iso8601(t) { return iso }
        if let (_, d) = Dateline.findDate(in: t) { return d }
        if let w = written(t) { return w }
        return labelled(t)
    }

    /// A short line of a label and an ISO 8601 date (`发布时间：2024-11-28`, `Stand: 2024-03-05
    /// 10:00`): the date after at most 20 characters of label. Longer text is prose, where a
    /// date is a mention, not the publication.
    static func labelled(_ t: String) -> String? {
        guard t.unicodeScalars.count <= 60 else { return nil }
        let b = Array(t.utf8)
        var i = 0, before = 0
        while i + 10 <= b.count, before <= 20 {
            let digitRun = (0..<4).allSatisfy { b[i + $0] >= 0x30 && b[i + $0] <= 0x39 }
            if digitRun, i == 0 || !(b[i - 1] >= 0x30 && b[i - 1] <= 0x39),
               let d = iso8601(String(decoding: b[i...], as: UTF8.self)) { return d }
            if b[i] & 0xC0 != 0x80 { before += 1 }
            i += 1
        }
        return nil
    }

    /// `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH:MM|±HHMM]` at the start of `s`.
    static func iso8601(_ s: String) -> String? {
        let b = Array(s.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for k in at..<at + n {
                guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            return v
        }
        guard let y = digits(0, 4), (1000...2999).contains(y) else { return nil }
        var at = 4
        let month: Int, day: Int
        if at < b.count, b[at] == 0x2D || b[at] == 0x2F || b[at] == 0x2E {  // - / .
            let sep = b[at]
            guard let m = digits(5, 2), b.count > 7, b[7] == sep, let d = digits(8, 2) else { return nil }
            (month, day, at) = (m, d, 10)
        } else if let m = digits(4, 2), let d = digits(6, 2), b.count == 8 || (b.count > 8 && b[8] == 0x54) {
            (month, day, at) = (m, d, 8)
        } else {
            return nil
        }
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let date = UTCTime.fullDate(y, month, day)
        guard at < b.count, b[at] == 0x54 || b[at] == 0x20, let hh = digits(at + 1, 2), at + 3 < b.count, b[at + 3] == 0x3A,
              let mm = digits(at + 4, 2), hh < 24, mm < 60 else { return date }
        at += 6
        var ss = 0
        if at < b.count, b[at] == 0x3A, let s2 = digits(at + 1, 2), s2 < 61 { ss = s2; at += 3 }
        var fraction = ""
        if at < b.count, b[at] == 0x2E || b[at] == 0x2C {
            var k = at + 1
            while k < b.count, b[k] >= 0x30 && b[k] <= 0x39 { k += 1 }
            fraction = "." + String(decoding: b[(at + 1)..<k], as: UTF8.self)
            if fraction == "." { fraction = "" }
            at = k
        }
        while at < b.count, b[at] == 0x20 { at += 1 }
        let time = clock(hh, mm, ss) + fraction
        guard at < b.count else { return date }
        if b[at] == 0x5A || b[at] == 0x7A { return "\(date)T\(time)Z" }
        if b[at] == 0x2B || b[at] == 0x2D, let oh = digits(at + 1, 2) {
            var om = 0
            if let m2 = digits(at + 3, 2) { om = m2 } else if at + 3 < b.count, b[at + 3] == 0x3A, let m2 = digits(at + 4, 2) { om = m2 }
            guard oh < 24, om < 60 else { return date }
            return "\(date)T\(time)\(b[at] == 0x2B ? "+" : "-")\(UTCTime.padded(oh, width: 2)):\(UTCTime.padded(om, width: 2))"
        }
        let rest = String(decoding: b[at...], as: UTF8.self).lowercased().prefix { $0.isLetter }
        if let z = zones[String(rest)] { return "\(date)T\(time)\(offset(z))" }
        return date
    }

    /// `HH:mm:ss`.
    static func clock(_ hh: Int, _ mm: Int, _ ss: Int) -> String {
        UTCTime.padded(hh, width: 2) + ":" + UTCTime.padded(mm, width: 2) + ":" + UTCTime.padded(ss, width: 2)
    }

    static func offset(_ minutes: Int) -> String {
        if minutes == 0 { return "Z" }
        return (minutes < 0 ? "-" : "+") + UTCTime.padded(abs(minutes) / 60, width: 2) + ":" + UTCTime.padded(abs(minutes) % 60, width: 2)
    }

    /// A word of a written date: letters, a number, or a time (`10:00:00`).
    enum Token: Equatable {
        case word(String)
        case number(Int, digits: Int)
        case time(Int, Int, Int)
        case offset(Int)
    }

    static func tokens(_ s: String) -> [Token] {
        var out: [Token] = []
        let scalars = Array(s.lowercased().unicodeScalars)
        func isDigit(_ k: Int) -> Bool { k < scalars.count && scalars[k].value >= 0x30 && scalars[k].value <= 0x39 }
        /// The number at `k` (at most `limit` digits) and where it ends.
        func number(_ k: Int, limit: Int = 9) -> (Int, Int) {
            var j = k, v = 0
            while isDigit(j), j - k < limit { v = v * 10 + Int(scalars[j].value - 0x30); j += 1 }
            return (v, j)
        }
        func at(_ k: Int, _ c: Unicode.Scalar) -> Bool { k < scalars.count && scalars[k] == c }
        var i = 0
        while i < scalars.count, out.count < 64 {
            if isDigit(i) {
                let (v, j) = number(i)
                // European numeric date: 05.03.2024
                if j - i <= 2, at(j, "."), isDigit(j + 1) {
                    let (m, k) = number(j + 1, limit: 2)
                    if at(k, "."), isDigit(k + 1) {
                        let (y, l) = number(k + 1, limit: 4)
                        if l - k == 5 {
                            out += [.number(v, digits: j - i), .word("#month\(m)"), .number(y, digits: 4)]
                            i = l
                            continue
                        }
                    }
                }
                // 10:00 or 10:00:00
                if j - i <= 2, at(j, ":"), isDigit(j + 1) {
                    let (m, k) = number(j + 1, limit: 2)
                    var end = k, sec = 0
                    if at(k, ":"), isDigit(k + 1) { (sec, end) = number(k + 1, limit: 2) }
                    out.append(.time(v, m, sec))
                    i = end
                    continue
                }
                out.append(.number(v, digits: j - i))
                i = j
                continue
            }
            let c = scalars[i]
            // +0100 after a time
            if c == "+" || c == "-", case .time = out.last, (1...4).allSatisfy({ isDigit(i + $0) }) {
                let (v, _) = number(i + 1, limit: 4)
                out.append(.offset((c == "+" ? 1 : -1) * (v / 100 * 60 + v % 100)))
                i += 5
                continue
            }
            if c.properties.isAlphabetic {
                var w = ""
                while i < scalars.count, scalars[i].properties.isAlphabetic { w.unicodeScalars.append(scalars[i]); i += 1 }
                out.append(.word(w))
                continue
            }
            i += 1
        }
        return out
    }

    static func month(_ t: Token) -> Int? {
        guard case .word(let w) = t else { return nil }
        if w.hasPrefix("#month"), let m = Int(w.dropFirst(6)), (1...12).contains(m) { return m }
        return months[w]
    }

    static func written(_ s: String) -> String? {
        let toks = tokens(s)
        func year(_ k: Int) -> Int? {
            guard k < toks.count, case .number(let v, let d) = toks[k], d == 4, (1900...2999).contains(v) else { return nil }
            return v
        }
        func day(_ k: Int) -> Int? {
            guard k >= 0, k < toks.count, case .number(let v, let d) = toks[k], d <= 2, (1...31).contains(v) else { return nil }
            return v
        }
        func skipFiller(_ k: Int) -> Int {
            var k = k
            while k < toks.count, case .word(let w) = toks[k], ["de", "del", "of", "the", "le", "el", "im", "am"].contains(w) { k += 1 }
            return k
        }
        for (k, t) in toks.enumerated() {
            guard let m = month(t) else { continue }
            var date: (Int, Int, Int)?
            var after = k + 1
            // 5 March 2024, 5. März 2024, 5 de marzo de 2024
            var dk = k - 1
            if dk >= 0, case .word(let w) = toks[dk], ["de", "of", "le"].contains(w) { dk -= 1 }
            if let d = day(dk) {
                let yk = skipFiller(k + 1)
                if let y = year(yk) { date = (y, m, d); after = yk + 1 }
            }
            // March 5, 2024
            if date == nil, let d = day(k + 1), let y = year(skipFiller(k + 2)) {
                date = (y, m, d)
                after = skipFiller(k + 2) + 1
            }
            guard let (y, mo, d) = date else { continue }
            let ymd = UTCTime.fullDate(y, mo, d)
            // A time and its zone right after: a full timestamp.
            if after < toks.count, case .time(let hh, let mm, let ss) = toks[after], hh < 24, mm < 60, ss < 61 {
                var zone: Int?
                if after + 1 < toks.count {
                    switch toks[after + 1] {
                    case .offset(let o): zone = o
                    case .word(let w): zone = zones[w]
                    default: break
                    }
                }
                if let zone { return ymd + "T" + clock(hh, mm, ss) + offset(zone) }
            }
            return ymd
        }
        return nil
    }
}
