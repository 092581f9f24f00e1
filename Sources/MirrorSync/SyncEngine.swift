import CGlibc
import Foundation
import Logging
import MirrorCore
import MirrorDiscovery
import MirrorExtract
import MirrorFetch
import MirrorMarkup
import MirrorStore
import NIOCore
import NIOPosix
import Synchronization

/// Why a run stopped before its end.
public enum RunStopped: Error, CustomStringConvertible {
    /// No space left for blobs, rows or mirror files; the next run resumes when space returns.
    case diskFull(String)

    public var description: String {
        switch self {
        case let .diskFull(detail): return "disk full, run stopped: \(detail)"
        }
    }
}

/// A store write of the run loop that failed, naming what was being written (a discovered
/// document's row, a batch of 304s), so a full disk's log line says where it struck.
struct RunWriteFailed: Error, CustomStringConvertible {
    let what: String
    let underlying: Error
    var description: String { "\(what): \(underlying)" }
}

/// Runs one store write of the run loop; a failure names `what` (see `RunWriteFailed`).
func writing<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as CancellationError {
        throw e
    } catch {
        throw RunWriteFailed(what: what(), underlying: error)
    }
}

/// What a run covers.
public struct RunOptions: Sendable, Equatable {
    /// `scheduled`, `manual`, `once`.
    public var trigger: String
    /// Re-check every known document regardless of its schedule.
    public var all: Bool
    /// Limit the run to one source; nil: every source.
    public var source: String?
    /// A scheduled run: only the sources whose poll has come due (`SourceRecord.nextPoll`)
    /// have their start URLs and indexes polled; the documents due of every source are checked.
    public var dueOnly: Bool

    public init(trigger: String, all: Bool = false, source: String? = nil, dueOnly: Bool = false) {
        self.trigger = trigger
        self.all = all
        self.source = source
        self.dueOnly = dueOnly
    }
}

/// Live counters of the run in progress, readable while it runs.
public final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var record: RunRecord

    init(_ record: RunRecord) { self.record = record }

    public var snapshot: RunRecord {
        lock.lock()
        defer { lock.unlock() }
        return record
    }

    func update(_ change: (inout RunRecord) -> Void) {
        lock.lock()
        change(&record)
        lock.unlock()
    }
}

/// One sync pass: due documents → fetch → store raw (blob, then row) → discover / extract →
/// store parsed → mirror tree.
///
/// A run checks every index of the sources it covers, every document discovered during the
/// run, and every known article whose `next_check` has come (all of them with `all`).
/// Discovery follows `index_links` transitively up to the source's `max_depth`, counted along
/// the shortest path from a start URL found so far (`SeenURLs`); links inside articles only
/// with `follow_article_links`.
public final class SyncEngine: Sendable {
    public let config: MirrorConfig
    public let database: MirrorDatabase
    public let blobs: BlobStore
    let tree: MirrorTree
    let fetcher: Fetcher
    let logger: Logger
    /// The time source; tests inject a simulated one.
    let now: @Sendable () -> Date
    public let metrics: MirrorMetrics
    /// New bodies are recorded through it, in batches (see `GroupCommit`).
    let commits: GroupCommit
    public let dictionaries: SourceDictionaries
    /// The charset notes and warnings said in the current run, by source and kind: once
    /// each (a mislabelled site says it on every page; a cold mirror had 30,000 lines).
    let charsetSaid = Mutex<Set<String>>([])

    /// - Parameter dictionaries: the sources' zstd dictionaries; an engine that replaces
    ///   another (a config reload) takes over its predecessor's.
    public init(config: MirrorConfig, database: MirrorDatabase, blobs: BlobStore, fetcher: Fetcher,
                logger: Logger = Logger(label: "mirrord.sync"), metrics: MirrorMetrics = MirrorMetrics(),
                dictionaries: SourceDictionaries? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.metrics = metrics
        self.commits = GroupCommit(database: database, blobs: blobs)
        self.dictionaries = dictionaries ?? SourceDictionaries(blobs: blobs, database: database)
        self.config = config
        self.database = database
        self.blobs = blobs
        self.tree = MirrorTree(root: config.mirrorDir)
        self.fetcher = fetcher
        self.logger = logger
        self.now = clock
    }

    /// A document queued for checking in this run: its id and what the run loop needs; the
    /// record itself (with its URL) is read just before its check starts, with the next few
    /// (`rowBatch`), and not held meanwhile. 32 bytes: a cold mirror's queue holds every
    /// article at once, and with each URL it had held 4 MB more at 30,000 (heaptrack).
    struct QueuedJob: Sendable {
        let id: Int64
        /// Its depth in the link graph (`DocumentRecord.depth`): what its links' depth counts from.
        /// Lowered when its check starts if the run found a shorter path to it meanwhile.
        var depth: Int
        let plan: SourcePlan
        var isNew: Bool
        var source: SourceConfig { plan.source }
        var rules: LinkRules { plan.rules }

        init(_ document: DocumentRef, plan: SourcePlan, isNew: Bool) {
            (id, depth, self.plan, self.isNew) = (document.id, document.depth, plan, isNew)
        }

        init(_ record: DocumentRecord, plan: SourcePlan, isNew: Bool) {
            (id, depth, self.plan, self.isNew) = (record.id ?? 0, record.depth, plan, isNew)
        }
    }

    /// The URLs a run has queued or found known, each kept as the first 128 bits of its SHA-256
    /// rather than as the string (the strings had been 3 MB at 30,000 articles), with the
    /// smallest depth the run found it at (18 bytes a table slot). The database stays the
    /// authority on what is new (a link whose URL is not here yet is still looked up there).
    /// Two URLs would share a digest with a probability of about n²/2¹²⁹.
    ///
    /// A document's depth is its shortest link distance from a start URL: links come back in
    /// the order their pages finish, and a later run can find a new, shorter path (a new
    /// section page, a start URL added), so a URL met again closer to a start is not passed
    /// over (`Visit.shallower`). Depths from 65,535 on count as 65,535.
    struct SeenURLs {
        private var depths: [UInt128: UInt16] = [:]

        enum Visit: Equatable {
            /// Not met before in this run: the database says whether it is new.
            case first
            /// Met before at a greater depth; `depth` is now the one recorded.
            case shallower
            /// Met before at this depth or a smaller one.
            case again
        }

        static func key(_ url: String) -> UInt128 { SHA256.prefix128(url) }

        /// Notes that the run met the URL of `key` at `depth`.
        mutating func visit(_ key: UInt128, depth: Int) -> Visit {
            let depth = UInt16(clamping: depth)
            guard let found = depths[key] else {
                depths[key] = depth
                return .first
            }
            guard depth < found else { return .again }
            depths[key] = depth
            return .shallower
        }

        /// Records the depth a known document's row holds, when it is smaller than the one it
        /// was first met at (after `visit` returned `.first`): a later link from between the
        /// two is then `.again`, with nothing to write.
        mutating func settle(_ key: UInt128, atMost depth: Int) {
            let depth = UInt16(clamping: depth)
            if let found = depths[key], depth < found { depths[key] = depth }
        }
    }

    /// A source's settings and link rules, shared by reference by all its queued jobs (as
    /// values, each of 30,000 jobs had held its own copy of both).
    final class SourcePlan: Sendable {
        let source: SourceConfig
        let rules: LinkRules
        /// Everything that decides which links a body yields and which of them a run records
        /// (link patterns, ignored query keys, depth, followed article links, assets, the
        /// parser, the source's charset and extraction rules), hashed: `DocumentRecord.linksKnown`
        /// holds for these rules only.
        let linksFingerprint: String
        /// The `host:port`s of the source's start URLs (`Transfer.hostKey`): its `headers` (a
        /// Cookie, a token) are sent to these only, never to an image host or another site.
        let headerHosts: Set<String>
        init(_ source: SourceConfig) {
            self.source = source
            self.rules = LinkRules(source: source)
            self.headerHosts = Set(source.start.compactMap(Transfer.hostKey))
            let parts = [source.start.first ?? "", source.indexLinks.joined(separator: "\u{1}"),
                         source.articleLinks.joined(separator: "\u{1}"), source.exclude.joined(separator: "\u{1}"),
                         source.ignoreQuery.joined(separator: "\u{1}"), "\(source.maxDepth)", "\(source.followArticleLinks)",
                         "\(source.assets)", "\(ArticleExtractor.parserVersion)",
                         // how the body is read: its encoding, and which part is the article
                         source.charset ?? "", source.contentXPath ?? "", source.removeXPath.joined(separator: "\u{1}")]
            linksFingerprint = String(SHA256.hex(Array(parts.joined(separator: "\u{0}").utf8)).prefix(16))
        }
    }

