import FuzzDriver
import MirrorCore
import MirrorDiscovery
import MirrorMarkup

let rules: LinkRules = {
    var s = SourceConfig(name: "f", start: ["https://example.org/news/README.md"], pollInterval: 3600)
    s.indexLinks = ["indexes/*.md", "**/*.xml"]
    s.articleLinks = ["pages/**"]
    s.ignoreQuery = ["t"]
    return LinkRules(source: s)
}()

/// Link extraction from any index format (Markdown, HTML, RSS, Atom, sitemaps).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = Charset.decode(Array(UnsafeBufferPointer(start: data, count: size)), contentType: nil).text
    let index = IndexContent.read(text: text, contentType: nil, pageURL: URI("https://example.org/news/indexes/a.md")!, rules: rules)
    for link in index.links { precondition(link.url.scheme != nil) }
    _ = index.contentSHA256
    return 0
}

@_cdecl("fuzz_links_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
