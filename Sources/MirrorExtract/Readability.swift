import Foundation
import MirrorCore
import MirrorMarkup

/// Article extraction for ordinary HTML news pages, after Arc90's Readability (as kept in
/// Mozilla's Readability.js): blocks are scored by the paragraphs they hold, the best-scoring
/// container is the body, and boilerplate is recognised by tag and by class/id words.
///
/// - Candidates: every paragraph-like block (`<p>`, `<pre>`, `<blockquote>`, a `<div>` or
///   `<td>` with text but no block inside) of at least 25 characters gives its parent
///   1 + (commas) + min(length / 100, 3) points, half of that to its grandparent and a third to
///   the one above. A container starts from its tag (div +5, blockquote/td +3) and its class and
///   id words (±25), and its total is scaled by (1 − link density).
/// - Skipped everywhere: `nav`, `header`, `footer`, `aside`, `form`, `figure`, scripts,
///   and any element whose class or id holds a boilerplate word (`comment`, `sidebar`,
///   `related`, `share`, `newsletter`, `cookie`, `byline`, `caption`, …).
/// - Paragraphs: the paragraph-like blocks of the body in order, split at double `<br>`,
///   normalized; link-heavy ones (over half link text), the dateline and the editor line are
///   dropped.
/// - Metadata: title from `og:title`, the first `h1` or `<title>` without the site suffix;
///   published and author from JSON-LD (`NewsArticle`), `<meta>`, `<time datetime>`,
///   `rel=author` and byline elements, or a dateline.
enum Readability {
    static let negative: Set<String> = [
        "comment", "comments", "sidebar", "related", "footer", "nav", "navigation", "menu", "menubar", "share",
        "sharing", "social", "promo", "newsletter", "subscribe", "signup", "cookie", "consent", "banner", "ad",
        "ads", "advert", "advertisement", "adbox", "sponsor", "sponsored", "breadcrumb", "breadcrumbs", "crumb",
        "byline", "author", "caption", "photocap", "credit", "pagination", "pager", "tags", "popup", "modal",
        "widget", "outbrain", "taboola", "recommended", "popular", "storytools", "tools", "print", "support",
        "donate", "bio", "dek", "kicker", "standfirst", "masthead", "topbar", "rightcol", "boxhead", "boxbody",
        "meta", "desc", "position", "zoom", "info", "skip", "date", "likes", "jetpack", "sharedaddy",
        "notice", "disclaimer", "fineprint", "hidden", "visually", "toolbar", "subscription",
    ]
    static let positive: Set<String> = ["article", "body", "content", "entry", "main", "page", "post", "text",
                                        "blog", "story", "txt", "maincol"]
    static let skippedTags = ["nav", "header", "footer", "aside", "form", "figure", "figcaption", "script", "style",
                              "noscript", "template", "iframe", "button", "select", "h1", "label", "svg"]
    static let paragraphTags = ["p", "pre", "blockquote", "li", "div", "td", "dd"]

    /// Lowercased words of an element's class and id, split at punctuation and at camelCase
    /// humps (`AdSlot_container` → ad, slot, container; `Article_body__R5tY7` → article, body, …).
    static func words(_ node: HTMLNode) -> [String] {
        var out: [String] = []
        for attribute in ["class", "id"] {
            guard let value = node.attribute(attribute) else { continue }
            var word: [UInt8] = []
            var previousLower = false
            func flush() {
                if !word.isEmpty { out.append(String(decoding: word, as: UTF8.self)) }
                word.removeAll(keepingCapacity: true)
            }
            for b in value.utf8 {
                let upper = b >= 0x41 && b <= 0x5A, lower = b >= 0x61 && b <= 0x7A, digit = b >= 0x30 && b <= 0x39
                guard upper || lower || digit || b >= 0x80 else { flush(); previousLower = false; continue }
                if upper && previousLower { flush() }
                word.append(upper ? b + 0x20 : b)
                previousLower = lower
            }
            flush()
        }
        return out
    }

