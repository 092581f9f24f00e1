import MirrorCore
import MirrorMarkup

/// A source's extraction overrides, for sites the heuristics get wrong: `content_xpath`
/// names the body container, `remove_xpath` removes elements before anything is read,
/// `charset` decodes every page with one encoding.
/// Recorded (as `hash`) with each parsed copy, so changing them triggers regeneration.
public struct ExtractionRules: Sendable, Equatable {
    public var contentXPath: String?
    public var removeXPath: [String]
    public var charset: String?

    public init(contentXPath: String? = nil, removeXPath: [String] = [], charset: String? = nil) {
        self.contentXPath = contentXPath
        self.removeXPath = removeXPath
        self.charset = charset
    }

    public init(source: SourceConfig) {
        self.init(contentXPath: source.contentXPath, removeXPath: source.removeXPath, charset: source.charset)
    }

    public static let none = ExtractionRules()

    /// SHA-256 of the rules, or `"none"` without any.
    public var hash: String {
        guard contentXPath != nil || !removeXPath.isEmpty || charset != nil else { return "none" }
        // (`charset` only when set: the hashes recorded before it existed stay the same.)
        return SHA256.hex("content=\(contentXPath ?? "")\u{1F}remove=" + removeXPath.joined(separator: "\u{1E}")
            + (charset.map { "\u{1F}charset=\($0.lowercased())" } ?? ""))
    }

    /// The first invalid expression, if any.
    public var invalidExpression: String? {
        ([contentXPath].compactMap { $0 } + removeXPath).first { !MarkupDocument.isValid(xpath: $0) }
    }

    /// Applies `remove_xpath` to the tree and returns the `content_xpath` container, if set and found.
    func apply(to document: MarkupDocument) -> HTMLNode? {
        for x in removeXPath { document.remove(xpath: x) }
        guard let contentXPath else { return nil }
        return document.select(xpath: contentXPath)?.first
    }
}
