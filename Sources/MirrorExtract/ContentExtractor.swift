import CLibXML2
import Foundation
import MirrorCore
import MirrorMarkup

/// Article extraction for ordinary HTML pages: which part of the page is the article, and its
/// paragraphs.
///
/// Two ways of finding the article run on the same `PageIndex`, and the better one wins:
/// - **Content names** (trafilatura's BODY_XPATH): the first element named like an article body
///   (`itemprop="articleBody"`, `entry-content`, `article-body`, `post-content`, …), else the
///   first `<article>`, else story/text names, else `content`/`main-content`, else `<main>` or
///   a `main…` name.
/// - **Scoring** (Arc90's Readability as kept in Readability.js): page chrome (unlikely class
///   names, chrome roles, `nav`/`aside`/`footer`, hidden elements) is set aside; every
///   paragraph-like block of 25 characters or more gives 1 + its commas + one point per 100
///   characters (at most 3) to its parent, half to its grandparent and a third of a level to
///   the three above; a container starts from its tag and class/id weight, its total is scaled
///   by (1 − link density); the best one, moved up where its parent or several near-equal
///   candidates share an ancestor, is joined by its siblings that score well or read as prose.
///
/// The chosen container is then rendered to paragraphs the way a browser lays out blocks
/// (`<p>`, headings, list items, table rows, quotes, text between `<br><br>`), leaving out
/// boilerplate inside it (share bars, related links, bylines, captions, comment threads, forms,
/// link lists) unless that would leave out nearly everything. When it says too little, every
/// paragraph of the page outside the chrome is gathered instead, a JSON-LD `articleBody`
/// is used when it says more, and a page where none of that finds text gets its visible
/// main text (`Extraction.fallback`).
enum ContentExtractor {
    /// Below this many characters an extraction "says too little" (trafilatura's
    /// `min_extracted_size`).
    static let minExtractedSize = 250

    /// `MIRRORD_EXTRACT_TRACE=1` prints each decision to stderr (for working on the rules).
    static let tracing = getenv("MIRRORD_EXTRACT_TRACE") != nil

    static func trace(_ message: @autoclosure () -> String) {
        if tracing { FileHandle.standardError.write(Data(("extract: " + message() + "\n").utf8)) }
    }

    /// `tag#id.class` of element `i`, for traces.
    static func describe(_ index: PageIndex, _ i: Int) -> String {
        let n = index.node[i]
        var s = "\(index.tag[i] == .other ? String(cString: n.pointee.name) : "\(index.tag[i])")[\(i)]"
        if let id = PageIndex.attribute(n, "id") { s += "#" + id }
        if let c = PageIndex.attribute(n, "class") { s += "." + c.split(separator: " ").joined(separator: ".") }
        return s + " chars=\(index.chars[i]) links=\(index.linkChars[i])"
    }

    static func extract(_ document: HTMLDocument, pageURL: URI, container forced: HTMLNode? = nil) -> ParsedArticle {
        let index = PageIndex(document)
        var article = ParsedArticle()
        guard index.count > 0 else { return article }
        let baseURL = index.baseHref.flatMap { pageURL.resolving($0.trimmingWhitespace()) } ?? pageURL
        let pruning = Pruning(index: index)
        let metadata = PageMetadata(index: index, pruning: pruning, pageURL: pageURL)
        article.title = metadata.title
        article.published = metadata.published
        article.reporter = metadata.author

        var body: Body
        if let forced, let i = PageIndex.index(of: forced.ptr) {
            body = pruning.render([i], title: metadata.title)
        } else {
            body = chooseBody(index: index, pruning: pruning, title: metadata.title)
        }
        // A source's `content_xpath` is the user's word: no second guess, however short.
        let chosenByRule = forced != nil && !body.paragraphs.isEmpty
        if body.chars < minExtractedSize, !chosenByRule {
            let wild = pruning.renderWild(title: metadata.title)
            // (A short body keeps the page's date lines: a notice's `发布时间：…` row sits
            // beside the cell that holds its text.)
            if wild.chars > body.chars { body = wild } else { body.furniture += wild.furniture }
        }
        if !chosenByRule, let ld = metadata.articleBody,
           ld.reduce(0, { $0 + $1.unicodeScalars.count }) > 2 * max(body.chars, minExtractedSize / 2) {
            body = Body(paragraphs: ld, containers: body.containers)
        }
        if body.paragraphs.isEmpty {
            let visible = FallbackText.paragraphs(index: index, title: metadata.title)
            if !visible.isEmpty {
                body = Body(paragraphs: visible, containers: [index.body])
                article.extraction = .fallback
            }
        }

        // Datelines, editor lines (Chinese news pages) and the rest of the body.
        for var text in body.paragraphs {
            if article.source == nil, article.paragraphs.count < 3, let (line, rest) = Dateline.parse(prefixOf: text) {
                article.source = line.source
                article.published = article.published ?? line.date
                article.reporter = article.reporter ?? line.reporter
                text = rest
                if text.isEmpty { continue }
            }
            if let editor = editorLine(text) {
                article.editor = editor
                continue
            }
            article.paragraphs.append(text)
        }
        // An editor line the furniture rules took out of the body (`（责任编辑：骆平）`).
        for line in body.furniture where article.editor == nil {
            article.editor = editorLine(line)
        }
        if article.source == nil || article.reporter == nil || article.editor == nil,
           let info = infoLine(index: index, pruning: pruning, body: body, title: article.title) {
            article.source = article.source ?? info.source
            article.reporter = article.reporter ?? info.reporter
            article.editor = article.editor ?? info.editor
            article.published = article.published ?? info.published
        }
        if article.published == nil,
           let d = metadata.publishedFromText(ArraySlice(body.furniture.prefix(3) + article.paragraphs.prefix(3))) {
            article.published = d
        }
        collectMedia(index: index, containers: body.containers, baseURL: baseURL, pruning: pruning, into: &article)
        return article
    }

