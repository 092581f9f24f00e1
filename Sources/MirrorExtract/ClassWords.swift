/// What an element's `class` and `id` say about it, found in one pass over their bytes.
///
/// The vocabulary is the one Readability.js (`REGEXPS`: unlikelyCandidates, okMaybeItsACandidate,
/// positive, negative) and trafilatura (`xpaths.py`: BODY_XPATH, OVERALL_DISCARD_XPATH,
/// REMOVE_COMMENTS_XPATH) have tuned on real pages, matched the way their regular expressions
/// match: as substrings of the attribute values, case-insensitively.
///
/// Both attributes are first normalised to `" " + class + " " + id + " "` with ASCII letters
/// lowercased, `_` read as `-`, a `-` inserted at each camelCase hump (`articleBody` →
/// `article-body`, `AdSlot` → `ad-slot`) and every other non-alphanumeric ASCII byte read as a
/// space, so one pattern covers `article-body`, `article_body` and `articleBody`; a space in a
/// pattern is a token boundary (`" ad "` is the token `ad`, `" main"` a token starting with
/// `main`). All patterns are searched at once by an Aho–Corasick automaton, so the cost is one
/// table step per byte however long the vocabulary grows.
public struct ClassWords: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Readability's unlikely candidates: removed before scoring unless also `maybe`.
    public static let unlikely = ClassWords(rawValue: 1 << 0)
    /// Readability's "ok, maybe it's a candidate" words, which save an `unlikely` element.
    public static let maybe = ClassWords(rawValue: 1 << 1)
    /// Readability's positive class weight (+25).
    public static let positive = ClassWords(rawValue: 1 << 2)
    /// Readability's negative class weight (−25).
    public static let negative = ClassWords(rawValue: 1 << 3)
    /// trafilatura's boilerplate inside a content area: share bars, related links, ads,
    /// newsletters, tags, bylines, meta lines, consent banners.
    public static let discard = ClassWords(rawValue: 1 << 4)
    /// Reader comments (`comment…`, not `commentary`), Disqus threads.
    public static let comments = ClassWords(rawValue: 1 << 5)
    /// Hidden by a utility class (`hidden`, `hide`, `d-none`, `sr-only`, `visually-hidden`).
    public static let hidden = ClassWords(rawValue: 1 << 6)
    /// Content-area names, most specific first (trafilatura's BODY_XPATH tiers 1, 3, 4, 5;
    /// tier 2 is the `<article>` element).
    public static let content1 = ClassWords(rawValue: 1 << 7)
    public static let content3 = ClassWords(rawValue: 1 << 8)
    public static let content4 = ClassWords(rawValue: 1 << 9)
    public static let content5 = ClassWords(rawValue: 1 << 10)
    /// Author names (`byline`, `author-name`, `writer`).
    public static let byline = ClassWords(rawValue: 1 << 11)
    /// Publication dates (`date`, `pubtime`, `published`, `timestamp`).
    public static let date = ClassWords(rawValue: 1 << 12)
    /// Image captions and credits.
    public static let caption = ClassWords(rawValue: 1 << 13)
    /// Teasers of other articles.
    public static let teaser = ClassWords(rawValue: 1 << 14)
    /// `comment` inside `commentary`: cancels `comments`.
    static let commentary = ClassWords(rawValue: 1 << 15)

    static let vocabulary: [(String, ClassWords)] = {
        var v: [(String, ClassWords)] = []
        func add(_ words: ClassWords, _ patterns: [String]) { v += patterns.map { ($0, words) } }
        // Readability.js REGEXPS.unlikelyCandidates
        add(.unlikely, ["-ad-", "ai2html", "banner", "breadcrumbs", "combx", "comment", "community", "cover-wrap", "disqus",
                        "extra", "footer", "gdpr", "header", "legends", "menu", "related", "remark", "replies", "rss",
                        "shoutbox", "sidebar", "skyscraper", "social", "sponsor", "supplemental", "ad-break", "agegate",
                        "pagination", "pager", "popup", "yom-remote",
                        // overlays a page opens on demand (login, age and consent dialogs)
                        "dialog", "modal", "login"])
        // okMaybeItsACandidate ("and" as in the original: brand, expand, standalone)
        add(.maybe, ["and", "article", "body", "column", "content", "main", "mathjax", "shadow"])
        add(.positive, ["article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "pagination", "post",
                        "text", "blog", "story"])
        add(.negative, ["-ad-", "hidden", " hid ", "banner", "combx", "comment", "com-", "contact", "footer", "gdpr",
                        "masthead", "media", "meta", "outbrain", "promo", "related", "scroll", "share", "shoutbox", "sidebar",
                        "skyscraper", "sponsor", "shopping", "tags", "widget"])
        // trafilatura OVERALL_DISCARD_XPATH (id and class tokens together)
        add(.discard, [" shar", "social", "viral", "newsletter", "syndication", "tags", "sidebar", "banner", "breadcrumb",
                       "bread-crumb", "button", "author", " jp-", "dpsp-content", "footer", "share", " nav", "-nav ", "post-nav",
                       "subnav", "avigation", "navbar", "navbox", "menu", "related", "message-container", "premium", " ad ",
                       " ad-", "-ad-", "-ad ", "dfp-ad", "outbrain", "taboola", "criteo", "paid-content", "paidcontent",
                       "byline", "sociable", "tag-list", "taglist", "consent", "modal-content", "permission", "elated",
                       "next-", "-stories", "most-popular", "more-on", " meta", "-meta", "rating", "attachment",
                       "timestamp", "user-info", "user-profile", "-icon", "article-infos", "slide", "viewport", "overlay",
                       " options", "obfuscated", "blurred", "comments-title", " reply-", "-reply-", "nocomments",
                       "akismet", "suggest-links", "noprint", "hide-print", "notloaded", "cookie", "subscribe",
                       "signup", "sign-up", "recommend", "promo", "toolbar", "print-only", "skip-link", "skiplink",
                       // WordPress/Jetpack likes, donation appeals, paywall prompts
                       "likes ", "donat", "-support ", " support-", "paywall", "membership", "copyright",
                       // view, read and click counters: a number that changes at every check
                       "view-count", "views-count", "viewcount", "post-views", "pageview", "page-views", "read-count",
                       "readcount", "read-num", "visit-count", "click-count", "clicknum", "hit-count", "hitcount",
                       "view-counter", "views-counter", "hit-counter", "visit-counter", "visitor-counter", "read-counter",
                       "page-counter", "post-counter", "slide-counter", "gallery-counter", "image-counter"])
        // trafilatura REMOVE_COMMENTS_XPATH; Disqus
        add(.comments, [" comment", "-comment", "article-comments", "post-comments", "comol", "disqus", "dsq-comments"])
        add(.commentary, ["commentary", "commentator"])
        add(.hidden, [" hidden ", " hide ", " hide-", "-hide-", " hidden-", " d-none ", " sr-only ", "visually-hidden",
                      "screen-reader-text", " invisible ", " is-hidden "])
        // trafilatura BODY_XPATH, tier 1
        add(.content1, ["entry-content", "article-content", "art-content", "article--content", "article-body",
                        "article--body", "articlebody", "body-text", "post-text", "post-body", "post-entry", "postentry",
                        "post-content", "postcontent", "post-inner-wrapper", "article-text", "articletext", "page-content",
                        "text-content", "article--container", " post ", " entry ", "article-content", "articlecontent",
                        "story-text", "news-text", "news-content", "newstext", "entry-body"])
        // tier 3
        add(.content3, [" article ", " story ", " postarea ", " art-postcontent ", " text ", " cell ", " primary",
                        "story-body", "fulltext", "full-text", "post-bodycopy", "story-content", "storycontent",
                        "theme-content", "blog-content", "section-content", "single-content", "single-post", "main-column",
                        "wpb-text-column", "field-body", "field-name-body", "field--name-body"])
        // tier 4
        add(.content4, [" content ", "content-main", "content-body", "main-content", "maincontent", "page-content"])
        // tier 5
        add(.content5, [" main"])
        add(.byline, ["byline", "author", "writer", "screenname", "zuozhe", "reporter", "journalist"])
        add(.date, ["date", "time", "pubtime", "publish", "dateline", "timestamp"])
        // (`pic-desc`, `img_txt`: the names Chinese news templates give captions)
        add(.caption, ["caption", "credit", "photocap", "pic-desc", "picdesc", "img-desc", "imgdesc", "photo-desc",
                       "image-desc", "pic-txt", "pictxt", "img-txt", "imgtxt", "pic-note"])
        add([.teaser, .negative], ["teaser"])
        return v
    }()

    /// The automaton: `delta[state * alphabet + symbol]` and the words ending at each state.
    struct Automaton: Sendable {
        static let alphabet = 39  // a–z, 0–9, '-', ' ', any non-ASCII byte
        var delta: [UInt16] = []
        var output: [UInt32] = []

        static func symbol(_ b: UInt8) -> Int {
            switch b {
            case 0x61...0x7A: return Int(b - 0x61)
            case 0x30...0x39: return 26 + Int(b - 0x30)
            case 0x2D: return 36
            case 0x20: return 37
            default: return 38
            }
        }

        init(_ patterns: [(String, ClassWords)]) {
            var goto: [[Int: Int]] = [[:]]
            output = [0]
            for (pattern, words) in patterns {
                var s = 0
                for b in pattern.utf8 {
                    let c = Self.symbol(b)
                    if let next = goto[s][c] { s = next } else {
                        goto.append([:])
                        output.append(0)
                        goto[s][c] = goto.count - 1
                        s = goto.count - 1
                    }
                }
                output[s] |= words.rawValue
            }
            // Breadth-first: failure links, then the full transition table.
            var fail = [Int](repeating: 0, count: goto.count)
            delta = [UInt16](repeating: 0, count: goto.count * Self.alphabet)
            var queue: [Int] = []
            for c in 0..<Self.alphabet {
                if let s = goto[0][c] { delta[c] = UInt16(s); queue.append(s) }
            }
            var head = 0
            while head < queue.count {
                let r = queue[head]
                head += 1
                output[r] |= output[fail[r]]
                for c in 0..<Self.alphabet {
                    if let s = goto[r][c] {
                        fail[s] = Int(delta[fail[r] * Self.alphabet + c])
                        delta[r * Self.alphabet + c] = UInt16(s)
                        queue.append(s)
                    } else {
                        delta[r * Self.alphabet + c] = delta[fail[r] * Self.alphabet + c]
                    }
                }
            }
        }
    }

    static let automaton = Automaton(vocabulary)

    /// The words of an element, from its `class` and `id` values as NUL-terminated UTF-8 (either
    /// may be nil).
    public static func of(class cls: UnsafePointer<UInt8>?, id: UnsafePointer<UInt8>?) -> ClassWords {
        guard cls != nil || id != nil else { return [] }
        let a = automaton
        var mask: UInt32 = 0
        a.delta.withUnsafeBufferPointer { delta in
            a.output.withUnsafeBufferPointer { output in
                var state = Int(delta[37])  // the leading space
                mask |= output[state]
                func feed(_ c: Int) {
                    state = Int(delta[state * Automaton.alphabet + c])
                    mask |= output[state]
                }
                for value in [cls, id] {
                    guard var p = value else { continue }
                    var previousLower = false
                    var previousSpace = true
                    while p.pointee != 0 {
                        let b = p.pointee
                        p += 1
                        var c: Int
                        switch b {
                        case 0x41...0x5A:
                            if previousLower { feed(36) }
                            c = Int(b - 0x41)
                            previousLower = false
                        case 0x61...0x7A: c = Int(b - 0x61); previousLower = true
                        case 0x30...0x39: c = 26 + Int(b - 0x30); previousLower = true
                        case 0x2D, 0x5F: c = 36; previousLower = false
                        case 0x80...: c = 38; previousLower = false
                        default: c = 37; previousLower = false
                        }
                        // Runs of separators are one space.
                        if c == 37 { if previousSpace { continue }; previousSpace = true } else { previousSpace = false }
                        feed(c)
                    }
                    if !previousSpace { feed(37) }
                }
            }
        }
        var words = ClassWords(rawValue: mask)
        if words.contains(.commentary) {
            // `commentary` holds `comment`: an opinion column is not a comment thread (the
            // Readability words stay as Readability.js sets them).
            words.subtract([.comments, .commentary])
        }
        return words
    }

    /// For tests and tools: the words of plain strings.
    public static func of(class cls: String?, id: String?) -> ClassWords {
        func withC<R>(_ s: String?, _ body: (UnsafePointer<UInt8>?) -> R) -> R {
            guard let s else { return body(nil) }
            return s.withCString { body(UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self)) }
        }
        return withC(cls) { c in withC(id) { i in of(class: c, id: i) } }
    }
}
