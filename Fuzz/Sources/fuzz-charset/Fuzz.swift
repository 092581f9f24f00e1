import FuzzDriver
import MirrorCore
import MirrorMarkup

/// Charset detection and decoding (BOM, header, <meta> prescan, XML declaration, iconv).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks a declared charset, as a header would.
    let labels = [nil, "text/html; charset=gbk", "text/plain; charset=big5", "text/html; charset=shift_jis",
                  "text/html; charset=utf-16", "text/html; charset=iso-8859-1", "text/html; charset=euc-kr"]
    let label = bytes.first.map { labels[Int($0) % labels.count] } ?? nil
    _ = Charset.decode(Array(bytes.dropFirst()), contentType: label)
    if Gzip.isGzip(bytes) { _ = try? Gzip.inflate(bytes, limit: 1 << 20) }
    return 0
}

@_cdecl("fuzz_charset_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
