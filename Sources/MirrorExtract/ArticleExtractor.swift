import CLibXML2
import Foundation
import MirrorCore
import MirrorMarkup

/// Raw article page → `ParsedArticle`.
///
/// The page (Markdown with embedded HTML, or HTML) becomes one tree: cmark-gfm renders the
/// Markdown, libxml2's HTML parser builds the tree. Then:
/// - title: the first `h1`–`h3` (Markdown pages), else `og:title`, `h1`, `<title>`;
/// - body: the element whose direct `<p>` children hold the most text (a minimal readability
///   score); its paragraphs, in order, are the body, except the dateline and editor lines;
/// - dateline (`【来源2021年4月13日】（本台记者某某综合报导）`) opening the body → source,
///   published, reporter; `责任编辑：某某` → editor; `原文地址：URL` → original_url;
/// - images: before or inside the body, not zero-size (tracking pixels), not inside a link
///   before the body (navigation icons); after the body only with a caption (the QR code of
///   a share block has none).
/// Navigation and promotion lines never reach the output because they sit outside the body.
public enum ArticleExtractor {
    /// Bumped whenever a change here can change a parsed copy; recorded with each copy so
    /// outdated copies can be regenerated from stored raw versions.
    /// 2: body links in the Markdown copy (local paths to mirrored articles).
    /// 3: generic HTML pages by candidate scoring and content names (`ContentExtractor`),
    ///    page metadata from JSON-LD/`<meta>`/`<time>`, `extraction: "fallback"` bodies.
    /// 4: furniture lines (`BoilerplateLine`), soft hyphens dropped from text, text in Unicode
    ///    NFC, inline runs and ruby readings, a `<form>` holding prose, a charset `<meta>`
    ///    anywhere in the head.
    /// 5: counter lines (`1.2k views`, `评论(12)`) are furniture; a trailing heading over 100
    ///    characters is prose and stays; a header charset the bytes contradict yields to the
    ///    page's `<meta>` (`Charset`); a news sitemap's links have their `<news:title>`; the
    ///    information line of Chinese HTML pages gives source, reporter and date (`InfoLine`),
    ///    and an editor line taken out as furniture still gives the editor.
    public static let parserVersion = 5

