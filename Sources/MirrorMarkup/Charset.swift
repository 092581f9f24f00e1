import Foundation

/// Turns a raw body into text: finds its character encoding and decodes it to UTF-8.
///
/// Where the encoding comes from, first match wins:
/// 1. a byte-order mark (UTF-8, UTF-16LE/BE) — the BOM beats the HTTP header, as in the
///    WHATWG Encoding standard's "decode" algorithm;
/// 2. `charset=` of the HTTP `Content-Type`;
/// 3. `<meta charset>` or `<meta http-equiv="Content-Type" content="…charset=…">` in the
///    head (the WHATWG "prescan a byte stream" step, simplified, read up to `<body` as a
///    browser re-decodes on a later `<meta>`), or an XML declaration's `encoding=`;
/// 4. UTF-8.
///
/// Labels map as browsers map them: GBK and GB2312 decode as GB18030 (its superset), Big5 as
/// Big5-HKSCS, `latin1`/ISO-8859-1 as windows-1252. Bytes that do not decode become U+FFFD;
/// decoding never fails.
///
/// One departure from browsers, when the header and the markup disagree: the declaration the
/// bytes bear out wins. A server's default `charset=utf-8` on a GBK page that says
/// `<meta charset="gbk">` (its bytes not UTF-8) decodes as GBK, and a default `ISO-8859-1` on
/// a page that says `<meta charset="utf-8">` (its bytes valid UTF-8, not ASCII) as UTF-8;
/// browsers follow the header and show mojibake, where a mirror's parsed copy would be
/// unreadable for good. `Decoded.note` says so.
public enum Charset {
    /// A decoded body.
    public struct Decoded: Sendable, Equatable {
        /// The text (UTF-8), U+FFFD for each byte sequence that did not decode.
        public var text: String
        /// The canonical (iconv) name of the encoding used.
        public var charset: String
        /// How many byte sequences did not decode (0 for a clean body).
        public var undecodable: Int
        /// Set when the header's charset was overruled by the markup's (see `Charset`).
        public var note: String?
    }

    /// Whether a label names an encoding decoded here (for a source's `charset`).
    public static func isKnown(_ label: String) -> Bool { canonical(label) != nil }

