import CLibXML2
import Foundation
import MirrorCore
import MirrorMarkup

/// Title, author and publication date of an HTML page, from the most explicit source that
/// has them (the order Readability.js's `_getJSONLD` / `_getArticleMetadata` and trafilatura's
/// `metadata.py` use):
/// - JSON-LD (`NewsArticle`, `Article`, `BlogPosting`, … also inside `@graph`): `headline`,
///   `author`, `datePublished`, `articleBody`;
/// - `<meta>`: `og:title`, `twitter:title`, `dc.title`; `author`, `article:author`,
///   `dc.creator`, `parsely-author`; `article:published_time`, `datePublished`, `pubdate`,
///   `dc.date.issued`, `parsely-pub-date`, …;
/// - the page itself: `<title>` without the site name, the first `<h1>`; `rel="author"`,
///   `itemprop="author"` and byline elements; `<time datetime>`, date-named elements, a date
///   in the URL path (`/2024/03/05/`).
struct PageMetadata {
    var title: String?
    var author: String?
    var published: String?
    /// JSON-LD `articleBody`, split into paragraphs.
    var articleBody: [String]?

    init(index: PageIndex, pruning: Pruning, pageURL: URI) {
        let ld = Self.jsonLD(index)
        let article = ld.first(where: Self.isArticleType) ?? ld.first { $0["headline"] != nil || $0["articleBody"] != nil }
        func meta(_ keys: [String]) -> String? {
            for k in keys {
                if let m = index.metas.first(where: { $0.key == k }) {
                    let v = TextNormalizer.normalizeDecoded(m.content)
                    if !v.isEmpty { return v }
                }
            }
            return nil
        }

        // Title
        let headline = (article?["headline"] as? String).map(TextNormalizer.normalizeDecoded).flatMap { $0.isEmpty ? nil : $0 }
        title = headline ?? meta(["og:title", "twitter:title", "dc.title", "dcterm:title", "parsely-title", "title"])
            ?? Self.documentTitle(index)

        // Author
        if let a = article?["author"] { author = Self.names(a) }
        if author == nil, let m = meta(["author", "article:author", "dc.creator", "dcterm:creator", "parsely-author",
                                         "sailthru.author", "byl", "citation_author"]),
           !m.contains("://"), !m.hasPrefix("@") {
            author = Self.cleanByline(m)
        }
        if author == nil { author = Self.bylineElement(index, pruning) }
        if author?.isEmpty == true { author = nil }

        // Published
        if let d = (article?["datePublished"] as? String) ?? (article?["dateCreated"] as? String) {
            published = WrittenDate.parse(d)
        }
        if published == nil, let m = meta(["article:published_time", "og:article:published_time", "datepublished",
                                            "parsely-pub-date", "pubdate", "publishdate", "publish_date", "publish-date",
                                            "publication_date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
                                            "dcterms.created", "sailthru.date", "citation_publication_date", "date",
                                            "article.published", "published_time"]) {
            published = WrittenDate.parse(m)
        }
        if published == nil { published = Self.timeElement(index, pruning) }
        if published == nil { published = Self.dateFromPath(pageURL.path) }

        if let body = article?["articleBody"] as? String {
            let paragraphs = body.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\u{2029}" })
                .map { TextNormalizer.normalizeDecoded(String($0)) }.filter { !$0.isEmpty }
            if !paragraphs.isEmpty, !body.contains("<") { articleBody = paragraphs }
        }
    }

    /// A date written in the first paragraphs (a dateline, `Published 5 March 2024`).
    func publishedFromText(_ paragraphs: ArraySlice<String>) -> String? {
        for p in paragraphs where p.unicodeScalars.count < 120 {
            if let d = WrittenDate.parse(p) { return d }
        }
        return nil
    }

    // MARK: JSON-LD

