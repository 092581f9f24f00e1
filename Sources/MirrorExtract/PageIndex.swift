import CLibXML2
import Foundation
import MirrorCore
import MirrorMarkup

/// The HTML tags extraction tells apart; everything else is `.other` (an inline element).
enum Tag: UInt8 {
    case other
    // Never content: their subtrees are not indexed at all.
    case script, style, template, svg, math, iframe, object, embed, canvas, select, textarea, button
    case input, option, datalist, map, audio, video, source, track, frameset, frame, applet
    /// Ruby annotations (furigana readings above the base text, and their fallback parentheses):
    /// the text is the base, as extractors and search engines read it.
    case rt, rp
    case head
    // Page structure and text.
    case html, body, title, meta, link, base
    /// Page chrome, not removed: an unclosed `<div>` inside it can swallow the rest of the page
    /// in an HTML4 parser (browsers read it as raw text), and then it holds the article.
    case noscript
    case nav, header, footer, aside, menu, form, fieldset, label, dialog
    case main, article, section, div, p, span, a, img, picture, figure, figcaption
    case h1, h2, h3, h4, h5, h6
    case ul, ol, li, dl, dt, dd
    case blockquote, pre, code, q
    case table, tr, td, th, caption, thead, tbody, tfoot
    case br, hr, time, address, center, details, summary

    static let byName: [String: Tag] = {
        var m: [String: Tag] = [:]
        let all: [Tag] = [.script, .style, .noscript, .template, .svg, .math, .iframe, .object, .embed, .canvas, .select,
                          .textarea, .button, .input, .option, .datalist, .map, .audio, .video, .source, .track, .frameset,
                          .frame, .applet, .rt, .rp, .head, .html, .body, .title, .meta, .link, .base, .nav, .header, .footer, .aside,
                          .menu, .form, .fieldset, .label, .dialog, .main, .article, .section, .div, .p, .span, .a, .img,
                          .picture, .figure, .figcaption, .h1, .h2, .h3, .h4, .h5, .h6, .ul, .ol, .li, .dl, .dt, .dd,
                          .blockquote, .pre, .code, .q, .table, .tr, .td, .th, .caption, .thead, .tbody, .tfoot, .br, .hr,
                          .time, .address, .center, .details, .summary]
        for t in all { m["\(t)"] = t }
        return m
    }()

    /// Whose subtree holds nothing a reader sees as text (`head` is walked for its metadata only).
    var isRemoved: Bool { rawValue >= Tag.script.rawValue && rawValue < Tag.head.rawValue }

    /// Block-level: starts and ends a paragraph of text when rendered.
    var isBlock: Bool {
        switch self {
        case .html, .body, .nav, .header, .footer, .aside, .menu, .form, .fieldset, .dialog, .main, .article, .section,
             .div, .p, .figure, .figcaption, .h1, .h2, .h3, .h4, .h5, .h6, .ul, .ol, .li, .dl, .dt, .dd, .blockquote, .pre,
             .table, .tr, .td, .th, .caption, .hr, .address, .center, .details, .summary, .title, .thead, .tbody, .tfoot:
            return true
        default:
            return false
        }
    }

    var isHeading: Bool { rawValue >= Tag.h1.rawValue && rawValue <= Tag.h6.rawValue }

    /// Readability.js's DIV_TO_P_ELEMS: a `div` holding none of these is scored as a paragraph.
    var isDivToPBlock: Bool {
        switch self {
        case .blockquote, .dl, .div, .img, .ol, .p, .pre, .table, .ul, .section, .article, .figure, .h1, .h2, .h3, .h4,
             .h5, .h6, .li, .header, .footer, .nav, .aside, .main, .form:
            return true
        default:
            return false
        }
    }
}

/// One element's facts, gathered by `PageIndex`.
struct ElementFlags: OptionSet {
    let rawValue: UInt32
    /// `hidden`, `aria-hidden="true"`, `display:none` / `visibility:hidden`, a hiding class.
    static let hidden = ElementFlags(rawValue: 1 << 0)
    /// Inside `<a href>` (or is one).
    static let inLink = ElementFlags(rawValue: 1 << 1)
    /// A Readability.js DIV_TO_P element somewhere below.
    static let hasBlockDescendant = ElementFlags(rawValue: 1 << 2)
    /// ARIA role of page chrome (Readability.js UNLIKELY_ROLES).
    static let unlikelyRole = ElementFlags(rawValue: 1 << 3)
    /// Inside `<pre>`: white space is content.
    static let inPre = ElementFlags(rawValue: 1 << 4)
    /// A link whose target is on the same page (`#…`), which Readability counts at 0.3.
    static let hashLink = ElementFlags(rawValue: 1 << 5)
    /// Some block element among the direct children.
    static let hasBlockChild = ElementFlags(rawValue: 1 << 6)
}

