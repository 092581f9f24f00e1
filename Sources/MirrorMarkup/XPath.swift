import CLibXML2

extension MarkupDocument {
    /// Nodes matching an XPath 1.0 expression (libxml2's evaluator), in document order.
    /// - Returns: nil when the expression does not compile or does not select nodes.
    public func select(xpath: String) -> [HTMLNode]? {
        guard let doc, let context = xmlXPathNewContext(doc) else { return nil }
        defer { xmlXPathFreeContext(context) }
        guard let result = Self.quietly({ xmlXPathEvalExpression(xpath, context) }) else { return nil }
        defer { xmlXPathFreeObject(result) }
        guard result.pointee.type == XPATH_NODESET else { return nil }
        guard let set = result.pointee.nodesetval else { return [] }
        var out: [HTMLNode] = []
        for i in 0..<Int(set.pointee.nodeNr) {
            if let n = set.pointee.nodeTab[i], n.pointee.type == XML_ELEMENT_NODE { out.append(HTMLNode(n)) }
        }
        return out
    }

    /// Unlinks and frees every element matching `xpath` (for a source's `remove_xpath`).
    /// - Returns: how many were removed, or nil for an invalid expression.
    @discardableResult
    public func remove(xpath: String) -> Int? {
        guard let nodes = select(xpath: xpath) else { return nil }
        // Outermost first; a descendant of a removed node is freed with it.
        var removed = 0
        for n in nodes where !nodes.contains(where: { $0 != n && n.isInside($0) }) {
            xmlUnlinkNode(n.ptr)
            xmlFreeNode(n.ptr)
            removed += 1
        }
        return removed
    }

    /// Whether `xpath` selects elements (to validate configuration): it compiles, and it
    /// evaluates to a node-set on a small page. libxml2 finds an unknown function (XPath 2.0's
    /// `matches()`), an undeclared prefix (`//og:meta`) or a variable only when it evaluates,
    /// and `string(//article)` or `count(//p)` compile but select nothing: each had passed the
    /// check and then left every page to the heuristics without a word.
    public static func isValid(xpath: String) -> Bool {
        guard let compiled = quietly({ xmlXPathCompile(xpath) }) else { return false }
        xmlXPathFreeCompExpr(compiled)
        let probe = HTMLDocument(html: "<html><head><title>t</title></head><body><div id=\"a\" class=\"b\"><p>p</p></div></body></html>")
        return probe.select(xpath: xpath) != nil
    }

    /// Runs `body` with libxml2's error reports silenced: an invalid expression is answered
    /// by our own message (the config error names file, line and key); libxml2 had also
    /// printed `XPath error : Invalid predicate` to stderr. libxml2's error handlers are
    /// per thread, so this changes nothing for other threads.
    static func quietly<T>(_ body: () -> T) -> T {
        // The thread's handler as it was, put back after (nesting and other handlers kept).
        let previous = __xmlStructuredError().pointee, context = __xmlStructuredErrorContext().pointee
        xmlSetStructuredErrorFunc(nil, { _, _ in })
        defer { xmlSetStructuredErrorFunc(context, previous) }
        return body()
    }
}
