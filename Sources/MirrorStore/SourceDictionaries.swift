import CZstd
import Foundation
import GRDB
import MirrorCore

/// A trained zstd dictionary (RFC 8878 §5) with its compressor, a `ZSTD_CDict` at the blob
/// store's level. Its file is `BlobStore.dictionaryPath(id:)`; blobs name it by the
/// dictionary ID in their frame header.
public final class BlobDictionary: @unchecked Sendable {
    public let id: UInt32
    public let size: Int
    let compressor: OpaquePointer

    /// - Parameter tableLog: caps the match finder's hash and chain tables at 2^tableLog
    ///   entries. Level 19's own choice for a 256 KiB dictionary takes about 20 MB while
    ///   compressing; capped at 2^19, 12 MB for the same output; at 2^18, 8 MB for output
    ///   2.4 % larger (zstd CLI, 600 generated pages).
    /// - Returns: nil when `bytes` is not a zstd dictionary.
    init?(bytes: [UInt8], level: Int32, tableLog: UInt32? = nil) {
        let id = bytes.withUnsafeBytes { ZDICT_getDictID($0.baseAddress, $0.count) }
        var params = ZSTD_getCParams(level, 0, bytes.count)
        if let tableLog {
            params.hashLog = min(params.hashLog, tableLog)
            params.chainLog = min(params.chainLog, tableLog)
        }
        let made = bytes.withUnsafeBytes { b -> OpaquePointer? in
            if tableLog == nil { return ZSTD_createCDict(b.baseAddress, b.count, level) }
            return ZSTD_createCDict_advanced(b.baseAddress, b.count, ZSTD_dlm_byCopy, ZSTD_dct_auto, params, ZSTD_customMem())
        }
        guard id != 0, let c = made else {
            if let made { ZSTD_freeCDict(made) }
            return nil
        }
        self.id = id
        self.size = bytes.count
        self.compressor = c
    }

    deinit { ZSTD_freeCDict(compressor) }
}

/// One zstd dictionary per source, trained from the source's first bodies.
///
/// The pages of one site share most of their bytes (the template: head, navigation, footer,
/// scripts), which a small page compressed alone cannot exploit: on 3,000 generated
/// seed-format pages zstd level 3 stores 0.48× of the raw bytes alone and 0.33× with a
/// dictionary trained on 200 of them. A source's bodies are gathered as they are stored
/// (the first `samplesToTrain`, or `sampleBytesToTrain` bytes); then a dictionary is trained
/// (`ZDICT_trainFromBuffer`), written durably, recorded in the `dictionaries` table, and used
/// for every body stored whole after it. Bodies stored before stay as they are. Dictionaries
/// are never deleted: blobs name them.
public final class SourceDictionaries: @unchecked Sendable {
    public static let defaultSamplesToTrain = 256
    /// Bodies gathered before a source's dictionary is trained (`defaultSamplesToTrain`).
    public let samplesToTrain: Int
    public static let sampleBytesToTrain = 3 << 20
    /// Longer bodies are sampled by their first this many bytes.
    static let maxSampleBytes = 64 << 10
    /// At most 256 KiB, and a tenth of the samples (zstd's advice). On the 3,000 generated
    /// pages at level 3: no dictionary 0.48× of raw, 32 KiB 0.36×, 110 KiB (zstd's default)
    /// 0.33×, 256 KiB 0.31×, 512 KiB 0.31×; the whole site in one zstd stream 0.31×.
    static let capacity = 256 << 10

    let blobs: BlobStore
    let database: MirrorDatabase
    private let lock = NSLock()
    private var current: [String: BlobDictionary] = [:]
    /// Per source: the samples back to back (`ZDICT_trainFromBuffer`'s input), their sizes
    /// and blobs.
    private var samples: [String: Samples] = [:]
    struct Samples {
        var joined: [UInt8] = []
        var sizes: [Int] = []
        var shas: [String] = []
    }
    /// Sources being trained right now, or whose training failed in this process.
    private var closed: Set<String> = []

    /// Loads the newest dictionary of each source. One whose file is missing or unreadable is
    /// skipped (its source trains a new one; blobs compressed with it fail to read, and
    /// `mirrorctl verify` names them).
    public init(blobs: BlobStore, database: MirrorDatabase, samplesToTrain: Int = SourceDictionaries.defaultSamplesToTrain) {
        self.blobs = blobs
        self.database = database
        self.samplesToTrain = samplesToTrain
        for (id, source) in (try? database.dictionaries()) ?? [] {
            guard let bytes = try? blobs.dictionaryFile(id, blob: source),
                  let d = BlobDictionary(bytes: bytes, level: blobs.level) else { continue }
            current[source] = d
        }
    }

    /// The dictionary bodies of `source` are compressed with, if one is trained.
    public func dictionary(for source: String) -> BlobDictionary? {
        lock.withLock { current[source] }
    }

