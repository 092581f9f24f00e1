import FuzzDriver
import Foundation
import MirrorControl

/// Control requests as the router reads them: the target, its query string and a JSON body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let split = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let uri = String(decoding: bytes[..<split], as: UTF8.self)
    let body = Array(bytes[min(split + 1, bytes.count)...])
    let request = ControlRequest(method: "POST", uri: uri, body: body)
    _ = ControlRouter.syncOptions(fromBody: request.body, sources: ["news", "town"])
    return 0
}

@_cdecl("fuzz_control_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
