/// A small synthetic upstream in the seed's structure (invented content): a README linking
/// index pages with `?t=` cache-busters, index pages listing article pages, and article pages
/// with navigation, promotion lines, a lead image with caption, a prettified body with a
/// dateline, unknown inline tags and an unclosed `<p>`, an editor line, a share block with a QR
/// image, an original-address line, footer navigation and a tracking pixel.
public struct FixtureSite {
    public struct Article {
        public var id: Int
        public var title: String
        public var paper: String
        public var date: String
        public var reporter: String
        public var editor: String
        public var paragraphs: [String]
        public var promo = "订阅山城晨报"
        /// Dateline opens the first paragraph (true) or stands in its own `<p>` (false).
        public var inlineDateline = false

        public init(id: Int, title: String, paper: String, date: String, reporter: String, editor: String,
                    paragraphs: [String]) {
            self.id = id
            self.title = title
            self.paper = paper
            self.date = date
            self.reporter = reporter
            self.editor = editor
            self.paragraphs = paragraphs
        }
    }

    public var articles: [Article]
    /// Index name → article ids.
    public var indexes: [(name: String, title: String, ids: [Int])]
    public var token = "01010100"

    public init(articles: [Article], indexes: [(name: String, title: String, ids: [Int])]) {
        self.articles = articles
        self.indexes = indexes
    }

    /// Three articles in two indexes.
    public static func standard() -> FixtureSite {
        let a = [
            Article(id: 201, title: "松溪镇新修步行桥通行", paper: "松溪日报", date: "2025年6月2日", reporter: "高远", editor: "宋青",
                    paragraphs: ["松溪镇连接东西两岸的步行桥完成修缮，本周起恢复通行，桥面换上了防滑木板。",
                                 "附近居民说，以前绕行要多走二十分钟，现在上学和买菜都方便多了。",
                                 "镇里表示将在桥头增设照明，并请志愿者在早晚高峰协助维持秩序。"]),
            Article(id: 202, title: "河湾社区开办老年手机课", paper: "河湾周报", date: "二零二五年六月五日", reporter: "韩雪", editor: "邵峰",
                    paragraphs: ["河湾社区每周二下午在活动室开设手机使用课，教老人视频通话和网上挂号。",
                                 "授课的是附近中学的学生志愿者，他们准备了图文并茂的小册子。",
                                 "第一期课程报名人数超过预期，社区正在考虑增开周末班。"]),
            Article(id: 203, title: "梅岭小学操场对外开放", paper: "梅岭新闻", date: "2025年6月8日", reporter: "方舟", editor: "顾兰",
                    paragraphs: ["梅岭小学的操场从本月起在周末对周边居民开放，开放时间为早上七点到十点。",
                                 "学校在入口处设置了登记台，并提醒居民爱护草坪和跑道。",
                                 "不少家庭周末带着孩子来跑步，操场上热闹了许多。"]),
        ]
        var site = FixtureSite(articles: a, indexes: [("town", "城镇新闻", [201, 202]), ("school", "校园新闻", [203])])
        site.articles[1].inlineDateline = true
        return site
    }

    public func article(_ id: Int) -> Article { articles.first { $0.id == id }! }

    public mutating func edit(_ id: Int, _ change: (inout Article) -> Void) {
        let i = articles.firstIndex { $0.id == id }!
        change(&articles[i])
    }

    /// Path → body.
    public func files() -> [String: String] {
        var out = ["/README.md": readme()]
        for index in indexes { out["/indexes/\(index.name).md"] = indexPage(index.title, index.ids) }
        for a in articles { out["/pages/1/\(a.id).md"] = page(a) }
        return out
    }

    public func publish(to server: TestHTTPServer) {
        for (path, body) in files() { server.put(path, body) }
    }

    func readme() -> String {
        var lines = ["# 山城新闻网", "", "本站每小时更新。", ""]
        for index in indexes { lines += ["#### [\(index.title)](indexes/\(index.name).md?t=\(token))", ""] }
        return lines.joined(separator: "\n")
    }

    func indexPage(_ title: String, _ ids: [Int]) -> String {
        var lines = ["### \(title)", "------------------------", "", "#### [首页](../README.md)", ""]
        for id in ids { lines += ["#### [\(article(id).title)](../pages/1/\(id).md?t=\(token))", ""] }
        return lines.joined(separator: "\n")
    }

    static let nav = "#### [首页](../../README.md)  &nbsp;&nbsp;|&nbsp;&nbsp; [城镇新闻](../../indexes/town.md)  &nbsp;&nbsp;|&nbsp;&nbsp; [帮助](https://example.net/help/README.md)"

    /// Prettified paragraph: the first two characters wrapped in an unknown inline tag.
    static func pretty(_ text: String, term: Int) -> String {
        let head = String(text.prefix(2)), tail = String(text.dropFirst(2))
        return "  <ok href=\"/term/\(term)\">\n   \(head)\n  </ok>\n  \(tail)"
    }

