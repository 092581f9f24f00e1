import Foundation
import GRDB
import MirrorCore
@testable import MirrorStore
import XCTest

/// Dates in the database are GRDB's text form, written and read without ICU (`StoredDate`).
final class StoredDateTests: XCTestCase {
    func testTextIsGRDBsFormatInUTCToTheNearestMillisecond() {
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: 0)), "1970-01-01 00:00:00.000")
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: 1_709_208_000.9994)), "2024-02-29 12:00:00.999")  // leap day
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: 1_709_208_000.9996)), "2024-02-29 12:00:01.000")
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: 951_782_400)), "2000-02-29 00:00:00.000")  // leap by 400
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: -1.5)), "1969-12-31 23:59:58.500")
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: 4_102_444_799)), "2099-12-31 23:59:59.000")
        // RFC 3339 in the contract drops the fraction of the second the row holds (the
        // nearest millisecond): 12:00:00.9996 is stored as 12:00:01.000.
        XCTAssertEqual(RFC3339.string(Date(timeIntervalSince1970: 1_709_208_000.9996)), "2024-02-29T12:00:01Z")
        XCTAssertEqual(RFC3339.string(Date(timeIntervalSince1970: 1_709_208_000.9994)), "2024-02-29T12:00:00Z")
    }

    /// A time written both to a row and, to the second, to a file (a parsed copy's
    /// `fetched_at`) names the same second in both, and again when read back from the row: a
    /// fetch at 17:57:08.9996 had written :08 into the copy and :09.000 into the row, so the
    /// next reparse rewrote the copy. Every millisecond and sub-millisecond fraction around a
    /// few seconds, across a leap day and the year 2100.
    func testTheSecondInAFileIsTheSecondOfTheRow() {
        for base in [1_709_207_999.0, 1_796_493_428, 4_102_444_799] {
            for step in 0..<2000 {
                let date = Date(timeIntervalSince1970: base + Double(step) * 0.0005 + 0.00001)
                let row = StoredDate.text(date)
                let file = RFC3339.string(date)
                let back = StoredDate.date(row.databaseValue)!
                XCTAssertEqual(String(file.dropLast().replacingOccurrences(of: "T", with: " ")), String(row.prefix(19)), "\(date.timeIntervalSince1970)")
                XCTAssertEqual(RFC3339.string(back), file, "read back: \(date.timeIntervalSince1970)")
            }
        }
    }

    /// Years stay four digits whatever the Double holds (a `Retry-After` of 9e15 seconds, a
    /// `Date(timeIntervalSince1970: .infinity)`): no trap, and the text still sorts after every
    /// real date.
    func testFarDatesAreClampedToYears1Through9999() {
        XCTAssertEqual(StoredDate.text(Date(timeIntervalSince1970: 9e15)), "9999-12-31 23:59:59.999")
        XCTAssertEqual(StoredDate.text(.distantFuture), "4001-01-01 00:00:00.000")  // Foundation's
        XCTAssertEqual(StoredDate.text(.distantPast), "0001-01-01 00:00:00.000")
        XCTAssertEqual(RFC3339.string(Date(timeIntervalSince1970: -9e18)), "0001-01-01T00:00:00Z")
        XCTAssertEqual(RFC3339.string(Date(timeIntervalSince1970: .infinity)), "9999-12-31T23:59:59Z")
    }

    func testTextReadsBackToTheSameMillisecond() {
        for t in [0, 1_709_208_000.25, 1_764_950_400.123, -86_400.5, 253_402_300_799.999, 1e9 + 0.0005] {
            let date = Date(timeIntervalSince1970: t)
            let back = try? XCTUnwrap(StoredDate.date(StoredDate.text(date).databaseValue))
            XCTAssertEqual(back.map { ($0.timeIntervalSince1970 * 1000).rounded() }, (t * 1000).rounded(), "\(t)")
            // Written again, the text does not move (each save of a row rewrites its dates).
            XCTAssertEqual(back.map { StoredDate.text($0) }, StoredDate.text(date), "\(t)")
        }
    }

    /// Stores written before this codec hold GRDB's own text, and SQLite's other forms must
    /// still read; text that is no date reads as nil, not as a wrong date.
    func testOtherFormsGoThroughGRDBAndNonsenseIsNil() {
        func read(_ s: String) -> Double? { StoredDate.date(s.databaseValue)?.timeIntervalSince1970 }
        XCTAssertEqual(read("2024-03-05 12:00:00"), 1_709_640_000)
        XCTAssertEqual(read("2024-03-05T12:00:00.500"), 1_709_640_000.5)
        XCTAssertEqual(read("2024-03-05"), 1_709_596_800)
        XCTAssertEqual(StoredDate.date(1_709_640_000.databaseValue)?.timeIntervalSince1970, 1_709_640_000)
        XCTAssertNil(read("2024-13-05 12:00:00.000"))
        XCTAssertNil(read("2023-02-29 12:00:00.000"))
        XCTAssertNil(read("yesterday"))
        XCTAssertNil(StoredDate.date(.null))
    }

    /// The bytes in the file: the record paths (Codable) and the hand-written statements agree,
    /// and `next_check <= ?` compares them as text.
    func testRowsHoldTheTextAndDueQueriesCompareIt() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let seen = Date(timeIntervalSince1970: 1_800_000_000.042)
        let id = try XCTUnwrap(db.ensureDocument(url: "https://e.org/a.md", source: "s", kind: "article", depth: 0, now: seen).0.id)
        try db.recordUnchanged([UnchangedCheck(documentId: id, status: 304, checkedAt: seen, etag: nil, lastModified: nil,
                                               nextCheck: seen.addingTimeInterval(3600))])
        let run = try db.startRun(trigger: "once", at: seen)
        let text = try db.pool.read { d in
            try Row.fetchOne(d, sql: """
                SELECT first_seen, last_checked, next_check, (SELECT started FROM runs WHERE id = ?) AS started
                FROM documents WHERE id = ?
                """, arguments: [run.id, id])
        }
        XCTAssertEqual(text?["first_seen"], "2027-01-15 08:00:00.042")
        XCTAssertEqual(text?["last_checked"], "2027-01-15 08:00:00.042")
        XCTAssertEqual(text?["next_check"], "2027-01-15 09:00:00.042")
        XCTAssertEqual(text?["started"], "2027-01-15 08:00:00.042")
        XCTAssertEqual(try db.dueCount(now: seen.addingTimeInterval(3599), sources: ["s"]), 0)
        XCTAssertEqual(try db.dueCount(now: seen.addingTimeInterval(3600), sources: ["s"]), 1)
        // A source the config no longer names is checked by no run: not counted.
        XCTAssertEqual(try db.dueCount(now: seen.addingTimeInterval(3600), sources: ["other"]), 0)
        let doc = try XCTUnwrap(db.document(id: id))
        XCTAssertEqual(doc.nextCheck.map { StoredDate.text($0) }, "2027-01-15 09:00:00.042")
        XCTAssertEqual(try db.runs(limit: 1).first.map { StoredDate.text($0.started) }, "2027-01-15 08:00:00.042")
    }

    /// The run loop reads its next checks' rows in one statement: every asked id that exists,
    /// read as a single-row read reads it, and no other.
    func testDocumentsByIdsReadTheSameRows() throws {
        let dir = ScratchDir()
        let db = try MirrorDatabase(path: dir.path + "/state/mirror.sqlite3")
        let ids = try (0..<70).map { i in
            try XCTUnwrap(db.ensureDocument(url: "https://e.org/\(i).md", source: "s", kind: "article", depth: i, now: Date()).0.id)
        }
        let rows = try db.documents(ids: [ids[1], ids[3], 9_999])
        XCTAssertEqual(Set(rows.keys), [ids[1], ids[3]])
        // More ids than one statement takes (DocumentRecord.idsPerStatement): every one is read.
        XCTAssertEqual(Set(try db.documents(ids: ids + [9_999]).keys), Set(ids))
        XCTAssertEqual(try db.documents(ids: ids).values.map(\.depth).sorted(), Array(0..<70))
        XCTAssertEqual(rows[ids[3]]?.url, "https://e.org/3.md")
        XCTAssertEqual(rows[ids[3]]?.depth, 3)
        XCTAssertEqual(rows[ids[1]].map { StoredDate.text($0.firstSeen) }, try db.document(id: ids[1]).map { StoredDate.text($0.firstSeen) })
        XCTAssertEqual(try db.documents(ids: [Int64]()).count, 0)
    }
}
