import MirrorExtract
import XCTest

/// The `.md` parsed copy, byte for byte: front matter, title, lead image, escaped body.
final class ParsedCopyTests: XCTestCase {
    func testMarkdownEscapesSyntaxButLeavesTextAlone() {
        let article = ParsedArticle(
            title: "标题 *重要* [一]", published: "2026-03-04", source: "溪边报", reporter: nil, editor: "林",
            originalURL: "https://example.org/p/1",
            paragraphs: ["#1 街道-社区 a+b x|y", "-号开头", "引号<b>与`代码`、下划线_和反斜杠\\。", "第二十三期 — 7-11 号"],
            images: [ArticleImage(src: "https://img.example.org/a.jpeg", alt: "图_一", caption: "说明*二*", local: "../../assets/a.jpeg")])
        let copy = ParsedCopy(article: article, url: "https://example.org/pages/1/1.md", revision: 2,
                              contentSHA256: "ab", fetchedAt: "2026-11-29T10:00:00Z", parserVersion: 9, rulesHash: "none")
        XCTAssertEqual(String(decoding: copy.markdown(), as: UTF8.self), """
            ---
            title: "标题 *重要* [一]"
            url: "https://example.org/pages/1/1.md"
            original_url: "https://example.org/p/1"
            published: "2026-03-04"
            source: "溪边报"
            reporter: null
            editor: "林"
            revision: 2
            content_sha256: ab
            fetched_at: 2026-11-29T10:00:00Z
            parser_version: 9
            rules_sha256: none
            ---

            # 标题 \\*重要\\* \\[一\\]

            ![图\\_一](../../assets/a.jpeg)
            *说明\\*二\\**

            \\#1 街道-社区 a+b x|y

            \\-号开头

            引号\\<b\\>与\\`代码\\`、下划线\\_和反斜杠\\\\。

            第二十三期 — 7-11 号


            """)
    }
}
