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
        return [UInt8](data) + [0x0A]
    }

    /// The `.md` bytes: YAML front matter, then title, lead images with captions, and the body.
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
        var bytes = Array(out.utf8)
        func put(_ s: String) { bytes.append(contentsOf: s.utf8) }
        if let t = a.title { put("# "); escapeMarkdown(t, into: &bytes); put("\n\n") }
        for img in a.images {
            put("!["); escapeMarkdown(img.alt ?? "", into: &bytes); put("](\(img.local ?? img.src))\n")
            if let c = img.caption { put("*"); escapeMarkdown(c, into: &bytes); put("*\n") }
            put("\n")
        }
        for p in a.paragraphs { escapeMarkdown(p, into: &bytes); put("\n\n") }
        return bytes
    }

    /// A YAML scalar: `null`, or a double-quoted string (JSON string syntax is valid YAML).
    private func yaml(_ value: String?) -> String {
        guard let value else { return "null" }
        let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    /// Keeps body text from being read as Markdown syntax (a paragraph starting with `#` or
    /// containing `*` stays text): a backslash before each of `\`*_[]<>` and before a leading
    /// `#+-|`. Works on UTF-8 bytes (every such character is ASCII, and no byte of a multi-byte
    /// sequence is), so it costs one pass with no grapheme breaking.
    private func escapeMarkdown(_ s: String, into out: inout [UInt8]) {
        var first = true
        for b in s.utf8 {
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
