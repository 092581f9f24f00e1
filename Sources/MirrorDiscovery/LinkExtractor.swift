import MirrorCore
import MirrorMarkup

/// One link found on a page: where it points (absolute, not yet normalized) and its text.
public struct Link: Sendable, Hashable {
    public let url: URI
    public let text: String

    public init(url: URI, text: String) {
        self.url = url
        self.text = text
    }
}

/// Finds the links of a page: Markdown `[text](href)` and HTML `<a href>` alike (Markdown is
/// rendered by cmark-gfm first, so links inside embedded HTML blocks are found too), resolved
/// against the page URL and `<base href>` (RFC 3986 section 5.1), fragments dropped.
public enum LinkExtractor {
    public static func links(in text: String, format: MarkupFormat, pageURL: URI) -> [Link] {
        let document = format == .markdown ? HTMLDocument(markdown: text) : HTMLDocument(html: text)
        defer { withExtendedLifetime(document) {} }  // nodes point into it
        return links(in: document, pageURL: pageURL)
    }

    public static func links(in document: HTMLDocument, pageURL: URI) -> [Link] {
        var base = pageURL
        if let b = document.elements(named: "base").first?.attribute("href"), let resolved = pageURL.resolving(b) {
            base = resolved
        }
        var out: [Link] = []
        for a in document.elements(named: "a") {
            guard let href = a.attribute("href"), !href.hasPrefix("#"),
                  var url = base.resolving(href), let scheme = url.scheme,
                  ["http", "https", "file"].contains(scheme) else { continue }
            url.fragment = nil
            out.append(Link(url: url, text: TextNormalizer.normalize(HTMLText.raw(a))))
        }
        return out
    }
}