    /// A document being checked: its record as read when the check started.
    struct Job: Sendable {
        var document: DocumentRecord
        let plan: SourcePlan
        var isNew: Bool
        var source: SourceConfig { plan.source }
        var rules: LinkRules { plan.rules }
        var linksFingerprint: String { plan.linksFingerprint }
    }

    /// What checking one document produced.
    struct Outcome: Sendable {
        /// `cancelled`: the run is being interrupted; nothing was recorded and nothing counts.
        /// `diskFull`: nothing more can be written; the run stops (see `isDiskFull`).
        enum Kind: Sendable { case fetched, notModified, failed, cancelled, diskFull }
        var kind: Kind
        var newVersion = false
        var newRevision = false
        var error: String?
        var discovered: [DiscoveredLink] = []
        /// An asset whose bytes are now stored (articles showing it get their local path).
        var storedAsset = false
        /// For an article whose parsed copy was written: the assets it shows.
        var assets: [String] = []
        /// Its parsed copy is rewritten at the end of the run whatever of `assets` this run
        /// stored (it was written before they were mirrored, some perhaps in an earlier run).
        var relinks = false
        /// A 304: the row update, left to the run loop to write with others.
        var unchanged: UnchangedCheck?
        /// Set when the run loop, once it has recorded `discovered`, is to note that every link
        /// of this body is known (`DocumentRecord.linksKnown`).
        var linksKnown: String?
        /// A feed whose items repeat a `<guid>`: its stored body is parsed on every 304 anyway,
        /// so the warning comes once per sync (no `linksKnown`).
        var warnsEveryRun = false
    }

