/// A URI reference split into its RFC 3986 components, with resolution and normalization.
///
/// Parsing follows RFC 3986 Appendix B (the splitting regular expression, which never fails);
/// `resolving(_:)` is the algorithm of section 5.2.2 with `removeDotSegments` from 5.2.4;
/// `normalized(ignoringQuery:)` applies the syntax-based normalizations of section 6.2.2 plus
/// the scheme-based ones of 6.2.3, then drops the fragment and volatile query parameters.
public struct URI: Hashable, Sendable, CustomStringConvertible {
    /// Lowercased scheme without `:`, or nil for a relative reference.
    public var scheme: String?
    /// `userinfo@host:port` as written, or nil when there is no `//` part.
    public var authority: String?
    public var path: String
    public var query: String?
    public var fragment: String?

    public init(scheme: String?, authority: String?, path: String, query: String?, fragment: String?) {
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.fragment = fragment
    }

    /// Splits `string` after trimming surrounding whitespace and percent-encoding characters that
    /// may not appear in a URI (spaces, non-ASCII, controls): upstream links are often written raw
    /// (`indexes/H北美新闻.md`). Returns nil only for an empty string.
    public init?(_ string: String) {
        // Nearly every URL starts and ends with a printable ASCII byte, and then there is
        // nothing to trim: Foundation's trimming goes through NSString on Linux, and was 3.7 %
        // of a resync and most of this initializer's time.
        let trimmed: String
        if let first = string.utf8.first, let last = string.utf8.last, (0x21..<0x7F).contains(first), (0x21..<0x7F).contains(last) {
            trimmed = string
        } else {
            trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !trimmed.isEmpty else { return nil }
        let s = Array(URI.encodeDisallowed(trimmed).utf8)
        var i = 0
        // scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
        var j = 0
        while j < s.count, s[j] != UInt8(ascii: ":"), s[j] != UInt8(ascii: "/"),
              s[j] != UInt8(ascii: "?"), s[j] != UInt8(ascii: "#") { j += 1 }
        if j < s.count, j > 0, s[j] == UInt8(ascii: ":"), URI.isSchemeStart(s[0]),
           s[1..<j].allSatisfy(URI.isSchemeChar) {
            scheme = String(decoding: s[0..<j], as: UTF8.self).lowercased()
            i = j + 1
        }
        if i + 1 < s.count, s[i] == UInt8(ascii: "/"), s[i + 1] == UInt8(ascii: "/") {
            var k = i + 2
            while k < s.count, s[k] != UInt8(ascii: "/"), s[k] != UInt8(ascii: "?"), s[k] != UInt8(ascii: "#") { k += 1 }
            authority = String(decoding: s[(i + 2)..<k], as: UTF8.self)
            i = k
        }
        var k = i
        while k < s.count, s[k] != UInt8(ascii: "?"), s[k] != UInt8(ascii: "#") { k += 1 }
        path = String(decoding: s[i..<k], as: UTF8.self)
        i = k
        if i < s.count, s[i] == UInt8(ascii: "?") {
            k = i + 1
            while k < s.count, s[k] != UInt8(ascii: "#") { k += 1 }
            query = String(decoding: s[(i + 1)..<k], as: UTF8.self)
            i = k
        }
        if i < s.count, s[i] == UInt8(ascii: "#") {
            fragment = String(decoding: s[(i + 1)...], as: UTF8.self)
        }
    }

    public var description: String {
        var out = ""
        if let scheme { out += scheme + ":" }
        if let authority { out += "//" + authority }
        out += path
        if let query { out += "?" + query }
        if let fragment { out += "#" + fragment }
        return out
    }

    /// The host without userinfo or port, lowercased; IPv6 literals keep their brackets.
    public var host: String? {
        guard var a = authority else { return nil }
        if let at = a.lastIndex(of: "@") { a = String(a[a.index(after: at)...]) }
        if a.hasPrefix("["), let close = a.firstIndex(of: "]") { return String(a[...close]).lowercased() }
        if let colon = a.lastIndex(of: ":") { a = String(a[..<colon]) }
        return a.lowercased()
    }

    /// The explicit port, if any.
    public var port: Int? {
        guard var a = authority else { return nil }
        if let at = a.lastIndex(of: "@") { a = String(a[a.index(after: at)...]) }
        if let close = a.lastIndex(of: "]") { a = String(a[a.index(after: close)...]) }
        guard let colon = a.lastIndex(of: ":") else { return nil }
        return Int(a[a.index(after: colon)...])
    }

    /// Resolves `reference` against this (absolute) base URI: RFC 3986 section 5.2.2.
    public func resolving(_ reference: URI) -> URI {
        var t = URI(scheme: nil, authority: nil, path: "", query: nil, fragment: reference.fragment)
        if let rs = reference.scheme {
            t.scheme = rs
            t.authority = reference.authority
            t.path = URI.removeDotSegments(reference.path)
            t.query = reference.query
            return t
        }
        t.scheme = scheme
        if reference.authority != nil {
            t.authority = reference.authority
            t.path = URI.removeDotSegments(reference.path)
            t.query = reference.query
            return t
        }
        t.authority = authority
        if reference.path.isEmpty {
            t.path = path
            t.query = reference.query ?? query
        } else {
            if reference.path.hasPrefix("/") {
                t.path = URI.removeDotSegments(reference.path)
            } else {
                t.path = URI.removeDotSegments(merge(reference.path))
            }
            t.query = reference.query
        }
        return t
    }

    /// Resolves a reference given as text; nil when it is empty.
    public func resolving(_ reference: String) -> URI? {
        URI(reference).map { resolving($0) }
    }

    /// Section 5.2.3.
    private func merge(_ referencePath: String) -> String {
        if authority != nil && path.isEmpty { return "/" + referencePath }
        guard let slash = path.lastIndex(of: "/") else { return referencePath }
        return String(path[...slash]) + referencePath
    }

    /// RFC 3986 section 5.2.4: removes `.` and `..` segments; `..` never climbs above the root.
    public static func removeDotSegments(_ input: String) -> String {
        var inp = Substring(input)
        var out: [Substring] = []
        // Work segment-wise: equivalent to the buffer algorithm of 5.2.4.
        let absolute = inp.hasPrefix("/")
        if absolute { inp = inp.dropFirst() }
        let parts = inp.split(separator: "/", omittingEmptySubsequences: false)
        for (n, part) in parts.enumerated() {
            let last = n == parts.count - 1
            switch part {
            case ".":
                if last { out.append("") }
            case "..":
                if !out.isEmpty { out.removeLast() }
                if last { out.append("") }
            default:
                out.append(part)
            }
        }
        let joined = out.joined(separator: "/")
        return absolute ? "/" + joined : joined
    }

    // MARK: normalization

    /// Query parameters that only track where a click came from; never part of identity.
    public static let trackingParameters: Set<String> = [
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "yclid",
        "_ga", "_gl", "igshid", "spm", "share_token",
    ]

    /// The identity form of an absolute URI: scheme and host lowercased, default port, fragment
    /// and empty query dropped, dot segments removed, percent-encoding normalized (unreserved
    /// characters decoded, hex digits uppercased), `ignoringQuery` parameters and tracking
    /// parameters (`utm_*`, `fbclid`, …) removed, remaining parameters kept in order.
    public func normalized(ignoringQuery ignored: Set<String> = []) -> URI {
        var n = self
        n.fragment = nil
        if let a = authority {
            var userinfo = ""
            var hostport = a
            if let at = a.lastIndex(of: "@") {
                userinfo = String(a[...at])
                hostport = String(a[a.index(after: at)...])
            }
            var host = hostport
            var port = ""
            // `host:port`, `[v6]:port`; a colon only starts a port when digits (or nothing)
            // follow it, so a malformed `[2001:db8::` stays whole and normalizing is idempotent.
            let hostEnd = hostport.hasPrefix("[") ? hostport.firstIndex(of: "]").map { hostport.index(after: $0) } : hostport.startIndex
            if let hostEnd, let colon = hostport[hostEnd...].firstIndex(of: ":"),
               hostport[hostport.index(after: colon)...].allSatisfy(\.isASCII) && hostport[hostport.index(after: colon)...].allSatisfy(\.isNumber) {
                host = String(hostport[..<colon])
                port = String(hostport[hostport.index(after: colon)...])
            }
            // Escapes first (an escaped letter becomes a letter), then case: `%43` is `C`, then `c`.
            host = URI.lowercasedKeepingEscapes(URI.normalizePercent(host, lowercaseHex: false))
            if port.isEmpty || URI.defaultPort(scheme) == Int(port) { port = "" }
            n.authority = userinfo + host + (port.isEmpty ? "" : ":" + port)
        }
        // Percent-encoding first, then dot segments (RFC 3986 section 6.2.2 order): `%2e%2e` is
        // `..` and must not survive as a path segment.
        var p = URI.removeDotSegments(URI.normalizePercent(path, lowercaseHex: false))
        if p.isEmpty && n.authority != nil { p = "/" }
        // Without an authority a path may not start with `//` (it would read back as one):
        // `/.` keeps it a path, as the WHATWG URL standard does (found by fuzz-url).
        if n.authority == nil && p.hasPrefix("//") { p = "/." + p }
        n.path = p
        if let q = query {
            let kept = q.split(separator: "&", omittingEmptySubsequences: true).filter { pair in
                let name = String(pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0])
                let decoded = (name.removingPercentEncoding ?? name)
                if ignored.contains(decoded) { return false }
                let lower = decoded.lowercased()
                return !(lower.hasPrefix("utm_") || URI.trackingParameters.contains(lower))
            }
            n.query = kept.isEmpty ? nil : kept.map { URI.normalizePercent(String($0), lowercaseHex: false) }.joined(separator: "&")
        }
        return n
    }

