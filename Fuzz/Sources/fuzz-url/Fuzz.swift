import FuzzDriver
import MirrorCore

/// RFC 3986 parsing, resolution and normalization: normalizing twice changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let base = URI("https://example.org/news/pages/1/2.md?t=1")!
    guard let ref = URI(text) else { return 0 }
    let resolved = base.resolving(ref)
    let once = resolved.normalized(ignoringQuery: ["t"])
    let twice = URI(once.description).map { $0.normalized(ignoringQuery: ["t"]) }
    precondition(twice == nil || twice!.description == once.description, "normalization not idempotent: \(text)")
    _ = once.decodedPath
    return 0
}

@_cdecl("fuzz_url_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
