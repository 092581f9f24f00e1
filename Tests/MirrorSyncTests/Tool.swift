import Foundation
import TestSupport

/// The built binaries, run as a user runs them, and the config they are given.
enum Tool {
    static let products = Bundle.main.bundleURL

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ tool: String, _ args: [String]) throws -> Output {
        let p = Process()
        p.executableURL = products.appendingPathComponent(tool)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// `mirrord.toml` in `dir`: relative state, mirror and socket paths, one source `town` on
    /// `server`; `pollInterval` nil leaves the default; `extra` goes before the source,
    /// `extraSource` after it.
    static func writeConfig(_ dir: TemporaryDirectory, server: TestHTTPServer, pollInterval: String? = "1h",
                            extra: String = "", extraSource: String = "") throws -> String {
        try dir.write("mirrord.toml", """
            state_dir = "state"
            mirror_dir = "mirror"
            control_socket = "run/control.sock"
            \(pollInterval.map { "poll_interval = \"\($0)\"" } ?? "")
            \(extra)
            [[source]]
            name = "town"
            start = ["\(server.baseURL)/README.md"]
            index_links = ["indexes/*.md"]
            article_links = ["pages/**/*.md"]
            ignore_query = ["t"]
            \(extraSource)
            """)
        return dir.file("mirrord.toml")
    }
}