/// One walk over a parsed page, in document order: every element that can show text, with
/// its tag, class/id words, flags and the text it holds, so that candidate scoring, pruning
/// and metadata need no further walks of the tree.
///
/// Elements are numbered in pre-order, so an element's descendants are the indices after it
/// up to `end[i]`, and its parent has a smaller index. Each libxml2 node's `_private` holds its
/// index + 1 (`index(of:)`). Lengths are in Unicode scalars with every run of white space
/// counted as one (close to a browser's `innerText.length`); script, style and other
/// never-shown subtrees (see `Tag.isRemoved`) are not indexed at all.
struct PageIndex {
    var node: [xmlNodePtr] = []
    var parent: [Int32] = []
    var end: [Int32] = []
    var tag: [Tag] = []
    var words: [ClassWords] = []
    var flags: [ElementFlags] = []
    /// Text of the element's own text children.
    var ownChars: [Int32] = []
    /// Text of the whole subtree.
    var chars: [Int32] = []
    /// Text inside links in the subtree (hash links weighted 0.3).
    var linkChars: [Int32] = []
    /// `,` `，` `、` in the subtree.
    var commas: [Int32] = []
    /// Counts in the subtree, for Readability's conditional cleaning.
    var paragraphs: [Int32] = []
    var images: [Int32] = []
    var listItems: [Int32] = []
    var inputs: [Int32] = []
    var embeds: [Int32] = []
    var headingChars: [Int32] = []

    // Metadata seen on the way.
    /// `<meta>` tags: lowercased `property`/`name`/`itemprop`, and `content`.
    var metas: [(key: String, content: String)] = []
    var ldJSON: [xmlNodePtr] = []
    var titleText: String?
    var baseHref: String?
    var lang: String?
    var body: Int = 0

    var count: Int { node.count }

    static func index(of n: xmlNodePtr) -> Int? {
        guard let p = n.pointee._private else { return nil }
        return Int(bitPattern: p) - 1
    }

    init(_ document: MarkupDocument) {
        guard let doc = document.doc, let root = xmlDocGetRootElement(doc) else { return }
        node.reserveCapacity(2048)
        var tagCache: [UnsafePointer<xmlChar>: Tag] = [:]
        var n: xmlNodePtr? = root
        var current = -1  // index of the element whose children are being walked
        while let x = n {
            var opened = -1
            switch x.pointee.type {
            case XML_ELEMENT_NODE:
                guard let namePtr = x.pointee.name else { break }
                let t: Tag
                if let cached = tagCache[namePtr] { t = cached } else {
                    t = Tag.byName[String(cString: namePtr)] ?? .other
                    tagCache[namePtr] = t
                }
                x.pointee._private = nil
                if t == .head { walkHead(x); break }
                if t.isRemoved {
                    if t == .script, Self.isLDJSON(x) { ldJSON.append(x) }
                    if current >= 0 {
                        switch t {
                        case .input, .select, .textarea, .button: inputs[current] += 1
                        case .iframe, .object, .embed, .video, .audio: embeds[current] += 1
                        default: break
                        }
                    }
                    break
                }
                let i = node.count
                x.pointee._private = UnsafeMutableRawPointer(bitPattern: i + 1)
                node.append(x)
                parent.append(Int32(current))
                end.append(Int32(i))
                tag.append(t)
                var f: ElementFlags = current >= 0 ? flags[current].intersection([.inLink, .inPre]) : []
                if current >= 0 && t.isBlock { flags[current].insert(.hasBlockChild) }
                var w: ClassWords = []
                scanAttributes(x, tag: t, flags: &f, words: &w)
                if t == .a, !f.contains(.inLink), Self.attribute(x, "href") != nil { f.insert(.inLink) }
                if t == .pre { f.insert(.inPre) }
                if t == .body { body = i }
                if t == .html, let l = Self.attribute(x, "lang") { lang = l }
                if t == .base, baseHref == nil, let h = Self.attribute(x, "href") { baseHref = h }
                if t == .meta { recordMeta(x) }
                if t == .title, titleText == nil { titleText = HTMLText.raw(HTMLNode(x)) }
                words.append(w)
                flags.append(f)
                ownChars.append(0); chars.append(0); linkChars.append(0); commas.append(0)
                paragraphs.append(t == .p ? 1 : 0); images.append(t == .img ? 1 : 0); listItems.append(t == .li ? 1 : 0)
                inputs.append(0); embeds.append(0); headingChars.append(0)
                current = i
                opened = i
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if current >= 0, let c = x.pointee.content {
                    let (length, commaCount) = Self.measure(c)
                    ownChars[current] += length
                    commas[current] += commaCount
                    if flags[current].contains(.inLink) {
                        linkChars[current] += flags[current].contains(.hashLink) ? length * 3 / 10 : length
                    }
                }
            default:
                break
            }
            if opened >= 0, let child = x.pointee.children {
                n = child
                continue
            }
            func close(_ i: Int) {
                end[i] = Int32(node.count - 1)
                current = Int(parent[i])
            }
            if opened >= 0 { close(opened) }
            // Next sibling, or up until there is one; climbing out of an element closes it.
            var cur = x
            n = nil
            while cur != root {
                if let next = cur.pointee.next { n = next; break }
                guard let up = cur.pointee.parent, up.pointee.type == XML_ELEMENT_NODE else { break }
                if let i = Self.index(of: up) { close(i) }
                cur = up
            }
        }
        aggregate()
    }

