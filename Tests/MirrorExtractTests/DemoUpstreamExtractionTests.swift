import Foundation
import MirrorCore
import MirrorExtract
import MirrorMarkup
import XCTest

/// Every article of the bundled demo upstream, extracted and compared field by field with
/// `Config/demo-upstream/EXPECTED.json` (written independently of the extractor).
final class DemoUpstreamExtractionTests: XCTestCase {
    static let upstream = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/demo-upstream")

    func testEveryDemoArticleMatchesItsExpectedFields() throws {
        let data = try Data(contentsOf: Self.upstream.appendingPathComponent("EXPECTED.json"))
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertGreaterThanOrEqual(expected.count, 30)
        for (path, want) in expected.sorted(by: { $0.key < $1.key }) {
            let file = Self.upstream.appendingPathComponent(path)
            let text = try String(contentsOf: file, encoding: .utf8)
            let pageURL = URI("file://" + file.path)!
            let a = ArticleExtractor.extract(text: text, format: .markdown, pageURL: pageURL)
            for key in ["title", "published", "source", "reporter", "editor", "original_url"] {
                let got: String? = switch key {
                case "title": a.title
                case "published": a.published
                case "source": a.source
                case "reporter": a.reporter
                case "editor": a.editor
                default: a.originalURL
                }
                XCTAssertEqual(got, want[key] as? String, "\(path): \(key)")
            }
            XCTAssertEqual(a.paragraphs, want["paragraphs"] as? [String], "\(path): paragraphs")
            XCTAssertEqual(a.images.count, 1, "\(path): only the lead image (no QR code, no tracking pixel)")
            let imageSrc = try XCTUnwrap(want["image_src"] as? String)
            XCTAssertEqual(a.images.first?.src, pageURL.resolving(imageSrc)?.description, "\(path): image src")
            XCTAssertEqual(a.images.first?.alt, want["alt"] as? String, "\(path): alt")
            XCTAssertEqual(a.images.first?.caption, want["caption"] as? String, "\(path): caption")
        }
    }
}
