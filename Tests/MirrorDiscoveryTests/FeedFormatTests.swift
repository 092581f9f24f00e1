import Foundation
import MirrorCore
import MirrorDiscovery
import MirrorMarkup
import XCTest

/// Index formats, each from a fixture named after the quirk it holds.
final class FeedFormatTests: XCTestCase {
    let rules: LinkRules = {
        var s = SourceConfig(name: "news", start: ["https://example.org/news/feed.xml"], pollInterval: 3600)
        s.indexLinks = ["sitemaps/*.xml.gz"]
        s.articleLinks = ["pages/**/*.md"]
        s.ignoreQuery = ["t"]
        return LinkRules(source: s)
    }()

    func fixture(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
        return [UInt8](try Data(contentsOf: url))
    }

    func read(_ name: String, contentType: String?, page: String = "https://example.org/news/feed.xml") throws -> IndexContent {
        var bytes = try fixture(name)
        if Gzip.isGzip(bytes) { bytes = try Gzip.inflate(bytes, limit: 1 << 20) }
        let text = Charset.decode(bytes, contentType: contentType).text
        return IndexContent.read(text: text, contentType: contentType, pageURL: URI(page)!, rules: rules)
    }

    func testRSSWithABOMServedAsHTMLAndARepeatedGUIDKeepsEveryItem() throws {
        let text = Charset.decode(try fixture("rss-bom-repeated-guid-served-as-text-html.xml"), contentType: "text/html").text
        XCTAssertEqual(IndexFormat.detect(text: text, contentType: "text/html; charset=utf-8"), .rss)
        let index = try read("rss-bom-repeated-guid-served-as-text-html.xml", contentType: "text/html; charset=utf-8")
        XCTAssertEqual(index.title, "街坊快讯")
        XCTAssertEqual(index.links.map(\.url.description), [
            "https://example.org/news/pages/1/1.md",
            "https://example.org/news/pages/1/2.md",   // same guid as the first: still an item
            "https://example.org/news/pages/1/3.md",   // guid as permalink (isPermaLink defaults to true)
            "https://example.org/news/pages/1/5.md",   // relative, whitespace around it
        ])
        XCTAssertEqual(index.links.map(\.text), ["第一条", "第二条", "只有 guid", "第五条 & 更多"])
        // One item repeats the first one's guid: reported, so the daemon can warn.
        XCTAssertEqual(index.repeatedGUID?.items, 1)
        XCTAssertEqual(index.repeatedGUID?.guid, "same-guid")
        let atom = try read("atom-xml-base-nested.xml", contentType: "application/atom+xml")
        XCTAssertNil(atom.repeatedGUID)
    }

    func testAtomXMLBaseAtFeedAndEntryLevel() throws {
        let index = try read("atom-xml-base-nested.xml", contentType: "application/atom+xml")
        XCTAssertEqual(index.links.map(\.url.description), [
            "https://example.org/news/pages/1/10.md",
            "https://example.org/news/pages/2/20.md",
            "https://example.org/news/pages/3/30.md",
        ])
        XCTAssertEqual(index.links.map(\.text), ["相对于 feed 的 xml:base", "嵌套的 xml:base", "绝对链接与片段"])
        XCTAssertEqual(index.title, "Atom 示例")
    }

    /// A Google News sitemap names each article in `<news:news><news:title>`: that is the
    /// link's text (the index's content then changes with a headline). An image sitemap's
    /// `<image:title>` names the picture, not the page, and is not taken.
    func testNewsSitemapTitlesAreTheLinksText() throws {
        let index = try read("news-sitemap-with-news-title-and-image-title.xml", contentType: "application/xml")
        XCTAssertEqual(index.links.map(\.url.description), [
            "https://example.org/news/pages/4/401.md",
            "https://example.org/news/pages/4/402.md",
            "https://example.org/news/pages/4/403.md",
        ])
        XCTAssertEqual(index.links.map(\.text), ["渡轮冬季时刻表调整 & 夜班停航", "", ""])
    }

    func testSitemapIndexListsSitemapsAsIndexes() throws {
        let index = try read("sitemap-index.xml", contentType: "application/xml")
        XCTAssertEqual(index.links.map(\.url.description), [
            "https://example.org/news/sitemaps/2024.xml.gz", "https://example.org/news/sitemaps/2025.xml.gz",
        ])
        XCTAssertEqual(index.links.map(\.kind), [.index, .index])
    }

    func testGzipSitemapIsRecognisedByItsMagicBytes() throws {
        let bytes = try fixture("sitemap-urlset.xml.gz")
        XCTAssertTrue(Gzip.isGzip(bytes))
        let index = try read("sitemap-urlset.xml.gz", contentType: "application/octet-stream",
                             page: "https://example.org/news/sitemaps/2024.xml.gz")
        XCTAssertEqual(index.links.map(\.url.description), [
            "https://example.org/news/pages/4/40.md", "https://example.org/news/pages/4/41.md",
        ])
        XCTAssertEqual(index.links.map(\.kind), [.article, .article])
    }

    func testGzipBombStopsAtTheLimit() throws {
        let bytes = try fixture("sitemap-urlset.xml.gz")
        XCTAssertThrowsError(try Gzip.inflate(bytes, limit: 100)) { error in
            XCTAssertEqual("\(error)", "gzip body expands past 100 bytes")
        }
        XCTAssertThrowsError(try Gzip.inflate(Array(bytes.prefix(40)), limit: 1 << 20)) { error in
            XCTAssertEqual("\(error)", "corrupt gzip body: truncated")
        }
    }

    func testExcludeBeatsTheOtherRules() {
        var s = SourceConfig(name: "n", start: ["https://example.org/news/README.md"], pollInterval: 3600)
        s.indexLinks = ["indexes/*.md"]
        s.articleLinks = ["pages/**/*.md"]
        s.exclude = ["pages/ads/**", "indexes/archive-*.md"]
        let r = LinkRules(source: s)
        XCTAssertEqual(r.classify(URI("https://example.org/news/pages/1/1.md")!), .article)
        XCTAssertNil(r.classify(URI("https://example.org/news/pages/ads/1.md")!))
        XCTAssertNil(r.classify(URI("https://example.org/news/indexes/archive-2019.md")!))
        XCTAssertEqual(r.classify(URI("https://example.org/news/indexes/today.md")!), .index)
    }

    func testPlainHTMLAndMarkdownStillDetected() {
        XCTAssertEqual(IndexFormat.detect(text: "<!DOCTYPE html><html><body><a href=x>x</a>", contentType: nil), .html)
        XCTAssertEqual(IndexFormat.detect(text: "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"/>", contentType: nil), .html)
        XCTAssertEqual(IndexFormat.detect(text: "### 标题\n\n#### [a](b.md)", contentType: "text/plain"), .markdown)
    }
}