    /// Source `old` is now called `new` (`MirrorDatabase.renameSource`): its dictionary,
    /// and the samples gathered so far, go with it unless `new` has its own.
    public func rename(from old: String, to new: String) {
        lock.withLock {
            if current[new] == nil, let d = current.removeValue(forKey: old) { current[new] = d }
            if samples[new] == nil, let s = samples.removeValue(forKey: old) { samples[new] = s }
            if closed.remove(old) != nil { closed.insert(new) }
        }
    }

    /// A dictionary just trained, and the blobs it was trained on: stored before it existed,
    /// they are worth compressing again with it (`BlobStore.recompress`).
    public struct Trained: Sendable {
        public let dictionary: BlobDictionary
        public let samples: [String]
    }

    /// Offers a body of `source` (one without a dictionary yet) as a training sample. The call
    /// that completes the sample set trains the dictionary, on its own thread; the others go on
    /// without waiting.
    /// - Returns: the dictionary this call trained, if any.
    /// - Throws: `StoreError` when its file or row cannot be written (the samples are dropped
    ///   and this process does not try again for the source).
    public func offer(_ body: [UInt8], sha256: String, source: String) throws -> Trained? {
        guard !body.isEmpty else { return nil }
        let ready: Samples? = lock.withLock {
            guard current[source] == nil, !closed.contains(source) else { return nil }
            var set = samples.removeValue(forKey: source) ?? Samples()
            set.joined += body.prefix(Self.maxSampleBytes)
            set.sizes.append(min(body.count, Self.maxSampleBytes))
            set.shas.append(sha256)
            guard set.sizes.count >= samplesToTrain || set.joined.count >= Self.sampleBytesToTrain else {
                samples[source] = set
                return nil
            }
            closed.insert(source)
            return set
        }
        guard let ready else { return nil }
        // Too little in common (zstd refuses): the source stays without one in this process.
        guard let bytes = Self.train(ready), let dictionary = BlobDictionary(bytes: bytes, level: blobs.level) else {
            return nil
        }
        let p = blobs.dictionaryPath(id: dictionary.id)
        if let existing = FileManager.default.contents(atPath: p) {
            // Dictionary IDs are 31-bit hashes: another dictionary with this ID cannot be
            // replaced (blobs name it) nor shared; this source stays without one.
            guard Array(existing) == bytes else { return nil }
        } else {
            try FileSystem.makeDirectories(blobs.root + "/dict")
            try FileSystem.writeDurably(bytes, to: p, tempDirectory: blobs.root + "/tmp")
        }
        try database.recordDictionary(id: dictionary.id, source: source, size: bytes.count, samples: ready.sizes.count, at: Date())
        lock.withLock {
            current[source] = dictionary
            closed.remove(source)
        }
        return Trained(dictionary: dictionary, samples: ready.shas)
    }

    /// A dictionary of at most `capacity` bytes trained on `samples`, or nil when zstd finds
    /// too little in common (it fails on too few or too uniform samples).
    ///
    /// fastCover with fixed parameters (k = 1000, d = 8, f = 17): 0.04 s and about 1 MB of
    /// working memory for 3 MB of samples, within 1 % of the ratio that
    /// `ZDICT_trainFromBuffer`'s search over k reaches in 4 s and 16 MB (measured with the
    /// zstd CLI on the 3,000 generated pages; peak RSS counts for a daemon).
    static func train(_ samples: Samples) -> [UInt8]? {
        let capacity = min(Self.capacity, max(4096, samples.joined.count / 10))
        var params = ZDICT_fastCover_params_t()
        params.k = 1000
        params.d = 8
        params.f = 17
        params.accel = 1
        params.splitPoint = 1.0
        params.zParams.compressionLevel = 3
        var out = [UInt8](repeating: 0, count: capacity)
        let n = out.withUnsafeMutableBytes { dst in
            samples.joined.withUnsafeBytes { src in
                samples.sizes.map { Int($0) }.withUnsafeBufferPointer { s in
                    ZDICT_trainFromBuffer_fastCover(dst.baseAddress, capacity, src.baseAddress, s.baseAddress, UInt32(s.count), params)
                }
            }
        }
        guard ZDICT_isError(n) == 0 else { return nil }
        out.removeSubrange(n...)
        return out
    }
}

extension MirrorDatabase {
    /// The newest dictionary of each source: (zstd dictionary ID, source).
    public func dictionaries() throws -> [(UInt32, String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, source FROM dictionaries d
                WHERE id = (SELECT id FROM dictionaries e WHERE e.source = d.source ORDER BY created DESC, rowid DESC LIMIT 1)
                """).map { (UInt32(truncatingIfNeeded: $0["id"] as Int64), $0["source"]) }
        }
    }

    /// Records a dictionary whose file is durable.
    public func recordDictionary(id: UInt32, source: String, size: Int, samples: Int, at: Date) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO dictionaries (id, source, created, size, samples) VALUES (?, ?, ?, ?, ?)",
                           arguments: [Int64(id), source, StoredDate.text(at), size, samples])
        }
    }
}