    static func classWeight(_ node: HTMLNode) -> Int {
        let w = words(node)
        var score = 0
        if w.contains(where: negative.contains) { score -= 25 }
        if w.contains(where: positive.contains) { score += 25 }
        return score
    }

    /// Every boilerplate element of the document (see `isBoilerplate`), found in one walk:
    /// class and id words are split once per element, not once per question.
    static func boilerplate(_ root: HTMLNode) -> Set<HTMLNode> {
        var out = Set<HTMLNode>()
        root.walk { n in
            guard n.isElement else { return false }
            if isBoilerplate(n) { out.insert(n); return false }
            return true
        }
        return out
    }

    /// Boilerplate by tag or by a class/id word (the page's `html`/`body` never are).
    static func isBoilerplate(_ node: HTMLNode) -> Bool {
        guard node.isElement, !node.isElement(named: "body"), !node.isElement(named: "html") else { return false }
        if skippedTags.contains(where: { node.isElement(named: $0) }) { return true }
        return words(node).contains(where: negative.contains)
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

    /// A block whose own text is a paragraph: `<p>`-like, or a container with no block inside.
    static func isParagraphLike(_ node: HTMLNode) -> Bool {
        guard node.isElement else { return false }
        if ["p", "pre", "blockquote"].contains(where: { node.isElement(named: $0) }) { return true }
        return ["div", "td", "li", "dd", "section", "article"].contains(where: { node.isElement(named: $0) }) && !hasBlockChild(node)
    }

    /// Text with `<br>` kept as U+2028 so paragraphs separated by two of them can be told apart.
    static func text(_ node: HTMLNode, skip: Set<HTMLNode>) -> String {
        var out: [UInt8] = []
        node.walk { n in
            if let c = n.textBytes {
                out.append(contentsOf: UnsafeBufferPointer(start: c, count: strlen(UnsafeRawPointer(c).assumingMemoryBound(to: CChar.self))))
                return false
            }
            if n.isElement(named: "br") { out.append(contentsOf: [0xE2, 0x80, 0xA8]); return false }
            return n == node || !skip.contains(n)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func linkDensity(_ node: HTMLNode) -> Double {
        let total = HTMLText.weight(node)
        guard total > 0 else { return 0 }
        var links = 0
        node.walk { n in
            if n.isElement(named: "a") { links += HTMLText.weight(n); return false }
            return true
        }
        return Double(links) / Double(total)
    }

    /// The body container: the best-scoring block.
    static func bodyContainer(_ root: HTMLNode, skip: Set<HTMLNode>) -> HTMLNode? {
        var scores: [HTMLNode: Double] = [:]
        func base(_ n: HTMLNode) -> Double {
            var s = Double(classWeight(n))
            if n.isElement(named: "div") || n.isElement(named: "article") || n.isElement(named: "main") { s += 5 }
            if n.isElement(named: "blockquote") || n.isElement(named: "td") || n.isElement(named: "pre") { s += 3 }
            return s
        }
        root.walk { n in
            guard n.isElement else { return false }
            if skip.contains(n) { return false }
            guard isParagraphLike(n) else { return true }
            let t = TextNormalizer.normalize(text(n, skip: skip))
            let length = t.count
            guard length >= 25 else { return false }
            let points = 1 + Double(t.filter { $0 == "," || $0 == "，" || $0 == "、" }.count) + min(Double(length) / 100, 3)
            var ancestor = n.parent
            for divisor in [1.0, 2.0, 3.0] {
                guard let a = ancestor else { break }
                scores[a, default: base(a)] += points / divisor
                ancestor = a.parent
            }
            return false
        }
        return scores.map { ($0.key, $0.value * (1 - linkDensity($0.key))) }.max { $0.1 < $1.1 }?.0
    }

    static func paragraphs(in body: HTMLNode, skip: Set<HTMLNode>) -> [String] {
        var out: [String] = []
        body.walk { n in
            guard n.isElement else { return false }
            if n != body && skip.contains(n) { return false }
            if n.isElement(named: "h2") || n.isElement(named: "h3") || n.isElement(named: "h4") { return false }
            guard isParagraphLike(n), n != body || !hasBlockChild(n) else { return true }
            guard linkDensity(n) <= 0.5 else { return false }
            // Lines are separated by U+2028 (a `<br>`); a blank line ends a paragraph.
            var lines: [String] = []
            func flush() {
                let t = TextNormalizer.normalize(lines.joined(separator: "\n"))
                if !t.isEmpty { out.append(t) }
                lines.removeAll()
            }
            let all = text(n, skip: skip)
            for line in all.unicodeScalars.split(separator: "\u{2028}", omittingEmptySubsequences: false) {
                if line.allSatisfy(\.properties.isWhitespace) { flush() } else { lines.append(String(line)) }
            }
            flush()
            return false
        }
        return out
    }

    // MARK: metadata

    static func meta(_ doc: HTMLDocument, _ keys: [String]) -> String? {
        for key in keys {
            for m in doc.elements(named: "meta") where m.attribute("property") == key || m.attribute("name")?.lowercased() == key.lowercased()
                || m.attribute("itemprop") == key {
                if let c = m.attribute("content")?.trimmingWhitespace(), !c.isEmpty { return c }
            }
        }
        return nil
    }

    /// Objects of every `application/ld+json` script, `@graph` entries flattened.
    static func jsonLD(_ doc: HTMLDocument) -> [[String: Any]] {
        var out: [[String: Any]] = []
        for s in doc.elements(named: "script") where s.attribute("type")?.lowercased() == "application/ld+json" {
            guard let data = HTMLText.rawScript(s).data(using: .utf8),
                  let value = try? JSONSerialization.jsonObject(with: data) else { continue }
            var queue: [Any] = [value]
            while let v = queue.popLast() {
                if let a = v as? [Any] { queue += a }
                if let o = v as? [String: Any] {
                    out.append(o)
                    if let g = o["@graph"] { queue.append(g) }
                }
            }
        }
        return out
    }

    static func isArticleType(_ o: [String: Any]) -> Bool {
        let types = (o["@type"] as? String).map { [$0] } ?? (o["@type"] as? [String] ?? [])
        return types.contains { $0.hasSuffix("Article") || $0 == "BlogPosting" || $0 == "Report" }
    }

    static let siteSeparators = [" | ", " - ", " — ", " – ", "_", " · ", " :: "]

    /// `<title>` without the site name: the longest part around a separator.
    static func stripSiteSuffix(_ title: String) -> String {
        for sep in siteSeparators where title.firstRange(of: sep) != nil {
            let parts = title.components(separatedBy: sep).map { $0.trimmingWhitespace(newlines: false) }
            return parts.max { $0.count < $1.count } ?? title
        }
        return title
    }

    static func title(_ doc: HTMLDocument) -> String? {
        if let og = meta(doc, ["og:title", "twitter:title"]) { return TextNormalizer.normalize(og) }
        if let h1 = doc.elements(named: "h1").lazy.map({ TextNormalizer.normalize(HTMLText.raw($0)) }).first(where: { !$0.isEmpty }) {
            return h1
        }
        return doc.elements(named: "title").first.map { stripSiteSuffix(TextNormalizer.normalize(HTMLText.raw($0))) }
    }

    static func published(_ doc: HTMLDocument, ld: [[String: Any]]) -> String? {
        if let d = ld.first(where: isArticleType)?["datePublished"] as? String { return normalizeDate(d) }
        if let d = meta(doc, ["article:published_time", "datePublished", "pubdate", "publishdate", "publish-date",
                              "DC.date.issued", "dcterms.created", "date"]) { return normalizeDate(d) }
        var found: String?
        doc.root?.walk { n in
            guard found == nil, n.isElement else { return false }
            if ["comment", "comments", "related", "sidebar", "footer"].contains(where: words(n).contains) { return false }
            if n.isElement(named: "time"), let dt = n.attribute("datetime") { found = normalizeDate(dt); return false }
            return true
        }
        if let found { return found }
        // A date written out in an element called date/time/pubtime/info.
        for el in doc.root.map(collectDateElements) ?? [] {
            if let d = parseWrittenDate(TextNormalizer.normalize(HTMLText.raw(el))) { return d }
        }
        return nil
    }

    static func collectDateElements(_ root: HTMLNode) -> [HTMLNode] {
        var out: [HTMLNode] = []
        root.walk { n in
            guard n.isElement else { return false }
            if words(n).contains(where: { ["date", "time", "pubtime", "publish", "published", "info", "dateline"].contains($0) }) {
                out.append(n)
                return false
            }
            return true
        }
        return out
    }

    /// RFC 3339 timestamps pass through; a bare or written date becomes `YYYY-MM-DD`.
    static func normalizeDate(_ s: String) -> String? {
        let t = s.trimmingWhitespace()
        let chars = Array(t)
        if chars.count >= 10, chars[4] == "-", chars[7] == "-", chars[0..<4].allSatisfy(\.isNumber) {
            if chars.count == 10 { return t }
            if chars.count >= 19, chars[10] == "T" || chars[10] == " " {
                let rest = String(chars[19...])
                // With an offset or Z: as given. Without: only the date is certain.
                if rest.hasPrefix("Z") || rest.hasPrefix("+") || rest.hasPrefix("-") || rest.hasPrefix(".") {
                    return String(chars[0..<10]) + "T" + String(chars[11...])
                }
                return String(chars[0..<10])
            }
            return String(chars[0..<10])
        }
        return parseWrittenDate(t)
    }

    static let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                         "october", "november", "december"]

    /// `3 November 2023`, `November 3, 2023`, `Nov. 3, 2023`, `2025年3月8日`, `2025-03-08`.
    static func parseWrittenDate(_ s: String) -> String? {
        if let (_, date) = Dateline.findDate(in: s) { return date }
        let words = s.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        for (i, w) in words.enumerated() {
            guard let m = months.firstIndex(where: { $0 == w || (w.count >= 3 && $0.hasPrefix(w)) }) else { continue }
            let before = i > 0 ? Int(words[i - 1]) : nil
            let after = i + 1 < words.count ? Int(words[i + 1]) : nil
            let yearAfter = { (k: Int) in k < words.count ? Int(words[k]).flatMap { (1900...2999).contains($0) ? $0 : nil } : nil }
            if let d = before, (1...31).contains(d), let y = yearAfter(i + 1) {
                return String(format: "%04d-%02d-%02d", y, m + 1, d)
            }
            if let d = after, (1...31).contains(d), let y = yearAfter(i + 2) {
                return String(format: "%04d-%02d-%02d", y, m + 1, d)
            }
        }
        // `2025-03-08` inside text. (Checked here, not through normalizeDate, which calls this
        // function: a ten-digit token once made the two recurse forever — found by fuzz-article.)
        for d in s.split(whereSeparator: { !$0.isNumber && $0 != "-" }) where d.count == 10 {
            let c = Array(d)
            if c[4] == "-", c[7] == "-", c.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || $0.element.isASCII && $0.element.isNumber }),
               let m = Int(String(c[5...6])), let day = Int(String(c[8...9])), (1...12).contains(m), (1...31).contains(day) {
                return String(d)
            }
        }
        return nil
    }

