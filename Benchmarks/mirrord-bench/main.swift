import Foundation
import MirrorCore
import MirrorDiff
import MirrorExtract
import MirrorMarkup

// Micro-benchmarks of the pure core, printed as a table:
//   swift run -c release mirrord-bench [--quick]
// Figures are medians of repeated runs on this machine; the targets come from the issues.

let quick = CommandLine.arguments.contains("--quick")

// MARK: one page, for working on the rules

/// `--explain FILE [URL]`: the parsed article of one HTML page (Markdown for `*.md`) as JSON (with
/// `MIRRORD_EXTRACT_TRACE=1`, the extractor's decisions on stderr).
if let at = CommandLine.arguments.firstIndex(of: "--explain"), CommandLine.arguments.count > at + 1 {
    let bytes = [UInt8](FileManager.default.contents(atPath: CommandLine.arguments[at + 1]) ?? Data())
    let url = CommandLine.arguments.count > at + 2 ? URI(CommandLine.arguments[at + 2])! : URI("https://example.org/")!
    let format: MarkupFormat = CommandLine.arguments[at + 1].hasSuffix(".md") ? .markdown : .html
    let a = ArticleExtractor.extract(text: Charset.decode(bytes, contentType: "text/html").text, format: format, pageURL: url)
    print(String(decoding: ParsedCopy(article: a, url: url.description, revision: 1, contentSHA256: a.contentSHA256, fetchedAt: "").json(), as: UTF8.self))
    exit(0)
}

// MARK: corpus mode, for Benchmarks/extraction_eval.py

