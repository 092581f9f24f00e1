import Foundation
import MirrorCore
import XCTest

/// `trimmingWhitespace` replaces Foundation's `trimmingCharacters(in:)` on the extraction
/// path: it must trim exactly the same characters.
final class TrimTests: XCTestCase {
    func testTrimsWhatFoundationTrims() {
        let samples = [
            "", "   ", "a", " a ", "\t标题\t", "\r\n正文\r\n", "\u{3000}全角空格\u{3000}", "\u{A0}nbsp\u{A0}",
            "\u{200B}零宽\u{200B}", "\u{2028}行\u{2029}", "\u{85}x\u{85}", "\u{FEFF}bom\u{FEFF}", "a\u{301} ",
            " \u{301}combining", "\u{2003}em\u{200A}", "\n\n", "中 文 \n 间 隔",
        ]
        for s in samples {
            let scalars = s.unicodeScalars.map { String($0.value, radix: 16) }
            XCTAssertEqual(s.trimmingWhitespace(), s.trimmingCharacters(in: .whitespacesAndNewlines), "newlines: \(scalars)")
            XCTAssertEqual(s.trimmingWhitespace(newlines: false), s.trimmingCharacters(in: .whitespaces), "whitespaces: \(scalars)")
            XCTAssertEqual(s[...].trimmingWhitespace(), s.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
