import MirrorCore
import MirrorMarkup

/// What kind of index a body is, decided from its content: servers mislabel feeds
/// (`text/html` for RSS with a BOM) and Git-hosted sites serve everything as `text/plain`.
public enum IndexFormat: String, Sendable {
    case markdown, html, rss, atom, sitemap, sitemapIndex

    /// XML roots are recognised by the root element's local name; anything else is HTML or
    /// Markdown by `MarkupFormat.detect`.
    public static func detect(text: String, contentType: String?) -> IndexFormat {
        detectParsing(text: text, contentType: contentType).format
    }

    /// `detect`, also handing back the parsed XML document when the body is a feed or a
    /// sitemap, so that its links and title are read from the same parse.
    static func detectParsing(text: String, contentType: String?) -> (format: IndexFormat, feed: XMLDocument?) {
        let head = text.prefix(2048).drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        if head.hasPrefix("<?xml") || head.hasPrefix("<rss") || head.hasPrefix("<feed") || head.hasPrefix("<urlset")
            || head.hasPrefix("<sitemapindex") || head.hasPrefix("<rdf:RDF") {
            // Nodes do not retain their document: keep it alive while its root is read.
            let doc = XMLDocument(xml: String(text.drop { $0 == "\u{FEFF}" }))
            let format: IndexFormat?
            switch withExtendedLifetime(doc, { doc.root?.name }) {
            case "rss", "RDF": format = .rss
            case "feed": format = .atom
            case "urlset": format = .sitemap
            case "sitemapindex": format = .sitemapIndex
            case "html": format = .html  // XHTML
            default: format = nil
            }
            if let format { return (format, format == .html ? nil : doc) }
        }
        return (MarkupFormat.detect(contentType: contentType, text: text) == .html ? .html : .markdown, nil)
    }
}

/// Links of feeds and sitemaps, resolved and in document order.
public enum FeedReader {
    /// - RSS 2.0 / 1.0: each `<item>`'s `<link>`, or its `<guid>` when there is no link and the
    ///   guid is a permalink (`isPermaLink` absent or `true`, RSS 2.0 spec); text: `<title>`.
    ///   Items are never dropped for a missing or repeated guid: identity is the link.
    /// - Atom (RFC 4287): each `<entry>`'s `<link rel="alternate">` (a link without `rel` is
    ///   alternate, section 4.2.7.2), resolved against the `xml:base` chain (XML Base) and the
    ///   document URL; text: `<title>`.
    /// - Sitemaps (sitemaps.org): every `<url><loc>`; text: the Google News extension's
    ///   `<news:news><news:title>`, if any; sitemap indexes: every `<sitemap><loc>`.
    public static func links(in text: String, format: IndexFormat, pageURL: URI) -> [Link] {
        links(in: XMLDocument(xml: String(text.drop { $0 == "\u{FEFF}" })), format: format, pageURL: pageURL)
    }

    /// `links(in:format:pageURL:)` on a document already parsed.
    static func links(in doc: XMLDocument, format: IndexFormat, pageURL: URI) -> [Link] {
        defer { withExtendedLifetime(doc) {} }  // the nodes below point into it
        var out: [Link] = []
        func add(_ href: String?, base: URI, title: String?) {
            guard let href, var url = base.resolving(href), let scheme = url.scheme,
                  ["http", "https", "file"].contains(scheme) else { return }
            url.fragment = nil
            out.append(Link(url: url, text: TextNormalizer.normalize(title ?? "")))
        }
        switch format {
        case .rss:
            for item in doc.elements(named: "item") {
                var href = item.childText("link")
                if href == nil, let guid = item.children(named: "guid").first,
                   guid.attribute("isPermaLink")?.lowercased() != "false" {
                    href = HTMLText.raw(guid).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                if href == nil { href = item.attribute("about") }  // RSS 1.0 rdf:about
                add(href, base: pageURL, title: item.childText("title"))
            }
        case .atom:
            for entry in doc.elements(named: "entry") {
                let links = entry.children(named: "link")
                let alternate = links.first { ($0.attribute("rel") ?? "alternate") == "alternate" && ($0.attribute("type")?.contains("html") ?? true) }
                    ?? links.first { ($0.attribute("rel") ?? "alternate") == "alternate" }
                guard let link = alternate else { continue }
                add(link.attribute("href"), base: xmlBase(of: link, documentURL: pageURL), title: entry.childText("title"))
            }
        case .sitemap, .sitemapIndex:
            let container = format == .sitemap ? "url" : "sitemap"
            for entry in doc.elements(named: container) {
                // Google News sitemaps: `<news:news><news:title>` (an `<image:title>` names a picture).
                add(entry.childText("loc"), base: pageURL, title: entry.children(named: "news").first?.childText("title"))
            }
        case .markdown, .html:
            break
        }
        return out
    }

    /// RSS items whose `<guid>` repeats an earlier item's: a feed reader keyed on the guid
    /// shows only one of them (mirrord keys on the link, so every item is kept).
    /// - Returns: how many items repeat a guid, and the first repeated guid; nil when none does.
    static func repeatedGUIDs(in doc: XMLDocument) -> (items: Int, guid: String)? {
        var seen = Set<String>()
        var items = 0
        var first: String?
        for item in doc.elements(named: "item") {
            guard let node = item.children(named: "guid").first else { continue }
            let guid = HTMLText.raw(node).trimmingCharacters(in: .whitespacesAndNewlines)
            if !guid.isEmpty, !seen.insert(guid).inserted {
                items += 1
                if first == nil { first = guid }
            }
        }
        return first.map { (items, $0) }
    }

    /// The base URI in effect at `node`: the document URL, then every `xml:base` from the root
    /// down, each resolved against the one before (XML Base, section 4.2).
    static func xmlBase(of node: HTMLNode, documentURL: URI) -> URI {
        var base = documentURL
        for n in node.lineage {
            if let b = n.attribute("base"), let resolved = base.resolving(b) { base = resolved }
        }
        return base
    }
}
