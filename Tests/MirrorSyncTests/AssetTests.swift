import Foundation
import MirrorControl
import MirrorCore
import MirrorExtract
import MirrorFetch
import MirrorStore
@testable import MirrorSync
import TestSupport
import XCTest

/// The images an article shows, mirrored beside it.
final class AssetTests: XCTestCase {
    static let png1: [UInt8] = Array("\u{89}PNG\r\n\u{1A}\nfirst photo bytes".utf8)
    static let png2: [UInt8] = Array("\u{89}PNG\r\n\u{1A}\nsecond photo bytes".utf8)

    /// A seed-format article with two photos (lead and inline figure), a QR share image and a
    /// tracking pixel, all on the upstream's own host.
    static func page(_ id: Int, lead: String, inline: String) -> String {
        """
        ### 第\(id)篇图片新闻
        ------------------------

        #### [首页](../../README.md)  &nbsp;&nbsp;|&nbsp;&nbsp; [帮助](https://example.net/help/README.md)


        <div><img alt="主图\(id)" src="\(lead)"/>
        <br/><figcaption class="caption">
         主图说明\(id)
        </figcaption></div><hr/>

        <div><div class="Content__Wrapper">
         <p class="meta-top">
          <span class="meta">
           【图片周报2025年6月\(id)日】（本报记者林青报道）
          </span>
         </p>
         <p>
          第一段正文，介绍了这组照片拍摄的背景和时间。
         </p>
         <figure><img alt="插图\(id)" data-src="\(inline)" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="/><figcaption>插图说明\(id)</figcaption></figure>
         <p>
          第二段正文，讲述了照片里的人物和他们的故事。
         </p>
        </div>
        </div>
        <hr/>
        手机上长按复制下列链接或二维码分享本文：<br/>
        <a href='https://example.net/share/\(id)'><img src='/qr/\(id).png'/></a> <br/>
        原文地址：https://example.org/post/\(id)

        <img src='/px/\(id).gif' width='0px' height='0px'/>
        """
    }

    func site(_ h: Harness, pages: [Int: String]) {
        var index = "### 图片\n\n"
        for (id, body) in pages.sorted(by: { $0.key < $1.key }) {
            h.server.put("/pages/1/\(id).md", body)
            index += "#### [第\(id)篇](../pages/1/\(id).md)\n\n"
        }
        h.server.put("/README.md", "# 站\n\n#### [图片](indexes/photos.md)\n")
        h.server.put("/indexes/photos.md", index)
        h.server.put("/img/a.png", Self.png1)
        h.server.put("/img/b.png", Self.png2)
        h.server.put("/qr/1.png", [1, 2, 3])
        h.server.put("/px/1.gif", [4, 5, 6])
    }