    /// Runs one sync pass to completion.
    /// - Parameter progress: receives the run record as soon as it exists, to expose live counters.
    /// - Returns: the finished run with its counters. Individual document failures are counted
    ///   and recorded on the documents; they do not fail the run.
    /// - Throws: when the store is unusable (the run is then marked `failed`), or
    ///   `CancellationError` when the run was interrupted (marked `interrupted`).
    public func run(_ options: RunOptions, progress: (@Sendable (RunProgress) -> Void)? = nil) async throws -> RunRecord {
        let started = now()
        // After a crash, a kill -9 or a full disk, put the mirror tree back in order first.
        if let last = try database.runs(limit: 1).first, last.status != "completed" {
            _ = try Recovery(config: config, database: database, blobs: blobs, logger: logger).run()
        }
        let live = RunProgress(try database.startRun(trigger: options.trigger, at: started))
        progress?(live)
        let runId = live.snapshot.id
        let sources = config.sources.filter { options.source == nil || $0.name == options.source }
        // (The schedule unreadable: every source is polled, as a run before schedules did.)
        let polled = (try? pollDue(sources, dueOnly: options.dueOnly, at: started)) ?? Set(sources.map(\.name))
        charsetSaid.withLock { $0.removeAll() }
        let others = sources.filter { !polled.contains($0.name) }.map(\.name)
        let notDue = others.isEmpty ? "" : "; the documents due of \(others.joined(separator: ", ")), whose poll is not due"
        logger.notice("run \(runId ?? 0) started (\(options.trigger)\(options.all ? ", all" : "")): \(sources.map(\.name).filter(polled.contains).joined(separator: ", "))\(notDue)")

        var queue: [QueuedJob] = []
        var unchanged: [UnchangedCheck] = []  // 304s not yet written (see `Outcome.unchanged`)
        // Articles written this run → the assets they show; assets stored this run.
        var articleAssets: [(url: String, assets: [String], relinks: Bool)] = []
        var storedAssets = Set<String>()
        // Every URL this run has queued or knows to be not yet due: discovery queues only
        // documents it has never seen, so a link on an index does not bypass the revisit schedule.
        var queued = SeenURLs()
        // Documents the run found closer to a start than their row said (`SeenURLs.Visit.shallower`),
        // by id: a check that has not started yet takes the new depth when it starts.
        var shorter: [Int64: Int] = [:]
        let uncommittedBefore = commits.uncommitted
        var sourceErrors: [String: String] = [:]
        var sourceErrorCount: [String: Int] = [:]
        // New links that differ from a known document only in one query parameter's value,
        // by source and parameter: a cache-buster `ignore_query` does not name when the two
        // turn out to hold the same content (warned after the checks).
        var bustersSeen: [String: [String: [(new: String, known: String)]]] = [:]
        live.update { $0.scope = "\(options.all ? "all" : "due") documents; polled: \(polled.isEmpty ? "none" : polled.sorted().joined(separator: ", "))" }
        let logger = self.logger
        let health = HostHealth(limit: Self.hostFailureLimit(perHostConcurrency: config.http.perHostConcurrency),
                                maxPause: config.http.maxRetryDelay) { host, error in
            switch error {
            case let .hostBusy(_, status, seconds):
                logger.warning("\(host): \(FetchError.http(status: status)) with Retry-After: \(seconds), longer than max_retry_delay; its other URLs are not tried in this run")
            case let .hostDown(_, failures, last):
                logger.warning("\(host): no response to \(failures) requests in a row (last: \(last)); its other URLs are not tried in this run")
            default:
                logger.warning("\(host): \(error)")
            }
        }
        /// Records the run as interrupted (a cancel) or failed (anything else), and gives back
        /// the error to throw: a full disk named as such.
        func recordStop(_ caught: Error) -> Error {
            // A full disk anywhere (blob, row, mirror file) stops the run the same way, and the
            // message names the condition (ENOSPC, SQLITE_FULL) and the write it struck.
            let cause = (caught as? RunWriteFailed)?.underlying ?? caught
            let error: Error = diskFullCode(cause).map { RunStopped.diskFull("\(caught) (\($0))") } ?? caught
            let cancelled = error is CancellationError
            live.update { r in
                r.finished = now()
                r.status = cancelled ? "interrupted" : "failed"
                r.error = cancelled ? "interrupted (shutdown or signal)" : "\(error)"
                // The write or step that stopped the run is an error of the run.
                if !cancelled { r.errors += 1 }
            }
            let r = live.snapshot
            do {
                try database.saveRun(r)
            } catch {
                // The daemon still shows it (`SyncCoordinator.lastRun`) until it stops.
                logger.error("run \(runId ?? 0) could not be recorded in the database: \(error)")
            }
            metrics.run(r)
            if error is CancellationError {
                logger.notice("run \(runId ?? 0) interrupted: \(r.fetched) fetched, \(r.newVersions) new versions recorded before the stop")
            } else {
                logger.error("run \(runId ?? 0) failed: \(error)")
            }
            return error
        }
        do {
            // Before any source's run: a `--source` run must not adopt documents a rename
            // elsewhere in the config is about to move.
            try claimStartURLs()
            for source in sources {
                let plan = SourcePlan(source)
                let rules = plan.rules
                var starts = Set<String>()
                // A source whose poll is not due (a scheduled run that another source's
                // shorter poll_interval started) keeps its indexes for its own time.
                guard polled.contains(source.name) else {
                    for doc in try database.documentRefs(source: source.name, dueAt: started, indexes: false)
                    where queued.visit(SeenURLs.key(doc.url), depth: doc.depth) == .first {
                        queue.append(QueuedJob(doc, plan: plan, isNew: false))
                    }
                    continue
                }
                for start in source.start {
                    guard let uri = URI(start) else { continue }
                    let url = rules.normalize(uri).description
                    starts.insert(url)
                    var (doc, isNew): (DocumentRecord, Bool)
                    if try database.document(url: url) == nil, let moved = try database.document(fetchURL: url),
                       moved.kind == DocumentKind.index.rawValue, moved.source == source.name {
                        // A start URL that a start page of this source moved to (its 301, then
                        // the config edited to the new address): that document, not a second
                        // one joined into it again at every run's end.
                        (doc, isNew) = (moved, false)
                        starts.insert(moved.url)
                    } else {
                        (doc, isNew) = try writing("recording start URL \(url)") {
                            try database.ensureDocument(url: url, source: source.name, kind: DocumentKind.index.rawValue, depth: 0, now: started)
                        }
                    }
                    if doc.depth > 0 {  // a page found by its links before it became a start URL
                        _ = try writing("recording start URL \(url)") { try database.lowerDepth(url: doc.url, to: 0) }
                        doc.depth = 0
                    }
                    if isNew { live.update { $0.newDocuments += 1 } }
                    switch queued.visit(SeenURLs.key(doc.url), depth: 0) {
                    case .first: queue.append(QueuedJob(doc, plan: plan, isNew: isNew))
                    case .shallower: if let id = doc.id { shorter[id] = 0 }  // queued already, by another source
                    case .again: break
                    }
                }
                let candidates = try database.documentRefs(source: source.name, dueAt: options.all ? nil : started)
                for doc in candidates {
                    guard queued.visit(SeenURLs.key(doc.url), depth: doc.depth) == .first else { continue }
                    // A start URL taken out of the config is kept (history) but no longer polled.
                    let retiredStart = doc.depth == 0 && doc.kind == DocumentKind.index.rawValue && !starts.contains(doc.url)
                    if options.all || !retiredStart {
                        queue.append(QueuedJob(doc, plan: plan, isNew: false))
                    }
                }
            }

            var lastProgressLog = now()
            defer {  // a run that stops early still records the checks it made
                do { try database.recordUnchanged(unchanged) } catch {
                    logger.warning("run \(runId ?? 0): \(unchanged.count) unchanged checks not recorded: \(error)")
                }
            }
            try await withThrowingTaskGroup(of: (QueuedJob, String, Outcome).self) { group in
                var inFlight = 0
                var next = 0
                let window = max(1, config.http.concurrency)
                // The rows of the next checks, read a batch at a time (see `documents(ids:)`).
                var rows: [Int64: DocumentRecord] = [:]
                var rowsEnd = 0  // `rows` holds what is left of queue[..<rowsEnd]
                var rowsError: String?  // why the batch could not be read: each of its checks fails so
                while next < queue.count || inFlight > 0 {
                    while inFlight < window, next < queue.count {
                        var job = queue[next]
                        if let depth = shorter.removeValue(forKey: job.id) { job.depth = min(job.depth, depth) }
                        if next >= rowsEnd {
                            rowsEnd = min(queue.count, next + Self.rowBatch)
                            do {
                                rows = try database.documents(ids: queue[next..<rowsEnd].map(\.id))
                                rowsError = nil
                            } catch {
                                (rows, rowsError) = ([:], "reading its row: \(error)")
                            }
                        }
                        let row = rows.removeValue(forKey: job.id)
                        let url = row?.url ?? "document \(job.id)"  // (its row could not be read)
                        let readError = rowsError
                        next += 1
                        inFlight += 1
                        group.addTask { (job, url, await self.check(job, row: row, readError: readError, health: health, runId: runId)) }
                    }
                    guard let (job, jobURL, outcome) = try await group.next() else { break }
                    inFlight -= 1
                    if (next - inFlight) % MallocTuning.trimEvery == 0 { MallocTuning.trim() }
                    if outcome.kind == .diskFull {
                        group.cancelAll()
                        throw RunStopped.diskFull("\(jobURL): \(outcome.error ?? "no space left")")
                    }
                    try Task.checkCancellation()
                    live.update { r in
                        switch outcome.kind {
                        case .fetched: r.fetched += 1
                        case .notModified: r.notModified += 1
                        case .failed: r.errors += 1
                        case .cancelled, .diskFull: break
                        }
                        if outcome.newVersion { r.newVersions += 1 }
                        if outcome.newRevision { r.newRevisions += 1 }
                    }
                    if let u = outcome.unchanged {
                        unchanged.append(u)
                        if unchanged.count >= 512 {
                            try writing("recording \(unchanged.count) unchanged checks") { try database.recordUnchanged(unchanged) }
                            unchanged.removeAll(keepingCapacity: true)
                        }
                    }
                    if outcome.storedAsset { storedAssets.insert(jobURL) }
                    if !outcome.assets.isEmpty { articleAssets.append((jobURL, outcome.assets, outcome.relinks)) }
                    if let e = outcome.error {  // the latest, and how many (`status` shows them)
                        sourceErrors[job.source.name] = "\(jobURL): \(e)"
                        sourceErrorCount[job.source.name, default: 0] += 1
                    }
                    for link in outcome.discovered {
                        let url = link.url.description
                        let depth = link.kind == .index ? job.depth + 1 : job.depth
                        // Before the URL counts as met: a shorter path later in the run still reaches it.
                        if link.kind == .index && depth > job.source.maxDepth { continue }
                        let key = SeenURLs.key(url)
                        let visit = queued.visit(key, depth: depth)
                        if visit == .again { continue }
                        // Known documents keep their own schedule: only never-seen URLs join the run.
                        var known = visit == .first ? try database.document(url: url) : nil
                        if let orphan = known, orphan.source != job.source.name, config.source(named: orphan.source) == nil,
                           let id = orphan.id {
                            // Its source was taken out of the config: this one, whose links reach
                            // it, polls it from now on (no source would, otherwise).
                            // Its depth is now its distance from this source's starts (a former
                            // start at depth 0 would otherwise count as retired, never polled).
                            try writing("giving \(url) to source \(job.source.name)") {
                                try database.adopt(documentId: id, source: job.source.name, depth: depth)
                            }
                            known?.source = job.source.name
                            known?.depth = depth
                            logger.info("\(url) (of source '\(orphan.source)', no longer configured) is now '\(job.source.name)''s")
                            // The run chose its due documents before: this one joins it if due.
                            if options.all || (orphan.nextCheck ?? .distantPast) <= started, let adopted = known {
                                queue.append(QueuedJob(adopted, plan: job.plan, isNew: false))
                                continue
                            }
                        }
                        if let known, known.depth <= depth {
                            queued.settle(key, atMost: known.depth)
                            continue
                        }
                        if known == nil, visit == .first, let moved = try database.document(fetchURL: url), moved.kind == link.kind.rawValue {
                            // Where a known document moved to (301/308): that document. Not when
                            // the kinds differ: a deleted article sent to its section's index
                            // page leaves that index a page of its own.
                            queued.settle(key, atMost: moved.depth)
                            continue
                        }
                        if visit == .shallower || known != nil {
                            // Found closer to a start than before. A check not started yet counts
                            // its links from here (`shorter`); one under way keeps its depth for
                            // this run, and the row has the new one.
                            if let id = try writing("recording the depth of \(url) found on \(jobURL)", {
                                try database.lowerDepth(url: url, to: depth)
                            }) { shorter[id] = depth }
                            continue
                        }
                        let (doc, isNew) = try writing("recording \(link.kind.rawValue) \(url) found on \(jobURL)") {
                            try database.ensureDocument(url: url, source: job.source.name, kind: link.kind.rawValue, depth: depth, now: now())
                        }
                        if isNew {
                            live.update { $0.newDocuments += 1 }
                            if let hint = try cacheBusterHint(url) {
                                bustersSeen[job.source.name, default: [:]][hint.parameter, default: []].append((url, hint.known))
                            }
                        }
                        queue.append(QueuedJob(doc, plan: job.plan, isNew: isNew))
                    }
                    if let mark = outcome.linksKnown {
                        // Only now: every link above is a known document (or beyond max_depth).
                        try writing("noting the links of \(jobURL) as known") {
                            try database.recordLinksKnown(documentId: job.id, mark)
                        }
                    }
                    if now().timeIntervalSince(lastProgressLog) >= 10 {
                        lastProgressLog = now()
                        let r = live.snapshot
                        logger.info("run \(runId ?? 0) progress: \(next - inFlight)/\(queue.count) checked, \(r.fetched) fetched, \(r.notModified) not modified, \(r.errors) errors")
                    }
                }
            }
            // The last batch, with its errors reaching the run (a full disk stops it as such).
            try writing("recording \(unchanged.count) unchanged checks") { try database.recordUnchanged(unchanged) }
            unchanged.removeAll()
        } catch let caught {
            throw recordStop(caught)
        }

        do {
            // Blobs made durable for bodies whose rows did not commit in this run (a failed
            // transaction, a document gone): with every check done, nothing else is staging.
            if commits.uncommitted > uncommittedBefore {
                let gone = try blobs.removeOrphans { try database.blobHashes(shard: $0) }
                logger.notice("run \(runId ?? 0): \(gone.count) blob files whose rows did not commit removed")
            }
            for (source, parameters) in bustersSeen.sorted(by: { $0.key < $1.key }) {
                for (parameter, pairs) in parameters.sorted(by: { $0.key < $1.key }) {
                    // The same content under both addresses (`?id=` pages differ; `?t=` ones do not).
                    let same = try pairs.filter { pair in
                        guard let a = try database.document(url: pair.new)?.contentSha256 else { return false }
                        return a == (try database.document(url: pair.known)?.contentSha256)
                    }
                    // Most pairs, and more than one: soft-404 pages (`?id=999` and `?id=1000`
                    // both "not found") are the same content too, where `id` tells pages apart.
                    guard let first = same.first, same.count >= 2, same.count * 2 >= pairs.count else { continue }
                    logger.warning("source '\(source)': \(same.count) new document\(same.count == 1 ? " is" : "s are") the same page as a known one under another value of the query parameter '\(parameter)' (\(first.new), known as \(first.known)): a cache-buster? add it to the source's ignore_query = [\"\(parameter)\"], or every new value makes the page a new document")
                }
            }
            // Documents that moved (301/308) to an address known as a document of its own (both
            // linked, met in one run), joined now that no check is in flight; also those a run
            // stopped before it got here.
            for (duplicate, survivor) in try database.movedOntoOtherDocuments() {
                try join(duplicate, into: survivor)
            }
            // Articles whose images were stored after their parsed copy was written: point them home.
            for (article, assets, relinks) in articleAssets where relinks || assets.contains(where: storedAssets.contains) {
                if let current = try database.document(url: article) { try rewriteParsedCopy(current) }
            }
            // Retention (off unless a source sets keep_versions / keep_days): rows first, then the
            // blob files no row names any more.
            var pruned = 0
            for source in sources where source.keepVersions != nil || source.keepAge != nil {
                pruned += try database.pruneVersions(source: source.name, keepVersions: source.keepVersions,
                                                     olderThan: source.keepAge.map { started.addingTimeInterval(-$0) })
            }
            if pruned > 0 {
                let gone = try database.collectUnreferencedBlobs()
                gone.forEach(blobs.remove)
                logger.info("retention: \(pruned) old versions and \(gone.count) blobs removed")
            }
            let finished = now()
            let stored = try database.sourcesByName()
            for source in sources {
                let errors = sourceErrorCount[source.name, default: 0]
                let lastError = sourceErrors[source.name].map { errors > 1 ? "\($0) (the last of \(errors) errors in this poll)" : $0 }
                if polled.contains(source.name) {
                    // ±10 % jitter, so that many mirrors of one upstream do not synchronise.
                    let next = finished.addingTimeInterval(source.pollInterval * Double.random(in: 0.9...1.1))
                    try database.updateSource(source.name, lastPoll: started, nextPoll: next, lastError: lastError)
                } else if let lastError, let known = stored[source.name] {
                    // Not polled, but its due documents were checked: their errors are its news.
                    try database.updateSource(source.name, lastPoll: known.lastPoll, nextPoll: known.nextPoll, lastError: lastError)
                }
            }
            live.update { r in
                r.finished = finished
                r.status = "completed"
            }
        } catch let caught {
            throw recordStop(caught)
        }
        let r = live.snapshot
        try database.saveRun(r)
        metrics.run(r)
        logger.info("run \(runId ?? 0) completed in \(String(format: "%.3f", (r.finished ?? now()).timeIntervalSince(started)))s: fetched \(r.fetched), not modified \(r.notModified), new documents \(r.newDocuments), new versions \(r.newVersions), new revisions \(r.newRevisions), errors \(r.errors)")
        return r
    }

