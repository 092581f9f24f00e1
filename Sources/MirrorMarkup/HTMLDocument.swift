import CLibXML2
import Foundation

/// A libxml2 tree: owns the document; `HTMLNode`s are views into it and must not outlive it.
/// They do not retain it (a walk makes one per node): whoever creates the document keeps it
/// alive for as long as its nodes are used, with `defer { withExtendedLifetime(doc) {} }`.
public class MarkupDocument {
    /// The libxml2 document (nil when parsing produced nothing).
    public let doc: xmlDocPtr?

    init(doc: xmlDocPtr?) {
        self.doc = doc
    }

    deinit {
        if let doc { xmlFreeDoc(doc) }
    }

    /// The root element, or nil for an empty document.
    public var root: HTMLNode? {
        guard let doc, let r = xmlDocGetRootElement(doc) else { return nil }
        return HTMLNode(r)
    }

    /// Every element with local name `name` (HTML names are lowercase), in document order.
    public func elements(named name: String) -> [HTMLNode] {
        var out: [HTMLNode] = []
        root?.walk { node in
            if node.isElement(named: name) { out.append(node) }
            return true
        }
        return out
    }

    /// Parses UTF-8 `text` with one of libxml2's memory readers.
    static func parse(_ text: String, _ reader: (UnsafePointer<CChar>?, Int32) -> xmlDocPtr?) -> xmlDocPtr? {
        var text = text
        return text.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) { chars in reader(chars.baseAddress, Int32(chars.count)) }
        }
    }
}

/// A parsed HTML document: libxml2's HTML parser in recovery mode, which builds a tree from
/// real-world markup (unclosed `<p>`, unknown tags, stray end tags) the way browsers did
/// before HTML5. Network access is off (`HTML_PARSE_NONET`).
public final class HTMLDocument: MarkupDocument {
    /// - Parameter html: the markup, already decoded to text (see `Charset`). Consuming: a
    ///   caller that hands over its only reference (`consume`) has the text let go as soon as
    ///   libxml2 has its copy, before the parse.
    public init(html: consuming String) {
        // libxml2 2.9 ends the document at a NUL byte (a page with ten NULs after a banner
        // image lost its whole article); the HTML Standard's tree builder ignores U+0000 in
        // text (§13.2.6.4.7, "in body"), so they are dropped, as a browser shows the page.
        var text = consume html
        if text.containsUTF8(0) { text = text.replacingOccurrences(of: "\u{0}", with: "") }
        let context = text.withUTF8 { Self.context(copying: $0) }
        _ = consume text
        super.init(doc: context.flatMap(Self.parse))
    }

    /// Renders `markdown` with cmark-gfm (`Markdown.html`) and parses the HTML from cmark's
    /// own buffer: the same document as `HTMLDocument(html: Markdown.html(markdown))`
    /// without a Swift copy of the rendered page, and with cmark's buffer freed as soon as
    /// libxml2 has its copy (a 2 MB article's parse holds 5 MB less). cmark writes no NUL
    /// (CommonMark §2.3 makes U+0000 U+FFFD). Consuming: the text is let go once rendered.
    public init(markdown: consuming String) {
        var context: xmlParserCtxtPtr?
        Markdown.withHTML(consume markdown) { context = Self.context(copying: $0) }
        super.init(doc: context.flatMap(Self.parse))
    }

