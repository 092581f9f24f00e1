import Foundation
import MirrorControl
import XCTest

/// `Reports.encode` prints what `JSONSerialization` (pretty, sorted keys, slashes unescaped)
/// printed before it, byte for byte, without the ICU collator `.sortedKeys` opens there;
/// keys that differ in case or digits are now in code-point order, as `jq -S` sorts them.
final class ReportsTests: XCTestCase {
    func reference(_ value: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) + [0x0A]
    }

    func testSameBytesAsJSONSerialization() throws {
        let nothing: String? = nil
        let samples: [Any] = [
            ["daemon": "running", "uptime_s": 12.25, "syncing": false, "last_run": NSNull(),
             "store": ["documents": 3031, "bytes": Int64(48_123_456), "ratio": 0.41]],
            ["url": "https://example.org/a/b.md?t=1", "title": "标题 \"引号\" \\ 反斜杠 \u{1}", "links": [] as [Any],
             "fields": [:] as [String: Any], "reverts_to": nothing as Any],
            [["id": 1, "error": "HTTP 503"], ["id": 2, "error": NSNull()]] as [Any],
            ["negative": -3, "zero": 0, "tiny": 0.001, "big": 1e21, "true": true] as [String: Any],
        ]
        for sample in samples {
            let expected = try reference(sample)
            XCTAssertEqual(String(decoding: Reports.encode(sample), as: UTF8.self), String(decoding: expected, as: UTF8.self))
        }
    }

    /// Code-point order (JSONSerialization's was the locale's collation: "a2" before "a10",
    /// "a_" before "a2", case ignored).
    func testKeysInCodePointOrder() {
        let text = String(decoding: Reports.encode(["b_c": 1, "b1": 2, "B": 3, "a10": 4, "a2": 5, "aa": 6, "a_": 7]), as: UTF8.self)
        let keys = text.split(separator: "\n").compactMap { $0.split(separator: "\"").dropFirst().first.map(String.init) }
        XCTAssertEqual(keys, ["B", "a10", "a2", "a_", "aa", "b1", "b_c"])
    }

    /// Every integer width prints as its number (an `Int8` bridged to NSNumber would read as
    /// a C char, which JSON parsing uses for true/false).
    func testIntegersOfEveryWidthPrintAsNumbers() {
        let value: [String: Any] = ["a": Int8(1), "b": Int16(-2), "c": Int32(3), "d": UInt(4), "e": UInt8(0),
                                    "f": UInt16(6), "g": UInt32(7), "h": UInt64.max, "i": Int64.min, "j": 1.5]
        XCTAssertEqual(String(decoding: Reports.encode(value), as: UTF8.self), """
            {
              "a" : 1,
              "b" : -2,
              "c" : 3,
              "d" : 4,
              "e" : 0,
              "f" : 6,
              "g" : 7,
              "h" : 18446744073709551615,
              "i" : -9223372036854775808,
              "j" : 1.5
            }

            """)
    }

    /// The quirk: `JSONSerialization` parses numbers into NSNumbers, and an NSNumber 0 or 1
    /// casts to `Bool`, so `mirrorctl status --json` (the daemon's answer, parsed and printed
    /// again) had shown `"errors" : false` and `"id" : true`.
    func testNumbersParsedBackFromTheDaemonStayNumbers() throws {
        // What mirrorctl prints for the daemon's answer: JSON parsed back (NSNumbers, 0 and 1
        // among them, which `as? Bool` would take for booleans).
        let parsed = try JSONSerialization.jsonObject(with: Data("""
            {"id": 1, "errors": 0, "uptime_s": 0, "fetched": 3031, "ok": true, "gone": false,
             "ratio": 0.5, "negative": -1, "list": [0, 1, true, false, 2.25], "none": null}
            """.utf8))
        XCTAssertEqual(String(decoding: Reports.encode(parsed), as: UTF8.self), String(decoding: try reference(parsed), as: UTF8.self))
        XCTAssertTrue(String(decoding: Reports.encode(parsed), as: UTF8.self).contains("\"errors\" : 0,"))
    }
}