    /// `责任编辑：张三` or `（责任编辑：张三）` alone on a line (at most 44 characters) → `张三`.
    static func editorLine(_ text: String) -> String? {
        guard text.unicodeScalars.count <= 44 else { return nil }
        var scalars = Substring(text).unicodeScalars
        while let f = scalars.first, f == "（" || f == "(" { scalars.removeFirst() }
        while let l = scalars.last, l == "）" || l == ")" { scalars.removeLast() }
        return ArticleExtractor.editorName(String(scalars))
    }

    /// A rendered body: paragraphs and the containers they came from.
    struct Body {
        var paragraphs: [String]
        var containers: [Int]
        /// Lines left out as furniture (`BoilerplateLine`): a date line among them still dates
        /// the article.
        var furniture: [String] = []
        var chars: Int { paragraphs.reduce(0) { $0 + $1.count } }
    }

    // MARK: choosing

    static func chooseBody(index: PageIndex, pruning: Pruning, title: String?) -> Body {
        let named = namedCandidates(index: index, pruning: pruning)
        var byName: Body?
        for group in named {
            let b = pruning.render(group, title: title)
            trace("named \(group.map { describe(index, $0) }) → \(b.paragraphs.count) paragraphs, \(b.chars) chars")
            if b.paragraphs.count > 1 || b.chars >= minExtractedSize { byName = b; break }
        }
        var best = Scoring(index: index, pruning: pruning).best()
        var scored = best.map { pruning.render($0, title: title) }
        if (scored?.chars ?? 0) < 500 {
            // Readability's retry with unlikely-named elements kept.
            let retry = Scoring(index: index, pruning: pruning, stripSoftChrome: false).best()
            let again = retry.map { pruning.render($0, title: title) }
            if let again, again.chars > scored?.chars ?? 0 { (best, scored) = (retry, again) }
        }
        if let best, let scored { trace("scored \(best.map { describe(index, $0) }) → \(scored.paragraphs.count) paragraphs, \(scored.chars) chars") }
        // The whole page body is the article only when no content-named container exists.
        if byName != nil, let b = best, b == [index.body] { (best, scored) = (nil, nil) }
        switch (byName, scored) {
        case (nil, nil): return Body(paragraphs: [], containers: [])
        case (let b?, nil): return b
        case (nil, let s?): return s
        case (let b?, let s?):
            let inside = { (inner: Body, outer: Body) in
                inner.containers.allSatisfy { i in outer.containers.contains { $0 == i || index.isAncestor($0, of: i) } }
            }
            // Scoring found the article inside the named container, which adds little to it
            // but what follows it (related links, share bars): the named container up to
            // the end of the scored one, so a lead paragraph before it stays.
            if inside(s, b), s.chars * 5 >= b.chars * 3, let last = s.containers.map({ Int(index.end[$0]) }).max() {
                return pruning.render(b.containers, title: title, until: last)
            }
            // Otherwise the named container is trusted unless scoring found far more text
            // (trafilatura's `compare_extraction`: readability wins when over twice as long).
            return s.chars > 2 * b.chars ? s : b
        }
    }

