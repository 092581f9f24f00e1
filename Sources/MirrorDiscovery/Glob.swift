/// A path glob as used by `index_links`, `article_links` and `exclude`:
/// `*` matches any run of characters within one path segment, `**` any run of whole segments
/// (including none: `pages/**/*.md` matches `pages/a.md` and `pages/1/2/a.md`), `?` one
/// character other than `/`. Everything else matches itself. Matching is over the
/// percent-decoded path, so `indexes/北美*.md` works as written.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let segments: [String]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    public var description: String { pattern }

    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.unicodeScalars) }
        let pats = segments.map { Array($0.unicodeScalars) }
        return Glob.match(pats[...], parts[...])
    }

    private static func match(_ pats: ArraySlice<[Unicode.Scalar]>, _ parts: ArraySlice<[Unicode.Scalar]>) -> Bool {
        guard let first = pats.first else { return parts.isEmpty }
        if first == ["*", "*"] {
            let rest = pats.dropFirst()
            var p = parts
            while true {
                if match(rest, p) { return true }
                guard !p.isEmpty else { return false }
                p = p.dropFirst()
            }
        }
        guard let part = parts.first, matchSegment(first[...], part[...]) else { return false }
        return match(pats.dropFirst(), parts.dropFirst())
    }

    private static func matchSegment(_ pat: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let c = pat.first else { return s.isEmpty }
        switch c {
        case "*":
            var rest = s
            while true {
                if matchSegment(pat.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case "?":
            return !s.isEmpty && matchSegment(pat.dropFirst(), s.dropFirst())
        default:
            return s.first == c && matchSegment(pat.dropFirst(), s.dropFirst())
        }
    }
}
