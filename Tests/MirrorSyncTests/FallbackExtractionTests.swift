import Foundation
import Logging
import MirrorStore
import MirrorSync
import TestSupport
import XCTest

/// Records every message at notice level or above, for tests that assert what is logged.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lock.lock()
        lines.append(message.description)
        lock.unlock()
    }
}

/// An article page where no article body is found: its visible text is the parsed body
/// (`extraction: "fallback"`), logged once per new body with the URL, and an edit of that
/// text is a revision.
final class FallbackExtractionTests: XCTestCase {
    func testAPageWithoutAnArticleBodyKeepsItsVisibleTextAndItsEditsMakeRevisions() async throws {
        let h = try Harness(site: nil)
        h.server.put("/README.md", "# 站\n\n#### [通知](pages/1/301.md)\n")
        final class Page: @unchecked Sendable { var notice = "This article has moved to our new website" }
        let page = Page()
        h.server.handler = { req in
            guard req.path == "/pages/1/301.md" else { return nil }
            let html = """
                <html><head><title>Page moved</title></head><body>
                <header><a href="/">The Valley Gazette</a></header>
                <div class="notice"><a href="https://www.gazette.example/2024/library">\(page.notice)</a></div>
                <div id="clock">2024-12-04 09:41:07</div>
                <footer><p>&copy; 2024 The Valley Gazette</p></footer>
                </body></html>
                """
            return .init(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(html.utf8))
        }
        let recorder = RecordingLogHandler()
        let engine = SyncEngine(config: h.config, database: h.database, blobs: h.blobs, fetcher: h.fetcher,
                                logger: Logger(label: "test") { _ in recorder })
        let url = h.url("/pages/1/301.md")
        func fallbackLines() -> [String] { recorder.messages.filter { $0.contains("extraction: fallback") } }

        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        let json = try h.parsedJSON(301)
        XCTAssertEqual(json["extraction"] as? String, "fallback")
        XCTAssertEqual(json["paragraphs"] as? [String], ["This article has moved to our new website"])
        XCTAssertEqual(fallbackLines(), ["\(url): no article body found; the parsed copy holds the page's visible text (extraction: fallback)"])
        XCTAssertEqual(try h.document("/pages/1/301.md")?.revisionCount, 1)

        // The same body again: no new version, no second log line.
        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(fallbackLines().count, 1)
        XCTAssertEqual(try h.document("/pages/1/301.md")?.revisionCount, 1)

        // An edit of the visible text is a revision (and its new body is logged once).
        page.notice = "This article has moved to our new website, with its photographs"
        _ = try await engine.run(RunOptions(trigger: "test", all: true))
        XCTAssertEqual(try h.document("/pages/1/301.md")?.revisionCount, 2)
        XCTAssertEqual(try h.parsedJSON(301)["paragraphs"] as? [String], ["This article has moved to our new website, with its photographs"])
        XCTAssertEqual(fallbackLines().count, 2)
    }
}