    /// Content-named containers, tier by tier (trafilatura's BODY_XPATH order): in each tier
    /// the first element in document order that is not chrome, with its consecutive siblings
    /// of the same name (an article body cut in two by an ad).
    static func namedCandidates(index: PageIndex, pruning: Pruning) -> [[Int]] {
        var tiers: [[Int]] = []
        func first(_ matches: (Int) -> Bool) -> [Int]? {
            // A teaser (mostly its link) is not the article, however it is named.
            func prose(_ i: Int) -> Bool { index.chars[i] > 0 && index.linkDensity(i) < 0.5 }
            for i in 0..<index.count where matches(i) && !pruning.isHardChrome(i) && prose(i) {
                // Siblings named the same way join it, or sharing its class (`<div id="story"
                // class="txt">` continued by `<div class="txt">` after an ad).
                var group = [i]
                let p = index.parent[i]
                let cls = PageIndex.attribute(index.node[i], "class").flatMap { $0.isEmpty ? nil : $0 }
                var j = Int(index.end[i]) + 1
                while j < index.count, index.parent[j] == p {
                    if index.tag[j] == index.tag[i], prose(j),
                       index.words[j] == index.words[i] || (cls != nil && PageIndex.attribute(index.node[j], "class") == cls) {
                        group.append(j)
                    }
                    j = Int(index.end[j]) + 1
                }
                return group
            }
            return nil
        }
        let containerTags: Set<Tag> = [.div, .article, .main, .section, .td]
        if let g = first({ index.words[$0].contains(.content1) && containerTags.contains(index.tag[$0]) }) { tiers.append(g) }
        if let g = first({ index.tag[$0] == .article }) { tiers.append(g) }
        if let g = first({ index.words[$0].contains(.content3) && containerTags.contains(index.tag[$0]) }) { tiers.append(g) }
        if let g = first({ index.words[$0].contains(.content4) && containerTags.contains(index.tag[$0]) }) { tiers.append(g) }
        if let g = first({ (index.words[$0].contains(.content5) && containerTags.contains(index.tag[$0])) || index.tag[$0] == .main }) {
            tiers.append(g)
        }
        return tiers
    }

    // MARK: images and links

    static func collectMedia(index: PageIndex, containers: [Int], baseURL: URI, pruning: Pruning, into article: inout ParsedArticle) {
        var seenImages = Set<String>()
        for c in containers {
            HTMLNode(index.node[c]).walk { n in
                guard n.isElement else { return false }
                if let i = PageIndex.index(of: n.ptr), i != c, pruning.isChrome(i) { return false }
                if n.isElement(named: "a"), let href = n.attribute("href")?.trimmingWhitespace(), !href.hasPrefix("#"),
                   let url = baseURL.resolving(href), url.scheme == "http" || url.scheme == "https" {
                    let text = TextNormalizer.normalizeDecoded(HTMLText.raw(n))
                    if !text.isEmpty { article.links.append(ArticleLink(url: url.description, text: text)) }
                }
                if n.isElement(named: "video") {
                    article.videos += VideoSource.videos(of: n, pageURL: baseURL)
                    return false
                }
                if n.isElement(named: "img"), !ArticleExtractor.isZeroSize(n), let url = ImageSource.url(of: n, pageURL: baseURL),
                   url.scheme == "http" || url.scheme == "https" || url.scheme == "file", seenImages.insert(url.description).inserted {
                    let alt = n.attribute("alt").map(TextNormalizer.normalizeDecoded).flatMap { $0.isEmpty ? nil : $0 }
                    article.images.append(ArticleImage(src: url.description, alt: alt, caption: ArticleExtractor.caption(of: n)))
                }
                return true
            }
        }
    }
}

/// Which elements are left out: page chrome for scoring (`isChrome`), and boilerplate inside a
/// chosen container (`selfBoilerplate`).
///
/// Chrome comes in two strengths. *Hard* chrome is hidden, has a chrome role or a chrome tag
/// (`nav`, `aside`, `footer`, `menu`, `dialog`, `noscript`, a `form` without prose). *Soft* chrome is
/// only named like it (Readability's unlikely candidates that are not also "maybe" words,
/// comment threads): a layout wrapper called `zen-one-sidebar-second` can hold the article,
/// so soft chrome is set aside only while that leaves enough (Readability's retry without
/// FLAG_STRIP_UNLIKELYS, trafilatura's pruning backup).
struct Pruning {
    let index: PageIndex
    private var hard: [Bool]
    private var soft: [Bool]
    /// Hard chrome by itself or through an ancestor.
    private var hardBelow: [Bool]
    /// Any chrome by itself or through an ancestor.
    private var chromeBelow: [Bool]