    func testTwoPhotosAreMirroredButNotTheQRCodeOrTheTrackingPixel() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "../../img/a.png", inline: "/img/b.png")])
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 0)
        let fetched = Set(h.server.requests.map(\.path))
        XCTAssertTrue(fetched.isSuperset(of: ["/img/a.png", "/img/b.png"]))
        XCTAssertFalse(fetched.contains("/qr/1.png"))
        XCTAssertFalse(fetched.contains("/px/1.gif"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("raw/\(h.hostDir)/img/a.png"))), Data(Self.png1))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("raw/\(h.hostDir)/img/b.png"))), Data(Self.png2))
        let assets = try h.database.documents(kind: "asset")
        XCTAssertEqual(assets.map(\.url).sorted(), [h.url("/img/a.png"), h.url("/img/b.png")])
        XCTAssertEqual(assets.map(\.revisionCount), [0, 0], "assets have versions, not revisions")

        let j = try h.parsedJSON(1)
        let images = try XCTUnwrap(j["images"] as? [[String: Any]])
        XCTAssertEqual(images.map { $0["src"] as? String }, [h.url("/img/a.png"), h.url("/img/b.png")])
        XCTAssertEqual(images.map { $0["local"] as? String }, ["../../../../raw/\(h.hostDir)/img/a.png", "../../../../raw/\(h.hostDir)/img/b.png"])
        let md = try String(contentsOfFile: h.mirrorFile("parsed/\(h.hostDir)/pages/1/1.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("(../../../../raw/\(h.hostDir)/img/a.png)"), md)
        // The local path resolves to the mirrored bytes.
        let resolved = URL(fileURLWithPath: h.mirrorFile("parsed/\(h.hostDir)/pages/1/")).appendingPathComponent(images[0]["local"] as! String)
        XCTAssertEqual(try Data(contentsOf: resolved.standardizedFileURL), Data(Self.png1))
    }

    /// The image paths are filled in from the parsed copy the run wrote, not by parsing the
    /// article's body again: with its raw blob gone, the rewrite still works.
    func testImagePathsAreFilledInFromTheWrittenCopyWithoutParsingAgain() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "../../img/a.png", inline: "/img/b.png")])
        _ = try await h.sync()
        let doc = try XCTUnwrap(h.document("/pages/1/1.md"))
        h.blobs.remove(try XCTUnwrap(doc.rawSha256))
        let json = h.mirrorFile("parsed/\(h.hostDir)/pages/1/1.json")
        // Back to the copy as first written, before its images were stored.
        let before = try String(contentsOfFile: json, encoding: .utf8)
        let stale = before.replacingOccurrences(of: "\"local\" : \"../../../../raw/\(h.hostDir)/img/", with: "\"local\" : \"x/")
        XCTAssertNotEqual(stale, before)
        try stale.write(toFile: json, atomically: true, encoding: .utf8)
        try h.engine.rewriteParsedCopy(doc)
        XCTAssertEqual(try String(contentsOfFile: json, encoding: .utf8), before)
    }

    /// `mirrorctl show --json` is the parsed `.json` on disk, byte for byte: one way of making
    /// a parsed copy (the source's content_xpath, its parser and rules hash, local image paths).
    func testShowJSONIsTheParsedCopyOnDisk() async throws {
        let h = try Harness(site: nil, extraSource: "content_xpath = \"//div[@class='Content__Wrapper']\"")
        site(h, pages: [1: Self.page(1, lead: "../../img/a.png", inline: "/img/b.png")])
        _ = try await h.sync()
        let shown = try History(database: h.database, blobs: h.blobs, config: h.config).show(url: h.url("/pages/1/1.md"), revision: nil)
        let onDisk = try [UInt8](Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("parsed/\(h.hostDir)/pages/1/1.json"))))
        XCTAssertEqual(String(decoding: shown.json, as: UTF8.self), String(decoding: onDisk, as: UTF8.self))
        let md = try [UInt8](Data(contentsOf: URL(fileURLWithPath: h.mirrorFile("parsed/\(h.hostDir)/pages/1/1.md"))))
        XCTAssertEqual(String(decoding: shown.markdown, as: UTF8.self), String(decoding: md, as: UTF8.self))
        XCTAssertTrue(String(decoding: onDisk, as: UTF8.self).contains("\"rules_sha256\" : \"" + ExtractionRules(source: h.config.sources[0]).hash))
    }

    /// An image has versions, not revisions: `log` and `diff` say so (they had printed nothing,
    /// or "no revision stored yet (see its error…)" for an image with no error), and `show`
    /// describes what is stored, with its bytes for `--raw`.
    func testLogDiffAndShowOfAnImageSayWhatIsStored() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "../../img/a.png", inline: "/img/b.png")])
        _ = try await h.sync()
        let history = History(database: h.database, blobs: h.blobs, config: h.config)
        let image = h.url("/img/a.png")
        let expected = "\(image): an image or other asset: its bytes are kept as stored, with no revisions to list or compare "
            + "(mirrorctl show --raw writes them)"
        XCTAssertThrowsError(try history.log(url: image)) { XCTAssertEqual("\($0)", expected) }
        XCTAssertThrowsError(try history.diff(url: image, from: nil, to: nil)) { XCTAssertEqual("\($0)", expected) }
        let shown = try history.show(url: image, revision: nil)
        XCTAssertEqual(shown.raw, Self.png1)
        let version = try XCTUnwrap(h.database.version(id: XCTUnwrap(h.document("/img/a.png")?.currentVersionId)))
        XCTAssertEqual(String(decoding: shown.markdown, as: UTF8.self),
                       "# \(image)\n\nAn asset (\(version.contentType ?? "no content type"), \(Self.png1.count) bytes, fetched "
                       + "\(RFC3339.string(version.fetchedAt))), kept as stored: mirrorctl show --raw writes its bytes.\n")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(shown.json)) as? [String: Any])
        XCTAssertEqual(json["kind"] as? String, "asset")
        XCTAssertEqual(json["size"] as? Int, Self.png1.count)
        XCTAssertEqual(json["raw_sha256"] as? String, SHA256.hex(Self.png1))
        XCTAssertThrowsError(try history.show(url: image, revision: 1)) { XCTAssertEqual("\($0)", expected) }
    }

    /// A source's `headers` (a session Cookie) go to its own host only: an image on another
    /// host is asked for without them (they had reached every image host).
    func testASourcesHeadersStayOnItsOwnHost() async throws {
        let cdn = try TestHTTPServer()
        cdn.put("/cdn/c.png", Self.png2)
        let h = try Harness(site: nil, extraSource: "headers = { Cookie = \"session=abc\", X-Token = \"t1\" }")
        site(h, pages: [1: Self.page(1, lead: "/img/a.png", inline: cdn.baseURL + "/cdn/c.png")])
        _ = try await h.sync()
        let own = try XCTUnwrap(h.server.requests.first { $0.path == "/pages/1/1.md" })
        XCTAssertEqual(own.headers["cookie"] ?? own.headers["Cookie"], "session=abc")
        XCTAssertEqual(h.server.requests.first { $0.path == "/img/a.png" }.map { $0.headers["cookie"] ?? $0.headers["Cookie"] }, "session=abc")
        let foreign = try XCTUnwrap(cdn.requests.first { $0.path == "/cdn/c.png" }, "the other host's image is fetched")
        XCTAssertNil(foreign.headers["cookie"] ?? foreign.headers["Cookie"])
        XCTAssertNil(foreign.headers["x-token"] ?? foreign.headers["X-Token"])
    }

    /// `assets` turned on for a mirror whose articles are already stored: the next run reads
    /// their images from the stored bodies (their 304s had read nothing), fetches them, and
    /// points the parsed copies at them.
    func testImagesTurnedOnLaterAreFetchedForStoredArticles() async throws {
        let h = try Harness(site: nil, extraSource: "assets = false")
        site(h, pages: [1: Self.page(1, lead: "/img/a.png", inline: "/img/b.png")])
        _ = try await h.sync()
        XCTAssertFalse(h.server.requests.contains { $0.path.hasPrefix("/img/") })
        XCTAssertTrue(try h.parsedJSON(1)["images"].flatMap { $0 as? [[String: Any]] }?.allSatisfy { $0["local"] is NSNull } == true)

        var on = h.config
        on.sources[0].assets = .sameSite
        let engine = SyncEngine(config: on, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        let run = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(run.errors, 0)
        XCTAssertEqual(Set(h.server.requests.map(\.path).filter { $0.hasPrefix("/img/") }), ["/img/a.png", "/img/b.png"])
        let locals = try h.parsedJSON(1)["images"].flatMap { $0 as? [[String: Any]] }?.compactMap { $0["local"] as? String }
        XCTAssertEqual(locals?.count, 2, "the parsed copy points at the mirrored images")
        XCTAssertEqual(try h.database.documents(kind: "asset").count, 2)
        XCTAssertEqual(try h.document("/pages/1/1.md")?.versionCount, 1, "no new version: the body had not changed")
    }

    /// A 304 whose stored body is read again for its images counts as that body's size for
    /// the one-at-a-time gate of large pages (it had counted as 0, so the first run after
    /// turning `assets` on parsed large articles side by side); an ordinary 304, as 0.
    func testAStoredBodyReadAgainCountsItsSizeForTheLargePageGate() async throws {
        let h = try Harness(site: nil, extraSource: "assets = false")
        let big = Self.page(1, lead: "/img/a.png", inline: "/img/b.png") + String(repeating: "长文补充段落。\n\n", count: 20_000)
        site(h, pages: [1: big])
        _ = try await h.sync()
        let doc = try XCTUnwrap(h.document("/pages/1/1.md"))
        let notModified = Result<FetchResponse, FetchError>.success(FetchResponse(status: 304, body: [], effectiveURL: doc.url))
        var on = h.config
        on.sources[0].assets = .sameSite
        let engine = SyncEngine(config: on, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        let size = engine.parsedSize(SyncEngine.Job(document: doc, plan: SyncEngine.SourcePlan(on.sources[0]), isNew: false), notModified)
        XCTAssertEqual(size, big.utf8.count)
        XCTAssertGreaterThanOrEqual(size, LargeBody.threshold)
        XCTAssertEqual(h.engine.parsedSize(SyncEngine.Job(document: doc, plan: SyncEngine.SourcePlan(h.config.sources[0]), isNew: false), notModified), 0,
                       "nothing to read again with the rules it was stored under")
    }

    /// The same for a server that sends no validators (every check a 200 with the same body):
    /// the images are read from that body once, and the article is marked read only then.
    func testImagesTurnedOnLaterAreFetchedWhenTheServerSendsNoValidators() async throws {
        let h = try Harness(site: nil, extraSource: "assets = false")
        let page = Self.page(1, lead: "/img/a.png", inline: "/img/b.png")
        site(h, pages: [1: page])
        h.server.handler = { req in req.path == "/pages/1/1.md" ? .init(status: 200, body: Array(page.utf8)) : nil }
        _ = try await h.sync()
        var on = h.config
        on.sources[0].assets = .sameSite
        let engine = SyncEngine(config: on, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(Set(h.server.requests.map(\.path).filter { $0.hasPrefix("/img/") }), ["/img/a.png", "/img/b.png"])
        XCTAssertEqual(try h.parsedJSON(1)["images"].flatMap { $0 as? [[String: Any]] }?.compactMap { $0["local"] as? String }.count, 2)
        XCTAssertNotNil(try h.document("/pages/1/1.md")?.linksKnown)
    }

    func testTheSamePhotoInTwoArticlesIsFetchedOnceAndStoredOnce() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "/img/a.png", inline: "/img/b.png"),
                        2: Self.page(2, lead: "/img/a.png", inline: "/img/a.png")])
        _ = try await h.sync()
        XCTAssertEqual(h.server.requests.filter { $0.path == "/img/a.png" }.count, 1)
        XCTAssertEqual(try h.database.documents(kind: "asset").count, 2)
        XCTAssertEqual(try h.parsedJSON(2)["images"].flatMap { $0 as? [[String: Any]] }?.compactMap { $0["local"] as? String }.count, 2)
        let report = try Verifier.verify(database: h.database, blobs: h.blobs)
        XCTAssertEqual(report.problems, [])
    }

    /// An image over `max_asset_bytes` is refused naming that setting (the message had named
    /// `max_body_bytes`, which the image was well under).
    func testAnImageTooLargeNamesMaxAssetBytes() async throws {
        let h = try Harness(site: nil, http: "max_asset_bytes = 10")
        site(h, pages: [1: Self.page(1, lead: "/img/a.png", inline: "/img/b.png")])
        _ = try await h.sync()
        XCTAssertEqual(try h.document("/img/a.png")?.error, "body too large (over max_asset_bytes = 10)")
        XCTAssertNil(try h.document("/pages/1/1.md")?.error, "the article itself is under max_body_bytes")
    }

    func testAPhotoThat404sLeavesTheArticleMirroredWithItsOriginalURL() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "/img/a.png", inline: "/img/missing.png")])
        let run = try await h.sync()
        XCTAssertEqual(run.errors, 1)
        let missing = try XCTUnwrap(h.document("/img/missing.png"))
        XCTAssertEqual(missing.kind, "asset")
        XCTAssertEqual(missing.error, "HTTP 404 Not Found")
        let images = try XCTUnwrap(try h.parsedJSON(1)["images"] as? [[String: Any]])
        XCTAssertEqual(images[1]["src"] as? String, h.url("/img/missing.png"))
        XCTAssertTrue(images[1]["local"] is NSNull)
        XCTAssertEqual(try h.document("/pages/1/1.md")?.revisionCount, 1)
    }

    func testASecondRunWithNothingChangedRevalidatesAndWritesNothing() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "/img/a.png", inline: "/img/b.png")])
        _ = try await h.sync()
        let before = h.treeSnapshot()
        h.server.clearRequests()
        let run = try await h.sync(all: true)
        XCTAssertEqual(run.newVersions, 0)
        XCTAssertEqual(h.server.requests.filter { $0.path.hasPrefix("/img/") }.map { $0.headers["if-none-match"] != nil }, [true, true])
        XCTAssertEqual(run.notModified, h.server.requests.count)
        XCTAssertEqual(h.treeSnapshot(), before)
    }

    func testOtherHostsNeedAssetsTrue() async throws {
        let h = try Harness(site: nil)
        site(h, pages: [1: Self.page(1, lead: "https://cdn.invalid/x.png", inline: "/img/b.png")])
        var config = h.config
        let engine = SyncEngine(config: config, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
        _ = try await engine.run(RunOptions(trigger: "test"))
        XCTAssertEqual(try h.database.documents(kind: "asset").map(\.url), [h.url("/img/b.png")], "same-site by default")
        config.sources[0].assets = .none
        XCTAssertEqual(SyncEngine(config: config, database: h.database, blobs: h.blobs, fetcher: h.fetcher)
            .assetLinks(ArticleExtractor.extract(text: Self.page(1, lead: "/img/a.png", inline: "/img/b.png"), format: .markdown,
                                                 pageURL: URI(h.url("/pages/1/1.md"))!),
                        article: URI(h.url("/pages/1/1.md"))!, source: config.sources[0]).count, 0)
    }
}

