import Foundation
import MirrorCore
import MirrorFetch
import MirrorStore
import MirrorSync
import XCTest

/// What a check means, decided without I/O: no server, no database, no files.
final class CheckDecisionTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var source: SourceConfig {
        var s = SourceConfig(name: "news", start: ["https://example.org/README.md"], pollInterval: 3600)
        s.revisitTiers = [3600, 3 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400]
        return s
    }
    var policy: CheckPolicy { CheckPolicy(source: source, maxRetryDelay: 30, now: now) }

    func article(changedDaysAgo days: Double, failures: Int = 0, body: [UInt8]? = nil) -> DocumentRecord {
        var d = DocumentRecord(url: "https://example.org/pages/1/1.md", source: "news", kind: "article", depth: 0,
                               firstSeen: now.addingTimeInterval(-days * 86400))
        d.changedAt = now.addingTimeInterval(-days * 86400)
        d.failures = failures
        d.rawSha256 = body.map(SHA256.hex)
        return d
    }

    func response(_ status: Int, _ body: String = "", retryAfter: String? = nil) -> Result<FetchResponse, FetchError> {
        .success(FetchResponse(status: status, body: Array(body.utf8), retryAfter: retryAfter, effectiveURL: "https://example.org/pages/1/1.md"))
    }

    func testNotModifiedFollowsTheRevisitSchedule() {
        // Unchanged for eight days: a quarter of that is two days, snapped down to the 1-day tier.
        XCTAssertEqual(policy.decide(article(changedDaysAgo: 8), response(304), retryAfter: nil),
                       .notModified(nextCheck: now.addingTimeInterval(86400)))
    }

    func testTheBodyHashDecidesBetweenSameAndNew() {
        // Unchanged for a day: a quarter of that is six hours, snapped down to the 3-hour tier.
        let doc = article(changedDaysAgo: 1, body: Array("body one".utf8))
        XCTAssertEqual(policy.decide(doc, response(200, "body one"), retryAfter: nil),
                       .sameBody(sha256: SHA256.hex(Array("body one".utf8)), nextCheck: now.addingTimeInterval(3 * 3600)))
        XCTAssertEqual(policy.decide(doc, response(200, "body two"), retryAfter: nil),
                       .newBody(sha256: SHA256.hex(Array("body two".utf8))))
        // A content change restarts the schedule from the first tier.
        XCTAssertEqual(policy.nextCheck(article(changedDaysAgo: 60), changed: true), now.addingTimeInterval(3600))
        XCTAssertEqual(policy.nextCheck(article(changedDaysAgo: 60), changed: false), now.addingTimeInterval(7 * 86400))
    }

    func testFailuresBackOffDoublingUpToADay() {
        let timeout = FetchError.transfer(code: 28, message: "Operation timed out after 30001 milliseconds with 0 bytes received")
        for (failures, hours) in [(0, 1.0), (1, 2.0), (3, 8.0), (5, 24.0), (30, 24.0)] {
            XCTAssertEqual(policy.decide(article(changedDaysAgo: 1, failures: failures), .failure(timeout), retryAfter: nil),
                           .failed(.init(status: 0, error: timeout, nextCheck: now.addingTimeInterval(hours * 3600), gone: false)),
                           "after \(failures) failures")
        }
    }

    func testGoneAndRetryAfter() {
        XCTAssertEqual(policy.decide(article(changedDaysAgo: 1), response(410), retryAfter: nil),
                       .failed(.init(status: 410, error: .http(status: 410), nextCheck: now.addingTimeInterval(7 * 86400), gone: true)))
        // A Retry-After longer than max_retry_delay moves the next check to it...
        XCTAssertEqual(policy.decide(article(changedDaysAgo: 1), response(503, retryAfter: "7200"), retryAfter: 7200),
                       .failed(.init(status: 503, error: .http(status: 503), nextCheck: now.addingTimeInterval(7200), gone: false)))
        // ...but no further than a gone document's recheck (a server's "in 285 million years").
        XCTAssertEqual(policy.decide(article(changedDaysAgo: 1), response(503, retryAfter: "9000000000000000"), retryAfter: 9e15),
                       .failed(.init(status: 503, error: .http(status: 503), nextCheck: now.addingTimeInterval(7 * 86400), gone: false)))
        // ...a short one was waited for within the run already: the usual backoff.
        XCTAssertEqual(policy.decide(article(changedDaysAgo: 1), response(503, retryAfter: "5"), retryAfter: 5),
                       .failed(.init(status: 503, error: .http(status: 503), nextCheck: now.addingTimeInterval(3600), gone: false)))
    }

    /// A gone article whose weekly re-check meets a server that is down stays gone: a
    /// connection error, a DNS failure or a 503 says nothing about the article. A 403 or a
    /// body is an answer, and ends it (the error then says what it is).
    func testAGoneDocumentStaysGoneThroughTransientFailures() {
        var gone = article(changedDaysAgo: 30, failures: 1)
        gone.gone = true
        let refused = FetchError.transfer(code: 7, message: "Failed to connect to example.org port 443 after 2 ms: Connection refused")
        for (result, stillGone) in [(Result<FetchResponse, FetchError>.failure(refused), true),
                                    (.failure(.transfer(code: 28, message: "Operation timed out")), true),
                                    (response(503), true), (response(429), true), (response(407), true),
                                    (response(404), true), (response(410), true),
                                    (.failure(.transfer(code: 6, message: "Could not resolve host: example.org")), true),
                                    (response(403), false), (response(451), false),
                                    (.failure(.tooLarge(limit: 1000)), false)] {
            guard case .failed(let f) = policy.decide(gone, result, retryAfter: nil) else { return XCTFail("\(result) did not fail") }
            XCTAssertEqual(f.gone, stillGone, "\(result)")
        }
        // A document that was not gone does not become gone on a transient failure.
        guard case .failed(let f) = policy.decide(article(changedDaysAgo: 1), .failure(refused), retryAfter: nil) else { return XCTFail() }
        XCTAssertFalse(f.gone)
    }

    func testIndexesAndImagesHaveTheirOwnSchedules() {
        var index = article(changedDaysAgo: 100)
        index.kind = "index"
        XCTAssertEqual(policy.decide(index, response(304), retryAfter: nil), .notModified(nextCheck: now.addingTimeInterval(3600)))
        var image = article(changedDaysAgo: 0)
        image.kind = "asset"
        XCTAssertEqual(policy.decide(image, response(304), retryAfter: nil), .notModified(nextCheck: now.addingTimeInterval(30 * 86400)))
    }
}