    /// - Parameters:
    ///   - rules: a source's `content_xpath` / `remove_xpath` overrides.
    ///   - inspect: given the parsed page before the rules change it, for a caller that also
    ///     needs its links (`follow_article_links`): the page is parsed once for both.
    public static func extract(text: consuming String, format: MarkupFormat, pageURL: URI, rules: ExtractionRules = .none,
                               inspect: ((HTMLDocument) -> Void)? = nil) -> ParsedArticle {
        if format == .html {
            let document = HTMLDocument(html: consume text)  // not held while it is parsed
            defer { withExtendedLifetime(document) {} }  // nodes point into it
            inspect?(document)
            let container = rules.apply(to: document)
            return ContentExtractor.extract(document, pageURL: pageURL, container: container)
        }
        let document = HTMLDocument(markdown: consume text)  // not held while it is parsed
        // `HTMLNode`s do not retain their document; without this the optimizer may free the
        // tree after its last direct use while nodes are still being read (found by fuzz-links).
        defer { withExtendedLifetime(document) {} }
        inspect?(document)
        let forced = rules.apply(to: document)
        guard let root = document.root else { return ParsedArticle() }
        // One walk: every block (body candidates), every image and link, with its position in
        // document order, and the text nodes that may hold the original-address or editor line.
        var blocks: [(node: HTMLNode, position: Int)] = []
        var images: [(node: HTMLNode, position: Int)] = []
        var anchors: [HTMLNode] = []
        var markers: [HTMLNode] = []
        var videos: [HTMLNode] = []
        var datelineBlock: HTMLNode?
        var count = 0
        root.walk { n in
            count += 1
            if n.isElement {
                if n.isElement(named: "img") {
                    images.append((n, count))
                } else if n.isElement(named: "a") {
                    anchors.append(n)
                } else if n.isElement(named: "video") {
                    videos.append(n)
                } else if HTMLText.blockElements.contains(where: { n.isElement(named: $0) }) {
                    blocks.append((n, count))
                }
            } else if let c = n.textBytes {
                if Self.mentionsMarker(c) { markers.append(n) }
                if datelineBlock == nil, Self.opensWithLenticularBracket(c) { datelineBlock = Self.datelineContainer(n) }
            }
            return true
        }

        var article = ParsedArticle()
        article.title = title(document, format: format)

        let bodyBlock = (forced ?? datelineBlock ?? bodyContainer(blocks.map(\.node))).flatMap { b in blocks.first { $0.node == b } }
        let body = bodyBlock?.node
        let bodyStart = bodyBlock?.position ?? Int.max
        var bodySize = 0
        body?.walk { _ in bodySize += 1; return true }
        let bodyEnd = bodyBlock.map { $0.position + bodySize - 1 } ?? Int.max

        if let body {
            for var text in paragraphs(in: body) {
                if article.published == nil && article.source == nil, let (line, rest) = Dateline.parse(prefixOf: text) {
                    article.source = line.source
                    article.published = line.date
                    article.reporter = line.reporter
                    text = rest
                    if text.isEmpty { continue }
                }
                if let editor = editorName(text) {
                    article.editor = editor
                    continue
                }
                article.paragraphs.append(text)
            }
            for v in videos where v.isInside(body) { article.videos += VideoSource.videos(of: v, pageURL: pageURL) }
            for a in anchors where a.isInside(body) {
                guard let href = a.attribute("href"), let url = pageURL.resolving(href) else { continue }
                let text = TextNormalizer.normalize(HTMLText.raw(a))
                article.links.append(ArticleLink(url: url.description, text: text))
            }
        }

        // The editor and original-address lines, from the few text nodes that mention them:
        // each with the text of its block, where the URL or name may sit in a sibling node.
        // The node's own text is tried first: gathering the block's text costs a walk of it, and
        // for a marker line at the top level of a Markdown page the block is the whole page.
        func editorLine(in text: String) -> String? {
            text.split(whereSeparator: \.isNewline).lazy.compactMap { self.editorName(TextNormalizer.normalize(String($0))) }.first
        }
        for node in markers {
            let own = node.text
            if article.editor == nil { article.editor = editorLine(in: own) }
            if article.originalURL == nil { article.originalURL = originalURL(in: own) }
            guard article.editor == nil || article.originalURL == nil, let parent = node.parent else { continue }
            let block = HTMLText.raw(parent)
            if article.editor == nil { article.editor = editorLine(in: block) }
            if article.originalURL == nil { article.originalURL = originalURL(in: block) }
        }

        for (img, position) in images {
            guard !isZeroSize(img),
                  let src = ImageSource.url(of: img, pageURL: pageURL) else { continue }
            let caption = self.caption(of: img)
            if position < bodyStart {
                if img.ancestor(named: "a") != nil { continue }
            } else if position > bodyEnd, caption == nil {
                continue
            }
            let alt = img.attribute("alt").map(TextNormalizer.normalize).flatMap { $0.isEmpty ? nil : $0 }
            article.images.append(ArticleImage(src: src.description, alt: alt, caption: caption))
        }
        return article
    }

    // MARK: parts

    static func title(_ document: HTMLDocument, format: MarkupFormat) -> String? {
        func firstText(_ names: [String]) -> String? {
            for name in names {
                for h in document.elements(named: name) {
                    let t = TextNormalizer.normalize(HTMLText.raw(h))
                    if !t.isEmpty { return t }
                }
            }
            return nil
        }
        if format == .markdown, let t = firstHeading(document) { return t }
        for meta in document.elements(named: "meta") where meta.attribute("property") == "og:title" {
            if let c = meta.attribute("content").map(TextNormalizer.normalize), !c.isEmpty { return c }
        }
        return firstText(["h1", "title"])
    }

