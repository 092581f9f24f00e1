import MirrorMarkup
import TestSupport
import XCTest

final class CharsetTests: XCTestCase {
    let sample = "新闻：政府公告 «Ünïcödé»"

    /// Each row is one way real upstreams declare (or mis-declare) their encoding.
    func testEncodingSources() {
        let cjk = "中文新闻标题"
        let table: [(name: String, bytes: [UInt8], contentType: String?, text: String, charset: String)] = [
            ("utf8-no-declaration", Array(cjk.utf8), nil, cjk, "UTF-8"),
            ("gbk-from-header", encode(cjk, as: "GBK"), "text/html; charset=gbk", cjk, "GB18030"),
            ("gb2312-quoted-header", encode(cjk, as: "GB2312"), "text/plain; charset=\"GB2312\"", cjk, "GB18030"),
            ("gbk-meta-charset", encode("<html><head><meta charset=\"gbk\"></head><body>\(cjk)</body>", as: "GBK"), "text/html",
             "<html><head><meta charset=\"gbk\"></head><body>\(cjk)</body>", "GB18030"),
            ("big5-http-equiv", encode("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">繁體中文", as: "BIG5"), nil,
             "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">繁體中文", "BIG5-HKSCS"),
            ("shift-jis-xml-declaration", encode("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><rss>日本語</rss>", as: "SHIFT_JIS"), "application/xml",
             "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><rss>日本語</rss>", "CP932"),
            ("latin1-label-decodes-as-windows-1252", [0x93, 0x68, 0x69, 0x94, 0xE9], "text/html; charset=iso-8859-1", "“hi”é", "WINDOWS-1252"),
            ("utf8-bom-beats-gbk-header", [0xEF, 0xBB, 0xBF] + Array(cjk.utf8), "text/html; charset=gbk", cjk, "UTF-8"),
            ("utf16le-bom", [0xFF, 0xFE] + encode("ab中", as: "UTF-16LE"), nil, "ab中", "UTF-16LE"),
            ("header-beats-meta", encode("<meta charset=\"big5\">\(cjk)", as: "GBK"), "text/html; charset=gbk",
             "<meta charset=\"big5\">\(cjk)", "GB18030"),
            ("unknown-label-falls-back-to-utf8", Array(cjk.utf8), "text/html; charset=x-made-up", cjk, "UTF-8"),
            // An unknown header label declares nothing: the page's own <meta> decides (it had
            // been decoded as UTF-8 into U+FFFD).
            ("unknown-header-label-then-meta", encode("<meta charset=\"gb2312\">\(cjk)", as: "GBK"), "text/html; charset=x-unknown-charset",
             "<meta charset=\"gb2312\">\(cjk)", "GB18030"),
            ("windows-name-cp936-header", encode(cjk, as: "GBK"), "text/html; charset=cp936", cjk, "GB18030"),
            // A UTF-16 <meta> in bytes read as ASCII cannot be true: UTF-8, as WHATWG's prescan says.
            ("utf16-meta-is-utf8", Array("<meta charset=\"utf-16\">\(cjk)".utf8), nil, "<meta charset=\"utf-16\">\(cjk)", "UTF-8"),
            // A server's default label against the page's own, the bytes deciding (`Charset`).
            ("utf8-default-header-on-a-gbk-page-with-its-meta", encode("<meta charset=\"gbk\">\(cjk)", as: "GBK"), "text/html; charset=utf-8",
             "<meta charset=\"gbk\">\(cjk)", "GB18030"),
            ("latin1-default-header-on-a-utf8-page-with-its-meta", Array("<meta charset=\"utf-8\">café".utf8), "text/html; charset=ISO-8859-1",
             "<meta charset=\"utf-8\">café", "UTF-8"),
            ("utf8-header-on-gbk-bytes-without-a-meta-stays-utf8", encode("中", as: "GBK"), "text/html; charset=utf-8", "\u{FFFD}\u{FFFD}", "UTF-8"),
            ("latin1-header-on-bytes-not-utf8-keeps-the-header", [0x3C, 0x6D, 0x65, 0x74, 0x61, 0x20, 0x63, 0x68, 0x61, 0x72, 0x73, 0x65, 0x74, 0x3D,
             0x75, 0x74, 0x66, 0x2D, 0x38, 0x3E, 0xE9], "text/html; charset=iso-8859-1", "<meta charset=utf-8>é", "WINDOWS-1252"),
        ]
        for row in table {
            let decoded = Charset.decode(row.bytes, contentType: row.contentType)
            let (text, charset) = (decoded.text, decoded.charset)
            XCTAssertEqual(text, row.text, row.name)
            XCTAssertEqual(charset, row.charset, row.name)
        }
    }

    /// A web archive's injected scripts push the page's own `<meta>` past the first 1024
    /// bytes; browsers still decode the page with it (they re-decode when the tree builder
    /// meets it in the head).
    func testGB2312MetaAfter1024BytesOfInjectedScriptsIsSeen() {
        let scripts = "<script src=\"/_static/js/playback.js\" charset=\"utf-8\"></script>" + String(repeating: "<!-- wayback -->\n", count: 70)
        let page = "<html><head>\(scripts)<META http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"/><title>中文</title></head><body>新闻</body></html>"
        let decoded = Charset.decode(encode(page, as: "GB2312"), contentType: "text/html")
        let (text, charset) = (decoded.text, decoded.charset)
        XCTAssertEqual(charset, "GB18030")
        XCTAssertEqual(text, page)
    }

    /// A `<meta>` inside the body declares nothing (an article quoting markup, a widget).
    func testMetaInsideTheBodyIsNotADeclaration() {
        let bytes = Array("<html><head><title>t</title></head><body><p>中文</p><meta charset=\"big5\"></body>".utf8)
        XCTAssertEqual(Charset.decode(bytes, contentType: nil).charset, "UTF-8")
    }

    /// The parser gets text, not bytes, and names no encoding (one copy of a 2 MB page less):
    /// whatever a page declares (a `<meta charset>` for another encoding, a BOM), its text
    /// nodes hold exactly the characters given, in every plane.
    func testParsedTextIsTheGivenTextWhateverThePageDeclares() {
        let body = "café – 東京 — Ünïcödé 😀 \u{FFFD} ﷺ"
        for head in ["<meta charset=\"windows-1252\">", "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\">", ""] {
            for prefix in ["", "\u{FEFF}"] {
                let doc = HTMLDocument(html: prefix + "<html><head>\(head)<title>\(body)</title></head><body><p>\(body)</p></body></html>")
                let p = doc.elements(named: "p").first?.children.first
                XCTAssertEqual(p?.text, body, "\(head) \(prefix.isEmpty ? "" : "BOM")")
                XCTAssertEqual(doc.elements(named: "title").first?.children.first?.text, body)
            }
        }
    }

    /// What the sync logs about a body: how many sequences did not decode (a literal U+FFFD
    /// in valid text is no failure), and why the header's charset was overruled.
    func testUndecodableSequencesAreCountedAndAnOverruledHeaderIsNoted() {
        XCTAssertEqual(Charset.decode([0x61, 0xFF, 0x62, 0xFE], contentType: nil).undecodable, 2)
        XCTAssertEqual(Charset.decode(Array("a\u{FFFD}b".utf8) + [0xFF], contentType: nil).undecodable, 1)
        XCTAssertEqual(Charset.decode(Array("a\u{FFFD}b".utf8), contentType: nil).undecodable, 0)
        let gbk: [UInt8] = encode("中", as: "GBK") + [0x81] + Array(" x".utf8)
        XCTAssertEqual(Charset.decode(gbk, contentType: "text/plain; charset=gbk").undecodable, 1)
        XCTAssertNil(Charset.decode(gbk, contentType: "text/plain; charset=gbk").note)

        let page = encode("<meta charset=\"gb2312\"><p>新闻发布会今天在市政府举行</p>", as: "GBK")
        let bad = Charset.decode(page, contentType: nil, override: "utf-8").undecodable  // read as UTF-8
        XCTAssertEqual(Charset.decode(page, contentType: "text/html; charset=UTF-8").charset, "GB18030")
        XCTAssertGreaterThanOrEqual(bad, Charset.misdeclaredUTF8)
        let overruled = Charset.decode(page, contentType: "text/html; charset=UTF-8")
        XCTAssertEqual(overruled.undecodable, 0)
        XCTAssertEqual(overruled.text, "<meta charset=\"gb2312\"><p>新闻发布会今天在市政府举行</p>")
        XCTAssertEqual(overruled.note, "Content-Type says charset=UTF-8, but the body is not UTF-8 (\(bad) bad sequences); decoded as GB18030, as its markup declares")
        // Two characters (a handful of bad sequences) are no evidence: the header stands.
        let short = encode("<meta charset=\"gb2312\"><p>新闻</p>", as: "GBK")
        XCTAssertEqual(Charset.decode(short, contentType: "text/html; charset=UTF-8").charset, "UTF-8")
        let utf8 = Charset.decode(Array("<meta charset=\"utf-8\"><p>café</p>".utf8), contentType: "text/html; charset=iso-8859-1")
        XCTAssertEqual(utf8.note, "Content-Type says charset=iso-8859-1, but the body is valid UTF-8, as its markup declares; decoded as UTF-8")
    }

    /// A UTF-8 page with a leftover `<meta charset=iso-8859-1>` and one stray byte stays UTF-8:
    /// windows-1252 decodes every byte, so "fewer bad sequences" alone had made it mojibake.
    func testAStrayByteIsNoEvidenceAgainstTheHeader() {
        let page = Array("<meta charset=\"iso-8859-1\"><p>Grüße aus Köln</p>".utf8) + [0xFF]
        let decoded = Charset.decode(page, contentType: "text/html; charset=utf-8")
        XCTAssertEqual(decoded.charset, "UTF-8")
        XCTAssertTrue(decoded.text.contains("Grüße aus Köln"))
        XCTAssertNil(decoded.note)
    }

    func testUndecodableBytesBecomeReplacementCharacters() {
        // A lead byte followed by a byte no GBK sequence has (a space), and a cut-off sequence at the end.
        let bytes: [UInt8] = encode("中", as: "GBK") + [0x81] + Array(" x".utf8) + encode("文", as: "GBK") + [0xD6]
        let text = Charset.decode(bytes, contentType: "text/plain; charset=gbk").text
        XCTAssertEqual(text, "中\u{FFFD} x文\u{FFFD}")
        // Invalid UTF-8 never crashes either.
        XCTAssertEqual(Charset.decode([0x61, 0xFF, 0x62], contentType: nil).text, "a\u{FFFD}b")
    }
}
