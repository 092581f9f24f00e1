import Foundation
import MirrorCore
import MirrorMarkup

/// An image an article shows.
public struct ArticleImage: Codable, Sendable, Equatable {
    /// Absolute URL as the page references it.
    public var src: String
    public var alt: String?
    public var caption: String?
    /// Path of the mirrored copy relative to the parsed file, or nil when not mirrored.
    public var local: String?

    public init(src: String, alt: String?, caption: String?, local: String? = nil) {
        self.src = src
        self.alt = alt
        self.caption = caption
        self.local = local
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(src, forKey: .src)
        try c.encode(alt, forKey: .alt)
        try c.encode(caption, forKey: .caption)
        try c.encode(local, forKey: .local)
    }
}

/// A link inside an article's body.
public struct ArticleLink: Codable, Sendable, Equatable {
    /// Absolute URL as the page references it.
    public var url: String
    public var text: String
    /// For a link to another article the mirror tracks: the path of that article's parsed
    /// copy (`.md`) relative to this one's; nil otherwise (and then absent from the JSON).
    public var local: String?

    public init(url: String, text: String, local: String? = nil) {
        self.url = url
        self.text = text
        self.local = local
    }
}

/// A video an article shows (`<video src poster>`, or one `<source src type>` inside it).
public struct ArticleVideo: Codable, Sendable, Equatable {
    /// Absolute URL of the media file.
    public var src: String
    /// The MIME type the page declares (`video/mp4`), or nil.
    public var type: String?
    /// Absolute URL of the still shown before playing, or nil.
    public var poster: String?

    public init(src: String, type: String? = nil, poster: String? = nil) {
        self.src = src
        self.type = type
        self.poster = poster
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(src, forKey: .src)
        try c.encode(type, forKey: .type)
        try c.encode(poster, forKey: .poster)
    }
}

/// How an article's body was found.
public enum Extraction: String, Codable, Sendable, Equatable {
    /// An article body: the seed format's structure, or the best-scoring content block of an
    /// HTML page (or its JSON-LD `articleBody`).
    case article
    /// No article body was found: the body is the page's visible main text, without
    /// scripts, styles, navigation, header and footer (see `FallbackText`).
    case fallback
}

/// The clean content of one article page. A field that is not known is nil (JSON `null`),
/// never guessed.
public struct ParsedArticle: Codable, Sendable, Equatable {
    public var title: String?
    /// RFC 3339: a bare date (`2021-04-13`) when only the date is known.
    public var published: String?
    /// The publication named in the dateline (`希望之声`).
    public var source: String?
    /// The reporter's name only, without role words (`本台记者`) or verbs (`综合报导`).
    public var reporter: String?
    public var editor: String?
    /// The "original address" the page credits (`原文地址：…`).
    public var originalURL: String?
    /// Body paragraphs only: no title, dateline, editor line, captions or boilerplate.
    public var paragraphs: [String]
    public var images: [ArticleImage]
    public var links: [ArticleLink]
    /// Videos in the body, in document order.
    public var videos: [ArticleVideo] = []
    /// How `paragraphs` were found (`"article"` or `"fallback"` in the JSON).
    public var extraction: Extraction = .article

    public init(title: String? = nil, published: String? = nil, source: String? = nil, reporter: String? = nil,
                editor: String? = nil, originalURL: String? = nil, paragraphs: [String] = [],
                images: [ArticleImage] = [], links: [ArticleLink] = []) {
        self.title = title
        self.published = published
        self.source = source
        self.reporter = reporter
        self.editor = editor
        self.originalURL = originalURL
        self.paragraphs = paragraphs
        self.images = images
        self.links = links
    }

    enum CodingKeys: String, CodingKey {
        case title, published, source, reporter, editor
        case originalURL = "original_url"
        case paragraphs, images, links, videos, extraction
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(title, forKey: .title)
        try c.encode(published, forKey: .published)
        try c.encode(source, forKey: .source)
        try c.encode(reporter, forKey: .reporter)
        try c.encode(editor, forKey: .editor)
        try c.encode(originalURL, forKey: .originalURL)
        try c.encode(paragraphs, forKey: .paragraphs)
        try c.encode(images, forKey: .images)
        try c.encode(links, forKey: .links)
        try c.encode(videos, forKey: .videos)
        try c.encode(extraction, forKey: .extraction)
    }

    /// What a revision is: SHA-256 over the title, the dateline fields and the body text, each
    /// already whitespace-normalized, and the body's video files (for a video article the
    /// video is the body: another file is an edit). Navigation, promotions, share blocks,
    /// images and links are deliberately outside it, so boilerplate churn never makes a
    /// revision. A fallback body (`extraction: "fallback"`) is covered like any other.
    ///
    /// The hashed text is `article␞`, each of the four fields canonical and followed by `␟`,
    /// `␞`, the canonical paragraphs separated by `␟`, and, only when there are videos (so
    /// every other article's hash stays as it was), `␞video␟` and their `src`s separated by
    /// `␟` (␞ U+001E, ␟ U+001F). It is hashed piece by piece, never joined: a 2 MB article
    /// had held two more copies of its text while hashing.
    public var contentSHA256: String {
        let hasher = SHA256.Hasher()
        hasher.update("article\u{1E}")
        for field in [title, published, source, reporter] {
            hasher.update(TextNormalizer.canonical(field ?? ""))
            hasher.update("\u{1F}")
        }
        hasher.update("\u{1E}")
        for (i, paragraph) in paragraphs.enumerated() {
            if i > 0 { hasher.update("\u{1F}") }
            hasher.update(TextNormalizer.canonical(paragraph))
        }
        if !videos.isEmpty {
            hasher.update("\u{1E}video\u{1F}")
            for (i, video) in videos.enumerated() {
                if i > 0 { hasher.update("\u{1F}") }
                hasher.update(video.src)
            }
        }
        return hasher.finalizeHex()
    }
}
