import MirrorDiff
import XCTest

final class RevisionDiffTests: XCTestCase {
    func content(_ paragraphs: [String]) -> DiffableContent { content("标题", paragraphs) }

    func content(_ title: String, _ paragraphs: [String], published: String? = "2024-03-05") -> DiffableContent {
        DiffableContent(fields: [("title", title), ("published", published), ("source", "某报"), ("reporter", "王五")],
                        paragraphs: paragraphs)
    }

    func text(_ a: DiffableContent, _ b: DiffableContent, context: Int = 1) -> String {
        DiffRenderer(diff: RevisionDiff.compute(a, b), old: a, new: b, oldLabel: "r1", newLabel: "r2", context: context).text()
    }

    /// The context is clamped to 0 up to the number of paragraphs: -5 and Int.max had trapped
    /// in the hunk arithmetic (a request's `context=` reached it unchecked).
    func testContextOutsideItsRangeIsClamped() {
        let a = content(["第一段。", "第二段。", "第三段。"]), b = content(["第一段。", "第二段改了。", "第三段。"])
        XCTAssertEqual(text(a, b, context: -5), text(a, b, context: 0))
        XCTAssertEqual(text(a, b, context: .max), text(a, b, context: 3))
        XCTAssertEqual(text(a, b, context: .min), text(a, b, context: 0))
    }

    func testOneCJKCharacterChanged() {
        let a = content(["居民说，下雨天门口终于不再积水。"]), b = content(["居民说，下雨天门口终于不再积雪。"])
        XCTAssertEqual(text(a, b), """
            --- r1
            +++ r2
            @@ -1 +1 @@
            ~ 居民说，下雨天门口终于不再积[-水-]{+雪+}。

            """)
    }

    func testOneLatinWordChangedShowsWhole() {
        let a = content(["The bridge reopened on Monday after repairs."])
        let b = content(["The bridge reopened on Tuesday after repairs."])
        XCTAssertEqual(text(a, b), """
            --- r1
            +++ r2
            @@ -1 +1 @@
            ~ The bridge reopened on [-Monday-]{+Tuesday+} after repairs.

            """)
    }

    func testParagraphAddedAndRemoved() {
        let a = content(["第一段。", "第二段。", "第三段。"])
        let added = content(["第一段。", "第二段。", "新增的一段。", "第三段。"])
        XCTAssertEqual(text(a, added), """
            --- r1
            +++ r2
            @@ -2,2 +2,3 @@
              第二段。
            + 新增的一段。
              第三段。

            """)
        let removed = content(["第一段。", "第三段。"])
        XCTAssertEqual(text(a, removed), """
            --- r1
            +++ r2
            @@ -1,3 +1,2 @@
              第一段。
            - 第二段。
              第三段。

            """)
    }

    /// With no context, a hunk that only adds (removes) names the paragraph it comes after on
    /// the side where it is empty, as GNU diff and `git diff -U0` do: `-1,0`, not `-0,0`.
    func testEmptySidesOfAHunkNameTheParagraphBefore() {
        let a = content(["第一段。", "第二段。", "第三段。"])
        XCTAssertTrue(text(a, content(["第一段。", "新增的一段。", "第二段。", "第三段。"]), context: 0).contains("\n@@ -1,0 +2 @@\n"))
        XCTAssertTrue(text(a, content(["第一段。", "第二段。"]), context: 0).contains("\n@@ -3 +2,0 @@\n"))
        XCTAssertTrue(text(a, content(["开头新增。", "第一段。", "第二段。", "第三段。"]), context: 0).contains("\n@@ -0,0 +1 @@\n"))
        XCTAssertTrue(text(a, content(["第一段。", "第二段。", "第三段。", "结尾一段。", "再一段。"]), context: 0)
            .contains("\n@@ -3,0 +4,2 @@\n"))
    }

