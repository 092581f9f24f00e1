import Foundation
import MirrorFetch
import XCTest

final class RetryPolicyTests: XCTestCase {
    func testFullJitterBackoffBounds() {
        let p = RetryPolicy(retries: 5, base: 1, cap: 30)
        let ceilings = (0..<7).map { attempt in p.backoff(attempt: attempt) { $0.upperBound } }
        XCTAssertEqual(ceilings, [1, 2, 4, 8, 16, 30, 30])
        XCTAssertEqual(p.backoff(attempt: 3) { $0.lowerBound }, 0)
    }

    func testRetryAfterBothForms() {
        let now = Date(timeIntervalSince1970: 1_709_640_000)  // Tue, 05 Mar 2024 12:00:00 GMT
        XCTAssertEqual(RetryPolicy.retryAfter("120", now: now), 120)
        XCTAssertEqual(RetryPolicy.retryAfter("Tue, 05 Mar 2024 12:01:30 GMT", now: now), 90)
        XCTAssertEqual(RetryPolicy.retryAfter("Tuesday, 05-Mar-24 12:00:10 GMT", now: now), 10)
        XCTAssertEqual(RetryPolicy.retryAfter("Tue Mar  5 12:00:05 2024", now: now), 5)
        XCTAssertEqual(RetryPolicy.retryAfter("Mon, 04 Mar 2024 12:00:00 GMT", now: now), 0, "a past date means now")
        XCTAssertNil(RetryPolicy.retryAfter("soon", now: now))
        XCTAssertNil(RetryPolicy.retryAfter(nil, now: now))
    }

    func testWhichFailuresAreTransient() {
        let table: [(FetchError, Bool, Bool)] = [
            (.transfer(code: 7, message: "refused"), true, false),
            (.transfer(code: 28, message: "timeout"), true, false),
            (.transfer(code: 18, message: "partial"), true, false),
            (.transfer(code: 6, message: "dns"), false, false),
            (.transfer(code: 60, message: "tls"), false, false),
            (.http(status: 429), true, false),
            (.http(status: 503), true, false),
            (.http(status: 500), true, false),
            (.http(status: 404), false, true),
            (.http(status: 410), false, true),
            (.http(status: 403), false, false),
            (.tooLarge(limit: 1), false, false),
            (.redirectLoop(chain: ["a", "b", "a"]), false, false),
        ]
        for (error, transient, gone) in table {
            XCTAssertEqual(error.isTransient, transient, "\(error)")
            XCTAssertEqual(error.isGone, gone, "\(error)")
        }
        XCTAssertEqual(FetchError.http(status: 503).description, "HTTP 503 Service Unavailable")
        XCTAssertEqual(FetchError.http(status: 599).description, "HTTP 599")
    }
}