    /// The first `h1`–`h3` in document order.
    static func firstHeading(_ document: HTMLDocument) -> String? {
        var found: String?
        document.root?.walk { n in
            guard found == nil else { return false }
            if n.isElement, ["h1", "h2", "h3"].contains(n.name) {
                let t = TextNormalizer.normalize(HTMLText.raw(n))
                if !t.isEmpty { found = t }
                return false
            }
            return true
        }
        return found
    }

    /// Whether a text node's first non-blank character is `【` (U+3010, UTF-8 E3 80 90), with
    /// which the seed format's datelines open.
    static func opensWithLenticularBracket(_ c: UnsafePointer<UInt8>) -> Bool {
        var p = c
        while p.pointee == 0x20 || p.pointee == 0x0A || p.pointee == 0x0D || p.pointee == 0x09 { p += 1 }
        return p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x90
    }

    /// The body of a page whose dateline is `text`: the nearest enclosing block that is not a
    /// paragraph (`<p class="meta-top">` inside the content `<div>`, or the content `<div>`
    /// itself when a video article writes the dateline there as bare text); nil when the
    /// text is no dateline or sits directly in the page body.
    static func datelineContainer(_ text: HTMLNode) -> HTMLNode? {
        guard Dateline.parse(prefixOf: TextNormalizer.normalize(text.text)) != nil else { return nil }
        var p = text.parent
        while let n = p {
            if n.name == "body" || n.name == "html" { return nil }
            if HTMLText.blockElements.contains(n.name), !["p", "li", "h1", "h2", "h3", "h4", "h5", "h6"].contains(n.name) { return n }
            p = n.parent
        }
        return nil
    }

    /// The block whose direct `<p>` children carry the most text.
    static func bodyContainer(_ blocks: [HTMLNode]) -> HTMLNode? {
        var best: HTMLNode?
        var bestScore = 0
        for b in blocks where !b.isElement(named: "p") {
            var score = 0
            b.forEachChild { node in
                if node.isElement(named: "p") { score += HTMLText.weight(node) }
            }
            if score > bestScore {
                best = b
                bestScore = score
            }
        }
        return best
    }

    /// Paragraph texts in `container`: each `<p>`, each other block with no block inside, and
    /// each run of text and inline elements between blocks or `<br>`s (a video article's bare
    /// dateline, `视频下载：<a>高清</a>`), normalized; empty ones dropped.
    static func paragraphs(in container: HTMLNode) -> [String] {
        var out: [String] = []
        collect(container, into: &out)
        return out
    }

    static let skipped: Set<String> = ["script", "style", "template", "noscript", "figure", "figcaption", "video", "audio"]

    /// Iterative (a prettifier can nest blocks thousands deep): a block with no block inside
    /// is one paragraph; other blocks are descended into, their inline runs gathered.
    private static func collect(_ container: HTMLNode, into out: inout [String]) {
        var run = ""
        func flush() {
            let t = TextNormalizer.normalize(run)
            if !t.isEmpty { out.append(t) }
            run = ""
        }
        // An explicit stack of child lists: a block's children are visited in order, and
        // each block boundary ends the inline run before it.
        var stack: [xmlNodePtr?] = [container.ptr.pointee.children]
        while !stack.isEmpty {
            guard let x = stack[stack.count - 1] else {
                stack.removeLast()
                flush()
                continue
            }
            stack[stack.count - 1] = x.pointee.next
            let node = HTMLNode(x)
            if node.isText {
                run += node.text
                continue
            }
            guard node.isElement, !skipped.contains(node.name) else { continue }
            if node.name == "br" { flush(); continue }
            let block = HTMLText.blockElements.contains(node.name)
            if !block {
                run += HTMLText.raw(node)
            } else if node.name == "p" || !hasBlockChild(node) {
                flush()
                run = HTMLText.raw(node)
                flush()
            } else {
                flush()
                stack.append(x.pointee.children)
            }
        }
        flush()
    }

    /// Whether any direct child is a block element (`HTMLText.blockElements`, `<br>` aside):
    /// such a node is a container to descend into, not one paragraph.
    static func hasBlockChild(_ node: HTMLNode) -> Bool {
        var found = false
        node.forEachChild { c in
            if !found, c.isElement, HTMLText.blockElements.contains(where: { c.isElement(named: $0) }), !c.isElement(named: "br") {
                found = true
            }
        }
        return found
    }