    /// An index drops one headline and rewords the next: the reworded one is a change of its
    /// own line (same link), the dropped one a removal. The dropped line, alike enough in its
    /// link, had been paired with the reworded one, and the old headline listed as removed.
    func testARemovedLineDoesNotTakeTheEditOfTheNextOne() {
        let old = ["松溪镇新修步行桥通行 <https://example.org/pages/1/201.md>",
                   "河湾社区开办老年手机课 <https://example.org/pages/1/202.md>",
                   "梅岭小学操场对外开放 <https://example.org/pages/1/203.md>"]
        let new = ["河湾社区开办老年手机免费课 <https://example.org/pages/1/202.md>",
                   "梅岭小学操场对外开放 <https://example.org/pages/1/203.md>"]
        XCTAssertEqual(text(content(old), content(new), context: 0), """
            --- r1
            +++ r2
            @@ -1,2 +1 @@
            - 松溪镇新修步行桥通行 <https://example.org/pages/1/201.md>
            ~ 河湾社区开办老年手机{+免费+}课 <https://example.org/pages/1/202.md>

            """)
        // The same the other way round: a headline added before an edited one.
        XCTAssertEqual(text(content(new), content(old), context: 0), """
            --- r1
            +++ r2
            @@ -1 +1,2 @@
            + 松溪镇新修步行桥通行 <https://example.org/pages/1/201.md>
            ~ 河湾社区开办老年手机[-免费-]课 <https://example.org/pages/1/202.md>

            """)
    }

    /// Two edited paragraphs where the second old one is also close to the first new one:
    /// each still pairs with its own (the second old one's best match is its own new text),
    /// not a removal and an addition.
    func testASecondBestRivalDoesNotBreakAPair() {
        let old = ["tide rose at the pier", "the tide fell at the old pier"]
        let new = ["the tide rose at the old pier", "the tide fell at the old pier today"]
        let ops = RevisionDiff.compute(content(old), content(new)).paragraphs
        XCTAssertEqual(ops.map { op -> String in
            if case .change(let o, let n, _) = op { return "~\(o)\(n)" }
            return "\(op)"
        }, ["~00", "~11"])
    }

    func testParagraphSplitAndMerged() {
        let a = content(["开头。", "上午开会讨论预算，下午公布结果。", "结尾。"])
        let split = content(["开头。", "上午开会讨论预算，", "下午公布结果。", "结尾。"])
        XCTAssertEqual(text(a, split), """
            --- r1
            +++ r2
            @@ -1,3 +1,4 @@
              开头。
            ~ 上午开会讨论预算，{+¶+}下午公布结果。
              结尾。

            """)
        let diff = RevisionDiff.compute(a, split)
        XCTAssertEqual(diff.paragraphs[1], .split(old: 1, new: [1, 2], inline: [
            .init(.equal, "上午开会讨论预算，"), .init(.insert, "¶"), .init(.equal, "下午公布结果。")]))
        XCTAssertEqual(text(split, a), """
            --- r1
            +++ r2
            @@ -1,4 +1,3 @@
              开头。
            ~ 上午开会讨论预算，[-¶-]下午公布结果。
              结尾。

            """)
    }

    /// Latin paragraphs join with a space: "A. B." cut in two is a split too, and two glued
    /// into one a merge (they had read as an edit plus a removed paragraph).
    func testEnglishParagraphSplitAndMerged() {
        let a = content(["Opening line.", "The museum reopened on Sunday. More than two thousand visitors came.", "Closing line."])
        let split = content(["Opening line.", "The museum reopened on Sunday.", "More than two thousand visitors came.", "Closing line."])
        XCTAssertEqual(text(a, split), """
            --- r1
            +++ r2
            @@ -1,3 +1,4 @@
              Opening line.
            ~ The museum reopened on Sunday.{+¶+} More than two thousand visitors came.
              Closing line.

            """)
        guard case .split(old: 1, new: [1, 2], _) = RevisionDiff.compute(a, split).paragraphs[1] else {
            return XCTFail("\(RevisionDiff.compute(a, split).paragraphs)")
        }
        guard case .merge(old: [1, 2], new: 1, _) = RevisionDiff.compute(split, a).paragraphs[1] else {
            return XCTFail("\(RevisionDiff.compute(split, a).paragraphs)")
        }
        XCTAssertEqual(text(split, a), """
            --- r1
            +++ r2
            @@ -1,4 +1,3 @@
              Opening line.
            ~ The museum reopened on Sunday.[-¶-] More than two thousand visitors came.
              Closing line.

            """)
    }

    func testTitleAndDatelineChangesComeFirst() {
        let a = content("城南老街石板路翻修完成", ["正文。"], published: "2024-03-05")
        let b = content("城南老街石板路翻修完工", ["正文。"], published: "2024-03-06")
        XCTAssertEqual(text(a, b), """
            --- r1
            +++ r2
            title: 城南老街石板路翻修完[-成-]{+工+}
            published: 2024-03-[-05-]{+06+}

            """)
    }