/// `--extract-list LIST OUT`: LIST has one `path<TAB>url` per line; every page is decoded
/// (as served with `Content-Type: text/html`, so the `<meta>` charset decides) and extracted as
/// the sync engine does, and OUT gets one JSON object per page, in LIST's order: `title`,
/// `published`, `author`, `extraction`, `text` (the body paragraphs joined by newlines). The
/// last line of stdout is `pages N seconds S`: the best of three timed passes over all pages
/// in memory (decode + extract), files read beforehand.
if let at = CommandLine.arguments.firstIndex(of: "--extract-list"), CommandLine.arguments.count > at + 2 {
    let list = try! String(contentsOfFile: CommandLine.arguments[at + 1], encoding: .utf8)
    let entries: [([UInt8], URI)] = list.split(separator: "\n").map { line in
        let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
        let bytes = [UInt8](FileManager.default.contents(atPath: parts[0]) ?? Data())
        return (bytes, URI(parts[1]) ?? URI("https://example.org/")!)
    }
    // `--stage decode|parse` times only the first steps (where the time goes).
    let stage = CommandLine.arguments.firstIndex(of: "--stage").map { CommandLine.arguments[$0 + 1] } ?? "extract"
    func run() -> [ParsedArticle] {
        entries.map { bytes, url in
            let text = Charset.decode(bytes, contentType: "text/html").text
            if stage == "decode" { return ParsedArticle(title: String(text.utf8.count)) }
            if stage == "parse" { return ParsedArticle(title: HTMLDocument(html: text).root?.name) }
            return ArticleExtractor.extract(text: text, format: .html, pageURL: url)
        }
    }
    var best = Double.infinity
    var results: [ParsedArticle] = []
    for _ in 0..<3 {
        let t = DispatchTime.now().uptimeNanoseconds
        results = run()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    var out = Data()
    for a in results {
        let row: [String: Any] = [
            "title": a.title ?? NSNull(), "published": a.published ?? NSNull(), "author": a.reporter ?? NSNull(),
            "extraction": a.extraction.rawValue, "text": a.paragraphs.joined(separator: "\n"),
        ]
        out.append(try! JSONSerialization.data(withJSONObject: row))
        out.append(0x0A)
    }
    guard FileManager.default.createFile(atPath: CommandLine.arguments[at + 2], contents: out) else { fatalError("cannot write \(CommandLine.arguments[at + 2])") }
    print("pages \(entries.count) seconds \(best)")
    exit(0)
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

/// Runs `body` `runs` times after one warm-up; returns the median seconds.
func measure(runs: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<runs {
        let t = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    return median(times)
}

var rows: [(String, String, String)] = []

// MARK: diff of two 100 KB revisions, 5 % of paragraphs edited (issue 6: < 10 ms)

let sentence = "街道工作人员介绍了本周的安排，居民可以在社区服务中心领取新的出行指南和垃圾分类手册。"
var old: [String] = []
var bytes = 0
while bytes < 100_000 {
    let p = "第\(old.count + 1)段：" + String(repeating: sentence, count: 4)
    old.append(p)
    bytes += p.utf8.count
}
var new = old
var rng = SystemRandomNumberGenerator()
let edited = Array(old.indices.shuffled(using: &rng).prefix(max(1, old.count / 20)))
for i in edited {
    new[i] = new[i].replacingOccurrences(of: "本周", with: "下周").replacingOccurrences(of: "手册", with: "指引")
}
let a = DiffableContent(fields: [("title", "标题")], paragraphs: old)
let b = DiffableContent(fields: [("title", "标题")], paragraphs: new)
var diffOut = ""
let diffTime = measure(runs: quick ? 3 : 21) {
    let d = RevisionDiff.compute(a, b)
    diffOut = DiffRenderer(diff: d, old: a, new: b, oldLabel: "r1", newLabel: "r2").text()
}
rows.append(("diff: 2 × \(bytes / 1000) KB, \(edited.count)/\(old.count) paragraphs edited",
             String(format: "%.2f ms", diffTime * 1000), "< 10 ms"))

// MARK: extraction throughput on the demo upstream's pages (issue 5: ≥ 35 MB/s per core)

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let pagesDir = here.appendingPathComponent("Config/demo-upstream/pages")
var pages: [(String, URI)] = []
if let e = FileManager.default.enumerator(atPath: pagesDir.path) {
    for case let rel as String in e where rel.hasSuffix(".md") {
        let path = pagesDir.appendingPathComponent(rel).path
        pages.append((try! String(contentsOfFile: path, encoding: .utf8), URI("file://" + path)!))
    }
}
let pageBytes = pages.reduce(0) { $0 + $1.0.utf8.count }
let rounds = quick ? 5 : 60
let extractTime = measure(runs: 5) {
    for _ in 0..<rounds {
        for (text, url) in pages {
            let a = ArticleExtractor.extract(text: text, format: .markdown, pageURL: url)
            _ = ParsedCopy(article: a, url: url.description, revision: 1, contentSHA256: a.contentSHA256, fetchedAt: "").json()
        }
    }
}
let mbps = Double(pageBytes * rounds) / extractTime / 1e6
// Where the time goes, stage by stage (cumulative).
let stages: [(String, (String, URI) -> Void)] = [
    ("  markdown → html (cmark-gfm)", { t, _ in _ = Markdown.html(t) }),
    ("  + html → tree (libxml2)", { t, _ in _ = HTMLDocument(markdown: t) }),
    ("  + extract", { t, u in _ = ArticleExtractor.extract(text: t, format: .markdown, pageURL: u) }),
]
var stageRows: [(String, String, String)] = []
for (name, stage) in stages {
    let time = measure(runs: 3) { for _ in 0..<rounds { for (t, u) in pages { stage(t, u) } } }
    stageRows.append((name, String(format: "%.1f MB/s", Double(pageBytes * rounds) / time / 1e6), ""))
}
rows.append(("extract: \(pages.count) seed-format pages (\(pageBytes / 1000) KB), render+parse+extract+JSON",
             String(format: "%.1f MB/s, %.0f pages/s", mbps, Double(pages.count * rounds) / extractTime), "≥ 35 MB/s"))
rows += stageRows

// MARK: plain HTML pages (the readability path)

let htmlDir = here.appendingPathComponent("Tests/MirrorExtractTests/HTMLFixtures")
let htmlPages: [(String, URI)] = ((try? FileManager.default.contentsOfDirectory(atPath: htmlDir.path)) ?? [])
    .filter { $0.hasSuffix(".html") }.sorted().map { name in
        // Decoded as served (the GBK fixture too), as the sync engine decodes pages.
        (Charset.decode([UInt8](FileManager.default.contents(atPath: htmlDir.appendingPathComponent(name).path) ?? Data()), contentType: "text/html").text,
         URI("https://news.example.com/2024/" + name)!)
    }
let htmlBytes = htmlPages.reduce(0) { $0 + $1.0.utf8.count }
let htmlTime = measure(runs: 5) {
    for _ in 0..<rounds { for (t, u) in htmlPages { _ = ArticleExtractor.extract(text: t, format: .html, pageURL: u) } }
}
rows.append(("extract: \(htmlPages.count) plain-HTML pages (\(htmlBytes / 1000) KB), readability path",
             String(format: "%.1f MB/s, %.0f pages/s", Double(htmlBytes * rounds) / htmlTime / 1e6, Double(htmlPages.count * rounds) / htmlTime), ""))

// Machine-readable pages/s for Benchmarks/run's comparison with trafilatura.
if CommandLine.arguments.contains("--pages-per-second") {
    print(String(format: "seed %.1f\nhtml %.1f", Double(pages.count * rounds) / extractTime, Double(htmlPages.count * rounds) / htmlTime))
    exit(0)
}

// MARK: output

let w0 = max(8, rows.map(\.0.count).max()!), w1 = max(6, rows.map(\.1.count).max()!)
func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
print(pad("benchmark", w0) + "  " + pad("result", w1) + "  target")
for r in rows { print(pad(r.0, w0) + "  " + pad(r.1, w1) + "  " + r.2) }