    /// libxml2's HTML parser in recovery mode, with network access off and no size or depth
    /// stop: bodies are bounded by `max_body_bytes` already, and every walk here is
    /// iterative. (HTML has no entity declarations, so `XML_PARSE_HUGE` lifts no
    /// entity-expansion guard.)
    static let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
        | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue
        | HTML_PARSE_IGNORE_ENC.rawValue  // the text is UTF-8 already: a <meta charset> must not re-decode it
        | XML_PARSE_HUGE.rawValue)

    // `htmlReadMemory` of libxml2 2.9, in two halves, so that whoever holds the bytes can let
    // them go between the copy libxml2 makes of them and the parse: `context(copying:)` is
    // `xmlCreateMemoryParserCtxt`, `parse` the rest (`htmlDoRead`). Reading the bytes in
    // place (`xmlParserInputBufferCreateStatic`) crashed in 2.9.14, and feeding them in
    // chunks (`htmlReadIO`) changed the tree of 2 of the extraction evaluation's 1,120 pages.

    /// A parser context holding its own copy of `bytes`; nil for no bytes.
    static func context(copying bytes: UnsafeBufferPointer<UInt8>) -> xmlParserCtxtPtr? {
        guard bytes.count > 0, bytes.count < Int(Int32.max) else { return nil }
        xmlInitParser()
        return bytes.withMemoryRebound(to: CChar.self) { xmlCreateMemoryParserCtxt($0.baseAddress, Int32($0.count)) }
    }

    /// Parses what `context` holds as HTML and frees the context; the tree, or nil.
    ///
    /// The context is libxml2's XML one given the HTML SAX handler, as in `htmlReadMemory`:
    /// it reads the bytes as UTF-8 (an HTML context would start in ISO-8859-1). No encoding
    /// is named: naming "UTF-8" made libxml2 run its UTF-8-to-UTF-8 converter over a second
    /// copy of the input (6 MB more for a 2 MB page, heaptrack). Only libxml2's serializer
    /// would read the document's encoding, and nothing here serializes.
    static func parse(_ context: xmlParserCtxtPtr) -> xmlDocPtr? {
        defer { xmlFreeParserCtxt(context) }
        htmlDefaultSAXHandlerInit()
        if let sax = context.pointee.sax, let html = __htmlDefaultSAXHandler() {
            memcpy(sax, html, MemoryLayout<xmlSAXHandlerV1>.size)
        }
        htmlCtxtUseOptions(context, options)
        context.pointee.html = 1
        htmlParseDocument(context)
        let doc = context.pointee.myDoc
        context.pointee.myDoc = nil
        // The document keeps the parser's name dictionary.
        if context.pointee.dictNames != 0, let doc, doc.pointee.dict == context.pointee.dict { context.pointee.dict = nil }
        return doc
    }
}

/// A node of an `HTMLDocument`'s tree.
public struct HTMLNode: Hashable {
    /// The libxml2 node, for code that walks the tree itself (`MirrorExtract.PageIndex`).
    public let ptr: xmlNodePtr

    public init(_ ptr: xmlNodePtr) { self.ptr = ptr }

    public var isElement: Bool { ptr.pointee.type == XML_ELEMENT_NODE }
    public var isText: Bool { ptr.pointee.type == XML_TEXT_NODE || ptr.pointee.type == XML_CDATA_SECTION_NODE }

    /// Lowercase element name (libxml2's HTML parser lowercases tags).
    public var name: String {
        guard let n = ptr.pointee.name else { return "" }
        return String(cString: n)
    }

    public var children: [HTMLNode] {
        var out: [HTMLNode] = []
        var c = ptr.pointee.children
        while let node = c {
            out.append(HTMLNode(node))
            c = node.pointee.next
        }
        return out
    }

    public var parent: HTMLNode? {
        guard let p = ptr.pointee.parent, p.pointee.type == XML_ELEMENT_NODE else { return nil }
        return HTMLNode(p)
    }

    /// The node's own text (text nodes only).
    public var text: String {
        guard isText, let c = ptr.pointee.content else { return "" }
        return String(cString: c)
    }

    /// An attribute's value, or nil when absent.
    public func attribute(_ name: String) -> String? {
        guard isElement else { return nil }
        var prop = ptr.pointee.properties
        while let p = prop {
            if let n = p.pointee.name, strcmp(n, name) == 0 {
                // An attribute's value is its text children (one, in practice).
                var out = ""
                var c = p.pointee.children
                while let t = c {
                    if let content = t.pointee.content { out += String(cString: content) }
                    c = t.pointee.next
                }
                return out
            }
            prop = p.pointee.next
        }
        return nil
    }

