import Foundation
import MirrorCore
import MirrorDiscovery
import MirrorExtract
import MirrorMarkup
import MirrorStore

/// The parsed content of a stored version, regenerated from its raw blob by the current
/// parser, with no network access: what `show`, `diff` and reparsing read.
public struct StoredContent: Sendable {
    public var document: DocumentRecord
    public var version: VersionRecord
    public var raw: [UInt8]
    /// For an article.
    public var article: ParsedArticle?
    /// For an index.
    public var index: IndexContent?

    /// The text of a raw body: a gzip body (sitemaps come as `.xml.gz`, with or without
    /// `Content-Encoding`) is inflated first, at most to `limit` bytes, then decoded from its
    /// charset (see `Charset`).
    /// - Throws: `Gzip.TooLarge` or `Gzip.Corrupt`.
    public static func text(of body: [UInt8], contentType: String?, limit: Int) throws -> String {
        let bytes = Gzip.isGzip(body) ? try Gzip.inflate(body, limit: limit) : body
        return Charset.decode(bytes, contentType: contentType).text
    }

    /// Loads and parses a version.
    /// - Parameter source: the document's source configuration, for an index's link rules;
    ///   without it every link of the index is listed.
    /// - Throws: `StoreError` when the blob is missing or corrupt.
    public static func load(_ version: VersionRecord, of document: DocumentRecord, blobs: BlobStore,
                            source: SourceConfig?, limit: Int = 1 << 30) throws -> StoredContent {
        let raw = try blobs.get(version.rawSha256)
        var out = StoredContent(document: document, version: version, raw: raw)
        let text = try text(of: raw, contentType: version.contentType, limit: limit)
        let pageURL = URI(document.fetchUrl ?? document.url) ?? URI(document.url)!
        if document.kind == DocumentKind.article.rawValue {
            let format = MarkupFormat.detect(contentType: version.contentType, text: text)
            // Handed over: a 2 MB page's text is let go before its parse (see `HTMLDocument`).
            out.article = ArticleExtractor.extract(text: consume text, format: format,
                                                   pageURL: pageURL, rules: source.map(ExtractionRules.init) ?? .none)
        } else if let source {
            out.index = IndexContent.read(text: text, contentType: version.contentType, pageURL: pageURL, rules: LinkRules(source: source))
        } else {
            let links = LinkExtractor.links(in: text, format: MarkupFormat.detect(contentType: version.contentType, text: text), pageURL: pageURL)
            out.index = IndexContent(title: nil, links: links.map { DiscoveredLink(url: $0.url.normalized(), text: $0.text, kind: .index) })
        }
        return out
    }
}