    /// Objects of every `application/ld+json` script, `@graph` entries and arrays flattened.
    static func jsonLD(_ index: PageIndex) -> [[String: Any]] {
        var out: [[String: Any]] = []
        for s in index.ldJSON {
            var text = Substring(HTMLText.rawScript(HTMLNode(s)).trimmingWhitespace())
            // Pages wrap it in comment or CDATA markers, around the JSON (inside its strings,
            // `-->` is text and stays). Stdlib prefix tests: Foundation's search was 1.5 % of
            // extraction on long scripts.
            var stripped = true
            while stripped {
                stripped = false
                for marker in ["<!--", "//<![CDATA[", "<![CDATA["] where text.hasPrefix(marker) {
                    text = text.dropFirst(marker.count).drop { $0.isWhitespace }
                    stripped = true
                }
                for marker in ["-->", "//]]>", "]]>"] where text.hasSuffix(marker) {
                    text = text.dropLast(marker.count)
                    while text.last?.isWhitespace == true { text = text.dropLast() }
                    stripped = true
                }
            }
            guard let data = String(text).data(using: .utf8),
                  let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { continue }
            var queue: [Any] = [value]
            while let v = queue.popLast(), out.count < 64 {
                if let a = v as? [Any] { queue += a.reversed() }
                if let o = v as? [String: Any] {
                    out.append(o)
                    if let g = o["@graph"] { queue.append(g) }
                    if let main = o["mainEntity"] { queue.append(main) }
                }
            }
        }
        return out
    }

    static func types(_ o: [String: Any]) -> [String] {
        (o["@type"] as? String).map { [$0] } ?? (o["@type"] as? [String] ?? [])
    }

    static func isArticleType(_ o: [String: Any]) -> Bool {
        types(o).contains { $0.hasSuffix("Article") || $0 == "BlogPosting" || $0 == "Report" || $0 == "LiveBlogPosting" || $0 == "Blog" }
    }

    /// `author` as a string, a Person, or a list of them: names joined by `, `.
    static func names(_ value: Any) -> String? {
        let list = (value as? [Any]) ?? [value]
        let names = list.compactMap { item -> String? in
            if let s = item as? String { return s.contains("://") ? nil : s }
            if let o = item as? [String: Any] { return o["name"] as? String }
            return nil
        }.map(TextNormalizer.normalizeDecoded).filter { !$0.isEmpty }
        return names.isEmpty ? nil : names.joined(separator: ", ")
    }

    // MARK: the page itself

    static let separators: [String] = [" | ", " - ", " – ", " — ", " \\ ", " / ", " > ", " » ", " · ", " :: ", "_"]

    /// `<title>` without the site name (Readability.js `_getArticleTitle`): with a separator,
    /// the part before the last one, or after the first when that leaves under three words;
    /// the page's only `<h1>` when the title is very long or very short.
    static func documentTitle(_ index: PageIndex) -> String? {
        let original = TextNormalizer.normalizeDecoded(index.titleText ?? "")
        let h1s = index.tag.indices.filter { index.tag[$0] == .h1 }
        let firstH1 = h1s.lazy.map { TextNormalizer.normalizeDecoded(HTMLText.raw(HTMLNode(index.node[$0]))) }.first { !$0.isEmpty }
        guard !original.isEmpty else { return firstH1 }
        var title = original
        func words(_ s: String) -> Int { s.split(whereSeparator: \.isWhitespace).count }
        if let sep = separators.first(where: { original.contains($0) }) {
            let parts = original.components(separatedBy: sep).map { $0.trimmingWhitespace() }
            title = parts.dropLast().joined(separator: sep)
            if words(title) < 3 && !title.unicodeScalars.contains(where: TextNormalizer.isCJK) {
                title = parts.dropFirst().joined(separator: sep)
            }
            // CJK titles have no spaces between words: keep the longest part.
            if title.unicodeScalars.contains(where: TextNormalizer.isCJK) {
                title = parts.max { $0.count < $1.count } ?? title
            }
        } else if (original.count > 150 || original.count < 15), h1s.count == 1, let h = firstH1 {
            title = h
        }
        if let h = firstH1, original.hasPrefix(h) || original.hasSuffix(h), h.count >= title.count / 2 { title = h }
        return title.isEmpty ? original : title
    }

