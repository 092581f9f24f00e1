import Foundation
import Logging
import MirrorCore

/// Polls on schedule: a run at start-up, then one whenever a source's poll comes due
/// (`SourceRecord.nextPoll`: its `poll_interval` after its last poll, ±10 % jitter so many
/// mirrors of one upstream do not synchronise). That run polls the due sources only, and
/// checks the documents due of all (`RunOptions.dueOnly`): a source with `poll_interval =
/// "1h"` beside one of `"15s"` had been polled every 15 s.
public struct Scheduler: Sendable {
    let coordinator: SyncCoordinator
    let logger: Logger
    /// Longest sleep before the schedule is read again: a source added by a reload is polled
    /// within this, not after the old schedule's wait.
    static let recheck: Double = 60

    public init(coordinator: SyncCoordinator, logger: Logger = Logger(label: "mirrord.scheduler")) {
        self.coordinator = coordinator
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run() async {
        // Parsed copies made by an older parser (or other extraction rules) are regenerated
        // from the stored raw versions first, so the startup run compares like with like.
        // Shutdown (SIGTERM) during it stops it between two documents; the rest waits for
        // the next start.
        let reparse = await coordinator.reparse()
        do {
            _ = try await withTaskCancellationHandler { try await reparse.value } onCancel: { reparse.cancel() }
        } catch {
            logger.error("startup reparse failed: \(error)")
        }
        var options = RunOptions(trigger: "startup")
        while !Task.isCancelled {
            var failed = false
            do {
                let run = await coordinator.sync(options)
                _ = try await withTaskCancellationHandler {
                    try await run.value
                } onCancel: {
                    run.cancel()
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("scheduled run failed: \(error)")
                failed = true
            }
            options = RunOptions(trigger: "scheduled", dueOnly: true)
            // Idle until the next poll: the store is compressed again meanwhile (a run that
            // comes due, or `sync now`, stops it).
            await coordinator.compactWhenIdle()
            if failed {
                // A failed run moved no poll forward: without a pause the same failure (a full
                // disk, a broken store) would start again at once, and ask the upstream again.
                let config = await coordinator.config
                let pause = (config.sources.map(\.pollInterval).min() ?? config.pollInterval) * Double.random(in: 0.9...1.1)
                logger.notice("next run after the failed one in \(Int(pause.rounded(.up)))s")
                do {
                    try await Task.sleep(nanoseconds: UInt64(pause * 1_000_000_000))
                } catch {
                    return
                }
                continue
            }
            var announced = false
            while !Task.isCancelled {
                let wait: Double
                do {
                    wait = try await coordinator.engine.secondsUntilNextPoll()
                } catch {
                    logger.error("reading the sources' schedule: \(error)")
                    wait = Self.recheck
                }
                if wait <= 0 { break }
                if !announced { logger.info("next scheduled run in \(Int(wait.rounded(.up)))s") }
                announced = true
                do {
                    try await Task.sleep(nanoseconds: UInt64(min(wait, Self.recheck) * 1_000_000_000))
                } catch {
                    return
                }
            }
        }
    }
}
