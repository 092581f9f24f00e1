@testable import MirrorExtract
import MirrorMarkup
import XCTest

final class DatelineTests: XCTestCase {
    func testDatelineForms() throws {
        let table: [(String, String?, String?, String?, String)] = [
            ("【希望之声2021年4月13日】（本台记者凌杉综合报导）美国国务院周二证实", "希望之声", "2021-04-13", "凌杉", "美国国务院周二证实"),
            ("【某报二零一六年十月三十日】（本报记者王五报道）", "某报", "2016-10-30", "王五", ""),
            ("【某报二〇二四年十二月一日】（记者李四）正文", "某报", "2024-12-01", "李四", "正文"),
            ("【某台2024年3月5号】（本台记者赵六、钱七综合报道）", "某台", "2024-03-05", "赵六、钱七", ""),
            ("【某报２０２４年３月５日】(本报记者孙八报道) 正文", "某报", "2024-03-05", "孙八", "正文"),
            ("【某报2024年1月9日】正文没有署名", "某报", "2024-01-09", nil, "正文没有署名"),
            ("【2024年2月29日】（编译：周九）", nil, "2024-02-29", "周九", ""),
        ]
        for (text, source, date, reporter, rest) in table {
            let (line, r) = try XCTUnwrap(Dateline.parse(prefixOf: text), text)
            XCTAssertEqual(line.source, source, text)
            XCTAssertEqual(line.date, date, text)
            XCTAssertEqual(line.reporter, reporter, text)
            XCTAssertEqual(r, rest, text)
        }
    }

    /// Found by fuzz-article: a forty-digit "year" overflowed Int while summed and trapped.
    /// A run of more than four digits is no date part; the real date after it still counts.
    func testALongDigitRunIsNoDatePartNotAnOverflow() throws {
        XCTAssertNil(Dateline.findDate(in: "【城南晚报" + String(repeating: "3", count: 40) + "25年1月25日】"))
        XCTAssertNil(Dateline.number(Array("二零一六二零一六")[...]))
        XCTAssertEqual(Dateline.number(Array("２０２４")[...]), 2024)
        let (line, rest) = try XCTUnwrap(Dateline.parse(prefixOf: "【某报" + String(repeating: "9", count: 30) + "号线 2024年1月9日】（本报记者林一报道）正文"))
        XCTAssertEqual(line.date, "2024-01-09")
        XCTAssertEqual(rest, "正文")
    }

    func testNotADateline() {
        XCTAssertNil(Dateline.parse(prefixOf: "美国国务院周二证实"))
        XCTAssertNil(Dateline.parse(prefixOf: "【快讯】没有日期"))
        XCTAssertNil(Dateline.parse(prefixOf: "【某报2024年13月40日】月份不对"))
    }

    func testTextNormalizer() {
        XCTAssertEqual(TextNormalizer.normalize("  美国\n  气候特使\n  、前国务卿 "), "美国气候特使、前国务卿")
        XCTAssertEqual(TextNormalizer.normalize("John\n   Kerry\u{00A0}said"), "John Kerry said")
        XCTAssertEqual(TextNormalizer.normalize("标题 副标题"), "标题 副标题")
        XCTAssertEqual(TextNormalizer.normalize("O&#039;Hare &amp;amp; co &#x4E2D;"), "O'Hare &amp; co 中")
        // NFC: a decomposed é and a precomposed Bengali YYA (a composition exclusion, which NFC
        // decomposes) come out in one spelling, so the two spellings hash alike.
        XCTAssertEqual(TextNormalizer.normalize("Caf\u{65}\u{301}"), "Caf\u{E9}")
        XCTAssertEqual(Array(TextNormalizer.normalize("কুষ্টি\u{9DF}া").unicodeScalars).map(\.value).suffix(3), [0x9AF, 0x9BC, 0x9BE])
        XCTAssertEqual(TextNormalizer.canonical("\u{9DF}"), TextNormalizer.canonical("\u{9AF}\u{9BC}"))
        // Kana with a combining voiced mark: inside the CJK ranges the fast path skips, but
        // the mark itself sends the text through NFC.
        XCTAssertEqual(TextNormalizer.normalize("ひらか\u{3099}な"), "ひらがな")
        XCTAssertEqual(TextNormalizer.normalize("中文新闻"), "中文新闻")
        // Soft hyphens are a hyphenator's hints, not text.
        XCTAssertEqual(TextNormalizer.normalize("Wein\u{AD}berg"), "Weinberg")
        XCTAssertEqual(TextNormalizer.normalize("a\u{3000}\u{3000}b"), "a b")
        XCTAssertEqual(TextNormalizer.canonical("标题 副标题"), "标题副标题")
        XCTAssertEqual(TextNormalizer.canonical("Hello  world"), "Hello world")
    }
}

/// The information line of Chinese news pages (`InfoLine`).
final class InfoLineTests: XCTestCase {
    func testFieldsInAnyOrderWithPageToolsAndCounters() {
        let line = InfoLine.parse("发布时间：2024-11-28 09:30  来源：河滨日报  作者：李明  【字体：大 中 小】 浏览次数：1024")
        XCTAssertEqual(line, InfoLine(source: "河滨日报", reporter: "李明", editor: nil, published: "2024-11-28"))
        XCTAssertEqual(InfoLine.parse("来源:市政府办公室 | 编辑: 张一鸣 | 日期：2023年5月6日"),
                       InfoLine(source: "市政府办公室", reporter: nil, editor: "张一鸣", published: "2023-05-06"))
        XCTAssertEqual(InfoLine.parse("记者 ：王芳　李强　责任编辑：赵敏")?.reporter, "王芳")
        XCTAssertEqual(InfoLine.parse("记者 ：王芳　李强　责任编辑：赵敏")?.editor, "赵敏")
    }

    /// Role words are no name, a picture credit is no source, and publications may have digits.
    func testRoleWordsPictureCreditsAndDigitsInPublications() {
        XCTAssertEqual(InfoLine.parse("作者：本报记者 张三")?.reporter, "张三")
        XCTAssertEqual(InfoLine.parse("作者：本报记者张三　来源：河滨日报")?.reporter, "张三")
        XCTAssertNil(InfoLine.parse("图片来源：视觉中国"))
        XCTAssertEqual(InfoLine.parse("图片来源：视觉中国　来源：21世纪经济报道")?.source, "21世纪经济报道")
        XCTAssertEqual(InfoLine.parse("来源：36氪")?.source, "36氪")
        XCTAssertNil(InfoLine.parse("来源：2024-11-28"))
    }

    func testSentencesAndCountersAreNoFields() {
        XCTAssertNil(InfoLine.parse("浏览次数：1024 点击：88"))
        XCTAssertNil(InfoLine.parse("来源：据本报记者了解，此次改造涉及居民两千余户。"))
        XCTAssertNil(InfoLine.parse("城东片区供水管网改造完成"))
        XCTAssertNil(InfoLine.parse("作者：2024"))
    }
}
