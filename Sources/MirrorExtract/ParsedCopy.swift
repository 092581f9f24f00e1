import Foundation

/// The parsed copy of one article revision as written to `mirror_dir/parsed/…`: a Markdown file
/// with YAML front matter and a JSON twin. Both are deterministic (same input, same bytes), so
/// regenerating an unchanged copy rewrites nothing.
public struct ParsedCopy: Sendable {
    public var article: ParsedArticle
    public var url: String
    public var revision: Int
    public var contentSHA256: String
    public var fetchedAt: String
    /// The `ArticleExtractor.parserVersion` that made the copy.
    public var parserVersion: Int
    /// `ExtractionRules.hash` of the rules that made it.
    public var rulesHash: String

    public init(article: ParsedArticle, url: String, revision: Int, contentSHA256: String, fetchedAt: String,
                parserVersion: Int = ArticleExtractor.parserVersion, rulesHash: String = "none") {
        self.rulesHash = rulesHash
        self.article = article
        self.url = url
        self.revision = revision
        self.contentSHA256 = contentSHA256
        self.fetchedAt = fetchedAt
        self.parserVersion = parserVersion
    }

    private struct JSONShape: Encodable {
        let copy: ParsedCopy

        enum Keys: String, CodingKey {
            case url, revision, content_sha256, fetched_at, parser_version, rules_sha256
        }

        func encode(to encoder: Encoder) throws {
            try copy.article.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(copy.url, forKey: .url)
            try c.encode(copy.revision, forKey: .revision)
            try c.encode(copy.contentSHA256, forKey: .content_sha256)
            try c.encode(copy.fetchedAt, forKey: .fetched_at)
            try c.encode(copy.parserVersion, forKey: .parser_version)
            try c.encode(copy.rulesHash, forKey: .rules_sha256)
        }
    }

