import Foundation

/// Turns a raw body into text: finds its character encoding and decodes it to UTF-8.
///
/// Where the encoding comes from, first match wins:
/// 1. a byte-order mark (UTF-8, UTF-16LE/BE) — the BOM beats the HTTP header, as in the
///    WHATWG Encoding standard's "decode" algorithm;
/// 2. `charset=` of the HTTP `Content-Type`;
/// 3. `<meta charset>` or `<meta http-equiv="Content-Type" content="…charset=…">` in the
///    first 1024 bytes (the WHATWG "prescan a byte stream" step, simplified), or an XML
///    declaration's `encoding=`;
/// 4. UTF-8.
///
/// Labels map as browsers map them: GBK and GB2312 decode as GB18030 (its superset), Big5 as
/// Big5-HKSCS, `latin1`/ISO-8859-1 as windows-1252. Bytes that do not decode become U+FFFD;
/// decoding never fails.
public enum Charset {
    /// The decoded text and the canonical name of the encoding used.
    public static func decode(_ bytes: [UInt8], contentType: String?) -> (text: String, charset: String) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return (String(decoding: bytes.dropFirst(3), as: UTF8.self), "UTF-8")
        }
        if bytes.starts(with: [0xFF, 0xFE]) { return (convert(bytes.dropFirst(2), from: "UTF-16LE"), "UTF-16LE") }
        if bytes.starts(with: [0xFE, 0xFF]) { return (convert(bytes.dropFirst(2), from: "UTF-16BE"), "UTF-16BE") }
        let label = contentType.flatMap(charsetParameter) ?? sniff(bytes.prefix(1024))
        let name = label.flatMap(canonical) ?? "UTF-8"
        if name == "UTF-8" { return (String(decoding: bytes, as: UTF8.self), name) }
        return (convert(bytes[...], from: name), name)
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

    /// A charset declared in markup at the start of the body.
    static func sniff(_ head: ArraySlice<UInt8>) -> String? {
        // The head is ASCII-compatible in every encoding we sniff for; Latin-1 maps bytes 1:1.
        let text = String(head.map { Character(Unicode.Scalar($0)) }).lowercased()
        if text.hasPrefix("<?xml"), let end = text.firstRange(of: "?>") {
            let decl = text[..<end.lowerBound]
            if let r = decl.firstRange(of: "encoding=") { return quotedValue(decl[r.upperBound...]) }
        }
        var rest = Substring(text)
        while let meta = rest.firstRange(of: "<meta") {
            let tagEnd = rest[meta.upperBound...].firstIndex(of: ">") ?? rest.endIndex
            let tag = rest[meta.upperBound..<tagEnd]
            if let r = tag.firstRange(of: "charset=") {
                // Both `<meta charset="gbk">` and `content="text/html; charset=gbk"`.
                if let v = quotedValue(tag[r.upperBound...]) { return v }
            }
            rest = rest[tagEnd...]
        }
        return nil
    }

    private static func quotedValue(_ s: Substring) -> String? {
        var v = s.drop { $0 == " " || $0 == "\"" || $0 == "'" }
        v = v.prefix { !" \"';>/".contains($0) }
        return v.isEmpty ? nil : String(v)
    }

    /// iconv's name for a WHATWG label; nil for labels we do not know (then UTF-8).
    static func canonical(_ label: String) -> String? {
        switch label.lowercased().trimmingCharacters(in: .whitespaces) {
        case "utf-8", "utf8", "unicode-1-1-utf-8": return "UTF-8"
        case "gbk", "gb2312", "gb_2312-80", "x-gbk", "gb18030", "chinese", "csgb2312", "iso-ir-58": return "GB18030"
        case "big5", "big5-hkscs", "cn-big5", "x-x-big5", "csbig5": return "BIG5-HKSCS"
        case "shift_jis", "shift-jis", "sjis", "ms_kanji", "x-sjis", "windows-31j", "csshiftjis": return "CP932"
        case "euc-jp", "x-euc-jp": return "EUC-JP"
        case "euc-kr", "ks_c_5601-1987", "windows-949": return "CP949"
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
    static func convert(_ bytes: ArraySlice<UInt8>, from encoding: String) -> String {
        let cd = iconv_open("UTF-8", encoding)
        guard cd != iconv_t(bitPattern: -1) else { return String(decoding: bytes, as: UTF8.self) }
        defer { iconv_close(cd) }
        var input = Array(bytes)
        var output = [UInt8]()
        output.reserveCapacity(input.count * 3 / 2 + 16)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
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
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                    inPtr = inPtr.map { $0 + 1 }
                    inLeft -= 1
                    iconv(cd, nil, nil, nil, nil)  // reset shift state
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
