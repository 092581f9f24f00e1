import MirrorCore

/// What a link is to the mirror.
public enum DocumentKind: String, Sendable, Codable, CaseIterable {
    /// A page listing articles (and maybe other indexes); followed by discovery.
    case index
    /// A page mirrored, parsed and revisited.
    case article
    /// A file an article shows (an image); mirrored, never parsed.
    case asset
}

/// A source's link rules: which links are indexes, which are articles, which are ignored.
///
/// Globs match the link's percent-decoded path relative to the *base*, the directory of the
/// source's first start URL (`https://host/news/README.md` → `https://host/news/`). A link on
/// another host, with another scheme, or outside the base matches nothing.
///
/// Precedence: `exclude` beats everything; then, when a link matches both lists,
/// `index_links` wins, because following a link is what lets discovery reach the rest, and
/// index globs are usually the narrower ones (`**/index.html` beside `**/*.html`).
public struct LinkRules: Sendable {
    public let base: URI
    public let indexGlobs: [Glob]
    public let articleGlobs: [Glob]
    public let excludeGlobs: [Glob]
    public let ignoreQuery: Set<String>

    public init(source: SourceConfig) {
        let first = URI(source.start.first ?? "") ?? URI(scheme: nil, authority: nil, path: "/", query: nil, fragment: nil)
        var base = first.normalized()
        if let slash = base.path.lastIndex(of: "/") {
            base.path = String(base.path[...slash])
        }
        base.query = nil
        self.base = base
        self.indexGlobs = source.indexLinks.map(Glob.init)
        self.articleGlobs = source.articleLinks.map(Glob.init)
        self.excludeGlobs = source.exclude.map(Glob.init)
        self.ignoreQuery = Set(source.ignoreQuery)
    }

    /// The identity of `link` for this source (see `URI.normalized(ignoringQuery:)`).
    public func normalize(_ link: URI) -> URI {
        link.normalized(ignoringQuery: ignoreQuery)
    }

    /// The percent-decoded path of `url` relative to the base, or nil when outside it.
    public func relativePath(_ url: URI) -> String? {
        guard url.scheme == base.scheme, url.authority == base.authority,
              url.path.hasPrefix(base.path) else { return nil }
        let rest = String(url.path.dropFirst(base.path.count))
        return rest.removingPercentEncoding ?? rest
    }

    /// Whether an `exclude` glob matches the URL's relative path.
    public func isExcluded(_ url: URI) -> Bool {
        guard let rel = relativePath(url) else { return false }
        return excludeGlobs.contains { $0.matches(rel) }
    }

    /// Classifies a normalized absolute URL; nil when no rule matches or `exclude` does.
    public func classify(_ url: URI) -> DocumentKind? {
        guard let rel = relativePath(url), !excludeGlobs.contains(where: { $0.matches(rel) }) else { return nil }
        if indexGlobs.contains(where: { $0.matches(rel) }) { return .index }
        if articleGlobs.contains(where: { $0.matches(rel) }) { return .article }
        return nil
    }
}

import Foundation
