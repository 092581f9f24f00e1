import Foundation
import Logging
import MirrorCore

/// Polls on schedule: a run at start-up, then one whenever the earliest source poll comes due
/// (`poll_interval`, with ±10 % jitter so many mirrors of one upstream do not synchronise).
public struct Scheduler: Sendable {
    let coordinator: SyncCoordinator
    let logger: Logger

    public init(coordinator: SyncCoordinator, logger: Logger = Logger(label: "mirrord.scheduler")) {
        self.coordinator = coordinator
        self.logger = logger
    }

    /// Seconds until the next scheduled run (the configuration in force may have been reloaded).
    func nextDelay(_ config: MirrorConfig) -> Double {
        let base = config.sources.map(\.pollInterval).min() ?? config.pollInterval
        return base * Double.random(in: 0.9...1.1)
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
        var trigger = "startup"
        while !Task.isCancelled {
            do {
                let run = await coordinator.sync(RunOptions(trigger: trigger))
                _ = try await withTaskCancellationHandler {
                    try await run.value
                } onCancel: {
                    run.cancel()
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("scheduled run failed: \(error)")
            }
            trigger = "scheduled"
            // Idle until the next poll: the store is compressed again meanwhile (a run that
            // comes due, or `sync now`, stops it).
            await coordinator.compactWhenIdle()
            let delay = nextDelay(await coordinator.config)
            await coordinator.engine.scheduleNextPoll(at: Date().addingTimeInterval(delay))
            logger.info("next scheduled run in \(Int(delay))s")
            do {
                try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            } catch {
                return
            }
        }
    }
}