    init(index: PageIndex) {
        self.index = index
        let n = index.count
        hard = [Bool](repeating: false, count: n)
        soft = hard
        hardBelow = hard
        chromeBelow = hard
        let total = max(1, index.chars[index.body])
        for i in 0..<n {
            let p = Int(index.parent[i])
            (hard[i], soft[i]) = Self.selfChrome(index, i, pageChars: total)
            hardBelow[i] = (p >= 0 && hardBelow[p]) || hard[i]
            chromeBelow[i] = (p >= 0 && chromeBelow[p]) || hard[i] || soft[i]
        }
    }

    /// Hard and soft chrome of element `i` by itself; an element holding most of the page's
    /// text is neither (it is a wrapper, whatever its name).
    static func selfChrome(_ index: PageIndex, _ i: Int, pageChars: Int32) -> (hard: Bool, soft: Bool) {
        let t = index.tag[i]
        if t == .body || t == .html || index.chars[i] * 2 >= pageChars { return (false, false) }
        let f = index.flags[i], w = index.words[i]
        var hard = f.contains(.hidden) || f.contains(.unlikelyRole)
        switch t {
        case .nav, .aside, .footer, .menu, .dialog, .noscript: hard = true
        default: break
        }
        var soft = w.contains(.comments)
        // A form is a search box, a login or a comment form, unless it holds prose: shop and
        // plugin pages wrap a whole product description in one `<form>` (its order button).
        if t == .form {
            if index.paragraphs[i] > 0 && index.chars[i] >= 200 && index.linkDensity(i) < 0.3 { soft = true } else { hard = true }
        }
        // Readability.js spares links and table parts (`table-header` is not page chrome).
        switch t {
        case .a, .table, .thead, .tbody, .tr, .td, .th, .p, .li, .h1, .h2, .h3, .h4, .h5, .h6: break
        default: if w.contains(.unlikely) && !w.contains(.maybe) && !w.contains(.content1) { soft = true }
        }
        return (hard, soft)
    }

    /// Chrome, hard or soft, by itself or through an ancestor.
    func isChrome(_ i: Int) -> Bool { chromeBelow[i] }

    /// Hard chrome by itself or through an ancestor.
    func isHardChrome(_ i: Int) -> Bool { hardBelow[i] }

    /// Boilerplate inside a container: chrome, trafilatura's discard names, captions, teasers,
    /// and Readability's conditional cleaning (link lists, image galleries, form blocks).
    ///
    /// - Parameter containerChars: the text of the container being rendered: an element
    ///   *named* like boilerplate that holds two fifths of it as prose (a news item called
    ///   `teaserTyp3 newsSingle`) is the article, not a teaser.
    func selfBoilerplate(_ i: Int, containerChars: Int32 = .max) -> Bool {
        if hard[i] { return true }
        let t = index.tag[i], w = index.words[i]
        // (A list or a comment thread is never the article's wrapper: a `related_post` list of
        // excerpts, or the house rules above the comments, can hold half a short post's text.)
        let mostOfIt = Int64(index.chars[i]) * 5 >= Int64(containerChars) * 2 && index.linkDensity(i) < 0.3
            && t != .ul && t != .ol && t != .dl && t != .li && !w.contains(.comments)
        if soft[i] { return !mostOfIt }
        if t == .figure || t == .figcaption || t == .time || t == .caption { return true }
        if t == .body || t == .html { return false }
        // Names say boilerplate only on the blocks trafilatura's discard list looks at.
        switch t {
        case .div, .section, .ul, .ol, .dl, .li, .p, .span, .other:
            if !w.isDisjoint(with: [.discard, .caption, .teaser]) && !w.contains(.content1) && !mostOfIt { return true }
        default:
            break
        }
        return linkHeavy(i)
    }

