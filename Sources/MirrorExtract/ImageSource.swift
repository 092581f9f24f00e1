import MirrorCore
import MirrorMarkup

/// Where an `<img>` really points: lazy-loading pages put the picture in `data-src` or
/// `data-original` and a placeholder in `src`; responsive pages list candidates in `srcset`
/// (the largest is the one worth keeping); `//host/x.jpg` takes the page's scheme.
public enum ImageSource {
    /// - Returns: the absolute URL, or nil for an image without a usable source.
    public static func url(of img: HTMLNodeAttributes, pageURL: URI) -> URI? {
        var candidate: String?
        for lazy in ["data-src", "data-original", "data-lazy-src", "data-url"] {
            if let v = img.attribute(lazy)?.trimmingWhitespace(newlines: false), !v.isEmpty { candidate = v; break }
        }
        if candidate == nil, let srcset = img.attribute("srcset") ?? img.attribute("data-srcset") {
            candidate = largest(srcset)
        }
        if candidate == nil, let src = img.attribute("src")?.trimmingWhitespace(newlines: false), !src.isEmpty {
            candidate = src
        }
        guard let c = candidate, let url = pageURL.resolving(c) else { return nil }
        return url
    }

    /// The largest candidate of a `srcset` (HTML §4.8.4.3): by width descriptor (`800w`), else
    /// by density (`2x`); a candidate without a descriptor counts as `1x`.
    public static func largest(_ srcset: String) -> String? {
        var best: (String, Double)?
        for item in srcset.split(separator: ",") {
            let parts = item.split(whereSeparator: \.isWhitespace)
            guard let url = parts.first else { continue }
            var size = 1.0
            if let d = parts.dropFirst().first {
                if d.hasSuffix("w"), let w = Double(d.dropLast()) { size = w * 1000 }  // widths outrank densities
                else if d.hasSuffix("x"), let x = Double(d.dropLast()) { size = x }
            }
            if best == nil || size > best!.1 { best = (String(url), size) }
        }
        return best?.0
    }
}

/// What `ImageSource` needs of an element (lets tests pass plain dictionaries).
public protocol HTMLNodeAttributes {
    func attribute(_ name: String) -> String?
}

import MirrorMarkup
extension HTMLNode: HTMLNodeAttributes {}

import Foundation

/// The files a `<video>` plays: its `src`, else each `<source src>` (alternative encodings,
/// each with its `type`), all with the video's `poster`. URLs resolve against `pageURL`;
/// empty for a video without any file.
public enum VideoSource {
    public static func videos(of video: HTMLNode, pageURL: URI) -> [ArticleVideo] {
        func resolve(_ s: String?) -> String? {
            guard let s = s?.trimmingWhitespace(), !s.isEmpty, let u = pageURL.resolving(s) else { return nil }
            return u.description
        }
        func mime(_ s: String?) -> String? {
            guard let t = s?.trimmingWhitespace(), !t.isEmpty else { return nil }
            return t
        }
        let poster = resolve(video.attribute("poster"))
        if let src = resolve(video.attribute("src")) { return [ArticleVideo(src: src, type: mime(video.attribute("type")), poster: poster)] }
        var out: [ArticleVideo] = []
        // Descendants, not children: libxml2's HTML 4 parser does not know `<source>` is void
        // and nests each following one inside the one before.
        video.walk { c in
            if c.isElement(named: "source"), let s = resolve(c.attribute("src")) {
                out.append(ArticleVideo(src: s, type: mime(c.attribute("type")), poster: poster))
            }
            return true
        }
        return out
    }
}
