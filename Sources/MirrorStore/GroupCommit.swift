import Foundation
import MirrorCore

/// Group commit (the database technique) of new bodies: each checking thread compresses its
/// blob into a temp file and hands it over with its rows; one of the waiting threads (the
/// leader) links the batch's blobs into place, fsyncs their folders and records every row in one
/// transaction, while the next batch gathers behind it.
///
/// The store's contract holds for a batch as for one body: the blobs are durable before the
/// transaction that names them commits (`BlobStore.makeDurable`, then
/// `MirrorDatabase.recordBodies`); a crash in between leaves blob files no row names, which
/// are harmless (the same body stored again finds its blob in place).
///
/// A batch is as large as the number of threads that finished a body while the previous
/// batch committed: nothing waits for a batch to fill, so a lone body commits at once.
public final class GroupCommit: @unchecked Sendable {
    public let database: MirrorDatabase
    public let blobs: BlobStore

    private final class Ticket {
        let blob: StagedBlob
        let body: BodyToRecord
        var result: Result<RecordOutcome, Error>?
        init(blob: StagedBlob, body: BodyToRecord) {
            self.blob = blob
            self.body = body
        }
    }

    private let condition = NSCondition()
    private var queue: [Ticket] = []
    private var leading = false
    /// Batches committed and bodies in them, for the benchmarks' log line.
    public private(set) var batches = 0
    public private(set) var bodies = 0
    /// Bodies whose blob was made durable but whose rows did not commit (the transaction
    /// failed, or the body's document was gone): their blob files are garbage that
    /// `BlobStore.removeOrphans(rows:)` deletes once no batch is in flight.
    public var uncommitted: Int {
        condition.lock()
        defer { condition.unlock() }
        return uncommittedCount
    }
    private var uncommittedCount = 0

    public init(database: MirrorDatabase, blobs: BlobStore) {
        self.database = database
        self.blobs = blobs
    }

    /// Records `body` once `blob` (staged by `BlobStore.stage`) is durable; blocks until its
    /// batch has committed.
    /// - Throws: the batch's error (`StoreError` from `link`/`fsync`, a `DatabaseError` of
    ///   the transaction: disk full), or this body's own (its document vanished).
    public func record(_ blob: StagedBlob, _ body: BodyToRecord) throws -> RecordOutcome {
        let ticket = Ticket(blob: blob, body: body)
        condition.lock()
        queue.append(ticket)
        while ticket.result == nil {
            if leading {
                condition.wait()
                continue
            }
            leading = true
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()
            let results = commit(batch)
            condition.lock()
            uncommittedCount += results.filter { if case .failure = $0 { true } else { false } }.count
            for (t, r) in zip(batch, results) { t.result = r }
            batches += 1
            bodies += batch.count
            leading = false
            condition.broadcast()
        }
        condition.unlock()
        return try ticket.result!.get()
    }

    private func commit(_ batch: [Ticket]) -> [Result<RecordOutcome, Error>] {
        do {
            // The row says how the file in place is stored (it may be another document's).
            let placed = try blobs.makeDurable(batch.map(\.blob))
            let bodies = zip(batch, placed).map { ticket, blob -> BodyToRecord in
                var b = ticket.body
                b.body.storedSize = blob.storedSize
                b.body.blobBase = blob.base
                b.body.blobDictionary = blob.dictionaryID
                return b
            }
            return try database.recordBodies(bodies)
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }
}
