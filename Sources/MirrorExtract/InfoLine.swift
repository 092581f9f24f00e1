import MirrorCore
import MirrorMarkup

/// The article-information line of Chinese news and government pages, between the headline
/// and the body: `发布时间：2024-11-28 09:30　来源：河滨日报　作者：李明　【字体：大 中 小】`.
///
/// Labelled fields, in any order, each `LABEL：value` (full-width or ASCII colon); a value runs
/// to the next label, a bracket, a bar or an ideographic space. Read: the source (`来源`,
/// `稿源`), the reporter (`作者`, `记者`), the editor (`责任编辑`, `编辑`) and the publication
/// date (`发布时间`, `发布日期`, `时间`, `日期`). Counters and page tools (`浏览次数`, `字体`,
/// `打印`) end a value and are never read: a view count would change at every check.
///
/// Dateline fields are part of a revision's content hash (DESIGN), so only values that look
/// like names are taken: at most 24 characters, no sentence punctuation, no digits in a
/// person's name (`name`).
public struct InfoLine: Sendable, Equatable {
    public var source: String?
    public var reporter: String?
    public var editor: String?
    /// `YYYY-MM-DD`.
    public var published: String?

    enum Field { case source, reporter, editor, date, other }

    /// Labels, longest first where one ends another (`责任编辑` before `编辑`).
    static let labels: [(String, Field)] = [
        // A picture's credit, before the plain labels it ends with (`图片来源` is no source).
        ("图片来源", .other), ("圖片來源", .other), ("图源", .other), ("摄影", .other), ("攝影", .other),
        ("来源", .source), ("來源", .source), ("稿源", .source), ("出处", .source), ("出處", .source),
        ("作者", .reporter), ("记者", .reporter), ("記者", .reporter), ("撰稿", .reporter), ("撰文", .reporter),
        ("责任编辑", .editor), ("責任編輯", .editor), ("编辑", .editor), ("編輯", .editor),
        ("发布时间", .date), ("發佈時間", .date), ("發布時間", .date), ("发布日期", .date), ("發佈日期", .date),
        ("发表时间", .date), ("更新时间", .other), ("时间", .date), ("時間", .date), ("日期", .date),
        ("浏览次数", .other), ("浏览", .other), ("瀏覽", .other), ("阅读", .other), ("閱讀", .other),
        ("点击", .other), ("點擊", .other), ("字体", .other), ("字體", .other), ("字号", .other), ("字號", .other),
        ("分享", .other), ("打印", .other), ("关闭", .other), ("评论", .other),
    ]

    /// `labels` as scalars, compared in place along a line.
    static let labelScalars: [([Unicode.Scalar], Field)] = labels.map { (Array($0.0.unicodeScalars), $0.1) }

    /// Parses one line; nil when it holds no field read here.
    /// - Parameter text: the line's text (at most 200 characters are looked at).
    public static func parse(_ text: String) -> InfoLine? {
        let scalars = Array(text.unicodeScalars.prefix(200))
        guard scalars.contains(where: { $0 == "：" || $0 == ":" }) else { return nil }
        // Every `LABEL：` in the line: where its value starts, and the label's own start.
        var found: [(start: Int, valueStart: Int, field: Field)] = []
        var i = 0
        while i < scalars.count {
            var matched = false
            for (l, field) in labelScalars {
                guard i + l.count <= scalars.count, scalars[i..<(i + l.count)].elementsEqual(l) else { continue }
                var k = i + l.count
                while k < scalars.count, scalars[k] == " " || scalars[k] == "\u{A0}" { k += 1 }
                if k < scalars.count, scalars[k] == "：" || scalars[k] == ":" {
                    found.append((i, k + 1, field))
                    i = k + 1
                    matched = true
                }
                break
            }
            if !matched { i += 1 }
        }
        guard !found.isEmpty else { return nil }
        var line = InfoLine()
        for (n, f) in found.enumerated() {
            let end = n + 1 < found.count ? found[n + 1].start : scalars.count
            var value = Array(scalars[f.valueStart..<max(f.valueStart, end)])
            if let stop = value.firstIndex(where: { "【[|｜丨　()（）\n".unicodeScalars.contains($0) }) { value = Array(value[..<stop]) }
            let v = TextNormalizer.normalize(String(String.UnicodeScalarView(value)))
            switch f.field {
            case .source: line.source = line.source ?? name(v, digits: true)
            // Role words (`本报记者 张三`) are no name: `Dateline.reporterName` strips them.
            case .reporter: line.reporter = line.reporter ?? Dateline.reporterName(v).flatMap { name($0) }
            case .editor: line.editor = line.editor ?? name(v)
            case .date: line.published = line.published ?? WrittenDate.parse(v)
            case .other: break
            }
        }
        return line.source == nil && line.reporter == nil && line.editor == nil && line.published == nil ? nil : line
    }

    /// A value that can be a name or a publication: Chinese names have no spaces (`李明 张三`
    /// is two reporters: the first is taken); no digits or sentence punctuation (`张一鸣`'s
    /// `一` is a numeral, not a digit).
    /// - Parameter digits: allowed in a publication's name (`21世纪经济报道`, `36氪`), not in a
    ///   person's.
    static func name(_ value: String, digits: Bool = false) -> String? {
        var v = value
        if let first = v.unicodeScalars.first, TextNormalizer.isCJK(first), let space = v.firstIndex(of: " ") {
            v = String(v[..<space])
        }
        guard !v.isEmpty, v.count <= 24, WrittenDate.parse(v) == nil,
              !v.unicodeScalars.contains(where: { (!digits && $0.properties.numericType == .decimal) || "。，！？；,;!?".unicodeScalars.contains($0) }),
              v.unicodeScalars.contains(where: { $0.properties.isAlphabetic })
        else { return nil }
        return v
    }
}

extension ContentExtractor {
    /// The information line of the page, if any: among the first furniture lines taken out of
    /// the body, then among the one-line elements before the body (no block inside them,
    /// under 200 characters, outside navigation, footers and comments), the first that holds
    /// a source, a reporter or a date (`InfoLine`). Only on pages with Chinese text in their title.
    static func infoLine(index: PageIndex, pruning: Pruning, body: Body, title: String?) -> InfoLine? {
        guard let title, title.unicodeScalars.contains(where: TextNormalizer.isCJK) else { return nil }
        // An editor line alone (`责任编辑：…`, under the body) is not the information line.
        func info(_ text: String) -> InfoLine? {
            InfoLine.parse(text).flatMap { $0.source == nil && $0.reporter == nil && $0.published == nil ? nil : $0 }
        }
        for line in body.furniture.prefix(6) {
            if let found = info(line) { return found }
        }
        let bodyStart = body.containers.min() ?? index.count
        var i = 0
        while i < min(bodyStart, index.count) {
            let chars = index.chars[i]
            guard chars >= 6, chars < 200, !index.tag[i].isRemoved else { i += 1; continue }
            let end = Int(index.end[i])
            let oneLine = !((i + 1)..<min(end + 1, index.count)).contains { index.tag[$0].isBlock }
            if oneLine, !pruning.isHardChrome(i), !index.insideComments(i), index.linkDensity(i) < 0.5,
               let found = info(HTMLText.raw(HTMLNode(index.node[i]))) {
                return found
            }
            i = oneLine ? end + 1 : i + 1  // nothing inside a one-line element is another line
        }
        return nil
    }
}
