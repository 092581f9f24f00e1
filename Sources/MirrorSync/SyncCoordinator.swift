import Foundation
import Logging
import MirrorCore
import MirrorStore
import Synchronization

/// Owns "the run": starts runs for the scheduler and for `sync now`, and coalesces a request
/// that arrives while a run is in progress with that run when the run covers it (the caller
/// gets its result). One the run does not cover (`--all` during a plain run, another source)
/// is queued as one follow-up run after it, which later requests widen until it starts.
public actor SyncCoordinator {
    public private(set) var engine: SyncEngine
    public private(set) var reparser: Reparser
    /// Called with every finished run (the daemon reports it to systemd as `STATUS=`).
    private var runObserver: (@Sendable (RunRecord) -> Void)?
    /// A run and what it was (or will be) started with.
    private typealias Scheduled = (task: Task<RunRecord, Error>, options: RunOptions)
    /// The run in progress.
    private var current: Scheduled?
    /// The run queued after it, with the options it will be started with (widened by each
    /// request it takes in until it starts).
    private var followUp: Scheduled?
    private var reparsing: Task<ReparseSummary, Error>?
    /// Set to stop the reparse in progress between two documents (see `Reparser.run`).
    private var reparseStop: StopFlag?
    private var progress: ProgressHolder?
    private var compacting: Task<CompactionSummary, Error>?
    /// Set to stop the compaction in progress after its batch (a run wants the disk and cores).
    private var compactStop: StopFlag?
    private let started = Date()
    /// The last run that ended, as it ended: `status` shows it even when a full disk kept it
    /// out of the database.
    public private(set) var lastRun: RunRecord?

    public init(engine: SyncEngine, reparser: Reparser? = nil) {
        self.engine = engine
        self.reparser = reparser ?? Reparser(config: engine.config, database: engine.database, blobs: engine.blobs)
    }

    /// The configuration in force.
    public var config: MirrorConfig { engine.config }

    public func observeRuns(_ observer: @escaping @Sendable (RunRecord) -> Void) {
        runObserver = observer
    }

    /// Puts a reloaded configuration in force: runs started from now on use `engine`; a run in
    /// progress finishes with the configuration it started with.
    public func replace(engine: SyncEngine) {
        self.engine = engine
        self.reparser = Reparser(config: engine.config, database: engine.database, blobs: engine.blobs)
    }

    /// Regenerates outdated parsed copies (see `Reparser`), after the run in progress, if any;
    /// runs requested meanwhile wait for it. Joins a reparse already in progress.
    /// Cancelling the returned task (or `cancelAndWait`) stops it between two documents.
    public func reparse(source: String? = nil, force: Bool = false) -> Task<ReparseSummary, Error> {
        if let reparsing { return reparsing }
        let before = current?.task
        let reparser = self.reparser
        let stop = StopFlag()
        let task = Task<ReparseSummary, Error> {
            _ = try? await before?.value
            defer { self.reparseFinished() }
            // Blocking work (SQLite, blobs, parsing) off the actor's executor; the detached task
            // does not inherit cancellation, so the flag carries it.
            return try await withTaskCancellationHandler {
                try await Task.detached { try reparser.run(source: source, force: force, shouldStop: stop.isSet) }.value
            } onCancel: {
                stop.set()
            }
        }
        reparsing = task
        reparseStop = stop
        return task
    }

    private func reparseFinished() {
        reparsing = nil
        reparseStop = nil
    }

    /// Compacts the store in the background (see `Compactor`) unless a run or a compaction is
    /// in progress. A run requested meanwhile stops it after its batch (within about 64 blobs)
    /// and starts at once; the next idle time resumes it.
    /// - Returns: the compaction's task, nil when none was started.
    @discardableResult
    public func compactWhenIdle() -> Task<CompactionSummary, Error>? {
        guard current == nil, reparsing == nil, compacting == nil else { return nil }
        let compactor = Compactor(database: engine.database, blobs: engine.blobs)
        let stop = StopFlag()
        let logger = engine.logger
        let task = Task<CompactionSummary, Error> {
            defer { self.compactionFinished() }
            let summary: CompactionSummary
            do {
                summary = try await Task.detached(priority: .background) {
                    try compactor.run(shouldStop: stop.isSet)
                }.value
            } catch {
                logger.error("compaction failed (tried again when next idle): \(error)")
                throw error
            }
            for failure in summary.failures { logger.warning("compaction: left as stored: \(failure)") }
            if summary.rewritten > 0 || summary.stopped {
                logger.info("compaction: \(summary.rewritten) of \(summary.blobs) blobs recompressed at zstd level \(BlobStore.compactionLevel), \(summary.bytesBefore) → \(summary.bytesAfter) bytes\(summary.stopped ? "; stopped for a run, resumes when idle" : "")")
            }
            return summary
        }
        compacting = task
        compactStop = stop
        return task
    }

    private func compactionFinished() {
        compacting = nil
        compactStop = nil
    }

    public var isSyncing: Bool { current != nil }

    /// The options of the run queued after the one in progress, if any.
    public var queuedRun: RunOptions? { followUp?.options }

    /// How `sync` will satisfy a request for `options` right now.
    public enum Joining: Sendable, Equatable {
        /// No run in progress: a new one starts.
        case starts
        /// The run in progress covers the request.
        case joins
        /// The run in progress does not cover it: a run after it will.
        case queued
    }

    public func joining(_ options: RunOptions) -> Joining {
        guard let current else { return .starts }
        return current.options.covers(options) ? .joins : .queued
    }

    /// Seconds since this coordinator (the daemon) started.
    public nonisolated var uptime: Double { Date().timeIntervalSince(started) }

    /// Live counters of the run in progress.
    public var currentRun: RunRecord? { progress?.get()?.snapshot }

    /// Starts a run, or joins the one in progress.
    /// - Returns: the task of the run that will satisfy this request.
    public func sync(_ options: RunOptions) -> Task<RunRecord, Error> {
        guard let current else { return start(options) }
        if current.options.covers(options) { return current.task }
        if let followUp {
            self.followUp?.options = followUp.options.merged(with: options)
            return followUp.task
        }
        let task = Task<RunRecord, Error> {
            _ = try? await current.task.value
            try Task.checkCancellation()  // (a shutdown cancels the queued run too)
            return try await self.startFollowUp().value
        }
        followUp = (task, options)
        return task
    }

    private func startFollowUp() -> Task<RunRecord, Error> {
        let options = followUp?.options ?? RunOptions(trigger: "manual")
        followUp = nil
        return sync(options)
    }

    private func start(_ options: RunOptions) -> Task<RunRecord, Error> {
        let engine = self.engine
        let holder = ProgressHolder()
        progress = holder
        let pendingReparse = reparsing
        let pendingCompaction = compacting
        compactStop?.set()
        let task = Task<RunRecord, Error> {
            _ = try? await pendingReparse?.value
            _ = try? await pendingCompaction?.value
            do {
                let r = try await engine.run(options) { holder.set($0) }
                self.finished(r)
                self.runObserver?(r)
                return r
            } catch {
                self.finished(holder.get()?.snapshot)
                throw error
            }
        }
        current = (task, options)
        return task
    }

    private func finished(_ run: RunRecord?) {
        current = nil
        progress = nil
        if let run { lastRun = run }
    }

    /// Cancels the run in progress (shutdown) and waits for it to record itself as
    /// interrupted; a reparse in progress stops after the documents it is on.
    public func cancelAndWait() async {
        if let compacting {
            compactStop?.set()
            _ = try? await compacting.value
        }
        if let reparsing {
            reparseStop?.set()
            _ = try? await reparsing.value
        }
        followUp?.task.cancel()
        guard let current = current?.task else { return }
        current.cancel()
        _ = try? await current.value
    }
}

extension RunOptions {
    /// Whether a run started with these options does what `other` asks: every source or the
    /// same one, and every document when `other` wants all.
    public func covers(_ other: RunOptions) -> Bool {
        (source == nil || source == other.source) && (all || !other.all) && (!dueOnly || other.dueOnly)
    }

    /// Options that do what both ask (the queued run takes in each request).
    public func merged(with other: RunOptions) -> RunOptions {
        RunOptions(trigger: trigger, all: all || other.all, source: source == other.source ? source : nil,
                   dueOnly: dueOnly && other.dueOnly)
    }
}

/// A one-way stop signal readable from any thread.
final class StopFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    @Sendable func isSet() -> Bool { value.withLock { $0 } }
}

/// Hands the live counters of a starting run to the coordinator.
final class ProgressHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var value: RunProgress?

    func set(_ p: RunProgress) {
        lock.lock()
        value = p
        lock.unlock()
    }

    func get() -> RunProgress? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