    static func author(_ doc: HTMLDocument, ld: [[String: Any]]) -> String? {
        if let a = ld.first(where: isArticleType)?["author"] {
            let first = (a as? [Any])?.first ?? a
            if let name = (first as? [String: Any])?["name"] as? String ?? first as? String { return name }
        }
        if let m = meta(doc, ["author", "article:author", "byl"]), !m.contains("://") { return cleanByline(m) }
        var found: String?
        doc.root?.walk { n in
            guard found == nil, n.isElement else { return false }
            let w = words(n)
            if w.contains(where: { ["comment", "comments", "related", "footer", "bio"].contains($0) }) { return false }
            if n.attribute("rel") == "author" || n.attribute("itemprop") == "author"
                || w.contains(where: { ["byline", "author", "name"].contains($0) }) && w.contains(where: { ["byline", "author"].contains($0) }) {
                let t = cleanByline(TextNormalizer.normalize(HTMLText.raw(n)))
                if !t.isEmpty { found = t }
                return false
            }
            return true
        }
        if let found { return found }
        // 作者：王晓燕 in an info line.
        for el in doc.root.map(collectDateElements) ?? [] {
            let t = HTMLText.raw(el)
            if let r = t.firstRange(of: "作者：") ?? t.firstRange(of: "作者:") {
                let name = t[r.upperBound...].prefix { !$0.isWhitespace && !"【】|（(".contains($0) }
                if !name.isEmpty { return String(name) }
            }
        }
        return nil
    }