    /// Subtree sums, children before parents (reverse pre-order).
    private mutating func aggregate() {
        for i in stride(from: count - 1, through: 0, by: -1) {
            chars[i] += ownChars[i]
            let p = Int(parent[i])
            guard p >= 0 else { continue }
            chars[p] += chars[i]
            linkChars[p] += linkChars[i]
            commas[p] += commas[i]
            paragraphs[p] += paragraphs[i]
            images[p] += images[i]
            listItems[p] += listItems[i]
            inputs[p] += inputs[i]
            embeds[p] += embeds[i]
            if tag[i].isHeading { headingChars[i] = chars[i] }
            headingChars[p] += headingChars[i]
            if tag[i].isDivToPBlock || flags[i].contains(.hasBlockDescendant) { flags[p].insert(.hasBlockDescendant) }
        }
    }

    /// Length in scalars (white-space runs as one) and commas of a text node's content.
    static func measure(_ c: UnsafePointer<xmlChar>) -> (Int32, Int32) {
        var length: Int32 = 0, commas: Int32 = 0
        var p = c
        var space = false
        while true {
            let b = p.pointee
            if b == 0 { break }
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D {
                if !space { length += 1; space = true }
            } else if b & 0xC0 != 0x80 {
                length += 1
                space = false
                if b == 0x2C { commas += 1 }
                else if b == 0xEF, p[1] == 0xBC, p[2] == 0x8C { commas += 1 }       // ，
                else if b == 0xE3, p[1] == 0x80, p[2] == 0x81 { commas += 1 }       // 、
                else if b == 0xC2, p[1] == 0xA0 { if space { length -= 1 }; space = true }  // NBSP
            }
            p += 1
        }
        return (length, commas)
    }