    static let editorMarkers = ["责任编辑", "責任編輯", "编辑", "編輯"]

    /// `责任编辑：张三` → `张三`; nil for anything longer than an editor line.
    static func editorName(_ text: String) -> String? {
        for marker in editorMarkers where text.hasPrefix(marker) {
            guard text.count <= 40 else { return nil }  // counted only for the few candidates
            let after = text.dropFirst(marker.count)
            guard let separator = after.first, separator == "：" || separator == ":" else { continue }
            let name = after.dropFirst().drop { $0.isWhitespace }.prefix { !$0.isWhitespace && $0 != "）" && $0 != ")" }
            return name.isEmpty ? nil : String(name)
        }
        return nil
    }

    static let originalMarkers = ["原文地址", "原文链接", "原文網址", "原文网址", "原文連結"]

    /// UTF-8 of 原文 (the original-address markers), 编辑 and 編輯 (editor lines): text nodes
    /// holding none of them are skipped without building a string.
    static let markerBytes: [[CChar]] = ["原文", "编辑", "編輯"].map { Array($0.utf8CString.dropLast()) }

    static func mentionsMarker(_ content: UnsafePointer<UInt8>) -> Bool {
        let c = UnsafeRawPointer(content).assumingMemoryBound(to: CChar.self)
        return markerBytes.contains { m in m.withUnsafeBufferPointer { buf in
            var needle = Array(buf) + [0]
            return strstr(c, &needle) != nil
        } }
    }

    /// The URL after an "original address" marker (`原文地址（需翻墙访问）：https://…`).
    static func originalURL(in text: String) -> String? {
        for marker in originalMarkers {
            // A byte search: `String.firstRange(of:)` compares grapheme clusters, which on a
            // whole page's text cost more than the rest of the extraction.
            guard let at = byteOffset(of: marker, in: text) else { continue }
            let after = text[text.utf8.index(text.utf8.startIndex, offsetBy: at + marker.utf8.count)...].prefix(200)
            guard let start = after.firstRange(of: "http") else { continue }
            let url = after[start.lowerBound...].prefix { !$0.isWhitespace && $0 != "<" && $0 != "\"" && $0 != "'" }
            if !url.isEmpty { return String(url) }
        }
        return nil
    }

    /// The byte offset of `needle`'s UTF-8 in `haystack`'s, or nil. Both are valid UTF-8, so a
    /// match starts on a scalar boundary.
    static func byteOffset(of needle: String, in haystack: String) -> Int? {
        var haystack = haystack
        return haystack.withUTF8 { ByteSearch.firstIndex(of: Array(needle.utf8), in: $0) }
    }

    /// Tracking pixels: `width="0"`, `height='0px'` or a style saying so.
    static func isZeroSize(_ img: HTMLNode) -> Bool {
        for a in ["width", "height"] {
            if let v = img.attribute(a)?.trimmingWhitespace(newlines: false).lowercased(),
               v == "0" || v == "0px" || v == "1" || v == "1px" { return true }
        }
        if let style = img.attribute("style")?.lowercased().filter({ $0 != " " }),
           ["width:0", "height:0", "display:none"].contains(where: { style.firstRange(of: $0) != nil }) { return true }
        return false
    }

    /// The `<figcaption>` of the image's `<figure>` or of the block that holds it.
    static func caption(of img: HTMLNode) -> String? {
        var holder = img.parent
        for _ in 0..<3 {
            guard let h = holder else { break }
            var found: String?
            h.walk { n in
                if found != nil { return false }
                if n.isElement && n.name == "figcaption" {
                    let t = TextNormalizer.normalize(HTMLText.raw(n))
                    if !t.isEmpty { found = t }
                    return false
                }
                return true
            }
            if let found { return found }
            if h.name == "figure" { break }
            holder = h.parent
            if let p = holder, p.name == "body" { break }
        }
        return nil
    }
}
