import MirrorCore
import MirrorMarkup

/// A link the rules accepted: its identity, its text and what it is.
public struct DiscoveredLink: Sendable, Hashable {
    public let url: URI
    public let text: String
    public let kind: DocumentKind

    public init(url: URI, text: String, kind: DocumentKind) {
        self.url = url
        self.text = text
        self.kind = kind
    }
}

/// What an index page *means* to the mirror: the ordered list of rule-matching links, each as
/// (normalized URL, link text). Cache-busting tokens vanish in normalization, so an upstream
/// that regenerates its index hourly with new `?t=` tokens produces the same content.
public struct IndexContent: Sendable {
    public var title: String?
    /// First occurrence of each normalized URL, in page order.
    public var links: [DiscoveredLink]
    /// A feed or sitemap that libxml2 could not parse to the end (an entity bomb, broken XML).
    public var parseError: String?
    /// An RSS feed whose items repeat `<guid>`s: how many items do, and the first such guid
    /// (see `FeedReader.repeatedGUIDs`). Worth a warning: other readers of the feed lose items.
    public var repeatedGUID: (items: Int, guid: String)?

    public init(title: String?, links: [DiscoveredLink]) {
        self.title = title
        self.links = links
    }

    /// Reads an index (or any page whose links discovery follows) in whatever format its
    /// content shows (see `IndexFormat.detect`).
    public static func read(text: String, contentType: String?, pageURL: URI, rules: LinkRules) -> IndexContent {
        let (format, feed) = IndexFormat.detectParsing(text: text, contentType: contentType)
        guard let doc = feed else {
            return read(text: text, format: format == .html ? .html : .markdown, pageURL: pageURL, rules: rules)
        }
        defer { withExtendedLifetime(doc) {} }  // nodes point into it
        let links = FeedReader.links(in: doc, format: format, pageURL: pageURL)
        // A sitemap index lists sitemaps: those are indexes by nature, whatever the globs say.
        let content = classify(links, rules: rules, forcedKind: format == .sitemapIndex ? .index : nil)
        let title = doc.root.flatMap { $0.childText("title") ?? $0.children(named: "channel").first?.childText("title") }
        var index = IndexContent(title: title.map(TextNormalizer.normalize), links: content)
        index.parseError = doc.fatalError
        if format == .rss { index.repeatedGUID = FeedReader.repeatedGUIDs(in: doc) }
        return index
    }

    /// Reads a Markdown or HTML page.
    public static func read(text: String, format: MarkupFormat, pageURL: URI, rules: LinkRules) -> IndexContent {
        let document = format == .markdown ? HTMLDocument(markdown: text) : HTMLDocument(html: text)
        defer { withExtendedLifetime(document) {} }  // nodes point into it
        return read(document: document, pageURL: pageURL, rules: rules)
    }

    /// Reads a page already parsed (an article whose links are followed: see
    /// `ArticleExtractor.extract(…inspect:)`).
    public static func read(document: HTMLDocument, pageURL: URI, rules: LinkRules) -> IndexContent {
        let out = classify(LinkExtractor.links(in: document, pageURL: pageURL), rules: rules, forcedKind: nil)
        var title: String?
        for name in ["h1", "h2", "h3", "title"] {
            if let h = document.elements(named: name).first {
                let t = TextNormalizer.normalize(HTMLText.raw(h))
                if !t.isEmpty { title = t; break }
            }
        }
        return IndexContent(title: title, links: out)
    }

    /// Normalizes, classifies and de-duplicates links (first occurrence wins, order kept).
    static func classify(_ links: [Link], rules: LinkRules, forcedKind: DocumentKind?) -> [DiscoveredLink] {
        var seen = Set<URI>()
        var out: [DiscoveredLink] = []
        for link in links {
            let url = rules.normalize(link.url)
            let kind: DocumentKind?
            if let forcedKind {
                kind = rules.relativePath(url) != nil && !rules.isExcluded(url) ? forcedKind : nil
            } else {
                kind = rules.classify(url)
            }
            guard let kind, seen.insert(url).inserted else { continue }
            out.append(DiscoveredLink(url: url, text: link.text, kind: kind))
        }
        return out
    }

    /// SHA-256 over the ordered (URL, text) pairs: `index␞`, then for each link its URL, `␟`,
    /// its canonical text and `␞` (␞ U+001E, ␟ U+001F), hashed piece by piece.
    public var contentSHA256: String {
        let hasher = SHA256.Hasher()
        hasher.update("index\u{1E}")
        for l in links {
            hasher.update(l.url.description)
            hasher.update("\u{1F}")
            hasher.update(TextNormalizer.canonical(l.text))
            hasher.update("\u{1E}")
        }
        return hasher.finalizeHex()
    }
}