    /// Readability.js `_cleanConditionally` and trafilatura's `link_density_test`: blocks that are
    /// mostly links (navigation, related stories, tag clouds) or otherwise not prose.
    func linkHeavy(_ i: Int) -> Bool {
        let t = index.tag[i]
        let chars = Int(index.chars[i]), links = Int(index.linkChars[i])
        guard chars > 0 else { return false }
        let density = Double(links) / Double(chars)
        switch t {
        case .p:
            return chars < 60 && density > 0.8
        case .ul, .ol, .div, .section, .table, .dl, .article, .header, .center, .other, .span:
            guard index.commas[i] < 10 else { return false }
            // An inline run that is a small part of its block's text (a linked word, a `<ruby>`
            // inside a dictionary link) belongs to the sentence around it: the block decides.
            if t == .other || t == .span, !index.flags[i].contains(.hasBlockDescendant) {
                var b = Int(index.parent[i])
                while b >= 0, !index.tag[b].isBlock { b = Int(index.parent[b]) }
                if b >= 0, index.chars[i] * 2 < index.chars[b] { return false }
            }
            let weight = (index.words[i].contains(.positive) ? 25 : 0) - (index.words[i].contains(.negative) ? 25 : 0)
            let isList = t == .ul || t == .ol
            if chars < 300 && density > 0.8 { return true }
            if !isList && weight < 25 && density > 0.5 && chars < 1000 { return true }
            if weight >= 25 && density > 0.5 { return true }
            if isList && density > 0.5 && index.paragraphs[i] == 0 { return true }
            let p = Int(index.paragraphs[i]), img = Int(index.images[i])
            if img > 1 && Double(p) / Double(img) < 0.5 && chars < 200 { return true }
            if Int(index.inputs[i]) > p / 3 + 1 { return true }
            return false
        default:
            return false
        }
    }

    // MARK: rendering

    /// The paragraphs of `containers`, in order, boilerplate left out. When leaving it out
    /// would drop more than six sevenths of their text (trafilatura's `prune_unwanted_nodes`
    /// backup), only chrome is left out, and if that is still too much, only hard chrome.
    /// - Parameter until: leave out every element after this one.
    func render(_ containers: [Int], title: String?, until: Int = .max) -> ContentExtractor.Body {
        let total = containers.reduce(0) { $0 + Int(index.chars[$1]) }
        func keepsEnough(_ skip: (Int) -> Bool) -> Bool {
            var dropped = 0
            for c in containers {
                var i = c + 1
                let last = Int(index.end[c])
                while i <= last {
                    if skip(i) { dropped += Int(index.chars[i]); i = Int(index.end[i]) + 1 } else { i += 1 }
                }
            }
            return total - dropped > total / 7
        }
        let whole = Int32(clamping: total)
        let boilerplate: (Int) -> Bool = { selfBoilerplate($0, containerChars: whole) }
        let level = keepsEnough(boilerplate) ? 0 : keepsEnough({ hard[$0] || soft[$0] }) ? 1 : 2
        let skip: (Int) -> Bool = { i in i > until || (level == 0 ? boilerplate(i) : level == 1 ? hard[i] || soft[i] : hard[i]) }
        if ContentExtractor.tracing {
            ContentExtractor.trace("  render without \(["boilerplate", "chrome", "hard chrome"][level])")
            for c in containers {
                var i = c + 1
                while i <= Int(index.end[c]) {
                    if skip(i) {
                        ContentExtractor.trace("  skip \(ContentExtractor.describe(index, i))\(hard[i] ? " (hard)" : soft[i] ? " (soft)" : "")")
                        i = Int(index.end[i]) + 1
                    } else { i += 1 }
                }
            }
        }
        var renderer = BlockRenderer(index: index, skip: skip)
        for c in containers { renderer.render(c) }
        var blocks = renderer.blocks
        if containers == [index.body] { blocks.removeAll { Self.isCounterLine($0.text) } }
        let (paragraphs, furniture) = Self.clean(blocks, title: title)
        return ContentExtractor.Body(paragraphs: paragraphs, containers: containers, furniture: furniture)
    }

    /// A clock, a date or a counter (`2024-12-04 星期三 09:41:07`, `访问量：102938`, `Views: 1,204`):
    /// at most 40 characters, at least two digits and at most eight other letters. Left out
    /// of a body that is the whole page (and of fallback text), where it would make every
    /// fetch a revision; inside an article container such a line may be a table row.
    static func isCounterLine(_ text: String) -> Bool {
        var n = 0, digits = 0, letters = 0
        for u in text.unicodeScalars {
            n += 1
            if n > 40 { return false }
            if u.properties.numericType != nil { digits += 1 } else if u.properties.isAlphabetic { letters += 1 }
        }
        return digits >= 2 && letters <= 8
    }