    /// The `.json` bytes: the article's fields plus url, revision, hashes and parser version.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONShape(copy: self))) ?? Data("{}".utf8)
        // One copy out of `Data`, at its final size (`+ [0x0A]` had made a third).
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 1)
        out.append(contentsOf: data)
        out.append(0x0A)
        return out
    }

    /// The `.md` bytes: YAML front matter, then title, lead images with captions, videos (a
    /// link to the file, after its poster image), and the body.
    public func markdown() -> [UInt8] {
        let a = article
        var out = "---\n"
        let fields: [(String, String?)] = [
            ("title", a.title), ("url", url), ("original_url", a.originalURL), ("published", a.published),
            ("source", a.source), ("reporter", a.reporter), ("editor", a.editor),
        ]
        for (k, v) in fields { out += "\(k): \(yaml(v))\n" }
        out += "revision: \(revision)\n"
        out += "content_sha256: \(contentSHA256)\n"
        out += "fetched_at: \(fetchedAt)\n"
        out += "parser_version: \(parserVersion)\n"
        out += "rules_sha256: \(rulesHash)\n"
        out += "---\n\n"
        // Room for the whole copy up front (escapes add a little): grown by doubling, a 2 MB
        // article's bytes had been copied at every step and held up to twice their size.
        let body = a.paragraphs.reduce(0) { $0 + $1.utf8.count + 2 } + (a.title?.utf8.count ?? 0)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(out.utf8.count + body + body / 32 + 256 * (1 + a.images.count + a.videos.count))
        bytes.append(contentsOf: out.utf8)
        func put(_ s: String) { bytes.append(contentsOf: s.utf8) }
        if let t = a.title { put("# "); escapeMarkdown(t.utf8, into: &bytes); put("\n\n") }
        for img in a.images {
            put("!["); escapeMarkdown((img.alt ?? "").utf8, into: &bytes)
            put("]("); bytes += Self.linkDestination(img.local ?? img.src, local: img.local != nil); put(")\n")
            if let c = img.caption { put("*"); escapeMarkdown(c.utf8, into: &bytes); put("*\n") }
            put("\n")
        }
        for video in a.videos {
            if let poster = video.poster { put("![Video poster]("); bytes += Self.linkDestination(poster, local: false); put(")\n") }
            put("[Video"); if let t = video.type { put(" ("); escapeMarkdown(t.utf8, atStart: false, into: &bytes); put(")") }
            put("]("); bytes += Self.linkDestination(video.src, local: false); put(")\n\n")
        }
        var linked = [Bool](repeating: false, count: a.links.count)
        for p in a.paragraphs { paragraph(p, links: a.links, linked: &linked, into: &bytes); put("\n\n") }
        return bytes
    }

    /// One body paragraph, escaped, with its links as Markdown links: the first occurrence of
    /// a link's text (after the previous link's) becomes `[text](target)`, where the target
    /// is the local parsed copy for a mirrored article (`ArticleLink.local`) and the page's
    /// own URL otherwise. Links are matched in document order and each is used once; a link
    /// whose text is in no paragraph (a caption, a dropped line) gives no Markdown link.
    private func paragraph(_ text: String, links: [ArticleLink], linked: inout [Bool], into out: inout [UInt8]) {
        let bytes = Array(text.utf8)
        var spans: [(range: Range<Int>, target: String, local: Bool)] = []
        var from = 0
        for (k, link) in links.enumerated() where !linked[k] && !link.text.isEmpty {
            let needle = Array(link.text.utf8)
            guard let at = bytes.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: needle, in: $0, from: from) }) else { continue }
            spans.append((at..<at + needle.count, link.local ?? link.url, link.local != nil))
            linked[k] = true
            from = at + needle.count
        }
        var at = 0
        for span in spans {
            var before = span.range.lowerBound
            // A `!` right before the link would make it an image: `\!`.
            let bang = before > at && bytes[before - 1] == UInt8(ascii: "!")
            if bang { before -= 1 }
            escapeMarkdown(bytes[at..<before], atStart: at == 0, into: &out)
            if bang { out.append(contentsOf: "\\!".utf8) }
            out.append(UInt8(ascii: "["))
            escapeMarkdown(bytes[span.range], atStart: false, into: &out)
            out.append(contentsOf: "](".utf8)
            out.append(contentsOf: Self.linkDestination(span.target, local: span.local))
            out.append(UInt8(ascii: ")"))
            at = span.range.upperBound
        }
        escapeMarkdown(bytes[at...], atStart: at == 0, into: &out)
    }

    /// A link destination that CommonMark reads back whole: space, `(`, `)`, `<` and `>`
    /// percent-encoded (CommonMark 0.30, section 6.3, "link destination"). A `local` path is a
    /// file name in the mirror tree, where `%3F` or `%2F` are literal characters of the name
    /// (MirrorTree's encoding): its `%` and `#` are encoded too, so a viewer's decoding gives
    /// the file name back instead of `?` or `/`.
    static func linkDestination(_ target: String, local: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for b in target.utf8 {
            switch b {
            case UInt8(ascii: "%") where local: out += "%25".utf8
            case UInt8(ascii: "#") where local: out += "%23".utf8
            case UInt8(ascii: " "): out += "%20".utf8
            case UInt8(ascii: "("): out += "%28".utf8
            case UInt8(ascii: ")"): out += "%29".utf8
            case UInt8(ascii: "<"): out += "%3C".utf8
            case UInt8(ascii: ">"): out += "%3E".utf8
            default: out.append(b)
            }
        }
        return out
    }

    /// A YAML scalar: `null`, or a double-quoted string (JSON string syntax is valid YAML,
    /// YAML 1.2 section 7.3.1).
    private func yaml(_ value: String?) -> String {
        guard let value else { return "null" }
        let data = (try? Self.yamlEncoder.encode(value)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// One encoder for every front-matter field (`JSONEncoder` is thread-safe): made for each
    /// of seven fields, with a Foundation search for `\/` after, it was 1.7 % of a cold mirror.
    private static let yamlEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// Keeps body text from being read as Markdown syntax (a paragraph starting with `#` or
    /// containing `*` stays text): a backslash before each of `\`*_[]<>` and before a leading
    /// `#+-|`. Works on UTF-8 bytes (every such character is ASCII, and no byte of a multi-byte
    /// sequence is), so it costs one pass with no grapheme breaking.
    private func escapeMarkdown(_ s: some Sequence<UInt8>, atStart: Bool = true, into out: inout [UInt8]) {
        var first = atStart
        for b in s {
            switch b {
            case UInt8(ascii: "\\"), UInt8(ascii: "`"), UInt8(ascii: "*"), UInt8(ascii: "_"),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "#"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "|"):
                if first { out.append(UInt8(ascii: "\\")) }
            default:
                break
            }
            out.append(b)
            first = false
        }
    }
}

/// Substring search over UTF-8 bytes: no grapheme breaking, no normalization.
enum ByteSearch {
    /// The first index ≥ `from` where `needle` starts in `haystack`, or nil (also for an
    /// empty needle).
    static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = max(0, from)
        while i <= haystack.count - needle.count {
            if haystack[i] == first {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
