import CLibXML2
import MirrorCore

/// A parsed XML document (feeds, sitemaps) from libxml2's XML parser with network access off
/// (`XML_PARSE_NONET`), no external DTD loading and no entity substitution, so a feed cannot
/// make mirrord read a local file or reach a host. Recovers from malformed markup.
///
/// Nodes are `HTMLNode`s (libxml2 uses one node type for both); their `name` is the local
/// name, without a namespace prefix (`atom:link` → `link`).
public final class XMLDocument: MarkupDocument {
    /// libxml2's message for a fatal error (an entity bomb, a loop, broken structure), if any.
    public let fatalError: String?

    public init(xml: String) {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
            | XML_PARSE_RECOVER.rawValue | XML_PARSE_IGNORE_ENC.rawValue)
        xmlResetLastError()
        let doc = Self.parse(xml) { xmlReadMemory($0, $1, nil, "UTF-8", options) }
        if let e = xmlGetLastError(), e.pointee.level == XML_ERR_FATAL, let m = e.pointee.message {
            fatalError = String(cString: m).trimmingCharacters(in: .whitespacesAndNewlines) + " (line \(e.pointee.line))"
        } else {
            fatalError = nil
        }
        super.init(doc: doc)
    }
}

extension HTMLNode {
    /// Element children named `name` (local name).
    public func children(named name: String) -> [HTMLNode] {
        children.filter { $0.isElement && $0.name == name }
    }

    /// The trimmed text of the first child element named `name`, or nil.
    public func childText(_ name: String) -> String? {
        guard let c = children(named: name).first else { return nil }
        let t = HTMLText.raw(c).trimmingWhitespace()
        return t.isEmpty ? nil : t
    }

    /// Ancestors from the root down to `self` (inclusive).
    public var lineage: [HTMLNode] {
        var out: [HTMLNode] = [self]
        var p = parent
        while let n = p {
            out.append(n)
            p = n.parent
        }
        return out.reversed()
    }
}

import Foundation