final class ImageSourceTests: XCTestCase {
    struct Attrs: HTMLNodeAttributes {
        let a: [String: String]
        func attribute(_ name: String) -> String? { a[name] }
    }

    func testLazyResponsiveAndProtocolRelativeSources() {
        let page = URI("https://news.example.com/2024/a.html")!
        func src(_ a: [String: String]) -> String? { ImageSource.url(of: Attrs(a: a), pageURL: page)?.description }
        XCTAssertEqual(src(["src": "/img/a.jpg"]), "https://news.example.com/img/a.jpg")
        XCTAssertEqual(src(["src": "data:image/gif;base64,R0lGOD", "data-src": "/img/real.jpg"]), "https://news.example.com/img/real.jpg")
        XCTAssertEqual(src(["src": "/spacer.gif", "data-original": "photos/b.jpg"]), "https://news.example.com/2024/photos/b.jpg")
        XCTAssertEqual(src(["srcset": "/s.jpg 320w, /l.jpg 1280w, /m.jpg 640w"]), "https://news.example.com/l.jpg")
        XCTAssertEqual(src(["src": "/fallback.jpg", "srcset": "/a.jpg, /b.jpg 2x, /c.jpg 1.5x"]), "https://news.example.com/b.jpg")
        XCTAssertEqual(src(["src": "//cdn.example.net/img/c.jpg"]), "https://cdn.example.net/img/c.jpg")
        XCTAssertNil(src(["alt": "no source"]))
    }
}