    private mutating func scanAttributes(_ x: xmlNodePtr, tag t: Tag, flags f: inout ElementFlags, words w: inout ClassWords) {
        var cls: UnsafePointer<UInt8>?, id: UnsafePointer<UInt8>?
        var prop = x.pointee.properties
        while let p = prop {
            defer { prop = p.pointee.next }
            guard let name = p.pointee.name else { continue }
            let value = p.pointee.children?.pointee.content.map { UnsafePointer($0) }
            switch name.pointee {
            case 0x63 where strcmp(name, "class") == 0: cls = value  // c
            case 0x69 where strcmp(name, "id") == 0: id = value  // i
            case 0x69 where strcmp(name, "itemprop") == 0:
                guard let v = value else { break }
                if Self.equalsIgnoringCase(v, "articlebody") { w.insert(.content1) }
                else if Self.containsIgnoringCase(v, "author") { w.insert(.byline) }
            case 0x68 where strcmp(name, "hidden") == 0: f.insert(.hidden)  // h
            case 0x68 where strcmp(name, "href") == 0 && t == .a:
                if let v = value, v.pointee == 0x23 { f.insert(.hashLink) }  // #
            case 0x61 where strcmp(name, "aria-hidden") == 0:  // a
                if let v = value, Self.equalsIgnoringCase(v, "true") { f.insert(.hidden) }
            case 0x73 where strcmp(name, "style") == 0:  // s
                if let v = value, Self.hidesByStyle(v) { f.insert(.hidden) }
            case 0x72 where strcmp(name, "role") == 0:  // r
                guard let v = value else { break }
                for r in ["menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog", "banner", "contentinfo"]
                where Self.equalsIgnoringCase(v, r) { f.insert(.unlikelyRole) }
                if Self.equalsIgnoringCase(v, "main") { w.insert(.content5) }
                if Self.equalsIgnoringCase(v, "article") { w.insert(.content3) }
            default:
                break
            }
        }
        w.formUnion(ClassWords.of(class: cls, id: id))
        if w.contains(.hidden) { f.insert(.hidden) }
    }

    private mutating func walkHead(_ head: xmlNodePtr) {
        HTMLNode(head).walk { n in
            if n.isElement(named: "meta") { recordMeta(n.ptr) }
            else if n.isElement(named: "title"), titleText == nil { titleText = HTMLText.raw(n) }
            else if n.isElement(named: "base"), baseHref == nil { baseHref = Self.attribute(n.ptr, "href") }
            else if n.isElement(named: "script"), Self.isLDJSON(n.ptr) { ldJSON.append(n.ptr) }
            return true
        }
    }

    private mutating func recordMeta(_ x: xmlNodePtr) {
        guard let content = Self.attribute(x, "content") else { return }
        for k in ["property", "name", "itemprop"] {
            if let key = Self.attribute(x, k) { metas.append((key.lowercased(), content)) }
        }
    }

    static func isLDJSON(_ x: xmlNodePtr) -> Bool {
        guard let t = attribute(x, "type") else { return false }
        return t.lowercased().contains("ld+json")
    }

    /// An attribute's value (its text children), or nil.
    static func attribute(_ x: xmlNodePtr, _ name: String) -> String? {
        HTMLNode(x).attribute(name)
    }

    static func equalsIgnoringCase(_ v: UnsafePointer<UInt8>, _ s: StaticString) -> Bool {
        var p = v
        var q = s.utf8Start
        for _ in 0..<s.utf8CodeUnitCount {
            var b = p.pointee
            if b >= 0x41 && b <= 0x5A { b += 0x20 }
            if b != q.pointee { return false }
            p += 1
            q += 1
        }
        return p.pointee == 0
    }

    static func equalsIgnoringCase(_ v: UnsafePointer<UInt8>, _ s: String) -> Bool {
        String(cString: v).lowercased() == s
    }

    static func containsIgnoringCase(_ v: UnsafePointer<UInt8>, _ s: String) -> Bool {
        String(cString: v).lowercased().contains(s)
    }

    /// `display:none` or `visibility:hidden` in a `style` attribute (spaces ignored).
    static func hidesByStyle(_ v: UnsafePointer<UInt8>) -> Bool {
        var compact: [UInt8] = []
        var p = v
        while p.pointee != 0 {
            let b = p.pointee
            if b != 0x20 && b != 0x09 && b != 0x0A { compact.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b) }
            p += 1
        }
        for needle in ["display:none", "visibility:hidden"] {
            let n = Array(needle.utf8)
            if compact.count >= n.count {
                for s in 0...(compact.count - n.count) where compact[s] == n[0] && Array(compact[s..<s + n.count]) == n {
                    return true
                }
            }
        }
        return false
    }

    // MARK: questions

    /// Whether element `i` or an ancestor is named like a comment section.
    func insideComments(_ i: Int) -> Bool {
        var k = i
        while k >= 0 {
            if words[k].contains(.comments) { return true }
            k = Int(parent[k])
        }
        return false
    }

    func linkDensity(_ i: Int) -> Double {
        chars[i] > 0 ? Double(linkChars[i]) / Double(chars[i]) : 0
    }

    func isAncestor(_ a: Int, of b: Int) -> Bool { a < b && b <= Int(end[a]) }
}
