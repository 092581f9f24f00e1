import Foundation
import MirrorCore
import MirrorExtract
import MirrorMarkup
import XCTest

/// Ordinary HTML news pages of different shapes and quirks (`HTMLFixtures/<shape>.html`, the
/// name says which), each with the exact title, date, author and body text expected
/// (`<shape>.expected.json`), and where given the extraction kind, dateline source, image,
/// link and video URLs.
final class HTMLArticleTests: XCTestCase {
    /// Found by fuzz-article: a ten-digit number in a date element made date parsing recurse
    /// until the stack overflowed.
    func testATenDigitNumberInADateElementIsNotADate() {
        let html = "<html><body><div class=\"date\">Ref 1234567890</div><div class=\"content\"><p>A body paragraph long enough to be kept as text, with commas, here.</p></div></body></html>"
        let a = ArticleExtractor.extract(text: html, format: .html, pageURL: URI("https://example.org/a.html")!)
        XCTAssertNil(a.published)
        XCTAssertEqual(a.paragraphs.count, 1)
    }

    func testEveryShapeGivesItsExpectedArticle() throws {
        let dir = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("HTMLFixtures"))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".html") }.map { String($0.dropLast(5)) }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 10)
        for name in names {
            // Decoded as served without a charset header: the page's own <meta> decides (GBK fixture).
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name + ".html")))
            let html = Charset.decode(bytes, contentType: "text/html").text
            let want = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name + ".expected.json"))) as? [String: Any])
            let year = name.hasPrefix("chinese-news-page") ? "2025" : name.hasPrefix("body-in-divs") ? "2023" : "2024"
            let a = ArticleExtractor.extract(text: html, format: .html, pageURL: URI("https://news.example.com/\(year)/\(name).html")!)
            XCTAssertEqual(a.title, want["title"] as? String, "\(name): title")
            XCTAssertEqual(a.published, want["published"] as? String, "\(name): published")
            XCTAssertEqual(a.reporter, want["author"] as? String, "\(name): author")
            XCTAssertEqual(a.extraction.rawValue, want["extraction"] as? String ?? "article", "\(name): extraction")
            if let source = want["source"] as? String { XCTAssertEqual(a.source, source, "\(name): source") }
            if let editor = want["editor"] as? String { XCTAssertEqual(a.editor, editor, "\(name): editor") }
            if let images = want["images"] as? [String] { XCTAssertEqual(a.images.map(\.src), images, "\(name): images") }
            if let links = want["links"] as? [String] { XCTAssertEqual(a.links.map(\.url), links, "\(name): links") }
            XCTAssertEqual(a.videos.map(\.src), want["videos"] as? [String] ?? [], "\(name): videos")
            let paragraphs = want["paragraphs"] as? [String] ?? []
            XCTAssertEqual(a.paragraphs.count, paragraphs.count, "\(name): paragraph count")
            for (i, (got, expected)) in zip(a.paragraphs, paragraphs).enumerated() where got != expected {
                XCTFail("\(name): paragraph \(i + 1)\n got: \(got)\nwant: \(expected)")
                break
            }
            if a.paragraphs.count != paragraphs.count {
                let extra = Set(a.paragraphs).subtracting(paragraphs), missing = Set(paragraphs).subtracting(a.paragraphs)
                XCTFail("\(name): extra \(extra.map { String($0.prefix(60)) }), missing \(missing.map { String($0.prefix(60)) })")
            }
        }
    }
}
