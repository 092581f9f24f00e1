import CLibXML2
@testable import MirrorMarkup
import XCTest

/// `HTMLDocument(markdown:)` and `(html:)` run libxml2's `htmlReadMemory` as its two halves,
/// freeing their input in between: the tree must be the one `htmlReadMemory` itself makes of
/// the rendered string, text and attributes alike.
final class MarkdownDocumentTests: XCTestCase {
    /// Every node as one line: depth, name, its text or its attributes in order.
    func outline(_ document: MarkupDocument) -> [String] {
        var lines: [String] = []
        document.root?.walk { node in
            var depth = 0
            var p = node.parent
            while let q = p { depth += 1; p = q.parent }
            let detail = node.isText ? node.text : ["href", "src", "alt", "class"].compactMap { a in node.attribute(a).map { "\(a)=\($0)" } }.joined(separator: " ")
            lines.append("\(depth) \(node.name) \(detail)")
            return true
        }
        return lines
    }

    func testSameTreeAsParsingTheRenderedString() {
        let markdown = """
            # 标题 *一* & 二

            第一段，[链接](../pages/1/2.md?t=1 "题") 与 `代码`。\u{0}零

            <div class="body"><p>内嵌 HTML 段落 <img src="a.jpg" alt="图"></p></div>

            | 表 | 格 |
            |---|---|
            | a | b |

            - 列表 ~~删除~~
            """ + String(repeating: "\n\n长段落文字。", count: 2_000)
        var html = Markdown.html(markdown)
        // The reference: libxml2's own one-call reader, with the same options.
        let reference = MarkupDocument(doc: html.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { htmlReadMemory($0.baseAddress, Int32($0.count), nil, nil, HTMLDocument.options) }
        })
        let lines = outline(HTMLDocument(markdown: markdown))
        XCTAssertEqual(lines, outline(reference))
        XCTAssertEqual(outline(HTMLDocument(html: html)), outline(reference))
        XCTAssertGreaterThan(lines.count, 2_000)
        XCTAssertTrue(lines.contains { $0.hasSuffix(" a href=../pages/1/2.md?t=1") }, lines.prefix(20).joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.hasSuffix(" img src=a.jpg alt=图") })
        XCTAssertTrue(lines.contains { $0.contains("\u{FFFD}零") }, "cmark makes U+0000 U+FFFD")
    }

    func testEmptyMarkdownMakesAnEmptyDocument() {
        XCTAssertNil(HTMLDocument(markdown: "").root)
        XCTAssertNil(HTMLDocument(html: Markdown.html("")).root)
    }
}
