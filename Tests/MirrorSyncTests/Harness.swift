import Foundation
import MirrorCore
import MirrorFetch
import MirrorStore
import MirrorSync
import TestSupport

/// A mirror (config, store, engine) pointed at a local test server.
final class Harness {
    let server: TestHTTPServer
    let dir = TemporaryDirectory()
    let config: MirrorConfig
    let database: MirrorDatabase
    let blobs: BlobStore
    let fetcher: Fetcher
    let engine: SyncEngine

    let clock = TestClock()

    init(site: FixtureSite? = .standard(), http: String = "", extraSource: String = "") throws {
        server = try TestHTTPServer()
        site?.publish(to: server)
        let path = try Tool.writeConfig(dir, server: server, pollInterval: nil, extra: """
            [http]
            \(http.contains("timeout =") ? "" : "timeout = \"5s\"")
            \(http.contains("concurrency =") ? "" : "concurrency = 4")
            retry_delay = "10ms"
            \(http)

            """, extraSource: extraSource)
        config = try MirrorConfig.load(path: path)
        database = try MirrorDatabase(path: config.databasePath)
        blobs = try BlobStore(root: config.stateDir + "/blobs")
        fetcher = Fetcher(settings: config.http)
        let clock = self.clock
        engine = SyncEngine(config: config, database: database, blobs: blobs, fetcher: fetcher, clock: { clock.now })
    }

    deinit {
        fetcher.shutdown()
    }

    func sync(all: Bool = false) async throws -> RunRecord {
        try await engine.run(RunOptions(trigger: "test", all: all))
    }

    var hostDir: String { "127.0.0.1_\(server.port)" }

    func url(_ path: String) -> String { server.baseURL + path }

    func mirrorFile(_ relative: String) -> String { config.mirrorDir + "/" + relative }

    func document(_ path: String) throws -> DocumentRecord? { try database.document(url: url(path)) }

    func parsedJSON(_ articleId: Int) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: mirrorFile("parsed/\(hostDir)/pages/1/\(articleId).json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Every file under mirror_dir with its size and modification time (nanoseconds).
    func treeSnapshot() -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        let root = config.mirrorDir
        guard let e = FileManager.default.enumerator(atPath: root) else { return out }
        for case let rel as String in e {
            var st = stat()
            guard stat(root + "/" + rel, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            out[rel] = [Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec)]
        }
        return out
    }
}

/// A settable clock for the engine: real time until a test moves it.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Double = 0

    var now: Date {
        lock.lock(); defer { lock.unlock() }
        return Date().addingTimeInterval(offset)
    }

    func advance(_ seconds: Double) {
        lock.lock(); offset += seconds; lock.unlock()
    }
}