    /// `By Jane Doe · Oct. 9` → `Jane Doe`; `Von Max Muster` → `Max Muster`; `作者：陈静` → `陈静`.
    static func cleanByline(_ s: String) -> String {
        var t = TextNormalizer.normalizeDecoded(s)
        for prefix in ["作者：", "作者:", "记者：", "記者：", "文／", "文/"] where t.hasPrefix(prefix) { t = String(t.dropFirst(prefix.count)) }
        let lower = t.lowercased()
        for prefix in ["written by ", "posted by ", "text by ", "story by ", "by ", "von ", "par ", "por ", "di ", "door "]
        where lower.hasPrefix(prefix) {
            t = String(t.dropFirst(prefix.count))
            break
        }
        if let r = t.lowercased().range(of: " by ") { t = String(t[r.upperBound...]) }
        let cut = t.firstIndex { ",·|•\u{2028}\n".contains($0) } ?? t.endIndex
        return t[..<cut].trimmingWhitespace()
    }

    /// The first byline element's text (`rel="author"`, `itemprop="author"`, a byline or author
    /// name), when short enough to be a name.
    static func bylineElement(_ index: PageIndex, _ pruning: Pruning) -> String? {
        // Article headers are often named like page chrome (`entry-header`): look outside
        // any chrome first, then outside hard chrome (nav, aside, footer, hidden), never in comments.
        for pass in 0..<2 {
            for i in 0..<index.count where index.words[i].contains(.byline) || Self.relAuthor(index.node[i]) {
                if pass == 0 ? pruning.isChrome(i) && !Self.relAuthor(index.node[i]) : pruning.isHardChrome(i) { continue }
                let chars = index.chars[i]
                guard chars > 1, chars < 100, !index.insideComments(i) else { continue }
                let text = cleanByline(HTMLText.raw(HTMLNode(index.node[i])))
                if !text.isEmpty, text.unicodeScalars.count < 80, WrittenDate.parse(text) == nil { return text }
            }
        }
        return nil
    }

    static func relAuthor(_ x: xmlNodePtr) -> Bool {
        PageIndex.attribute(x, "rel")?.lowercased() == "author"
    }

    /// `<time datetime>` (or `<time>` text), else a date-named element's text: outside any
    /// page chrome first, then outside hard chrome (a WordPress `entry-header` is named like
    /// chrome); never inside comments.
    static func timeElement(_ index: PageIndex, _ pruning: Pruning) -> String? {
        for pass in 0..<2 {
            func skip(_ i: Int) -> Bool {
                (pass == 0 ? pruning.isChrome(i) : pruning.isHardChrome(i)) || index.insideComments(i)
            }
            for i in 0..<index.count where index.tag[i] == .time && !skip(i) {
                if let dt = PageIndex.attribute(index.node[i], "datetime"), let d = WrittenDate.parse(dt) { return d }
                if let d = WrittenDate.parse(HTMLText.raw(HTMLNode(index.node[i]))) { return d }
            }
            for i in 0..<index.count where index.words[i].contains(.date) && index.chars[i] < 80 && index.chars[i] > 5 && !skip(i) {
                if let d = WrittenDate.parse(HTMLText.raw(HTMLNode(index.node[i]))) { return d }
            }
        }
        return nil
    }

    /// `/2024/03/05/` or `/2024-03-05/` in the path.
    static func dateFromPath(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        for (k, p) in parts.enumerated() where p.count == 4 {
            guard let y = Int(p), (1990...2100).contains(y), k + 2 < parts.count,
                  let m = Int(parts[k + 1]), parts[k + 1].count <= 2, (1...12).contains(m),
                  let d = Int(parts[k + 2]), parts[k + 2].count <= 2, (1...31).contains(d) else { continue }
            return UTCTime.fullDate(y, m, d)
        }
        return nil
    }
}
