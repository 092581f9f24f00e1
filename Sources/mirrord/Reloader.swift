import Foundation
import Logging
import MirrorControl
import MirrorCore
import MirrorExtract
import MirrorFetch
import MirrorStore
import MirrorSync

/// Re-reads the configuration on SIGHUP and `POST /v1/reload` (`mirrorctl reload`).
///
/// A bad file keeps the running configuration; the error (file, line, key, reason) is logged,
/// returned to the caller and shown in `systemctl status`. Sources added, removed and changed
/// take effect from the next run; a run in progress finishes with the configuration it started
/// with. `state_dir` and `control_socket` need a restart (the lock and the socket belong to
/// this process); an `[http]` change brings a new fetcher.
final class Reloader: @unchecked Sendable {
    let configPath: String
    let database: MirrorDatabase
    let blobs: BlobStore
    let metrics: MirrorMetrics
    let dictionaries: SourceDictionaries
    let coordinator: SyncCoordinator
    let notifier: SystemdNotifier
    let logger: Logger
    private let lock = NSLock()
    private var running: MirrorConfig
    private var fetcher: Fetcher
    private var retired: [Fetcher] = []

    init(configPath: String, running: MirrorConfig, database: MirrorDatabase, blobs: BlobStore, fetcher: Fetcher,
         metrics: MirrorMetrics, dictionaries: SourceDictionaries, coordinator: SyncCoordinator, notifier: SystemdNotifier,
         logger: Logger) {
        self.dictionaries = dictionaries
        self.configPath = configPath
        self.running = running
        self.database = database
        self.blobs = blobs
        self.fetcher = fetcher
        self.metrics = metrics
        self.coordinator = coordinator
        self.notifier = notifier
        self.logger = logger
    }

    var currentFetcher: Fetcher {
        lock.withLock { fetcher }
    }

    struct NeedsRestart: Error, CustomStringConvertible {
        let key: String
        var description: String { "\(key) cannot change on reload; restart mirrord to apply it" }
    }

    func reload() async -> Result<String, Error> {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())")
        let result: Result<String, Error>
        do {
            let new = try MirrorConfig.load(path: configPath)
            try Mirrord.checkExtractionRules(new)
            let (old, current) = try lock.withLock { () throws -> (MirrorConfig, Fetcher) in
                let old = running
                if new.stateDir != old.stateDir { throw NeedsRestart(key: "state_dir") }
                if new.controlSocket != old.controlSocket { throw NeedsRestart(key: "control_socket") }
                if new.http != old.http {
                    retired.append(fetcher)  // still serving a run in progress; shut down at exit
                    fetcher = Fetcher(settings: new.http)
                }
                running = new
                return (old, fetcher)
            }
            await coordinator.replace(engine: SyncEngine(config: new, database: database, blobs: blobs, fetcher: current,
                                                         metrics: metrics, dictionaries: dictionaries))
            let oldNames = Set(old.sources.map(\.name)), newNames = Set(new.sources.map(\.name))
            let changed = new.sources.filter { s in old.source(named: s.name).map { $0 != s } ?? false }.count
            // `[web] listen` is bound at start: a new address is said, not silently ignored.
            let web = new.web == old.web ? "" : "; [web] listen is read at start: restart mirrord to serve \(new.web.map { "\($0)" } ?? "no web view")"
            let summary = "\(new.sources.count) source(s): \(newNames.subtracting(oldNames).count) added, "
                + "\(oldNames.subtracting(newNames).count) removed, \(changed) changed" + web
            logger.notice("configuration reloaded from \(configPath): \(summary)")
            result = .success(summary)
        } catch {
            logger.error("reload failed, running configuration kept: \(error)")
            result = .failure(error)
        }
        switch result {
        case .success(let summary): notifier.notify("READY=1\nSTATUS=configuration reloaded: \(summary)")
        case .failure(let error): notifier.notify("READY=1\nSTATUS=reload failed, running configuration kept: \(error)")
        }
        return result
    }

    func shutdownRetiredFetchers() {
        let old = lock.withLock { () -> [Fetcher] in
            defer { retired.removeAll() }
            return retired
        }
        old.forEach { $0.shutdown() }
    }
}