    /// The path with percent-escapes decoded (UTF-8), for globbing and file names; invalid
    /// escapes stay as written.
    public var decodedPath: String {
        path.removingPercentEncoding ?? path
    }

    public static func defaultPort(_ scheme: String?) -> Int? {
        switch scheme {
        case "http", "ws": return 80
        case "https", "wss": return 443
        case "ftp": return 21
        default: return nil
        }
    }

    private static func isSchemeStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    private static func isSchemeChar(_ c: UInt8) -> Bool {
        isSchemeStart(c) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        isSchemeStart(c) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }

    /// Characters allowed somewhere in a URI reference (RFC 3986 section 2: reserved,
    /// unreserved and `%`).
    static func isURIChar(_ c: UInt8) -> Bool {
        if isUnreserved(c) { return true }
        switch c {
        case UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }

    /// Percent-encodes every byte that may not appear in a URI (spaces, controls, non-ASCII, `"<>\^`{|}`);
    /// a `%` not followed by two hex digits is encoded too.
    static func encodeDisallowed(_ s: String) -> String {
        // Most links need nothing encoded: then the string is returned as it is.
        var clean = true
        var utf8 = s.utf8.makeIterator()
        var escapeLeft = 0
        while let c = utf8.next() {
            if escapeLeft > 0 {
                guard isHex(c) else { clean = false; break }
                escapeLeft -= 1
            } else if c == UInt8(ascii: "%") {
                escapeLeft = 2
            } else if !isURIChar(c) {
                clean = false
                break
            }
        }
        if clean && escapeLeft == 0 { return s }
        let bytes = Array(s.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%") {
                if i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) {
                    out.append(c)
                } else {
                    out += [UInt8(ascii: "%"), UInt8(ascii: "2"), UInt8(ascii: "5")]
                }
            } else if isURIChar(c) {
                out.append(c)
            } else if c == UInt8(ascii: "\\") {
                // WHATWG URL treats a backslash as a slash in special schemes; browsers follow it.
                out.append(UInt8(ascii: "/"))
            } else {
                out += [UInt8(ascii: "%"), hexDigits[Int(c >> 4)], hexDigits[Int(c & 0x0F)]]
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Uppercase, as RFC 3986 section 2.1 prefers for percent-encodings.
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    /// Lowercases a host (section 3.2.2: case-insensitive) but not the hex digits of its
    /// percent-escapes, which section 6.2.2.1 wants uppercase.
    static func lowercasedKeepingEscapes(_ s: String) -> String {
        var out = [UInt8]()
        var escape = 0
        for b in s.utf8 {
            if b == UInt8(ascii: "%") { escape = 2; out.append(b); continue }
            if escape > 0 { escape -= 1; out.append(b); continue }
            out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Section 6.2.2.1/6.2.2.2: uppercase hex digits, decode escapes of unreserved characters.
    static func normalizePercent(_ s: String, lowercaseHex: Bool) -> String {
        let bytes = Array(s.utf8)
        guard bytes.contains(UInt8(ascii: "%")) else { return s }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]),
               let v = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                if isUnreserved(v) {
                    out.append(v)
                } else {
                    out.append(contentsOf: Array(String(format: "%%%02X", v).utf8))
                }
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import Foundation
