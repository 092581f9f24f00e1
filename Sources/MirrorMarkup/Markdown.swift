import CCmark
import Glibc

/// Markdown to HTML with cmark-gfm, GitHub's renderer.
public enum Markdown {
    /// Renders CommonMark to HTML, keeping embedded raw HTML (`CMARK_OPT_UNSAFE`): upstream
    /// article pages carry their body as HTML blocks inside the Markdown.
    public static func html(_ markdown: String) -> String {
        var out = ""
        withHTML(markdown) { out = String(decoding: $0, as: UTF8.self) }
        return out
    }

    /// Renders as `html` does and lends `body` the UTF-8 HTML in cmark's own buffer, which is
    /// freed when `body` returns (empty when cmark renders nothing). `markdown` is let go once
    /// it is rendered: a caller that hands over its only reference (`consume`) does not hold
    /// the page's text while `body` parses the HTML.
    public static func withHTML(_ markdown: consuming String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var md = consume markdown
        let out = md.withUTF8 { buf -> UnsafeMutablePointer<CChar>? in
            guard let base = buf.baseAddress else { return nil }
            return base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                cmark_markdown_to_html($0, buf.count, CMARK_OPT_UNSAFE)
            }
        }
        _ = consume md
        guard let out else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        defer { free(out) }
        body(UnsafeRawBufferPointer(start: out, count: strlen(out)).bindMemory(to: UInt8.self))
    }
}

import Foundation

/// How a page's bytes are to be read.
public enum MarkupFormat: Sendable {
    case markdown
    case html

    /// Decides from the content type and the first bytes: HTML when the server says so or
    /// the text starts like HTML; Markdown otherwise (Git-hosted upstreams serve `.md` as
    /// `text/plain`).
    public static func detect(contentType: String?, text: String) -> MarkupFormat {
        if let ct = contentType?.lowercased() {
            if ct.contains("html") || ct.contains("xhtml") { return .html }
            if ct.contains("markdown") { return .markdown }
        }
        let head = text.prefix(512).drop { $0.isWhitespace || $0 == "\u{FEFF}" }.lowercased()
        if head.hasPrefix("<!doctype html") || head.hasPrefix("<html") || head.hasPrefix("<head") {
            return .html
        }
        return .markdown
    }
}