    /// Every paragraph, quote, list and table of the page outside chrome and boilerplate
    /// (trafilatura's `recover_wild_text`), for pages whose article container says too little.
    func renderWild(title: String?) -> ContentExtractor.Body {
        var renderer = BlockRenderer(index: index, skip: { i in selfBoilerplate(i) })
        var roots: [Int] = []
        var i = index.body
        while i < index.count {
            if chromeBelow[i] || selfBoilerplate(i) { i = Int(index.end[i]) + 1; continue }
            switch index.tag[i] {
            case .p, .blockquote, .pre, .table, .ul, .ol, .dl:
                roots.append(i)
                renderer.render(i)
                i = Int(index.end[i]) + 1
            default:
                i += 1
            }
        }
        let (paragraphs, furniture) = Self.clean(renderer.blocks, title: title)
        return ContentExtractor.Body(paragraphs: paragraphs, containers: roots, furniture: furniture)
    }

    /// Characters beyond which a heading is prose (a blog setting its paragraphs in `<h3>`s):
    /// section titles are short. Chinese and Japanese say as much in far fewer characters:
    /// for mostly-CJK text the limit is `proseHeadingCJK`.
    static let proseHeading = 100
    static let proseHeadingCJK = 40

    static func isProseHeading(_ text: String) -> Bool {
        var n = 0, cjk = 0
        for s in text.unicodeScalars {
            n += 1
            if TextNormalizer.isCJK(s) { cjk += 1 }
        }
        return n > (cjk * 2 > n ? proseHeadingCJK : proseHeading)
    }

    /// Drops the title repeated as a heading, trailing headings, short link-only lines,
    /// furniture lines (`BoilerplateLine`: returned apart) and a paragraph repeating the one
    /// before.
    static func clean(_ blocks: [BlockRenderer.Block], title: String?) -> (paragraphs: [String], furniture: [String]) {
        var furniture: [String] = []
        let canonicalTitle = title.map(TextNormalizer.canonical) ?? ""
        var kept: [BlockRenderer.Block] = []
        for b in blocks {
            if b.text.isEmpty { continue }
            let chars = b.text.count
            if b.isHeading || chars < 200, !canonicalTitle.isEmpty {
                // The title again, or the headline the title adds the site name to.
                let c = TextNormalizer.canonical(b.text)
                if c == canonicalTitle || (b.isHeading && c.count * 3 >= canonicalTitle.count && canonicalTitle.contains(c)) { continue }
            }
            if chars < 60 && b.linkShare > 0.8 && !b.isPre { continue }
            if !b.isPre, BoilerplateLine.matches(b.text, linkShare: b.linkShare) { furniture.append(b.text); continue }
            if let last = kept.last, last.text == b.text, chars > 50 { continue }
            kept.append(b)
        }
        // A heading that ends the body titles what came after it (comments, related stories);
        // one over `proseHeading` characters is the body's own text set as a heading.
        while let last = kept.last, last.isHeading, !isProseHeading(last.text) { kept.removeLast() }
        return (kept.map(\.text), furniture)
    }
}

/// Renders an element's subtree to paragraphs as a browser lays out blocks: each block-level
/// element (`p`, `div`, headings, `li`, `tr`, `blockquote`, …) starts and ends a paragraph,
/// text between two `<br>`s is a paragraph of its own, inline elements run together, table
/// cells of a row are joined by a space. White space is collapsed (kept inside `<pre>`); entities
/// were decoded once by the parser and are not decoded again.
struct BlockRenderer {
    struct Block {
        var text: String
        var isHeading: Bool
        var isPre: Bool
        /// The share of its non-space characters inside links.
        var linkShare: Double
    }

    let index: PageIndex
    let skip: (Int) -> Bool
    var blocks: [Block] = []
    private var buffer: [UInt8] = []
    /// Non-space characters in `buffer`, and those inside links.
    private var letters = 0
    private var linkLetters = 0
    private var heading = false
    private var pre = false
    private var breaks = 0

    init(index: PageIndex, skip: @escaping (Int) -> Bool) {
        self.index = index
        self.skip = skip
    }

    private mutating func flush() {
        breaks = 0
        defer { buffer.removeAll(keepingCapacity: true); letters = 0; linkLetters = 0; heading = false; pre = false }
        guard !buffer.isEmpty else { return }
        let raw = String(decoding: buffer, as: UTF8.self)
        let text = pre ? Self.trimLines(raw) : TextNormalizer.normalizeDecoded(raw)
        guard !text.isEmpty else { return }
        blocks.append(Block(text: text, isHeading: heading, isPre: pre, linkShare: letters > 0 ? Double(linkLetters) / Double(letters) : 0))
    }

