import Foundation
import MirrorCore
import MirrorExtract
import MirrorMarkup
import XCTest

/// Each `Fixtures/<quirk>.md` is a seed-format page holding one upstream quirk (the name says
/// which); `<quirk>.json` is the exact parsed JSON expected of it.
final class SeedFormatFixtureTests: XCTestCase {
    static let pageURL = URI("https://example.org/news/pages/5/77.md")!

    func fixtureNames() throws -> [String] {
        let dir = try XCTUnwrap(Bundle.module.resourceURL?.appendingPathComponent("Fixtures"))
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".md") }.map { String($0.dropLast(3)) }.sorted()
    }

    func testEveryFixtureParsesToItsExpectedJSON() throws {
        let names = try fixtureNames()
        XCTAssertGreaterThanOrEqual(names.count, 6)
        let dir = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name + ".md"), encoding: .utf8)
            let want = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name + ".json"))) as! NSDictionary
            let article = ArticleExtractor.extract(text: text, format: .markdown, pageURL: Self.pageURL)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let gotData = try encoder.encode(article)
            let got = try JSONSerialization.jsonObject(with: gotData) as! NSDictionary
            XCTAssertEqual(got, want, "\(name): got \(String(decoding: gotData, as: UTF8.self))")
        }
    }

    func testContentHashIgnoresBoilerplateAndWhitespace() throws {
        let dir = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
        let text = try String(contentsOf: dir.appendingPathComponent("dateline-opens-first-paragraph.md"), encoding: .utf8)
        let base = ArticleExtractor.extract(text: text, format: .markdown, pageURL: Self.pageURL).contentSHA256
        func hash(_ t: String) -> String { ArticleExtractor.extract(text: t, format: .markdown, pageURL: Self.pageURL).contentSHA256 }

        XCTAssertEqual(hash(text.replacingOccurrences(of: "订阅城南晚报", with: "订阅城南早报")), base, "promotion line")
        XCTAssertEqual(hash(text.replacingOccurrences(of: "https://example.net/share/pages/5/77.md", with: "https://example.net/s/77")), base, "share block")
        XCTAssertEqual(hash(text.replacingOccurrences(of: "城南老街的石板路完成翻修，", with: "城南老街的石板路\n     完成翻修，")), base, "CJK re-wrap")
        XCTAssertEqual(hash(text.replacingOccurrences(of: "\n", with: "\r\n")), base, "CRLF")
        XCTAssertEqual(hash(text.replacingOccurrences(of: "也一并疏通", with: "也一并 疏通")), base, "space inside CJK text")
        XCTAssertNotEqual(hash(text.replacingOccurrences(of: "也一并疏通", with: "也已疏通")), base, "one-character edit")
        XCTAssertNotEqual(hash(text.replacingOccurrences(of: "### 城南老街石板路翻修完成", with: "### 城南老街石板路翻修完工")), base, "title edit")
        XCTAssertNotEqual(hash(text.replacingOccurrences(of: "2025年1月20日", with: "2025年1月21日")), base, "dateline edit")
    }
}
