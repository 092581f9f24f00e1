import Foundation
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

    /// Front-matter values are YAML double-quoted scalars in JSON's string syntax (YAML 1.2,
    /// 7.3.1): quotes, backslashes and control characters escaped, slashes left alone (the URL
    /// fields), nothing else touched.
    func testFrontMatterValuesAreQuotedAsYAMLReadsThemBack() {
        let article = ParsedArticle(title: "引号\"与\\反斜杠/斜杠\n换行\t制表\u{1}", published: nil, source: "a/b", reporter: nil,
                                    editor: nil, originalURL: "https://example.org/p/1?a=1&b=2#c", paragraphs: ["正文。"])
        let copy = ParsedCopy(article: article, url: "https://example.org/pages/1/1.md", revision: 1,
                              contentSHA256: "ab", fetchedAt: "2026-11-29T10:00:00Z", parserVersion: 9, rulesHash: "none")
        let front = String(decoding: copy.markdown(), as: UTF8.self).split(separator: "\n").prefix(8)
        XCTAssertEqual(Array(front), [
            "---",
            #"title: "引号\"与\\反斜杠/斜杠\n换行\t制表\u0001""#,
            #"url: "https://example.org/pages/1/1.md""#,
            #"original_url: "https://example.org/p/1?a=1&b=2#c""#,
            "published: null",
            #"source: "a/b""#,
            "reporter: null",
            "editor: null",
        ])
    }

    /// Body links become Markdown links: to the local parsed copy when the mirror tracks the
    /// article, to the page's URL otherwise; a link whose text is in no paragraph is left out,
    /// and the ones after it still match.
    func testBodyLinksPointToLocalCopiesOrTheirURL() throws {
        let article = ParsedArticle(
            title: "T", paragraphs: ["见上期报道与*专题*，另见外站 (说明)。", "第二段提到上期报道。", "Wow!查询页"],
            links: [ArticleLink(url: "https://example.org/pages/1/7.md", text: "上期报道", local: "../1/7.md"),
                    ArticleLink(url: "https://example.org/share/1", text: "分享到别处"),
                    ArticleLink(url: "https://other.example.net/a b(1).html", text: "外站"),
                    ArticleLink(url: "https://example.org/pages/1/9.md", text: "上期报道", local: "9.md"),
                    ArticleLink(url: "https://example.org/q.php?id=5", text: "查询页", local: "../../q.php%3Fid=5#1.md")])
        let copy = ParsedCopy(article: article, url: "https://example.org/pages/2/8.md", revision: 1,
                              contentSHA256: "ab", fetchedAt: "2026-11-29T10:00:00Z", parserVersion: 9, rulesHash: "none")
        let md = String(decoding: copy.markdown(), as: UTF8.self)
        let body = try XCTUnwrap(md.components(separatedBy: "# T\n\n").last)
        XCTAssertEqual(body, """
            见[上期报道](../1/7.md)与\\*专题\\*，另见[外站](https://other.example.net/a%20b%281%29.html) (说明)。

            第二段提到[上期报道](9.md)。

            Wow\\![查询页](../../q.php%253Fid=5%231.md)


            """)
        // The JSON names the local copy only where there is one.
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(copy.json())) as? [String: Any])
        let links = try XCTUnwrap(json["links"] as? [[String: Any]])
        XCTAssertEqual(links.map { $0["local"] as? String }, ["../1/7.md", nil, nil, "9.md", "../../q.php%3Fid=5#1.md"])
        XCTAssertEqual(links[1].keys.sorted(), ["text", "url"])
    }

    /// A video article: each file after its poster in the `.md`, `videos` in the JSON, and
    /// the file part of the content hash (another video is an edit; no video, no change).
    func testVideosInTheCopyAndTheContentHash() throws {
        var article = ParsedArticle(title: "夜市", paragraphs: ["视频下载：高清版"])
        let textOnly = article.contentSHA256
        article.videos = [ArticleVideo(src: "https://video.example.org/a b.mp4", type: "video/mp4", poster: "https://img.example.org/p.jpg"),
                          ArticleVideo(src: "https://video.example.org/a.webm")]
        let copy = ParsedCopy(article: article, url: "https://example.org/pages/1/2.md", revision: 1,
                              contentSHA256: article.contentSHA256, fetchedAt: "2026-11-29T10:00:00Z", parserVersion: 3)
        let md = String(decoding: copy.markdown(), as: UTF8.self)
        XCTAssertTrue(md.hasSuffix("""
            # 夜市

            ![Video poster](https://img.example.org/p.jpg)
            [Video (video/mp4)](https://video.example.org/a%20b.mp4)

            [Video](https://video.example.org/a.webm)

            视频下载：高清版


            """), md)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(copy.json())) as? [String: Any])
        let videos = try XCTUnwrap(json["videos"] as? [[String: Any]])
        XCTAssertEqual(videos.count, 2)
        XCTAssertEqual(videos[0]["type"] as? String, "video/mp4")
        XCTAssertEqual(videos[0]["poster"] as? String, "https://img.example.org/p.jpg")
        XCTAssertTrue(videos[1]["poster"] is NSNull)
        XCTAssertNotEqual(article.contentSHA256, textOnly)
        let withVideos = article.contentSHA256
        article.videos[0].src = "https://video.example.org/other.mp4"
        XCTAssertNotEqual(article.contentSHA256, withVideos, "another file is an edit")
        article.videos[0].poster = nil
        article.videos[0].src = "https://video.example.org/a b.mp4"
        XCTAssertEqual(article.contentSHA256, withVideos, "the poster is not the content")
    }

    /// The content hash is over the documented text, byte for byte, so stores keep their
    /// revisions when the way it is computed changes (it is now hashed piece by piece).
    /// Expected values: `sha256sum` of that text, written out by hand.
    func testContentHashIsOverTheDocumentedText() {
        var article = ParsedArticle(title: "夜市", published: "2026-03-04", source: nil, reporter: "林",
                                    editor: "not hashed", paragraphs: ["第一段", "second \n  para"])
        // article␞ 夜市␟ 2026-03-04␟ ␟ 林␟ ␞ 第一段␟second para
        XCTAssertEqual(article.contentSHA256, "7a76bf9ebf058e2fefda51eaf761127f9aab38a20465af7a006b254c3d8f13d4")
        article.videos = [ArticleVideo(src: "https://v.example.org/a.mp4", poster: "https://v.example.org/p.jpg"),
                          ArticleVideo(src: "https://v.example.org/b.webm")]
        // … ␞video␟ a.mp4's src ␟ b.webm's src
        XCTAssertEqual(article.contentSHA256, "ef0fd482c4388a82f759a1cbd3d7d7ec5d66d6597f0147c25fdc9b226c9f2e90")
    }
}