    /// `<pre>` text: trailing spaces and blank lines at both ends removed, inner lines kept.
    static func trimLines(_ s: String) -> String {
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingWhitespace(newlines: false) }
        let first = lines.firstIndex { !$0.isEmpty } ?? lines.endIndex
        let last = lines.lastIndex { !$0.isEmpty } ?? first
        return first < lines.endIndex ? lines[first...last].joined(separator: "\n") : ""
    }

    mutating func render(_ root: Int) {
        flush()
        visit(index.node[root])
        flush()
    }

    private mutating func visit(_ rootNode: xmlNodePtr) {
        // Iterative pre-order walk with an explicit exit step for block elements.
        var stack: [(xmlNodePtr, Bool)] = [(rootNode, false)]
        while let (n, exiting) = stack.popLast() {
            if exiting {
                if let i = PageIndex.index(of: n) {
                    let t = index.tag[i]
                    if t.isBlock { flush() } else if t == .td || t == .th { buffer.append(0x20) }
                }
                continue
            }
            switch n.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                guard let c = n.pointee.content else { continue }
                let length = strlen(UnsafeRawPointer(c).assumingMemoryBound(to: CChar.self))
                if length == 0 { continue }
                // A line of text after `<br><br>` starts a new paragraph.
                var allSpace = true
                for k in 0..<length where !(c[k] == 0x20 || c[k] == 0x0A || c[k] == 0x09 || c[k] == 0x0D) { allSpace = false; break }
                if breaks >= 2 && !allSpace { flush() }
                if !allSpace { breaks = 0 }
                var count = 0
                for k in 0..<length {
                    let b = c[k]
                    if b & 0xC0 != 0x80 && b != 0x20 && b != 0x0A && b != 0x09 && b != 0x0D { count += 1 }
                }
                letters += count
                if let p = n.pointee.parent, let pi = PageIndex.index(of: p), index.flags[pi].contains(.inLink) {
                    linkLetters += count
                }
                buffer.append(contentsOf: UnsafeBufferPointer(start: c, count: length))
                continue
            case XML_ELEMENT_NODE:
                break
            default:
                continue
            }
            guard let i = PageIndex.index(of: n) else { continue }  // a removed tag (script, …)
            if n != rootNode && skip(i) {
                if index.tag[i].isBlock { flush() }
                continue
            }
            let t = index.tag[i]
            if t == .br {
                breaks += 1
                buffer.append(0x0A)
                continue
            }
            if t.isBlock {
                flush()
                if t.isHeading { heading = true }
                if t == .pre { pre = true }
            }
            stack.append((n, true))
            // Children in reverse, so the first is visited first.
            var last = n.pointee.children
            while let next = last?.pointee.next { last = next }
            while let c = last {
                stack.append((c, false))
                last = c.pointee.prev
            }
        }
    }
}

/// Readability.js's candidate scoring (`_grabArticle`) over a `PageIndex`.
struct Scoring {
    let index: PageIndex
    let pruning: Pruning
    /// Whether soft chrome is set aside too (Readability's FLAG_STRIP_UNLIKELYS).
    var stripSoftChrome = true

    func excluded(_ i: Int) -> Bool { stripSoftChrome ? pruning.isChrome(i) : pruning.isHardChrome(i) }

    /// Tag part of a candidate's starting score (`_initializeNode`).
    static func tagScore(_ t: Tag) -> Double {
        switch t {
        case .div: return 5
        case .pre, .td, .blockquote: return 3
        case .address, .ol, .ul, .dl, .dd, .dt, .li, .form: return -3
        case .h1, .h2, .h3, .h4, .h5, .h6, .th: return -5
        default: return 0
        }
    }

    func classWeight(_ i: Int) -> Double {
        var w = 0.0
        if index.words[i].contains(.negative) { w -= 25 }
        if index.words[i].contains(.positive) { w += 25 }
        return w
    }