    /// `By Jane Doe · Oct. 9` → `Jane Doe`; `Text and photos by X` → `X`; `作者：陈静` → `陈静`.
    static func cleanByline(_ s: String) -> String {
        var t = s
        for prefix in ["作者：", "作者:", "记者："] where t.hasPrefix(prefix) { t = String(t.dropFirst(prefix.count)) }
        if let r = t.lowercased().firstRange(of: "by ") {
            let offset = t.lowercased().distance(from: t.lowercased().startIndex, to: r.upperBound)
            t = String(t.dropFirst(offset))
        }
        let cut = t.firstIndex { ",·|•\u{2028}".contains($0) } ?? t.endIndex
        return t[..<cut].trimmingWhitespace(newlines: false)
    }

    static func extract(_ doc: HTMLDocument, pageURL: URI, container: HTMLNode? = nil) -> ParsedArticle {
        var article = ParsedArticle()
        guard let root = doc.root else { return article }
        let ld = jsonLD(doc)
        article.title = title(doc)
        article.published = published(doc, ld: ld)
        article.reporter = author(doc, ld: ld)
        let skip = boilerplate(root)
        if let body = container ?? bodyContainer(root, skip: skip) {
            for var text in paragraphs(in: body, skip: skip) {
                if article.source == nil, let (line, rest) = Dateline.parse(prefixOf: text) {
                    article.source = line.source
                    article.published = article.published ?? line.date
                    article.reporter = article.reporter ?? line.reporter
                    text = rest
                    if text.isEmpty { continue }
                }
                let bare = text.trimmingCharacters(in: CharacterSet(charactersIn: "（）()"))
                if let editor = ArticleExtractor.editorName(bare) {
                    article.editor = editor
                    continue
                }
                if text == article.title { continue }
                article.paragraphs.append(text)
            }
            body.walk { n in
                if n != body && skip.contains(n) { return false }
                if n.isElement(named: "a"), let href = n.attribute("href"), let url = pageURL.resolving(href),
                   url.scheme == "http" || url.scheme == "https" {
                    article.links.append(ArticleLink(url: url.description, text: TextNormalizer.normalize(HTMLText.raw(n))))
                    return false
                }
                if n.isElement(named: "img"), let url = ImageSource.url(of: n, pageURL: pageURL),
                   !ArticleExtractor.isZeroSize(n) {
                    let alt = n.attribute("alt").map(TextNormalizer.normalize).flatMap { $0.isEmpty ? nil : $0 }
                    article.images.append(ArticleImage(src: url.description, alt: alt, caption: ArticleExtractor.caption(of: n)))
                }
                return true
            }
        }
        return article
    }
}
