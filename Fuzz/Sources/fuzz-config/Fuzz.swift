import FuzzDriver
import MirrorCore

/// Configuration parsing: any text gives a configuration or a ConfigError, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try MirrorConfig.parse(text, file: "/fuzz/mirrord.toml")
    } catch let e as ConfigError {
        precondition(!e.description.isEmpty)
    } catch {
        preconditionFailure("not a ConfigError: \(error)")
    }
    return 0
}

@_cdecl("fuzz_config_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, { fuzz($0, $1) })
}