    func testWhitespaceOnlyIsNoDiff() {
        let a = content(["居民说，下雨天 门口终于不再积水。"]), b = content(["居民说，下雨天门口终于\n不再积水。"])
        XCTAssertTrue(RevisionDiff.compute(a, b).isEmpty)
        XCTAssertEqual(text(a, b), "")
    }

    func testUnrelatedReplacementIsDeleteThenInsert() {
        let a = content(["甲。", "今天天气很好。", "丙。"]), b = content(["甲。", "Completely different text here.", "丙。"])
        XCTAssertEqual(text(a, b, context: 0), """
            --- r1
            +++ r2
            @@ -2 +2 @@
            - 今天天气很好。
            + Completely different text here.

            """)
    }

    /// 200 paragraphs, 3 edits: hunks with one paragraph of context, overlapping ones merged.
    func testLongArticleWithThreeEdits() {
        let old = (1...200).map { "第\($0)段：街道工作人员介绍了本周的安排。" }
        var new = old
        new[9] = "第10段：街道工作人员介绍了下周的安排。"
        new[11] = "第12段：街道志愿者介绍了本周的安排。"
        new[149] = "第150段：街道工作人员介绍了本周的新安排。"
        let diff = RevisionDiff.compute(content(old), content(new))
        XCTAssertEqual(diff.stats.changed, 3)
        XCTAssertEqual(text(content(old), content(new)), """
            --- r1
            +++ r2
            @@ -9,5 +9,5 @@
              第9段：街道工作人员介绍了本周的安排。
            ~ 第10段：街道工作人员介绍了[-本-]{+下+}周的安排。
              第11段：街道工作人员介绍了本周的安排。
            ~ 第12段：街道[-工作人员-]{+志愿者+}介绍了本周的安排。
              第13段：街道工作人员介绍了本周的安排。
            @@ -149,3 +149,3 @@
              第149段：街道工作人员介绍了本周的安排。
            ~ 第150段：街道工作人员介绍了本周的{+新+}安排。
              第151段：街道工作人员介绍了本周的安排。

            """)
    }

    func testSemanticCleanupFoldsAShortEquality() {
        // Without cleanup: 今天[-下-]{+出+}午[-开-]{+太+}阳 … the lone shared 午 folds into one change.
        XCTAssertEqual(InlineDiff.diff("今天下午开会", "今天出午太阳"), [
            .init(.equal, "今天"), .init(.delete, "下午开会"), .init(.insert, "出午太阳")])
        XCTAssertEqual(InlineDiff.tokenize("O'Neill said 你好, 2024年"), ["O'Neill", " ", "said", " ", "你", "好", ",", " ", "2024", "年"])
    }

    func testJSONAndHTML() throws {
        let a = content(["居民说，下雨天门口终于不再积水。", "旧段落。"]), b = content(["居民说，下雨天门口终于不再积雪。"])
        let r = DiffRenderer(diff: RevisionDiff.compute(a, b), old: a, new: b, oldLabel: "r1", newLabel: "r2")
        let json = r.jsonObject()
        let paragraphs = try XCTUnwrap(json["paragraphs"] as? [[String: Any]])
        XCTAssertEqual(paragraphs.map { $0["op"] as? String }, ["change", "delete"])
        XCTAssertEqual(paragraphs[0]["old"] as? Int, 1)
        let html = r.html(title: "标题")
        XCTAssertTrue(html.contains("<del>水</del>"))
        XCTAssertTrue(html.contains("<ins>雪</ins>"))
        XCTAssertTrue(html.contains("<del>旧段落。</del>"))
        XCTAssertFalse(html.contains("http"), "no external assets")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains("<html lang=\"zh\">"))
        // The page says its language only when its script tells (an English diff had said zh).
        let en = content(["The ferry runs hourly."]), en2 = content(["The ferry runs every forty minutes."])
        let english = DiffRenderer(diff: RevisionDiff.compute(en, en2), old: en, new: en2, oldLabel: "r1", newLabel: "r2").html(title: "Ferry")
        XCTAssertTrue(english.contains("<!DOCTYPE html>\n<html><head>"), String(english.prefix(80)))
        XCTAssertEqual(DiffRenderer.language(of: "東京のニュース"), "ja")
        XCTAssertEqual(DiffRenderer.language(of: "서울 뉴스"), "ko")
    }
}
