import ArgumentParser
import Foundation
import Logging
import MirrorControl
import MirrorCore
import MirrorExtract
import MirrorMarkup
import MirrorFetch
import MirrorStore
import MirrorSync
import NIOPosix
import ServiceLifecycle

@main
struct Mirrord: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirrord",
        abstract: "Keep a local, versioned mirror of article websites.",
        discussion: """
            Runs in the foreground (systemd manages it): polls every source's indexes every \
            poll_interval, downloads new and changed pages, records every version in SQLite under \
            state_dir, writes raw and parsed copies under mirror_dir, and answers mirrorctl on \
            control_socket. Logs go to stderr.

            EXAMPLES
              mirrord --config /etc/mirrord/mirrord.toml     run as a daemon
              mirrord --config demo.toml --once              one sync, then exit
              mirrord --config demo.toml --once --all        re-check every document
              mirrord --config demo.toml --compact           shrink the store (zstd -19)

            EXIT STATUS
              0  the run completed (documents that failed are recorded, see mirrorctl list)
              1  the run could not complete (store unusable, interrupted)
              2  bad command line or configuration
              3  the store is locked by another mirrord, or its control socket or [web]
                 address is in use
            """,
        version: Mirrord.version)

    @Option(name: .long, help: ArgumentHelp("Configuration file (TOML).", valueName: "path"))
    var config: String = "/etc/mirrord/mirrord.toml"

    @Flag(name: .long, help: "Do one full sync and exit instead of running as a daemon.")
    var once = false

    @Flag(name: .long, help: "With --once: re-check every known document regardless of its schedule; with --reparse: regenerate every document, outdated or not.")
    var all = false

    @Option(name: .long, help: ArgumentHelp("With --once or --reparse: only this source.", valueName: "name"))
    var source: String?

    @Flag(name: .long, help: "Regenerate outdated parsed copies from stored raw versions (no network), then exit.")
    var reparse = false

    @Flag(name: .long, help: "Compress every stored body not yet compacted again at zstd level 19 (slow; about a sixth smaller on article pages), delete blob files no database row names (left by a crash or a failed write), rebuild the database packed, then exit. The daemon compacts by itself when idle.")
    var compact = false

    static let version = "0.1.0"

    func validate() throws {
        if [once, reparse, compact].filter({ $0 }).count > 1 {
            throw ValidationError("--once, --reparse and --compact are separate jobs; run one, then the other")
        }
        if compact && (all || source != nil) { throw ValidationError("--compact covers the whole store: no --all or --source") }
        if !once && !reparse && (all || source != nil) {
            throw ValidationError("--all and --source go with --once or --reparse; for a running daemon use `mirrorctl sync now --all [--source NAME]`")
        }
    }

    /// Bad usage exits 2 (as the help promises), not ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    func run() async throws {
        MallocTuning.apply()
        StderrLogHandler.bootstrap()
        let logger = Logger(label: "mirrord")
        let cfg: MirrorConfig
        do {
            cfg = try MirrorConfig.load(path: config)
            if let source, cfg.source(named: source) == nil {
                throw ConfigError(file: cfg.file, reason: cfg.noSource(source))
            }
            try Self.checkExtractionRules(cfg)
        } catch {
            fail("\(error)", code: 2)
        }
        // A daemon whose control socket another process serves stops before it creates or
        // locks its store (a second mirrord pointed at another state_dir had made one).
        if !once && !reparse && !compact, let served = ControlServer.served(cfg.controlSocket) {
            // (The same store's daemon is named as such, with its PID.)
            fail("\(StateLock.holder(stateDir: cfg.stateDir).map { "\($0)" } ?? "\(served)")", code: 3)
        }
        let lock: StateLock
        let database: MirrorDatabase
        let blobs: BlobStore
        do {
            lock = try StateLock(stateDir: cfg.stateDir)
        } catch let held as StateLock.Held {
            fail("\(held)", code: 3)
        } catch {
            fail("\(error)", code: 1)  // state_dir cannot be created or opened
        }
        do {
            database = try MirrorDatabase(path: cfg.databasePath)
            blobs = try BlobStore(root: cfg.stateDir + "/blobs")
            try database.closeAbandonedRuns()
        } catch {
            fail("\(error)", code: 1)
        }
        let fetcher = Fetcher(settings: cfg.http)
        defer { fetcher.shutdown() }
        let engine = SyncEngine(config: cfg, database: database, blobs: blobs, fetcher: fetcher)

        if reparse {
            do {
                var reparser = Reparser(config: cfg, database: database, blobs: blobs)
                reparser.workers = ProcessInfo.processInfo.activeProcessorCount
                let r = try reparser.run(source: source, force: all)
                print("reparse: \(r.documents) documents (\(r.versions) versions) regenerated; revisions \(r.revisionsBefore) → \(r.revisionsAfter); \(r.failures) failures")
            } catch {
                fail("\(error)", code: 1)
            }
            withExtendedLifetime(lock) {}
            return
        }

        if compact {
            do {
                // Blobs of a batch whose rows never committed: before compaction reads the rows.
                let garbage = try database.removeGarbageBlobs(blobs)
                print("compact: \(garbage.orphans) blob file\(garbage.orphans == 1 ? "" : "s") no database row names, removed")
                if garbage.unreferenced > 0 {
                    print("compact: \(garbage.unreferenced) blob\(garbage.unreferenced == 1 ? "" : "s") no version names (retention cut off), removed")
                }
                let r = try Compactor(database: database, blobs: blobs).run()
                for failure in r.failures { logger.warning("compaction: left as stored: \(failure)") }
                print("compact: \(r.rewritten) of \(r.blobs) blobs recompressed at zstd level \(BlobStore.compactionLevel) (the others are deltas, images, over 256 KB or no smaller so); \(r.bytesBefore) → \(r.bytesAfter) bytes")
                // With the store to itself (the state lock), the database is rebuilt packed too.
                let (before, after) = try database.vacuum()
                print("compact: database \(before) → \(after) bytes (VACUUM)")
            } catch {
                fail("\(error)", code: 1)
            }
            withExtendedLifetime(lock) {}
            return
        }

        if once {
            let task = Task { try await engine.run(RunOptions(trigger: "once", all: all, source: source)) }
            let signals = Self.forwardSignals(to: task)
            defer { signals.forEach { $0.cancel() } }
            do {
                _ = try await task.value
            } catch {
                fail(error is CancellationError ? "interrupted" : "\(error)", code: 1)
            }
            withExtendedLifetime(lock) {}
            return
        }

        let notifier = SystemdNotifier()
        let coordinator = SyncCoordinator(engine: engine)
        let reloader = Reloader(configPath: cfg.file, running: cfg, database: database, blobs: blobs, fetcher: fetcher,
                                metrics: engine.metrics, dictionaries: engine.dictionaries, coordinator: coordinator, notifier: notifier, logger: logger)
        let router = ControlRouter(coordinator: coordinator, database: database, blobs: blobs,
                                   reload: { await reloader.reload() })
        let server = ControlServer(socketPath: cfg.controlSocket, router: router, group: cfg.controlSocketGroup)
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The read-only web view, when `[web] listen` asks for it (its address is read at
        // start, a reload does not move it; its pages follow the configuration in force). Bound first: a port in use leaves no control socket behind.
        var webServer: WebServer?
        if let listen = cfg.web {
            let web = WebServer(listen: listen, router: WebRouter(database: database, blobs: blobs, config: cfg,
                                                                  current: { await coordinator.config }))
            do {
                try await web.bind(group: eventLoops)
            } catch {
                fail("[web] \(error)", code: 3)
            }
            webServer = web
        }
        do {
            try await server.bind(group: eventLoops)
        } catch {
            fail("\(error)", code: 3)
        }
        await coordinator.observeRuns { run in
            notifier.notify("STATUS=" + Self.statusLine(run))
        }
        notifier.notify("READY=1\nSTATUS=listening on \(cfg.controlSocket); first run starting")

        // SIGHUP re-reads the configuration (systemctl reload), as nginx and sshd do.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { Task { _ = await reloader.reload() } }
        hangup.resume()
        defer { hangup.cancel() }

        let scheduler = SchedulerService(scheduler: Scheduler(coordinator: coordinator), coordinator: coordinator)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server), .init(service: scheduler)]
        if let webServer { services.append(.init(service: webServer)) }
        if let interval = SystemdNotifier.watchdogInterval() {
            services.append(.init(service: WatchdogService(interval: interval, fetchers: reloader, notifier: notifier)))
        }
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // The run cancels its transfers at once on SIGTERM; what has not wound down after this
        // long (a large page in its parse, a commit) is cancelled too.
        groupConfig.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfig)
        logger.notice("mirrord \(Self.version) started (pid \(getpid()), config \(cfg.file), \(cfg.sources.count) source(s))")
        do {
            try await group.run()
        } catch {
            notifier.notify("STOPPING=1")
            fail("\(error)", code: 1)
        }
        notifier.notify("STOPPING=1\nSTATUS=stopping")
        reloader.shutdownRetiredFetchers()
        try? await eventLoops.shutdownGracefully()
        logger.notice("mirrord stopped")
        withExtendedLifetime(lock) {}
    }

    /// One line for `systemctl status`: the last run's counters.
    static func statusLine(_ r: RunRecord) -> String {
        "run #\(r.id ?? 0) \(r.status) at \(RFC3339.string(r.finished ?? r.started)): \(r.fetched) fetched, "
            + "\(r.notModified) not modified, \(r.newVersions) new versions, \(r.newRevisions) new revisions, \(r.errors) errors"
    }

    /// XPath overrides must compile: a typo would otherwise silently fall back to heuristics.
    static func checkExtractionRules(_ cfg: MirrorConfig) throws {
        for (i, s) in cfg.sources.enumerated() {
            if let bad = ExtractionRules(source: s).invalidExpression {
                let key = bad == s.contentXPath ? "content_xpath" : "remove_xpath"
                throw cfg.sourceError(key, sourceIndex: i, reason: "'\(bad)' is not a valid XPath expression (source '\(s.name)')")
            }
            if let label = s.charset, !Charset.isKnown(label) {
                throw cfg.sourceError("charset", sourceIndex: i, reason: "'\(label)' is no encoding mirrord knows (gbk, gb18030, big5, shift_jis, euc-kr, windows-1252, utf-8, …)")
            }
        }
    }

    /// SIGINT/SIGTERM during `--once` cancel the run, which records itself as interrupted.
    static func forwardSignals(to task: Task<RunRecord, Error>) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
    }

    func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("mirrord: \(message)\n".utf8))
        Foundation.exit(code)
    }
}

/// The scheduler as a ServiceLifecycle service: graceful shutdown cancels the pending sleep or
/// the run in progress (which records itself as interrupted).
struct SchedulerService: Service {
    let scheduler: Scheduler
    let coordinator: SyncCoordinator

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await scheduler.run()
        }
        await coordinator.cancelAndWait()
    }
}

/// Pings systemd's watchdog every `WATCHDOG_USEC`/2, but only while the fetch thread's event
/// loop keeps turning: a hung transfer loop stops the pings and systemd restarts the service.
struct WatchdogService: Service {
    let interval: Double
    let fetchers: Reloader
    let notifier: SystemdNotifier

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if fetchers.currentFetcher.secondsSinceLoop < max(5, interval) {
                    notifier.notify("WATCHDOG=1")
                }
                try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
            }
        }
    }
}
