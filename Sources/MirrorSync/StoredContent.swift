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
    /// - Parameter charset: the source's `charset`, if it sets one.
    public static func text(of body: [UInt8], contentType: String?, limit: Int, charset: String? = nil) throws -> String {
        Charset.decode(try inflated(body, limit: limit), contentType: contentType, override: charset).text
    }

    /// A gzip body (by its magic bytes) inflated, at most to `limit` bytes; any other as it is.
    /// - Throws: `Gzip.TooLarge` or `Gzip.Corrupt`.
    public static func inflated(_ body: [UInt8], limit: Int) throws -> [UInt8] {
        Gzip.isGzip(body) ? try Gzip.inflate(body, limit: limit) : body
    }

    /// Why a body fetched as a page (index or article) is no page, or nil: a type no page
    /// has (a PDF, an image, audio, video, a font, an archive or office file); a file's magic
    /// bytes (`%PDF`, PNG, GIF, JPEG, ZIP) whatever the label; or, unless labelled as text
    /// (`text/*`, XML, JSON), a NUL byte in its first 8 KiB that no UTF-16 text explains.
    /// A text label is trusted with a stray NUL (kept, as the parser keeps what it can). Give
    /// it a gzip body already inflated (a sitemap `.xml.gz`, or an archive linked as a page).
    /// DESIGN: a binary file becomes a recorded error on its document, never a version with
    /// a paragraph of control characters.
    public static func notAPage(_ body: [UInt8], contentType: String?) -> String? {
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let binaryFamilies = ["image/", "audio/", "video/", "font/"]
        let binaryTypes: Set = ["application/pdf", "application/zip", "application/x-zip-compressed", "application/msword",
                                "application/x-7z-compressed", "application/x-rar-compressed", "application/x-tar",
                                "application/wasm", "application/x-shockwave-flash", "application/java-archive"]
        if binaryFamilies.contains(where: type.hasPrefix) || binaryTypes.contains(type)
            || type.hasPrefix("application/vnd.openxmlformats") || type.hasPrefix("application/vnd.ms-") {
            return "not a page: \(type) (a file linked where pages are: mirrored as an asset only when an article shows it)"
        }
        let magic: [(bytes: [UInt8], name: String)] = [
            (Array("%PDF-".utf8), "a PDF"), ([0x89, 0x50, 0x4E, 0x47], "a PNG image"), (Array("GIF8".utf8), "a GIF image"),
            ([0xFF, 0xD8, 0xFF], "a JPEG image"), ([0x50, 0x4B, 0x03, 0x04], "a ZIP archive"),
        ]
        if let m = magic.first(where: { body.starts(with: $0.bytes) }) {
            return "not a page: \(m.name) (labelled \(type.isEmpty ? "with no Content-Type" : type))"
        }
        let textual = type.hasPrefix("text/") || type.contains("xml") || type.contains("json")
        guard !textual else { return nil }
        let head = body.prefix(8192)
        let utf16 = head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) || (contentType ?? "").lowercased().contains("utf-16")
        if !utf16, head.contains(0) {
            return "not a page: binary bytes (NUL) in a body labelled \(type.isEmpty ? "with no Content-Type" : type)"
        }
        return nil
    }

    /// Loads and parses a version.
    /// - Parameter source: the document's source configuration, for an index's link rules;
    ///   without it every link of the index is listed.
    /// - Throws: `StoreError` when the blob is missing or corrupt.
    public static func load(_ version: VersionRecord, of document: DocumentRecord, blobs: BlobStore,
                            source: SourceConfig?, limit: Int = 1 << 30) throws -> StoredContent {
        let raw = try blobs.get(version.rawSha256)
        var out = StoredContent(document: document, version: version, raw: raw)
        let text = try text(of: raw, contentType: version.contentType, limit: limit, charset: source?.charset)
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