    /// The article's elements: the top candidate and the siblings that join it, in order.
    func best() -> [Int]? {
        let n = index.count
        var score = [Double](repeating: 0, count: n)
        var scored = [Bool](repeating: false, count: n)
        var candidates: [Int] = []
        func add(_ a: Int, _ points: Double) {
            if !scored[a] {
                scored[a] = true
                score[a] = Self.tagScore(index.tag[a]) + classWeight(a)
                candidates.append(a)
            }
            score[a] += points
        }
        for i in 0..<n where !excluded(i) {
            let t = index.tag[i]
            let length: Int32
            var first = Int(index.parent[i])
            let divLike = t == .div || t == .section || t == .article || t == .center || t == .main
            if t == .p || t == .pre || t == .td {
                length = index.chars[i]
            } else if divLike && !index.flags[i].contains(.hasBlockDescendant) {
                // A div with no block inside reads as a paragraph (DIV_TO_P_ELEMS).
                length = index.chars[i]
            } else if divLike {
                // Its own inline text, which Readability wraps in a paragraph of its own.
                length = index.ownChars[i]
                first = i
            } else {
                continue
            }
            guard length >= 25, first >= 0 else { continue }
            let commas = first == i ? 0 : Double(index.commas[i])
            let points = 1 + commas + min(Double(length / 100), 3)
            var a = first
            for level in 0..<5 {
                guard a >= 0, index.tag[a] != .html else { break }
                add(a, points / (level == 0 ? 1 : level == 1 ? 2 : Double(level) * 3))
                a = Int(index.parent[a])
            }
        }
        guard !candidates.isEmpty else { return nil }
        for c in candidates { score[c] *= 1 - min(1, index.linkDensity(c)) }
        // An element of a hundred characters is no article body, whatever its name adds.
        let ranked = candidates.sorted { a, b in
            let (bigA, bigB) = (index.chars[a] >= 100, index.chars[b] >= 100)
            return bigA != bigB ? bigA : score[a] > score[b]
        }
        if ContentExtractor.tracing {
            for c in ranked.prefix(5) { ContentExtractor.trace("  candidate \(ContentExtractor.describe(index, c)) score=\(Int(score[c]))") }
        }
        var top = ranked[0]
        guard score[top] > 0 else { return nil }
        // Readability.js: when the body itself scores best, the page is the article.
        if index.tag[top] == .body { return [top] }

        // Several near-equal candidates under one ancestor: that ancestor is the article.
        let alternatives = ranked.dropFirst().prefix(4).filter { score[$0] / score[top] >= 0.75 }
        if alternatives.count >= 3 {
            var p = Int(index.parent[top])
            while p >= 0, index.tag[p] != .body {
                if alternatives.filter({ index.isAncestor(p, of: $0) }).count >= 3 { top = p; break }
                p = Int(index.parent[p])
            }
        }
        // A parent that scores higher holds more of the article.
        var last = score[top]
        var p = Int(index.parent[top])
        while p >= 0, index.tag[p] != .body {
            if !scored[p] { p = Int(index.parent[p]); continue }
            if score[p] < last / 3 { break }
            if score[p] > last { top = p; break }
            last = score[p]
            p = Int(index.parent[p])
        }
        // An only child: its parent.
        p = Int(index.parent[top])
        while p >= 0, index.tag[p] != .body, elementChildren(p).count == 1 {
            top = p
            p = Int(index.parent[top])
        }
        let topScore = max(score[top], 0)
        // Siblings that join (Readability's sibling threshold, or prose paragraphs).
        guard let parent = Optional(Int(index.parent[top])), parent >= 0 else { return [top] }
        let threshold = max(10, topScore * 0.2)
        var out: [Int] = []
        for s in elementChildren(parent) {
            if s == top { out.append(s); continue }
            if excluded(s) { continue }
            var bonus = 0.0
            if index.words[s] == index.words[top], !index.words[top].isEmpty { bonus = topScore * 0.2 }
            if scored[s] && score[s] + bonus >= threshold { out.append(s); continue }
            if index.tag[s] == .p || (index.tag[s] == .div && !index.flags[s].contains(.hasBlockDescendant)) {
                let length = Int(index.chars[s]), density = index.linkDensity(s)
                if length > 80 && density < 0.25 { out.append(s); continue }
                if length > 0 && length <= 80 && density == 0, sentenceEnd(s) { out.append(s) }
            }
        }
        return out
    }

    func elementChildren(_ p: Int) -> [Int] {
        var out: [Int] = []
        var j = p + 1
        let last = Int(index.end[p])
        while j <= last {
            out.append(j)
            j = Int(index.end[j]) + 1
        }
        return out
    }

    /// Readability's `/\.( |$)/` on a short paragraph.
    func sentenceEnd(_ i: Int) -> Bool {
        let t = HTMLText.raw(HTMLNode(index.node[i]))
        return t.contains(". ") || t.trimmingWhitespace().hasSuffix(".") || t.trimmingWhitespace().hasSuffix("。")
    }
}