    /// Pre-order walk; `visit` returns false to skip a node's children. Iterative, so a page
    /// nested thousands deep cannot overflow the stack.
    public func walk(_ visit: (HTMLNode) -> Bool) {
        // Pointer chasing (first child, next sibling, parent): no allocation per node.
        var node: xmlNodePtr? = ptr
        while let n = node {
            // An entity reference's children are the entity's own content, shared by every
            // reference: walking them would expand an entity bomb ("billion laughs").
            if visit(HTMLNode(n)), n.pointee.type != XML_ENTITY_REF_NODE, let child = n.pointee.children {
                node = child
                continue
            }
            var cur: xmlNodePtr = n
            while true {
                if cur == ptr { return }
                if let next = cur.pointee.next {
                    node = next
                    break
                }
                guard let up = cur.pointee.parent else { return }
                cur = up
            }
        }
    }

    /// A text node's content as a NUL-terminated UTF-8 C string (no copy), else nil.
    public var textBytes: UnsafePointer<UInt8>? {
        isText ? UnsafePointer(ptr.pointee.content) : nil
    }

    /// Calls `body` for each child, without building the `children` array.
    public func forEachChild(_ body: (HTMLNode) -> Void) {
        var c = ptr.pointee.children
        while let child = c {
            body(HTMLNode(child))
            c = child.pointee.next
        }
    }

    /// Whether this is an element named `name` (compared without building a Swift string).
    public func isElement(named name: String) -> Bool {
        guard ptr.pointee.type == XML_ELEMENT_NODE, let n = ptr.pointee.name else { return false }
        return name.withCString { strcmp(UnsafeRawPointer(n).assumingMemoryBound(to: CChar.self), $0) == 0 }
    }

    /// Whether `self` is `other` or one of its descendants.
    public func isInside(_ other: HTMLNode) -> Bool {
        var p: xmlNodePtr? = ptr
        while let n = p {
            if n == other.ptr { return true }
            p = n.pointee.parent
        }
        return false
    }

    /// The nearest ancestor element named `name` (not `self`).
    public func ancestor(named name: String) -> HTMLNode? {
        var p = parent
        while let n = p {
            if n.name == name { return n }
            p = n.parent
        }
        return nil
    }

    /// Document-order comparison key (libxml2 assigns line numbers; ties broken by walking).
    public var line: Int { Int(xmlGetLineNo(ptr)) }
}

/// Text content of a subtree with block structure kept: `<br>` and block boundaries become
/// line breaks, `<script>`, `<style>` and `<template>` contribute nothing.
public enum HTMLText {
    static let skipped = ["script", "style", "template", "noscript", "head"]
    public static let blockElements: Set<String> = [
        "p", "div", "section", "article", "main", "aside", "header", "footer", "nav", "ul", "ol", "li",
        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "td", "th", "figure",
        "figcaption", "hr", "dl", "dt", "dd", "form", "body", "html",
    ]

    /// Raw text of `node`'s subtree (whitespace as written).
    public static func raw(_ node: HTMLNode) -> String {
        var out: [UInt8] = []
        node.walk { n in
            let p = n.ptr
            if n.isText {
                if let c = p.pointee.content {
                    out.append(contentsOf: UnsafeBufferPointer(start: c, count: strlen(UnsafeRawPointer(c).assumingMemoryBound(to: CChar.self))))
                }
                return false
            }
            if p.pointee.type == XML_ELEMENT_NODE {
                if n.isElement(named: "br") { out.append(0x0A); return false }
                if skipped.contains(where: { n.isElement(named: $0) }) { return false }
            }
            return true
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text of a `<script>` or `<style>` element (which `raw` skips).
    public static func rawScript(_ node: HTMLNode) -> String {
        var out: [UInt8] = []
        node.forEachChild { c in
            if let b = c.textBytes {
                out.append(contentsOf: UnsafeBufferPointer(start: b, count: strlen(UnsafeRawPointer(b).assumingMemoryBound(to: CChar.self))))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of non-whitespace text in a subtree: a cheap measure of how much a block says.
    public static func weight(_ node: HTMLNode) -> Int {
        var n = 0
        node.walk { x in
            if x.isText, let c = x.ptr.pointee.content {
                var q = c
                while q.pointee != 0 {
                    let b = q.pointee
                    if b != 0x20 && b != 0x0A && b != 0x09 && b != 0x0D { n += 1 }
                    q += 1
                }
                return false
            }
            return !(x.ptr.pointee.type == XML_ELEMENT_NODE && skipped.contains(where: { x.isElement(named: $0) }))
        }
        return n
    }
}
