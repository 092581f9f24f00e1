import Foundation
import MirrorCore
import MirrorStore
@testable import MirrorSync
import TestSupport
import XCTest

/// Links between mirrored articles point at the local parsed copies, so the tree reads offline.
final class ArticleLinkTests: XCTestCase {
    static func page(_ id: Int, body: String) -> String {
        """
        ### 第\(id)篇
        ------------------------

        #### [首页](../../README.md)

        <div><div class="Content__Wrapper">
         <p class="meta-top">
          <span class="meta">
           【街坊报2025年6月\(id)日】（本报记者林青报道）
          </span>
         </p>
         <p>
          \(body)
         </p>
        </div>
        </div>
        """
    }

    /// `follow_article_links = true`: an article linked only from another article joins the
    /// mirror (its links come from the same parse as its body); without it, it does not.
    func testFollowArticleLinksMirrorsAnArticleOnlyAnotherArticleLinks() async throws {
        for follow in [true, false] {
            let h = try Harness(site: nil, extraSource: follow ? "follow_article_links = true" : "")
            h.server.put("/README.md", "# 站\n\n#### [目录](indexes/a.md)\n")
            h.server.put("/indexes/a.md", "### 目录\n\n#### [一](../pages/1/1.md)\n")
            h.server.put("/pages/1/1.md", Self.page(1, body: "续篇见<a href=\"../3/3.md\">第三篇报道</a>。"))
            h.server.put("/pages/3/3.md", Self.page(3, body: "第三篇的正文，只有第一篇链接到这里。"))
            let run = try await h.sync()
            XCTAssertEqual(run.errors, 0)
            let third = try h.document("/pages/3/3.md")
            XCTAssertEqual(third?.versionCount, follow ? 1 : nil, "follow_article_links = \(follow)")
            XCTAssertEqual(h.server.requests.filter { $0.path == "/pages/3/3.md" }.count, follow ? 1 : 0)
        }
    }

    func testALinkToATrackedArticleBecomesItsRelativeParsedPath() async throws {
        let h = try Harness(site: nil)
        h.server.put("/README.md", "# 站\n\n#### [目录](indexes/a.md?t=1)\n")
        h.server.put("/indexes/a.md", "### 目录\n\n#### [一](../pages/1/1.md?t=1)\n\n#### [二](../pages/2/2.md?t=1)\n")
        // Links with another cache-buster token than the index's, and one to a page elsewhere.
        h.server.put("/pages/1/1.md", Self.page(1, body: "前文见<a href=\"../2/2.md?t=77\">第二篇报道</a>，背景见<a href=\"https://example.net/bg\">外站资料</a>。"))
        h.server.put("/pages/2/2.md", Self.page(2, body: "回看<a href=\"/pages/1/1.md\">第一篇</a>。"))
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 0)

        let md1 = try String(contentsOfFile: h.mirrorFile("parsed/\(h.hostDir)/pages/1/1.md"), encoding: .utf8)
        XCTAssertTrue(md1.contains("前文见[第二篇报道](../2/2.md)，背景见[外站资料](https://example.net/bg)。"), md1)
        let md2 = try String(contentsOfFile: h.mirrorFile("parsed/\(h.hostDir)/pages/2/2.md"), encoding: .utf8)
        XCTAssertTrue(md2.contains("回看[第一篇](../1/1.md)。"), md2)
        // The relative path names the other article's parsed copy on disk.
        let target = URL(fileURLWithPath: h.mirrorFile("parsed/\(h.hostDir)/pages/1/")).appendingPathComponent("../2/2.md").standardizedFileURL
        XCTAssertTrue(FileManager.default.fileExists(atPath: target.path))

        let links = try XCTUnwrap(try h.parsedJSON(1)["links"] as? [[String: Any]])
        XCTAssertEqual(links.map { $0["url"] as? String }, [h.url("/pages/2/2.md?t=77"), "https://example.net/bg"])
        XCTAssertEqual(links.map { $0["local"] as? String }, ["../2/2.md", nil])

        // Revisions do not depend on links: nothing here is a second revision.
        XCTAssertEqual(try h.document("/pages/1/1.md")?.revisionCount, 1)
    }
}
