import Foundation

/// Canonical text of extracted content, so that re-wrapping and re-escaping by an upstream's
/// prettifier never count as an edit.
public enum TextNormalizer {
    /// - Decodes character references left in text once (upstreams double-escape: `&amp;#039;`
    ///   parses to `&#039;`, which is meant as `'`).
    /// - Treats NBSP (U+00A0), full-width space (U+3000), tabs, CR and LF as spaces.
    /// - Collapses whitespace runs to one space and trims the ends.
    /// - Composes to Unicode NFC (UAX #15), so canonically equivalent spellings are one text.
    /// - Drops soft hyphens (U+00AD) and word joiners (U+2060): invisible unless a line breaks
    ///   there, they are a hyphenator's hints (a German wine magazine puts one in nearly every
    ///   word), and re-hyphenating a page is not an edit.
    /// - Drops a whitespace run that holds a line break when it touches a CJK character:
    ///   Chinese and Japanese put no spaces between words, so the line break a prettifier put
    ///   between `美国` and `气候` is not content. A plain space stays (headlines use one as a
    ///   separator: `修缮石拱桥 村民出工`).
    public static func normalize(_ text: String) -> String {
        collapse(text, keepSpaceNextToCJK: true)
    }

    /// `normalize` without decoding character references: for text an HTML parser has decoded
    /// once already, so that `&amp;lt;` shows `&lt;` as a browser shows it.
    public static func normalizeDecoded(_ text: String) -> String {
        collapse(text, keepSpaceNextToCJK: true, decodeReferences: false)
    }

    /// The comparison form behind content hashes: `normalize`, and no space at all next to a
    /// CJK character, so re-wrapping or re-spacing CJK text never makes a revision.
    public static func canonical(_ text: String) -> String {
        collapse(text, keepSpaceNextToCJK: false)
    }

    static func collapse(_ text: String, keepSpaceNextToCJK: Bool, decodeReferences decode: Bool = true) -> String {
        let decoded = decode && text.containsUTF8(UInt8(ascii: "&")) ? decodeReferences(text) : text
        var out: [UInt8] = []
        out.reserveCapacity(decoded.utf8.count)
        var pendingSpace = false
        var pendingBreak = false
        var lastIsCJK = false
        var started = false
        var mayChangeUnderNFC = false
        for s in decoded.unicodeScalars {
            let v = s.value
            if v < 0x80 {
                // ASCII fast path: spaces and breaks, or a plain (non-CJK) character.
                if v == 0x20 || v == 0x09 || v == 0x0A || v == 0x0B || v == 0x0C || v == 0x0D {
                    pendingSpace = true
                    if v == 0x0A || v == 0x0D { pendingBreak = true }
                    continue
                }
                if pendingSpace && started && (!lastIsCJK || (keepSpaceNextToCJK && !pendingBreak)) { out.append(0x20) }
                pendingSpace = false
                pendingBreak = false
                out.append(UInt8(v))
                lastIsCJK = false
                started = true
                continue
            }
            if !mayChangeUnderNFC && !Self.isNFCStable(v) { mayChangeUnderNFC = true }
            if v == 0xAD || v == 0x2060 { continue }
            if isSpace(s) {
                pendingSpace = true
                if v == 0x2028 || v == 0x2029 { pendingBreak = true }
                continue
            }
            let cjk = isCJK(s)
            if pendingSpace && started {
                let nextToCJK = lastIsCJK || cjk
                if !nextToCJK || (keepSpaceNextToCJK && !pendingBreak) { out.append(0x20) }
            }
            pendingSpace = false
            pendingBreak = false
            UTF8.encode(s) { out.append($0) }
            lastIsCJK = cjk
            started = true
        }
        let text = String(decoding: out, as: UTF8.self)
        // Unicode NFC: canonically equivalent spellings (a precomposed Bengali য় or its two
        // scalars, an é typed as e + U+0301) are one text, so an upstream that re-encodes them
        // makes no revision. Only text with a scalar outside the ranges NFC never changes goes
        // through Foundation's normalizer (it cost a fifth of CJK page extraction).
        return mayChangeUnderNFC ? text.precomposedStringWithCanonicalMapping : text
    }

    /// Scalars that NFC leaves alone wherever they stand (NFC_Quick_Check = Yes and canonical
    /// combining class 0, UAX #15), by ranges: Latin below the combining diacritics (U+0300),
    /// general punctuation and currency, CJK symbols and kana (without the ideographic tone
    /// marks U+302A-302F and the combining sound marks U+3099/U+309A), CJK unified
    /// ideographs, Hangul syllables, and full-width forms. Conservative: text with any other
    /// scalar is normalized.
    static func isNFCStable(_ v: UInt32) -> Bool {
        switch v {
        case 0..<0x300, 0x2010...0x20CF, 0x3000...0x3029, 0x3030...0x3098, 0x309B...0x9FFF, 0xAC00...0xD7A3, 0xFF00...0xFFEF:
            return true
        default:
            return false
        }
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0xA0, 0x3000, 0x200B, 0xFEFF, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F:
            return true
        default:
            return false
        }
    }

    /// CJK ideographs, kana, hangul, CJK and full-width punctuation.
    public static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x2E80...0x2FDF, 0x3001...0x303F, 0x3040...0x30FF, 0x3100...0x312F, 0x3130...0x318F,
             0x31A0...0x31FF, 0x3200...0x4DBF, 0x4E00...0x9FFF, 0xA960...0xA97F, 0xAC00...0xD7FF,
             0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFFEF, 0x20000...0x3FFFF,
             0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2014, 0x00B7:
            return true
        default:
            return false
        }
    }

    static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}",
        "mdash": "—", "ndash": "–", "hellip": "…", "ldquo": "“", "rdquo": "”", "lsquo": "‘", "rsquo": "’",
        "middot": "·", "copy": "©", "reg": "®",
    ]

    /// Decodes `&#NNN;`, `&#xHH;` and common named references once; anything else stays.
    static func decodeReferences(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semi = after.prefix(12).firstIndex(of: ";") else {
                out += "&"
                rest = after
                continue
            }
            let body = after[..<semi]
            var replacement: String?
            if body.hasPrefix("#x") || body.hasPrefix("#X") {
                if let v = UInt32(body.dropFirst(2), radix: 16), let s = Unicode.Scalar(v) { replacement = String(s) }
            } else if body.hasPrefix("#") {
                if let v = UInt32(body.dropFirst(), radix: 10), let s = Unicode.Scalar(v) { replacement = String(s) }
            } else {
                replacement = named[String(body)]
            }
            if let replacement {
                out += replacement
                rest = after[after.index(after: semi)...]
            } else {
                out += "&"
                rest = after
            }
        }
        out += rest
        return out
    }
}

extension String {
    /// Whether the UTF-8 form holds `byte`: `memchr` over the string's own buffer. The generic
    /// `utf8.contains` had been 5 % of extraction (the NUL check before a parse) and 1.3 % of a
    /// cold mirror (the `&` check before decoding references), `perf`.
    func containsUTF8(_ byte: UInt8) -> Bool {
        var text = self
        return text.withUTF8 { buf in buf.baseAddress.map { memchr($0, Int32(byte), buf.count) != nil } ?? false }
    }
}
