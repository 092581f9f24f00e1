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

    public init(title: String?, links: [DiscoveredLink]) {
        self.title = title
        self.links = links
    }

    /// Reads an index (or any page whose links discovery follows).
    public static func read(text: String, format: MarkupFormat, pageURL: URI, rules: LinkRules) -> IndexContent {
        let html = format == .markdown ? Markdown.html(text) : text
        let document = HTMLDocument(html: html)
        var seen = Set<URI>()
        var out: [DiscoveredLink] = []
        for link in LinkExtractor.links(in: document, pageURL: pageURL) {
            let url = rules.normalize(link.url)
            guard let kind = rules.classify(url), seen.insert(url).inserted else { continue }
            out.append(DiscoveredLink(url: url, text: link.text, kind: kind))
        }
        var title: String?
        for name in ["h1", "h2", "h3", "title"] {
            if let h = document.elements(named: name).first {
                let t = TextNormalizer.normalize(HTMLText.raw(h))
                if !t.isEmpty { title = t; break }
            }
        }
        return IndexContent(title: title, links: out)
    }

    /// SHA-256 over the ordered (URL, text) pairs.
    public var contentSHA256: String {
        var canonical = "index\u{1E}"
        for l in links { canonical += l.url.description + "\u{1F}" + TextNormalizer.canonical(l.text) + "\u{1E}" }
        return SHA256.hex(canonical)
    }
}