    func page(_ a: Article) -> String {
        let dateline = "【\(a.paper)\(a.date)】（本报记者\(a.reporter)报道）"
        var body = ["<div><div class=\"Content__Wrapper sc-3q-0 kLmNo\">"]
        let p = a.paragraphs
        if a.inlineDateline {
            body.append(" <p class=\"meta-top\">\n  <span class=\"meta\">\n   \(dateline)\n  </span>\n\(Self.pretty(p[0], term: a.id))\n </p>")
        } else {
            body.append(" <p class=\"meta-top\">\n  <span class=\"meta\">\n   \(dateline)\n  </span>\n </p>")
            body.append(" <p>\n\(Self.pretty(p[0], term: a.id))\n </p>")
        }
        body.append(" <div class=\"AD_Embed__Wrap-sc-1-0 qq module desktop\">\n  <div>\n  </div>\n </div>")
        for (i, text) in p.dropFirst().enumerated() {
            // The second paragraph is left unclosed, as the prettifier does upstream.
            body.append(i == 0 ? " <p>\n  \(text)" : " <p>\n  \(text)\n </p>")
        }
        body.append(" <p class=\"meta-btm\">\n  责任编辑：\(a.editor)\n </p>\n</div>\n</div>")
        let share = "https://example.net/share/pages/1/\(a.id).md"
        return [
            "### \(a.title)", "------------------------", "", Self.nav, "", "",
            "<div><img alt=\"\(a.title)配图\" src=\"https://img.example.org/2025-06/\(a.id).jpeg\"/>",
            "<br/><figcaption class=\"caption\">\n \(a.title)现场（图片来源：\(a.paper)）\n</figcaption></div><hr/>", "",
            "#### [ 📮 \(a.promo) 每天早上送达](https://example.net/subscribe/README.md) &nbsp; | &nbsp;[活动预告](https://example.net/events/README.md) ", "",
            body.joined(separator: "\n"), "<hr/>",
            "手机上长按复制下列链接或二维码分享本文：<br/>", "\(share) <br/>",
            "<a href='\(share)'><img src='https://cdn.example.net/qr/pages/1/\(a.id).md.png'/></a> <br/>",
            "原文地址：https://example.org/post/\(a.id)", "", "",
            "------------------------", Self.nav, "", "",
            "<img src='http://track.example.net/px/pages/1/\(a.id).md' width='0px' height='0px'/>", "",
        ].joined(separator: "\n")
    }
}

import Foundation

/// `text` encoded in `charset` (an iconv name such as `GBK`, `BIG5`, `SHIFT_JIS`), for fixtures
/// that upstreams serve in legacy encodings.
public func encode(_ text: String, as charset: String) -> [UInt8] {
    let cd = iconv_open(charset, "UTF-8")
    precondition(cd != iconv_t(bitPattern: -1), "iconv does not know \(charset)")
    defer { iconv_close(cd) }
    var input = Array(text.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
    let produced = input.withUnsafeMutableBufferPointer { inBuf in
        output.withUnsafeMutableBufferPointer { outBuf -> Int in
            var inPtr = UnsafeMutableRawPointer(inBuf.baseAddress)?.assumingMemoryBound(to: CChar.self)
            var inLeft = inBuf.count
            var outPtr = UnsafeMutableRawPointer(outBuf.baseAddress)?.assumingMemoryBound(to: CChar.self)
            var outLeft = outBuf.count
            precondition(iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) != -1, "cannot encode as \(charset)")
            return outBuf.count - outLeft
        }
    }
    return Array(output[0..<produced])
}

/// gzip via the system's gzip (`-n`: no name or time, so the bytes are reproducible).
public func gzip(_ bytes: [UInt8]) -> [UInt8] {
    filter(bytes, through: "/bin/gzip", ["-c", "-n"])
}

/// `Content-Encoding: deflate` bodies: the zlib format (RFC 1950), or raw deflate (RFC 1951)
/// as some servers send, made by Python's zlib.
public func deflate(_ bytes: [UInt8], raw: Bool = false) -> [UInt8] {
    filter(bytes, through: "/usr/bin/python3", ["-c", "import sys, zlib; c = zlib.compressobj(6, zlib.DEFLATED, \(raw ? -15 : 15)); "
                                                + "d = sys.stdin.buffer.read(); sys.stdout.buffer.write(c.compress(d) + c.flush())"])
}

/// `bytes` through a program's stdin, its stdout back (written from another thread, so a
/// large input cannot deadlock against a full output pipe).
private func filter(_ bytes: [UInt8], through program: String, _ arguments: [String]) -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    let input = Pipe(), output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    try! p.run()
    let writer = Thread {
        input.fileHandleForWriting.write(Data(bytes))
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return [UInt8](out)
}
