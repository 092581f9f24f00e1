import MirrorCore
import MirrorDiscovery
import MirrorMarkup
import XCTest

final class GlobTests: XCTestCase {
    func testGlobs() {
        let table: [(String, String, Bool)] = [
            ("indexes/*.md", "indexes/a.md", true),
            ("indexes/*.md", "indexes/H北美新闻.md", true),
            ("indexes/*.md", "indexes/sub/a.md", false),
            ("indexes/*.md", "indexes/a.html", false),
            ("pages/**/*.md", "pages/19/425351.md", true),
            ("pages/**/*.md", "pages/a.md", true),
            ("pages/**/*.md", "pages/1/2/3/a.md", true),
            ("pages/**/*.md", "other/1/a.md", false),
            ("**/index.html", "index.html", true),
            ("**/index.html", "a/b/index.html", true),
            ("p?ges/*.md", "pages/x.md", true),
            ("p?ges/*.md", "p/ges/x.md", false),
            ("*.md", "README.md", true),
            ("*", "", false),
        ]
        for (pattern, path, want) in table {
            XCTAssertEqual(Glob(pattern).matches(path), want, "\(pattern) vs \(path)")
        }
    }
}

final class LinkRulesTests: XCTestCase {
    func rules(start: String = "https://example.org/news/README.md") -> LinkRules {
        var s = SourceConfig(name: "n", start: [start], pollInterval: 3600)
        s.indexLinks = ["indexes/*.md", "**/index.html"]
        s.articleLinks = ["pages/**/*.md", "**/*.html"]
        s.ignoreQuery = ["t"]
        return LinkRules(source: s)
    }

    func testClassificationIsRelativeToTheFirstStartURLsDirectory() {
        let r = rules()
        XCTAssertEqual(r.base.description, "https://example.org/news/")
        func kind(_ u: String) -> DocumentKind? { r.classify(r.normalize(URI(u)!)) }
        XCTAssertEqual(kind("https://example.org/news/indexes/a.md?t=1"), .index)
        XCTAssertEqual(kind("https://example.org/news/pages/19/1.md?t=2"), .article)
        XCTAssertEqual(kind("https://example.org/news/a/index.html"), .index, "index_links wins over article_links")
        XCTAssertEqual(kind("https://example.org/news/a/story.html"), .article)
        XCTAssertNil(kind("https://example.org/other/pages/1/1.md"), "outside the base directory")
        XCTAssertNil(kind("https://mirror.example.org/news/pages/1/1.md"), "another host")
        XCTAssertNil(kind("http://example.org/news/pages/1/1.md"), "another scheme")
        XCTAssertNil(kind("https://example.org/news/README.md"))
        XCTAssertEqual(kind("https://EXAMPLE.org:443/news/indexes/%E5%8C%97.md"), .index)
    }

    func testIndexContentIgnoresCacheBustersAndKeepsOrder() {
        let r = rules()
        let page = URI("https://example.org/news/indexes/a.md")!
        func content(_ token: String, extra: String = "") -> IndexContent {
            IndexContent.read(text: """
                ### 城镇新闻
                ------------------------

                #### [首页](../README.md)

                #### [第一篇](../pages/1/1.md?t=\(token))

                #### [第二篇](../pages/1/2.md?t=\(token)#comments)

                #### [第一篇 again](../pages/1/1.md?t=\(token))
                \(extra)
                <p><a href="https://elsewhere.example/pages/9.md">off-site</a> <a href="b.md">相对</a></p>
                """, format: .markdown, pageURL: page, rules: r)
        }
        let a = content("05190102"), b = content("05190203")
        XCTAssertEqual(a.title, "城镇新闻")
        XCTAssertEqual(a.links.map(\.url.description), [
            "https://example.org/news/pages/1/1.md", "https://example.org/news/pages/1/2.md",
            "https://example.org/news/indexes/b.md",
        ])
        XCTAssertEqual(a.links.map(\.text), ["第一篇", "第二篇", "相对"])
        XCTAssertEqual(a.links.map(\.kind), [.article, .article, .index])
        XCTAssertEqual(a.contentSHA256, b.contentSHA256, "token-only change")
        XCTAssertNotEqual(a.contentSHA256, content("x", extra: "#### [第三篇](../pages/1/3.md)").contentSHA256)
    }

    func testHTMLLinksHonourBaseHref() {
        let links = LinkExtractor.links(in: """
            <html><head><base href="https://cdn.example.org/news/"></head>
            <body><a href="pages/1.html">一</a><a href="#top">top</a><a href="mailto:x@y">m</a>
            <a href="javascript:void(0)">j</a><a href="//example.org/x">proto-relative</a></body></html>
            """, format: .html, pageURL: URI("https://example.org/index.html")!)
        XCTAssertEqual(links.map(\.url.description), ["https://cdn.example.org/news/pages/1.html", "https://example.org/x"])
    }

    func testFormatDetection() {
        XCTAssertEqual(MarkupFormat.detect(contentType: "text/html; charset=utf-8", text: "# x"), .html)
        XCTAssertEqual(MarkupFormat.detect(contentType: "text/plain; charset=utf-8", text: "### 标题"), .markdown)
        XCTAssertEqual(MarkupFormat.detect(contentType: nil, text: "\u{FEFF}  <!DOCTYPE html><html>"), .html)
        XCTAssertEqual(MarkupFormat.detect(contentType: "text/markdown", text: "<html>"), .markdown)
    }

    /// An index's content hash is over the documented text (`index␞`, then URL␟text␞ per
    /// link), byte for byte; expected value from `sha256sum`, written out by hand.
    func testIndexContentHashIsOverTheDocumentedText() {
        let index = IndexContent(title: "ignored", links: [
            DiscoveredLink(url: URI("https://example.org/pages/1/2.md")!, text: " 第一篇 ", kind: .article),
            DiscoveredLink(url: URI("https://example.org/pages/1/3.md")!, text: "second\tone", kind: .article),
        ])
        XCTAssertEqual(index.contentSHA256, "001705508f0a328de897461ae470d6cb536206211fe0428406a4a7c83465336a")
    }
}