    /// Decodes a body (see `Charset` for where its encoding comes from).
    /// - Parameter override: a source's `charset`: used whatever the header and the markup
    ///   say (a byte-order mark still wins).
    public static func decode(_ bytes: [UInt8], contentType: String?, override: String? = nil) -> Decoded {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return utf8(bytes.dropFirst(3))
        }
        if bytes.starts(with: [0xFF, 0xFE]) { return convert(bytes.dropFirst(2), from: "UTF-16LE") }
        if bytes.starts(with: [0xFE, 0xFF]) { return convert(bytes.dropFirst(2), from: "UTF-16BE") }
        if let name = override.flatMap(canonical) {
            return name == "UTF-8" ? utf8(bytes[...]) : convert(bytes[...], from: name)
        }
        // A header label no encoding answers to (`x-unknown-charset`) declares nothing: the
        // markup's own declaration is read, as browsers do (WHATWG "get an encoding" failing).
        let header = contentType.flatMap(charsetParameter).flatMap { canonical($0) == nil ? nil : $0 }
        guard let header, let named = canonical(header) else {
            var name = sniff(bytes).flatMap(canonical) ?? "UTF-8"
            // A UTF-16 label read from the bytes themselves cannot be true (the markup it sits
            // in was read as ASCII): WHATWG's prescan takes it as UTF-8.
            if name.hasPrefix("UTF-16") { name = "UTF-8" }
            return name == "UTF-8" ? utf8(bytes[...]) : convert(bytes[...], from: name)
        }
        if named == "UTF-8" {
            let decoded = utf8(bytes[...])
            // Evidence, not a stray byte: a single-byte charset decodes anything, so one bad
            // sequence in a UTF-8 page with a leftover `<meta charset=iso-8859-1>` had turned
            // the whole page into mojibake.
            guard decoded.undecodable >= Self.misdeclaredUTF8, let declared = sniff(bytes).flatMap(canonical),
                  declared != "UTF-8", !declared.hasPrefix("UTF-16") else { return decoded }
            var other = convert(bytes[...], from: declared)
            guard other.undecodable * 4 < decoded.undecodable else { return decoded }
            other.note = "Content-Type says charset=\(header), but the body is not UTF-8 (\(decoded.undecodable) bad sequences); decoded as \(declared), as its markup declares"
            return other
        }
        if !named.hasPrefix("UTF-16"), bytes.contains(where: { $0 >= 0x80 }), sniff(bytes).flatMap(canonical) == "UTF-8" {
            var decoded = utf8(bytes[...])
            if decoded.undecodable == 0 {
                decoded.note = "Content-Type says charset=\(header), but the body is valid UTF-8, as its markup declares; decoded as UTF-8"
                return decoded
            }
        }
        return convert(bytes[...], from: named)
    }

    /// Bad UTF-8 sequences from which a page labelled UTF-8 may be read with its `<meta>`'s
    /// charset instead (when that leaves at most a quarter of them).
    public static let misdeclaredUTF8 = 8

    /// UTF-8 with its bad sequences counted. A clean body decodes to exactly its own bytes, so
    /// only a body whose length changed is scanned (each bad sequence became U+FFFD's 3 bytes).
    static func utf8(_ bytes: ArraySlice<UInt8>) -> Decoded {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.count != bytes.count else { return Decoded(text: text, charset: "UTF-8", undecodable: 0) }
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        func count<C: Collection>(_ c: C) -> Int where C.Element == UInt8 {
            var n = 0, matched = 0
            for b in c {
                matched = b == replacement[matched] ? matched + 1 : (b == replacement[0] ? 1 : 0)
                if matched == 3 { n += 1; matched = 0 }
            }
            return n
        }
        return Decoded(text: text, charset: "UTF-8", undecodable: max(0, count(text.utf8) - count(bytes)))
    }

    /// `charset` of a `Content-Type` value (`text/html; charset="gbk"` → `gbk`).
    static func charsetParameter(_ contentType: String) -> String? {
        for part in contentType.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" else { continue }
            let v = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            return v.isEmpty ? nil : v
        }
        return nil
    }

    /// A charset declared in markup: an XML declaration at the very start, or the first
    /// `<meta charset>` / `<meta http-equiv="Content-Type" content="…charset=…">` of the head.
    ///
    /// The WHATWG prescan reads the first 1024 bytes; when a `<meta>` comes later in the head
    /// (an archive's injected scripts push it out: a GB2312 page from a web archive had it at
    /// byte 1,400), browsers re-decode the page once the tree builder meets it (HTML Standard
    /// §13.2.3.4, "changing the encoding while parsing"). So the whole head is read, up to the
    /// first `<body` and at most 64 KiB; a `<meta>` inside the body is not a declaration.
    static func sniff(_ bytes: [UInt8]) -> String? {
        let limit = min(bytes.count, 64 * 1024)
        return bytes.withUnsafeBufferPointer { buf -> String? in
            let b = UnsafeBufferPointer(rebasing: buf[0..<limit])
            if let x = match(b, at: 0, "<?xml") {
                var i = x
                while i < b.count, b[i] != 0x3E {
                    if let v = match(b, at: i, "encoding=") { return quotedValue(b, from: v) }
                    i += 1
                }
            }
            var i = 0
            while i < b.count {
                if b[i] == 0x3C {
                    if match(b, at: i, "<body") != nil { return nil }
                    if let m = match(b, at: i, "<meta") {
                        var j = m
                        while j < b.count, b[j] != 0x3E {
                            // Both `<meta charset="gbk">` and `content="text/html; charset=gbk"`.
                            if let v = match(b, at: j, "charset="), let label = quotedValue(b, from: v) { return label }
                            j += 1
                        }
                        i = j
                        continue
                    }
                }
                i += 1
            }
            return nil
        }
    }

    /// The index after `word` (lowercase ASCII) when the bytes at `i` spell it in any case.
    private static func match(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ word: StaticString) -> Int? {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return nil }
        let w = word.utf8Start
        for k in 0..<n {
            var c = b[i + k]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != w[k] { return nil }
        }
        return i + n
    }

    /// An attribute value at `i`: quotes and spaces skipped, up to a quote, space, `;`, `>` or `/`.
    private static func quotedValue(_ b: UnsafeBufferPointer<UInt8>, from i: Int) -> String? {
        var start = i
        while start < b.count, b[start] == 0x20 || b[start] == 0x22 || b[start] == 0x27 { start += 1 }
        var end = start
        while end < b.count, ![0x20, 0x22, 0x27, 0x3B, 0x3E, 0x2F, 0x0A, 0x09, 0x0D].contains(b[end]) { end += 1 }
        return end > start ? String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self) : nil
    }

    /// iconv's name for a WHATWG label; nil for labels we do not know (then UTF-8).
    static func canonical(_ label: String) -> String? {
        switch label.lowercased().trimmingCharacters(in: .whitespaces) {
        case "utf-8", "utf8", "unicode-1-1-utf-8": return "UTF-8"
        case "gbk", "gb2312", "gb_2312-80", "gb_2312", "x-gbk", "gb18030", "chinese", "csgb2312", "csiso58gb231280", "iso-ir-58",
             "cp936", "ms936", "windows-936":  // the last three: Windows' own names for GBK, common in headers
            return "GB18030"
        case "big5", "big5-hkscs", "cn-big5", "x-x-big5", "csbig5", "cp950", "ms950": return "BIG5-HKSCS"
        case "shift_jis", "shift-jis", "sjis", "ms_kanji", "x-sjis", "windows-31j", "csshiftjis", "cp932", "ms932": return "CP932"
        case "euc-jp", "x-euc-jp": return "EUC-JP"
        case "euc-kr", "ks_c_5601-1987", "windows-949", "cp949": return "CP949"
        case "iso-8859-1", "latin1", "l1", "us-ascii", "ascii", "windows-1252", "cp1252": return "WINDOWS-1252"
        case "utf-16", "utf-16le": return "UTF-16LE"
        case "utf-16be": return "UTF-16BE"
        case "koi8-r": return "KOI8-R"
        case let l where l.hasPrefix("windows-125"): return "WINDOWS-125" + l.dropFirst("windows-125".count)
        case let l where l.hasPrefix("iso-8859-"): return "ISO-8859-" + l.dropFirst("iso-8859-".count)
        default: return nil
        }
    }

    /// Decodes with iconv; an invalid or incomplete sequence becomes U+FFFD and decoding
    /// resumes at the next byte.
    static func convert(_ bytes: ArraySlice<UInt8>, from encoding: String) -> Decoded {
        let cd = iconv_open("UTF-8", encoding)
        guard cd != iconv_t(bitPattern: -1) else { return utf8(bytes) }
        defer { iconv_close(cd) }
        var input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity(input.count * 3 / 2 + 16)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var undecodable = 0
        input.withUnsafeMutableBufferPointer { inBuf in
            var inPtr = UnsafeMutableRawPointer(inBuf.baseAddress)?.assumingMemoryBound(to: CChar.self)
            var inLeft = inBuf.count
            while inLeft > 0 {
                let (converted, failed) = chunk.withUnsafeMutableBufferPointer { outBuf -> (Int, Bool) in
                    var outPtr = UnsafeMutableRawPointer(outBuf.baseAddress)?.assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuf.count
                    let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    return (outBuf.count - outLeft, r == -1 && errno != E2BIG)
                }
                output.append(contentsOf: chunk[0..<converted])
                if failed {
                    undecodable += 1
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                    inPtr = inPtr.map { $0 + 1 }
                    inLeft -= 1
                    iconv(cd, nil, nil, nil, nil)  // reset shift state
                }
            }
        }
        return Decoded(text: String(decoding: output, as: UTF8.self), charset: encoding, undecodable: undecodable)
    }
}
