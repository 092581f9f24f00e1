import FuzzDriver
import MirrorCore
import MirrorExtract
import MirrorMarkup

/// Article extraction, seed-format (Markdown) and readability (HTML) paths, and the parsed copy.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let url = URI("https://example.org/news/pages/1/1.md")!
    for format in [MarkupFormat.markdown, .html] {
        let a = ArticleExtractor.extract(text: text, format: format, pageURL: url)
        _ = ParsedCopy(article: a, url: url.description, revision: 1, contentSHA256: a.contentSHA256, fetchedAt: "").markdown()
    }
    return 0
}

@_cdecl("fuzz_article_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