    /// A newly found URL that differs from a known document's only in the value of one query
    /// parameter (`…/a.html?t=972050` beside a known `…/a.html?t=292108`): that parameter and
    /// the known URL; nil otherwise. The run warns when the two then hold the same content: an
    /// upstream that regenerates its indexes with a new token in every link makes each run's
    /// links new documents until `ignore_query` names the token (the demo upstream's `?t=`).
    func cacheBusterHint(_ url: String) throws -> (parameter: String, known: String)? {
        guard let q = url.firstIndex(of: "?") else { return nil }
        let prefix = String(url[...q])
        let mine = Self.queryPairs(url[url.index(after: q)...])
        for other in try database.urls(withPrefix: prefix, limit: 8) where other != url {
            guard let oq = other.firstIndex(of: "?") else { continue }
            let theirs = Self.queryPairs(other[other.index(after: oq)...])
            guard theirs.count == mine.count, Set(theirs.map(\.0)) == Set(mine.map(\.0)) else { continue }
            let differing = mine.filter { pair in !theirs.contains { $0 == pair } }.map(\.0)
            if differing.count == 1 { return (differing[0], other) }
        }
        return nil
    }

    static func queryPairs(_ query: Substring) -> [(String, String)] {
        query.split(separator: "&").map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
        }
    }

    /// Folds `duplicate` into `survivor`, which moved (301/308) to its address: one document,
    /// one history, under the survivor's URL (`MirrorDatabase.merge`). The duplicate's files
    /// in the mirror tree go (its address is the survivor's `fetch_url` now: links to it find
    /// the survivor), and the survivor's parsed copy is written again from its latest version.
    func join(_ duplicate: Int64, into survivor: Int64) throws {
        guard let (gone, moved) = try writing("joining document \(duplicate) into \(survivor)", { try database.merge(duplicate: duplicate, into: survivor) }),
              let kept = try database.document(id: survivor) else { return }
        // Only files of its own: `http:` and `https:` (or `/dir/` and `/dir/index`) share a path.
        if let url = URI(gone.url), let keptURL = URI(kept.url) {
            if MirrorTree.rawPath(url) != MirrorTree.rawPath(keptURL) { tree.remove(MirrorTree.rawPath(url)) }
            if MirrorTree.parsedStem(url) != MirrorTree.parsedStem(keptURL) {
                tree.remove(MirrorTree.parsedStem(url) + ".md")
                tree.remove(MirrorTree.parsedStem(url) + ".json")
            }
        }
        if kept.kind == DocumentKind.article.rawValue { try rewriteParsedCopy(kept) }
        logger.notice("\(kept.url): moved to \(gone.url), which was known as a document of its own; joined into one document (versions joined: \(moved); revisions now: \(kept.revisionCount))")
    }

    /// The sources whose start URLs and indexes this run polls: all of them, or for a
    /// scheduled run (`dueOnly`) those whose poll has come (`pollDueAt`; a second's slack for
    /// the scheduler's own wake-up).
    func pollDue(_ sources: [SourceConfig], dueOnly: Bool, at now: Date) throws -> Set<String> {
        guard dueOnly else { return Set(sources.map(\.name)) }
        let stored = try database.sourcesByName()
        return Set(sources.filter { Self.pollDueAt($0, stored[$0.name], now: now) <= now.addingTimeInterval(1) }.map(\.name))
    }

    /// When a source's poll is due: its stored `nextPoll`, but no later than its last poll plus
    /// its `poll_interval` as configured now (+10 %, the jitter): a reload that shortens it
    /// applies at once, not after the old wait. A source never polled (one a reload added) is
    /// due now.
    static func pollDueAt(_ source: SourceConfig, _ record: SourceRecord?, now: Date) -> Date {
        guard let record, let next = record.nextPoll else { return now }
        guard let last = record.lastPoll else { return next }
        return min(next, last.addingTimeInterval(source.pollInterval * 1.1))
    }

    /// Seconds until the first configured source's poll is due (`pollDueAt`); 0 or less: due.
    public func secondsUntilNextPoll() throws -> Double {
        let now = now()
        let stored = try database.sourcesByName()
        let due = config.sources.map { Self.pollDueAt($0, stored[$0.name], now: now) }
        return (due.min() ?? now.addingTimeInterval(config.pollInterval)).timeIntervalSince(now)
    }

    // MARK: one document

    /// A document that answered 404/410 is re-checked this rarely (seconds).
    public static let goneRecheckInterval = CheckPolicy.goneRecheckInterval
    /// How many queued checks' rows the run loop reads in one statement.
    static let rowBatch = DocumentRecord.idsPerStatement
    /// The push-back after repeated failures never exceeds this (seconds).
    public static let maxFailureBackoff = CheckPolicy.maxFailureBackoff

    /// Fetches with retries: a transient failure (see `FetchError.isTransient`) is retried up
    /// to `http.retries` times after a full-jitter backoff, or after `Retry-After` when the
    /// server gave one within `http.max_retry_delay`; a timeout at most once (each costs up to
    /// `http.timeout`, and a stalled server rarely recovers within a run); a body labelled
    /// `Content-Encoding` it does not have is fetched once more without `Accept-Encoding`.
    /// Each failed attempt is logged once, with the URL and the reason (for a timeout, the
    /// limit it hit). No retry once the host is down in this run (`HostHealth`).
    /// - Returns: the last result and the server's `Retry-After` in seconds, if any; nil when
    ///   the task was cancelled meanwhile.
    func fetchWithRetries(_ first: FetchRequest) async -> (Result<FetchResponse, FetchError>, retryAfter: Double?)? {
        let http = config.http
        let policy = RetryPolicy(retries: http.retries, base: http.retryDelay, cap: http.maxRetryDelay)
        var request = first
        var attempt = 0
        var tried: (Result<FetchResponse, FetchError>, Double?)?  // the last real attempt's
        while true {
            let result = await fetcher.fetch(request)
            if Task.isCancelled { return nil }
            // A retry its host's give-up refused: the document was tried, and failed as before
            // (not "not tried").
            if case let .failure(e) = result, e.isHostRefusal, let tried { return tried }
            var failure: FetchError?
            var retryAfter: Double?
            switch result {
            case .failure(let e):
                failure = e
            case .success(let r) where !(200..<300).contains(r.status) && r.status != 304:
                failure = .http(status: r.status)
                retryAfter = RetryPolicy.retryAfter(r.retryAfter, now: now())
            case .success:
                break
            }
            guard let failure else { return (result, nil) }
            if case .badContentEncoding = failure, request.acceptEncoding {
                logger.info("\(request.url): \(failure); retrying without Accept-Encoding")
                request.acceptEncoding = false
                continue
            }
            let retries = failure.isTimeout ? min(1, policy.retries) : policy.retries
            let hostDown = request.health?.refuses(request, defaultProxy: http.proxy) ?? false
            guard failure.isTransient, attempt < retries, (retryAfter ?? 0) <= policy.cap, !hostDown else {
                return (result, retryAfter)
            }
            tried = (result, retryAfter)
            let wait = max(policy.backoff(attempt: attempt), retryAfter ?? 0)
            logger.info("\(request.url): \(failure); retry \(attempt + 1)/\(retries) in \(String(format: "%.1f", wait))s")
            do {
                try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
            } catch {
                return nil
            }
            attempt += 1
        }
    }

    /// Byte sequences that do not decode in a new body from which it is warned about (a wrong
    /// charset label garbles every non-ASCII character; one stray byte is common and harmless).
    static let garbledBody = 16

    /// A host that gives no response to this many requests in a row (across its URLs, retries
    /// included) is not tried again in the run (`HostHealth`): two more than its connections at
    /// once (`per_host_concurrency`), so that one blip failing every request in flight is not
    /// enough; at least 3.
    public static func hostFailureLimit(perHostConcurrency: Int) -> Int { max(3, perHostConcurrency + 2) }

    /// Checks one document: the fetch (async, on libcurl's multi handle), then `record` on the
    /// `processing` threads.
    /// - Parameters:
    ///   - row: the document's row, read by the run loop just before (nil: it is gone, or
    ///     could not be read, and then `readError` says why).
    ///   - health: the run's record of hosts that stopped answering (`HostHealth`).
    func check(_ queued: QueuedJob, row: DocumentRecord?, readError: String? = nil, health: HostHealth? = nil, runId: Int64?) async -> Outcome {
        // (The run loop names the document before these: its URL, or its id when the row is unread.)
        if let readError { return Outcome(kind: .failed, error: readError) }
        guard var doc = row else { return Outcome(kind: .failed, error: "its row vanished") }
        doc.depth = min(doc.depth, queued.depth)  // (the row may have been read before a shorter path was found)
        let job = Job(document: doc, plan: queued.plan, isNew: queued.isNew)
        let isAsset = doc.kind == DocumentKind.asset.rawValue
        let target = doc.fetchUrl ?? doc.url
        // The document's own address counts too: a start page 301'd to `www.` keeps its Cookie.
        let ownHost = [target, doc.url].contains { Transfer.hostKey($0).map(queued.plan.headerHosts.contains) ?? false }
        let request = FetchRequest(url: target, etag: doc.etag, lastModified: doc.lastModified,
                                   proxy: job.source.proxy, headers: ownHost ? job.source.headers : [:],
                                   maxBodyBytes: isAsset ? config.http.maxAssetBytes : nil,
                                   maxBodySetting: isAsset ? "max_asset_bytes" : "max_body_bytes", health: health)
        guard let (result, retryAfter) = await fetchWithRetries(request), result.failureValue != .cancelled else {
            return Outcome(kind: .cancelled)
        }
        if isQuick(job, result) { return record(job, result, retryAfter: retryAfter, runId: runId) }
        do {
            return try await Self.processing.runIfActive { self.record(job, result, retryAfter: retryAfter, runId: runId) }
        } catch {
            return Outcome(kind: .failed, error: "\(error)")
        }
    }

    /// Gives each configured source the documents of its start URLs that another source's
    /// row holds. A source taken out of the config whose every start URL (its depth-0
    /// indexes) is now one source's start was renamed: all its documents, schedules and
    /// dictionary go to the new name (they had stayed under the old one, polled by no run).
    /// Any other such start URL (a source split in two, or a page another source had found)
    /// moves alone, at depth 0, as its new source's start; its other documents stay where
    /// they are. Cheap: one lookup per start URL.
    func claimStartURLs() throws {
        // Each removed source's start URLs as they were before this pass moved any: a source
        // split in two is no rename of either half.
        var formerStarts: [String: Set<String>] = [:]
        for source in config.sources {
            let rules = SourcePlan(source).rules
            let starts = Set(source.start.compactMap { URI($0).map { rules.normalize($0).description } })
            for url in starts.sorted() {
                guard let doc = try database.document(url: url), doc.source != source.name, let id = doc.id else { continue }
                let old = doc.source
                var renamed = false
                if config.source(named: old) == nil, doc.depth == 0, doc.kind == DocumentKind.index.rawValue {
                    let former = try formerStarts[old] ?? database.startURLs(source: old)
                    formerStarts[old] = former
                    renamed = former.isSubset(of: starts)
                }
                if renamed {
                    let moved = try writing("renaming source \(old) to \(source.name)") {
                        try database.renameSource(from: old, to: source.name)
                    }
                    dictionaries.rename(from: old, to: source.name)
                    logger.notice("source '\(old)' is not configured any more and its start URLs are '\(source.name)''s: its \(moved) documents are now '\(source.name)''s")
                } else {
                    try writing("giving start URL \(url) to source \(source.name)") {
                        try database.adopt(documentId: id, source: source.name, depth: 0)
                    }
                    logger.notice("start URL \(url) of source '\(source.name)' was a document of source '\(old)': it is now '\(source.name)''s (the rest of '\(old)' stays; a source is renamed whole when all its start URLs move together)")
                }
            }
        }
    }

    /// Where the blocking half of a check runs: extraction, hashing, compression, fsync, SQLite
    /// and the mirror tree. These take milliseconds of CPU or disk each; on Swift's cooperative
    /// pool (one thread per core) they starved everything else that runs there, so a control
    /// request waited behind up to `http.concurrency` of them (about 100 ms per `status`
    /// during a cold mirror of 3,000 pages, up to 700 ms) and an fsync left a core idle. Two
    /// threads per core: one can wait on the disk while the other parses. Process-wide and
    /// never shut down, like the cooperative pool itself.
    static let processing: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(2, 2 * System.coreCount))
        pool.start()
        return pool
    }()

    /// Whether recording `result` takes no file, no parse and no lock wait: a 304 without a
    /// redirect whose links need no reading (see `storedLinks`), the whole of a resync. Such a
    /// check is recorded where its fetch resumed: its row update goes to the run loop's batch
    /// anyway, and the hop to `processing` and back had been most of its cost.
    func isQuick(_ job: Job, _ result: Result<FetchResponse, FetchError>) -> Bool {
        guard case .success(let r) = result, r.status == 304, r.permanentRedirect == nil else { return false }
        return linksMark(job.document, job, body: job.document.rawSha256) == nil
    }

    /// Records what one fetch brought (see `check`): runs on `processing`, not on the
    /// cooperative pool, unless it `isQuick`.
    func record(_ job: Job, _ result: Result<FetchResponse, FetchError>, retryAfter: Double?, runId: Int64?) -> Outcome {
        LargeBody.oneAtATime(size: parsedSize(job, result)) { recordBody(job, result, retryAfter: retryAfter, runId: runId) }
    }

    /// The bytes recording `result` parses, for `LargeBody`: the body fetched, or for a 304
    /// whose stored body is read again (`storedLinks`: the first run after `assets` is turned
    /// on reads every article once) the size of that stored body.
    func parsedSize(_ job: Job, _ result: Result<FetchResponse, FetchError>) -> Int {
        let size = (try? result.get())?.body.count ?? 0
        guard size == 0, linksMark(job.document, job, body: job.document.rawSha256) != nil,
              let id = job.document.currentVersionId, let version = try? database.version(id: id) else { return size }
        return version.size
    }

    /// Carries out a check: `CheckPolicy.decide` says what the fetch means (no I/O), then
    /// the rows, blob, mirror files, metrics and log follow from the decision; a new body is
    /// parsed once, for its content hash, parsed copy and links together.
    private func recordBody(_ job: Job, _ result: Result<FetchResponse, FetchError>, retryAfter: Double?, runId: Int64?) -> Outcome {
        let doc = job.document
        guard let docId = doc.id else { return Outcome(kind: .failed, error: "document has no id") }
        switch result {
        case .success(let r): metrics.fetch(status: r.status, bytes: r.body.count)
        case .failure: metrics.fetch(status: nil, bytes: 0)
        }
        let now = self.now()
        let policy = CheckPolicy(source: job.source, maxRetryDelay: config.http.maxRetryDelay, now: now)
        let decision = policy.decide(doc, result, retryAfter: retryAfter)
        if doc.gone, case let .success(r) = result, (200..<300).contains(r.status) || r.status == 304 {
            // Unpublished for a while, then back: a researcher wants to see that it came back.
            logger.notice("\(doc.url): answers again (HTTP \(r.status)) after being gone (last answer: \(doc.error ?? "HTTP 404"), \(doc.lastChecked.map(RFC3339.string) ?? "?"))")
        }
        do {
            if case let .success(response) = result, let location = response.permanentRedirect,
               case let target = URI(location).map({ job.rules.normalize($0).description }) ?? location, target != doc.fetchUrl {
                // 301/308 are remembered: the next check goes straight to the new address. The
                // document keeps its identity (its URL), so its history stays one history. The
                // address is kept as links are (`LinkRules.normalize`: cache-busters, `utm_*`,
                // case), so that a link to it is known as this document.
                try database.recordFetchURL(documentId: docId, target == doc.url ? nil : target)
                logger.info("\(doc.url): permanently moved to \(target)")
            }
            var outcome: Outcome
            let body: String?  // the raw SHA-256 whose links `outcome.discovered` holds
            switch (decision, result) {
            case let (.failed(failure), _):
                return try fail(doc, failure, at: now)
            case let (.notModified(next), _):
                logger.debug("\(doc.url): 304 not modified")
                // Written by the run loop in batches (see `MirrorDatabase.recordUnchanged(_:)`).
                let stored = try storedLinks(doc, job)
                outcome = Outcome(kind: .notModified, discovered: stored.links,
                                  unchanged: UnchangedCheck(documentId: docId, status: 304, checkedAt: now, etag: nil,
                                                            lastModified: nil, nextCheck: next))
                outcome.warnsEveryRun = stored.warns
                outcome.assets = stored.assets  // their parsed copy points at them once stored
                outcome.relinks = !stored.assets.isEmpty
                body = doc.rawSha256
            case let (.sameBody(_, next), .success(response)):
                outcome = try recordSameBody(job, response, nextCheck: next, policy: policy)
                body = doc.rawSha256
            case let (.newBody(sha), .success(response)):
                outcome = try recordNewBody(job, response, sha: sha, policy: policy, runId: runId)
                body = sha
            default:
                return Outcome(kind: .failed, error: "no response")  // a body decision always comes with one
            }
            if outcome.kind == .fetched || outcome.kind == .notModified, !outcome.warnsEveryRun {
                outcome.linksKnown = linksMark(doc, job, body: body)
            }
            return outcome
        } catch {
            if let code = diskFullCode(error) {
                logger.error("\(doc.url): \(error) (\(code)); stopping the run until space returns")
                return Outcome(kind: .diskFull, error: "\(error) (\(code))")
            }
            return fail(doc, storeError: error, at: now)
        }
    }

    private enum BodyText {
        case text(String)
        case failed(Outcome)
    }

    /// The text of a body for parsing, or the failure it is: a gzip file that is corrupt or
    /// inflates past `max_body_bytes` is the upstream's failure, backed off like any other
    /// (not refetched every run).
    private func decodedText(_ job: Job, _ response: FetchResponse, policy: CheckPolicy) throws -> BodyText {
        let failure: FetchError
        do {
            // Inflated first: an archive linked as a page is judged by what it holds.
            let bytes = try StoredContent.inflated(response.body, limit: config.http.maxBodyBytes)
            if let why = StoredContent.notAPage(bytes, contentType: response.contentType) {
                let notAPage = FetchError.undecodableBody(message: why)
                return .failed(try fail(job.document, policy.failure(job.document, status: response.status, notAPage, retryAfter: nil), at: policy.now))
            }
            let decoded = Charset.decode(bytes, contentType: response.contentType, override: job.source.charset)
            func first(_ kind: String) -> Bool { charsetSaid.withLock { $0.insert("\(job.source.name)\u{0}\(kind)").inserted } }
            if let note = decoded.note {
                if first("note") { logger.notice("\(job.document.url): \(note) (said once per source and run)") }
            } else if decoded.undecodable >= Self.garbledBody, first("garbled") {
                let from = job.source.charset != nil ? "the source's charset" : "its Content-Type charset, <meta> or UTF-8 by default"
                logger.warning("\(job.document.url): \(decoded.undecodable) byte sequences are not \(decoded.charset) (\(from)), so the label is likely wrong; they read U+FFFD in the parsed copy (said once per source and run; set the source's charset to the right one)")
            }
            return .text(decoded.text)
        } catch let e as Gzip.TooLarge {
            failure = .undecodableBody(message: "\(e) (max_body_bytes)")
        } catch let e as Gzip.Corrupt {
            failure = .undecodableBody(message: "\(e)")
        }
        return .failed(try fail(job.document, policy.failure(job.document, status: response.status, failure, retryAfter: nil), at: policy.now))
    }

    /// Where a page's links and images resolve: where its content really is (after redirects).
    private func pageURL(_ doc: DocumentRecord, _ response: FetchResponse) -> URI {
        URI(response.effectiveURL).map { $0.scheme == nil ? URI(doc.url)! : $0 } ?? URI(doc.url)!
    }

    /// A 2xx with the current version's body (a server that ignores validators): the hash
    /// decides, nothing is written but the check; an index's links are still followed.
    private func recordSameBody(_ job: Job, _ response: FetchResponse, nextCheck: Date, policy: CheckPolicy) throws -> Outcome {
        let doc = job.document
        logger.debug("\(doc.url): \(response.status), same body as the current version")
        var discovered: [DiscoveredLink] = []
        var assets: [String] = []
        var warns = false
        let isArticle = doc.kind == DocumentKind.article.rawValue
        // An article is read again only when these rules have not read it (see `linksMark`).
        if doc.kind != DocumentKind.asset.rawValue, !isArticle || linksMark(doc, job, body: doc.rawSha256) != nil {
            switch try decodedText(job, response, policy: policy) {
            case .failed(let outcome): return outcome
            case .text(let text) where isArticle:
                let format = MarkupFormat.detect(contentType: response.contentType, text: text)
                (_, discovered, assets) = parseArticle(job, text: text, format: format, pageURL: pageURL(doc, response))
            case .text(let text):
                let index = discover(doc, job, text: text, contentType: response.contentType, pageURL: pageURL(doc, response))
                discovered = index.links
                warns = index.repeatedGUID != nil
            }
        }
        try database.recordUnchanged(documentId: doc.id!, status: response.status, checkedAt: policy.now,
                                     etag: response.etag, lastModified: response.lastModified, nextCheck: nextCheck)
        var outcome = Outcome(kind: .fetched, discovered: discovered)
        outcome.assets = assets
        outcome.relinks = !assets.isEmpty
        outcome.warnsEveryRun = warns
        return outcome
    }

    /// A new body: parsed once (content hash, parsed copy, links), stored raw first (the blob
    /// is durable before the row that names it commits), then the mirror files.
    private func recordNewBody(_ job: Job, _ response: FetchResponse, sha: String, policy: CheckPolicy, runId: Int64?) throws -> Outcome {
        let doc = job.document
        let now = policy.now
        if doc.kind == DocumentKind.asset.rawValue {
            return try storeAsset(doc, response: response, sha: sha, at: now, runId: runId, nextCheck: policy.nextCheck(doc, changed: false))
        }
        let pageURL = pageURL(doc, response)
        let text: String
        switch try decodedText(job, response, policy: policy) {
        case .failed(let outcome): return outcome
        case .text(let t): text = t
        }
        let format = MarkupFormat.detect(contentType: response.contentType, text: text)
        let isIndex = doc.kind == DocumentKind.index.rawValue
        let rulesHash = ExtractionRules(source: job.source).hash  // recorded on the version and in the parsed copy
        var discovered: [DiscoveredLink] = []
        var indexParseError: String?
        var warns = false
        var article: ParsedArticle?
        let contentSHA: String
        let title: String?
        if doc.kind == DocumentKind.article.rawValue {
            // The text is handed over: a 2 MB page's is let go once it is rendered for parsing.
            let (parsed, links, _) = parseArticle(job, text: consume text, format: format, pageURL: pageURL)
            if parsed.extraction == .fallback {
                // Once per new body: an unchanged page returns before it is parsed again.
                logger.notice("\(doc.url): no article body found; the parsed copy holds the page's visible text (extraction: fallback)")
            }
            article = parsed
            contentSHA = parsed.contentSHA256
            title = parsed.title
            discovered = links
        } else {
            let index = discover(doc, job, text: text, contentType: response.contentType, pageURL: pageURL)
            discovered = index.links
            warns = index.repeatedGUID != nil
            indexParseError = index.parseError
            contentSHA = index.contentSHA256
            title = index.title
        }
        // Raw before parsed: the blob is durable before the row that names it commits.
        let blob = try stageText(response.body, sha: sha, of: doc, source: job.source)
        let outcome = try commits.record(blob, BodyToRecord(documentId: doc.id!, body: FetchedBody(
            rawSha256: sha, contentSha256: contentSHA, title: title, size: response.body.count, storedSize: blob.storedSize,
            httpStatus: response.status, etag: response.etag, lastModified: response.lastModified,
            contentType: response.contentType, fetchedAt: now, runId: runId,
            parserVersion: ArticleExtractor.parserVersion, rulesHash: isIndex ? "none" : rulesHash,
            blobBase: blob.base, blobDictionary: blob.dictionaryID),
            nextCheck: policy.nextCheck(doc, changed: contentSHA != doc.contentSha256), tracksRevisions: true))
        try writeTree(URI(doc.url)!, body: response.body, article: article, contentSHA256: contentSHA, outcome: outcome,
                      fetchedAt: now, rulesHash: rulesHash, source: job.source)
        if outcome.newVersion { metrics.newVersion(revision: outcome.newRevision) }
        if let problem = indexParseError {
            // Stored as served (the raw bytes are evidence), but the index is flagged.
            metrics.error("xml")
            try database.recordFailure(documentId: doc.id!, status: response.status, error: "XML error: \(problem)",
                                       checkedAt: now, nextCheck: policy.nextCheck(doc, changed: false))
            logger.warning("\(doc.url): XML error: \(problem)")
        }
        if outcome.newRevision {
            logger.info("\(outcome.revision == 1 ? "new" : "revised") \(doc.kind) \(doc.url) (revision \(outcome.revision))")
        }
        var result = Outcome(kind: .fetched, newVersion: outcome.newVersion, newRevision: outcome.newRevision, discovered: discovered,
                             assets: discovered.filter { $0.kind == .asset }.map(\.url.description))
        result.warnsEveryRun = warns
        return result
    }

    /// Compresses a page's new body into a staged blob: against the document's previous body
    /// when that is smaller (an edit, an index's new cache-busters: a few hundred bytes instead
    /// of the page), otherwise with the source's dictionary, which the first bodies of a source
    /// train (see `SourceDictionaries`). A previous body that cannot be read only costs the delta.
    private func stageText(_ body: [UInt8], sha: String, of doc: DocumentRecord, source: SourceConfig) throws -> StagedBlob {
        var dictionary = dictionaries.dictionary(for: source.name)
        // Articles train it (a big site's first hundreds of bodies are its indexes, whose
        // versions are deltas anyway); indexes are compressed with it too.
        if dictionary == nil, doc.kind == DocumentKind.article.rawValue,
           let trained = try dictionaries.offer(body, sha256: sha, source: source.name) {
            dictionary = trained.dictionary
            // The bodies it learnt from were stored before it existed: compressed again with it.
            var again: [StagedBlob] = []
            for sample in trained.samples where sample != sha {
                if let staged = try blobs.recompress(sample, with: trained.dictionary) { again.append(staged) }
            }
            try blobs.makeDurable(again, replacing: true)
            try database.recordRewritten(again, compacted: false)
            malloc_trim(0)  // the trainer's working memory (several MB) goes back to the system
            logger.notice("source \(source.name): zstd dictionary \(trained.dictionary.id) trained (\(trained.dictionary.size) bytes) from its first \(trained.samples.count) bodies, \(again.count) of them compressed again with it; later bodies are compressed with it")
        }
        var base: DeltaBase?
        if let previous = doc.rawSha256, previous != sha, body.count <= BlobStore.maxDeltaBytes,
           let (bytes, depth) = try? blobs.read(previous) {
            base = DeltaBase(sha256: previous, bytes: bytes, depth: depth)
        }
        return try blobs.stage(body, sha256: sha, base: base, dictionary: dictionary)
    }

    /// The images of a parsed article that the source's `assets` policy mirrors: `http(s)` or
    /// `file` URLs (a `data:` image is inline already), on the article's host for `same-site`.
    func assetLinks(_ article: ParsedArticle, article url: URI, source: SourceConfig) -> [DiscoveredLink] {
        guard source.assets != .none else { return [] }
        var seen = Set<URI>()
        return article.images.compactMap { image -> DiscoveredLink? in
            guard var u = URI(image.src), let scheme = u.scheme, ["http", "https", "file"].contains(scheme) else { return nil }
            u = u.normalized()
            if source.assets == .sameSite {
                guard scheme == url.scheme || (scheme == "https" && url.scheme == "http") || (scheme == "http" && url.scheme == "https"),
                      u.host == url.host else { return nil }
            }
            guard seen.insert(u).inserted else { return nil }
            return DiscoveredLink(url: u, text: image.alt ?? "", kind: .asset)
        }
    }

    /// A new image body: stored as served (blob, version without revisions, raw copy), never parsed.
    private func storeAsset(_ doc: DocumentRecord, response: FetchResponse, sha: String, at now: Date, runId: Int64?,
                            nextCheck: Date) throws -> Outcome {
        let blob = try blobs.stage(response.body, sha256: sha)
        let outcome = try commits.record(blob, BodyToRecord(documentId: doc.id!, body: FetchedBody(
            rawSha256: sha, contentSha256: sha, title: nil, size: response.body.count, storedSize: blob.storedSize,
            httpStatus: response.status, etag: response.etag, lastModified: response.lastModified,
            contentType: response.contentType, fetchedAt: now, runId: runId, parserVersion: ArticleExtractor.parserVersion),
            nextCheck: nextCheck, tracksRevisions: false))
        try tree.write(response.body, at: MirrorTree.rawPath(URI(doc.url)!))
        if outcome.newVersion { metrics.newVersion(revision: false) }
        return Outcome(kind: .fetched, newVersion: outcome.newVersion, storedAsset: doc.rawSha256 == nil)
    }

    /// Rewrites the parsed copy of an article from its current version (local image paths
    /// filled in for the assets stored since). The article comes from the `.json` written
    /// earlier in the run when it is still that version's (its content hash matches), so the
    /// body is not parsed a second time; otherwise it is extracted from the stored raw body.
    func rewriteParsedCopy(_ doc: DocumentRecord) throws {
        let source = config.source(named: doc.source)
        guard let vid = doc.currentVersionId, let v = try database.version(id: vid), let url = URI(doc.url) else { return }
        let written = tree.read(MirrorTree.parsedStem(url) + ".json")
            .flatMap { try? JSONDecoder().decode(ParsedArticle.self, from: Data($0)) }
            .flatMap { $0.contentSHA256 == v.contentSha256 ? $0 : nil }
        guard let article = try written ?? StoredContent.load(v, of: doc, blobs: blobs, source: source,
                                                               limit: config.http.maxBodyBytes).article else { return }
        try ParsedWriter(tree: tree, database: database).write(
            ParsedWriter.copy(of: article, url: doc.url, version: v, revision: doc.revisionCount),
            for: url, ignoringQuery: Set(source?.ignoreQuery ?? []))
    }

    /// Records a failure decided by `CheckPolicy` (its error and next check).
    private func fail(_ doc: DocumentRecord, _ failure: CheckDecision.Failure, at: Date) throws -> Outcome {
        let message = failure.error.description
        metrics.error(MirrorMetrics.kind(failure.error))
        if failure.error.isHostRefusal {
            // Not tried: no check and no failure of its own (its host's warning said why once);
            // the next run tries it, or after the host's Retry-After.
            logger.debug("\(doc.url): \(message)")
            var notBefore: Date?
            if case let .hostBusy(_, _, seconds) = failure.error { notBefore = at.addingTimeInterval(Double(seconds)) }
            try database.recordNotTried(documentId: doc.id!, error: message, notBefore: notBefore)
            return Outcome(kind: .failed, error: message)
        }
        logger.warning("\(doc.url): \(message)")
        try database.recordFailure(documentId: doc.id!, status: failure.status, error: message, checkedAt: at,
                                   nextCheck: failure.nextCheck, gone: failure.gone)
        return Outcome(kind: .failed, error: message)
    }

    private func fail(_ doc: DocumentRecord, storeError: Error, at: Date) -> Outcome {
        let message = "\(storeError)"
        metrics.error("store")
        logger.error("\(doc.url): \(message)")
        try? database.recordFailure(documentId: doc.id!, status: 0, error: message, checkedAt: at, nextCheck: nil)
        return Outcome(kind: .failed, error: message)
    }

    /// Links an index (or, with `follow_article_links`, an article) leads to. A feed whose
    /// items repeat `<guid>`s is warned about here: once per feed and run, as each document
    /// is checked once per run (on a 304 too, through `storedLinks`).
    private func discover(_ doc: DocumentRecord, _ job: Job, text: String, contentType: String?, pageURL: URI) -> IndexContent {
        guard doc.kind == DocumentKind.index.rawValue || job.source.followArticleLinks else {
            return IndexContent(title: nil, links: [])
        }
        let index = IndexContent.read(text: text, contentType: contentType, pageURL: pageURL, rules: job.rules)
        if let repeated = index.repeatedGUID {
            logger.warning("\(doc.url): \(repeated.items) feed item\(repeated.items == 1 ? "" : "s") repeat an earlier item's <guid> (first: '\(repeated.guid)'); every item is kept, by its link")
        }
        return index
    }

    /// On a 304 the links come from the stored current version, so discovery still reaches
    /// documents a previous run did not finish (and rule changes apply) without a download.
    /// - Returns: the links, and whether the body is a feed that repeats `<guid>`s.
    private func storedLinks(_ doc: DocumentRecord, _ job: Job) throws -> (links: [DiscoveredLink], warns: Bool, assets: [String]) {
        // Nothing to find again when a run recorded every link of this body under these rules.
        // Where the page is now (a 301 moved it): what its relative links resolve against.
        guard linksMark(doc, job, body: doc.rawSha256) != nil, let sha = doc.rawSha256,
              let pageURL = URI(doc.fetchUrl ?? doc.url) ?? URI(doc.url)
        else { return ([], false, []) }
        let body = try blobs.get(sha)
        let contentType = try doc.currentVersionId.flatMap { try database.version(id: $0) }?.contentType
        let text = try StoredContent.text(of: body, contentType: contentType, limit: config.http.maxBodyBytes, charset: job.source.charset)
        guard doc.kind == DocumentKind.article.rawValue else {
            let index = discover(doc, job, text: text, contentType: contentType, pageURL: pageURL)
            return (index.links, index.repeatedGUID != nil, [])
        }
        let found = parseArticle(job, text: text, format: MarkupFormat.detect(contentType: contentType, text: text), pageURL: pageURL)
        return (found.links, false, found.assets)
    }

    /// One parse of an article under this run's rules: the article, and what it links to (its
    /// links when `follow_article_links` follows them, then the images it shows when they are
    /// mirrored), with those images' URLs. For a new body, and for a stored one read again
    /// (a 304, or a 200 with the same body) once `assets` or `follow_article_links` asks.
    private func parseArticle(_ job: Job, text: consuming String, format: MarkupFormat, pageURL: URI)
        -> (article: ParsedArticle, links: [DiscoveredLink], assets: [String]) {
        var links: IndexContent?
        let parsed = ArticleExtractor.extract(text: consume text, format: format, pageURL: pageURL, rules: ExtractionRules(source: job.source),
                                              inspect: job.source.followArticleLinks ? { document in
            links = IndexContent.read(document: document, pageURL: pageURL, rules: job.rules)
        } : nil)
        let images = assetLinks(parsed, article: pageURL, source: job.source)
        return (parsed, (links?.links ?? []) + images, images.map(\.url.description))
    }

    /// The `linksKnown` value of a document's `body` (its raw SHA-256) under this run's rules,
    /// for a document whose links are followed (an index; an article with
    /// `follow_article_links`, or whose images are mirrored), when it is not noted already. It holds the
    /// depth the links were counted from: once a shorter path lowers the document's depth, the
    /// mark no longer matches, and on its next 304 the stored body is read again, so the links
    /// it had passed over beyond `max_depth` are followed and its known links get their lower
    /// depth in turn (down a chain, one level a check).
    private func linksMark(_ doc: DocumentRecord, _ job: Job, body: String?) -> String? {
        let article = doc.kind == DocumentKind.article.rawValue
        guard let body, doc.kind == DocumentKind.index.rawValue || (article && (job.source.followArticleLinks || job.source.assets != .none))
        else { return nil }
        let mark = "\(body) \(job.linksFingerprint) \(doc.depth)"
        return mark == doc.linksKnown ? nil : mark
    }

    /// Latest raw bytes at `raw/…`; for articles the parsed copy at `parsed/…`.
    /// `contentSHA256` is the article's, as recorded (hashed once per body).
    private func writeTree(_ url: URI, body: [UInt8], article: ParsedArticle?, contentSHA256: String, outcome: RecordOutcome,
                           fetchedAt: Date, rulesHash: String, source: SourceConfig) throws {
        try tree.write(body, at: MirrorTree.rawPath(url))
        guard let article else { return }
        try ParsedWriter(tree: tree, database: database).write(
            ParsedCopy(article: article, url: url.description, revision: outcome.revision,
                       contentSHA256: contentSHA256, fetchedAt: RFC3339.string(fetchedAt),
                       parserVersion: ArticleExtractor.parserVersion, rulesHash: rulesHash),
            for: url, ignoringQuery: Set(source.ignoreQuery))
    }
}

extension Result where Failure == FetchError {
    var failureValue: FetchError? {
        if case let .failure(e) = self { return e }
        return nil
    }
}
