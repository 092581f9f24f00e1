import CZstd
import Foundation
import MirrorCore

/// An error of the stores, with the path and the reason (errno text).
public struct StoreError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    /// The errno behind it, when a system call failed.
    public let errno: Int32?

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
        self.errno = nil
    }

    init(path: String, reason: String, errno code: Int32) {
        self.path = path
        self.reason = reason
        self.errno = code
    }

    init(path: String, errno code: Int32) {
        self.path = path
        self.reason = String(cString: strerror(code))
        self.errno = code
    }

    /// No space (or quota) left: the whole run must stop writing, not just this document.
    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String { "\(path): \(reason)" }
}

/// Raw bodies, content-addressed by SHA-256 and compressed with zstd (RFC 8878):
/// `<root>/<first two hex digits>/<sha256>.zst`.
///
/// A blob file is one of:
/// - a plain zstd frame (level 3);
/// - a zstd frame compressed with a source's dictionary (`<root>/dict/<id>.zdict`, named by the
///   dictionary ID in the frame header; see `BlobDictionary`), which `zstd -d -D` also reads;
/// - a delta: a skippable frame (RFC 8878 §3.1.2, magic `0x184D2A5E`) naming the base blob,
///   then a zstd frame compressed with the base's bytes as its prefix, so a new version of a
///   document costs about what changed in it. Chains are at most `maxDeltaDepth` long.
///
/// `put` is durable before it returns (temp file, `fsync`, `rename`, `fsync` of the directory);
/// `stage` + `makeDurable` do the same for a batch (group commit): each temp file is fsynced by
/// the thread that staged it, and the batch's folders once after the links. Either
/// way a database row naming a blob can only commit after the blob is on disk. Storing the same
/// bytes twice writes nothing the second time.
public final class BlobStore: @unchecked Sendable {
    public let root: String
    /// zstd level 3: the library's default, ≈ 240 MB/s at 3.4× on article pages here.
    let level: Int32 = 3
    /// The longest chain of deltas a read has to undo: a new version whose base is this deep
    /// is stored whole (with the dictionary) instead.
    public static let maxDeltaDepth = 8
    /// Only bodies up to this size are stored as deltas (a base is read back and kept in
    /// memory while the new body is compressed against it).
    public static let maxDeltaBytes = 4 << 20

    private let lock = NSLock()
    private var decoders: [UInt32: OpaquePointer] = [:]  // ZSTD_DDict by dictionary ID
    private var compactors: [UInt32: BlobDictionary] = [:]  // at compactionLevel, by dictionary ID
    /// The last body read back (the base of the next delta, or the next version a reparse
    /// reads): a chain is undone once, not once per version.
    private var recent: (sha: String, bytes: [UInt8])?
    /// zstd contexts between calls, at most one per thread that used them at once: a context
    /// allocates its workspace on first use, and a new one per blob had been 1.4 % of a
    /// reparse (`ZSTD_createDCtx`). Taken and returned under `lock`; reset on return. A
    /// context whose workspace grew past `pooledContextBytes` is freed instead: at level 3 a
    /// 9 KB page leaves 250 KB, a 100 KB one with the dictionary 1.2 MB, a 2 MB one 1.3 MB,
    /// and pooling those had held 5 MiB more at the peak of a 30,000-article mirror (cold
    /// mirror peak RSS 64.3 MiB with a 4 MiB cap, 61.8 with this one).
    private var idleCompressors: [OpaquePointer] = []
    static let pooledContextBytes = 512 << 10
    /// At most this many idle contexts of each kind are kept: one per core, what compression
    /// can keep busy (the processing pool has two threads per core, and a many-core host
    /// would otherwise keep one context per thread that ever compressed at once).
    static let pooledContexts = max(2, ProcessInfo.processInfo.activeProcessorCount)
    private var idleDecompressors: [OpaquePointer] = []

    public init(root: String) throws {
        self.root = root
        try FileSystem.makeDirectories(root + "/tmp")
    }

    deinit {
        for d in decoders.values { ZSTD_freeDDict(d) }
        for c in idleCompressors { ZSTD_freeCCtx(c) }
        for d in idleDecompressors { ZSTD_freeDCtx(d) }
    }

    /// Runs `body` with a compression context from the pool, reset to defaults afterwards
    /// (`ZSTD_reset_session_and_parameters`: a prefix or window set for a delta does not stay).
    private func withCompressor<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        let taken = lock.withLock { idleCompressors.popLast() }
        guard let cctx = taken ?? ZSTD_createCCtx() else { throw StoreError(path: root, reason: "zstd: out of memory") }
        defer {
            if ZSTD_sizeof_CCtx(cctx) > Self.pooledContextBytes || lock.withLock({ idleCompressors.count >= Self.pooledContexts }) {
                ZSTD_freeCCtx(cctx)
            } else {
                ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)
                lock.withLock { idleCompressors.append(cctx) }
            }
        }
        return try body(cctx)
    }

    /// Runs `body` with a decompression context from the pool (window limit 2^27, as
    /// `zstd -d --long=27` reads), reset afterwards.
    private func withDecompressor<T>(path: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        let taken = lock.withLock { idleDecompressors.popLast() }
        guard let dctx = taken ?? ZSTD_createDCtx() else { throw StoreError(path: path, reason: "zstd: out of memory") }
        defer {
            if ZSTD_sizeof_DCtx(dctx) > Self.pooledContextBytes || lock.withLock({ idleDecompressors.count >= Self.pooledContexts }) {
                ZSTD_freeDCtx(dctx)
            } else {
                ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters)
                lock.withLock { idleDecompressors.append(dctx) }
            }
        }
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27)
        return try body(dctx)
    }

    public func path(for sha256: String) -> String {
        "\(root)/\(sha256.prefix(2))/\(sha256).zst"
    }

    /// Where the dictionary with this zstd dictionary ID lives.
    public func dictionaryPath(id: UInt32) -> String {
        "\(root)/dict/\(id).zdict"
    }

    /// Bytes of the blob's file, nil when it is missing.
    public func fileSize(_ sha256: String) -> Int? {
        var st = stat()
        return stat(path(for: sha256), &st) == 0 ? Int(st.st_size) : nil
    }

    public func contains(_ sha256: String) -> Bool {
        access(path(for: sha256), F_OK) == 0
    }

    /// Stores `bytes` under `sha256` (which the caller computed) unless already present, as a
    /// plain zstd frame, durable before it returns.
    /// - Returns: the number of bytes the compressed blob occupies.
    /// - Throws: `StoreError` (disk full, permissions) with nothing left behind.
    @discardableResult
    public func put(_ bytes: [UInt8], sha256: String) throws -> Int {
        try makeDurable([try stage(bytes, sha256: sha256)])[0].storedSize
    }

    /// Compresses `bytes` (against `base` when that pays, else with `dictionary`) into a temp
    /// file that `makeDurable` moves into place. Nothing is staged when the blob exists.
    /// - Parameters:
    ///   - base: the document's previous body, for a delta.
    ///   - dictionary: the source's dictionary, for a body stored whole.
    /// - Throws: `StoreError` (disk full, permissions, a zstd error) with nothing left behind.
    public func stage(_ bytes: [UInt8], sha256: String, base: DeltaBase? = nil, dictionary: BlobDictionary? = nil) throws -> StagedBlob {
        let final = path(for: sha256)
        if let size = fileSize(sha256) {
            // In place already (another document's body, or a batch that a crash cut short
            // before its rows): its row must still say what the file needs. A delta whose
            // chain no longer reads (a file no row named, whose base retention removed) is
            // replaced below instead.
            let (base, dictionaryID) = storage(of: final)
            if base == nil || (try? read(sha256)) != nil {
                return StagedBlob(sha256: sha256, temp: nil, storedSize: size, base: base, dictionaryID: dictionaryID)
            }
            unlink(final)
        }
        var file = try compress(bytes, dictionary: dictionary)
        var usedBase: String?
        if let base, base.sha256 != sha256, base.depth < Self.maxDeltaDepth,
           bytes.count <= Self.maxDeltaBytes, base.bytes.count <= Self.maxDeltaBytes {
            let delta = try compress(bytes, prefix: base.bytes)
            let header = Self.deltaHeader(base: base.sha256, depth: base.depth + 1)
            if header.count + delta.count < file.count {
                file = header + delta
                usedBase = base.sha256
            }
        }
        return try staged(file, sha256: sha256, base: usedBase, dictionaryID: usedBase == nil ? dictionary?.id : nil)
    }

    /// Writes a blob file's bytes to a temp file and fsyncs it (`makeDurable` then only syncs
    /// the folders). The fsync's writeback error, if any, comes back on this descriptor.
    private func staged(_ file: [UInt8], sha256: String, base: String?, dictionaryID: UInt32?) throws -> StagedBlob {
        let temp = FileSystem.tempPath(in: root + "/tmp")
        try FileSystem.writeFile(file, to: temp, sync: true)
        return StagedBlob(sha256: sha256, temp: temp, storedSize: file.count, base: base, dictionaryID: dictionaryID)
    }

    /// Stages a blob stored whole (not a delta) compressed anew by `encode`, when the result is
    /// smaller than its file. `encode` gets the dictionary ID the frame names (0: none) and the
    /// blob's bytes (decompressed when asked for), and returns the new file's bytes and
    /// dictionary, or nil to leave the blob.
    private func restaged(_ sha256: String,
                          _ encode: (_ dictionaryID: UInt32, _ bytes: () throws -> [UInt8]) throws -> (file: [UInt8], dictionaryID: UInt32?)?) throws -> StagedBlob? {
        let p = path(for: sha256)
        guard let data = FileManager.default.contents(atPath: p) else { return nil }
        let file = Array(data)
        guard Self.parseDeltaHeader(file) == nil else { return nil }
        let dictionaryID = file.withUnsafeBytes { ZSTD_getDictID_fromFrame($0.baseAddress, $0.count) }
        guard let (smaller, newDictionary) = try encode(dictionaryID, { try decompress(file[...], prefix: nil, path: p) }),
              smaller.count < file.count else { return nil }
        return try staged(smaller, sha256: sha256, base: nil, dictionaryID: newDictionary)
    }

    /// What a blob file needs besides itself: the base of a delta, the dictionary of a frame
    /// compressed with one (read from the file's first bytes).
    func storage(of file: String) -> (base: String?, dictionaryID: UInt32?) {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (nil, nil) }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 78)
        let n = head.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 78) }
        guard n > 0 else { return (nil, nil) }
        head.removeSubrange(n...)
        if let delta = Self.parseDeltaHeader(head) { return (delta.base, nil) }
        let id = head.withUnsafeBytes { ZSTD_getDictID_fromFrame($0.baseAddress, $0.count) }
        return (nil, id == 0 ? nil : id)
    }

    /// Stages a smaller file for a blob stored as a plain frame (neither a delta nor
    /// dictionary-compressed): the same bytes compressed with `dictionary`. `makeDurable` then
    /// replaces the file; a reader sees the old file or the new one, both whole.
    /// - Returns: nil when the blob is missing, stored otherwise already, or not smaller.
    public func recompress(_ sha256: String, with dictionary: BlobDictionary) throws -> StagedBlob? {
        try restaged(sha256) { frameDictionary, bytes in
            frameDictionary != 0 ? nil : (try compress(try bytes(), dictionary: dictionary), dictionary.id)
        }
    }

    /// zstd level of compaction (`Compactor`): about 3 MB/s, and on the generated pages with
    /// their dictionary 0.26× of raw where level 3 stores 0.31×.
    public static let compactionLevel: Int32 = 19
    /// Larger bodies are left as stored: level 19's tables for a 2 MB input take tens of MB.
    public static let maxCompactionBytes = 256 << 10

    /// Stages a blob stored whole compressed again at `compactionLevel` (with the dictionary
    /// its frame names).
    /// - Returns: nil when the blob is a delta, missing, too large, or not smaller so.
    /// - Parameter sourceDictionary: for a blob stored without a dictionary (it arrived before
    ///   its source's was trained, or while it was), the dictionary to use now.
    public func compacted(_ sha256: String, sourceDictionary: UInt32? = nil) throws -> StagedBlob? {
        try restaged(sha256) { frameDictionary, decompressed in
            let bytes = try decompressed()
            guard bytes.count <= Self.maxCompactionBytes else { return nil }
            let id = frameDictionary != 0 ? frameDictionary : sourceDictionary ?? 0
            if id == 0 { return (try compress(bytes, level: Self.compactionLevel), nil) }
            return (try compress(bytes, dictionary: try compactionDictionary(id, blob: path(for: sha256))), id)
        }
    }

    /// The dictionary with this ID prepared for `compactionLevel` (loaded once).
    private func compactionDictionary(_ id: UInt32, blob: String) throws -> BlobDictionary {
        if let d = lock.withLock({ compactors[id] }) { return d }
        guard let d = BlobDictionary(bytes: try dictionaryFile(id, blob: blob), level: Self.compactionLevel, tableLog: 19) else {
            throw StoreError(path: dictionaryPath(id: id), reason: "not a zstd dictionary")
        }
        lock.withLock { compactors[id] = d }
        return d
    }

    /// Frees what compaction keeps between blobs (its level-19 dictionaries, about 12 MB each while in use).
    public func releaseCompactionState() {
        lock.withLock { compactors.removeAll() }
    }

    /// Makes staged blobs durable under their names: their bytes are durable already (`stage`
    /// fsyncs each temp file on the thread that compressed it, in parallel), so this links each
    /// into place and fsyncs each folder the batch touched, once. Two `syncfs(2)` calls a batch
    /// had also written back every mirror-tree file the run had made since the last batch:
    /// the cold mirror of 3,000 articles took 4.7-4.8 s instead of 5.2-5.3 s (same CPU).
    ///
    /// A blob already in place is never replaced (`link` fails with `EEXIST`): two documents
    /// that brought the same new body at once, each staged as a delta against its own previous
    /// body, would otherwise leave the file of one and the row of the other, naming a base
    /// the file does not use. The returned value then describes the file in place.
    /// - Parameter replacing: for `recompress` and `compacted`, whose files replace the blob
    ///   with the same bytes stored smaller (`rename` over it).
    /// - Returns: what is in place for each blob, in order.
    /// - Throws: `StoreError`; the temp files are removed.
    ///
    /// A folder stays owed an fsync until one succeeds (`unsyncedFolders`): a name linked by a
    /// batch that then failed is synced by the next call, even one whose blobs are all in
    /// place already, before any row can name it.
    @discardableResult
    public func makeDurable(_ staged: [StagedBlob], replacing: Bool = false) throws -> [StagedBlob] {
        var result = staged
        do {
            for (i, blob) in staged.enumerated() {
                guard let temp = blob.temp else { continue }
                let folder = "\(root)/\(blob.sha256.prefix(2))"
                try FileSystem.makeDirectories(folder)
                let final = path(for: blob.sha256)
                if replacing {
                    guard rename(temp, final) == 0 else { throw StoreError(path: final, errno: errno) }
                    lock.withLock { _ = unsyncedFolders.insert(folder) }
                    continue
                }
                if link(temp, final) != 0 {
                    guard errno == EEXIST else { throw StoreError(path: final, errno: errno) }
                    let (base, dictionaryID) = storage(of: final)
                    result[i] = StagedBlob(sha256: blob.sha256, temp: temp, storedSize: fileSize(blob.sha256) ?? blob.storedSize,
                                           base: base, dictionaryID: dictionaryID)
                }
                // (In place already: its name may be one a failed batch linked, not yet synced.)
                lock.withLock { _ = unsyncedFolders.insert(folder) }
                unlink(temp)
            }
            for folder in lock.withLock({ unsyncedFolders }) {
                try FileSystem.syncFolder(folder)
                lock.withLock { _ = unsyncedFolders.remove(folder) }
            }
        } catch {
            for blob in staged { if let t = blob.temp { unlink(t) } }
            throw error
        }
        return result
    }

    /// Shard folders with a name linked or renamed into them and no successful fsync since.
    private var unsyncedFolders = Set<String>()

    /// `unsyncedFolders`, for tests.
    var foldersOwedSync: Set<String> { lock.withLock { unsyncedFolders } }

    /// Removes a blob's file (garbage collection; the row naming it is gone already).
    public func remove(_ sha256: String) {
        unlink(path(for: sha256))
    }

    /// The shard folders (`<root>/<2 hex>`), sorted.
    func shards() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { $0.utf8.count == 2 && $0.allSatisfy(\.isHexDigit) }.sorted()
    }

    /// The SHA-256 (hex) of every blob file in one shard folder; temp files and dictionaries
    /// are not blobs.
    func storedHashes(inShard shard: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + shard)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".zst"), name.hasPrefix(shard) else { return nil }
            let sha = String(name.dropLast(4))
            return sha.utf8.count == 64 && sha.allSatisfy(\.isHexDigit) ? sha : nil
        }
    }

    /// The SHA-256 (hex) of every blob file in place (`<root>/<2 hex>/<64 hex>.zst`).
    public func storedHashes() -> [String] {
        shards().flatMap(storedHashes(inShard:))
    }

    /// Deletes the blob files that no row of the `blobs` table names, one shard at a time
    /// (`rows` gives the hashes the table holds for a shard), and returns their hashes. Such
    /// a file was made durable for a batch whose transaction never committed: the process was
    /// killed between the two, or the transaction failed (a full disk, a document deleted
    /// meanwhile). The write order (blob, then row) makes them garbage, never history.
    ///
    /// Only while nothing else writes to the store (a staged blob has no row yet either): the
    /// recovery before a run, the end of a run, `mirrord --compact`, all under the state lock.
    public func removeOrphans(rows: (_ shard: String) throws -> Set<String>) rethrows -> [String] {
        var removed: [String] = []
        for shard in shards() {
            let named = try rows(shard)
            for sha in storedHashes(inShard: shard) where !named.contains(sha) && unlink(path(for: sha)) == 0 {
                removed.append(sha)
            }
        }
        return removed
    }

    /// The original bytes of a blob (a delta's chain undone).
    /// - Throws: `StoreError` naming the file when it, its base or its dictionary is missing or
    ///   corrupt.
    public func get(_ sha256: String) throws -> [UInt8] {
        try read(sha256).bytes
    }

    /// The original bytes of a blob and how many deltas deep it is (0: stored whole).
    public func read(_ sha256: String) throws -> (bytes: [UInt8], depth: Int) {
        try read(sha256, hops: 0)
    }

    private func read(_ sha256: String, hops: Int) throws -> (bytes: [UInt8], depth: Int) {
        let p = path(for: sha256)
        guard let data = FileManager.default.contents(atPath: p) else {
            throw StoreError(path: p, reason: "blob missing")
        }
        let file = Array(data)
        if let (base, depth, offset) = Self.parseDeltaHeader(file) {
            // A corrupt header cannot send a read around in circles.
            guard hops < Self.maxDeltaDepth * 4, base != sha256 else { throw StoreError(path: p, reason: "delta chain too long") }
            let prefix: [UInt8]
            if let cached = lock.withLock({ recent }), cached.sha == base {
                prefix = cached.bytes
            } else {
                do { prefix = try read(base, hops: hops + 1).bytes } catch let e as StoreError {
                    throw StoreError(path: p, reason: "delta base \(base): \(e)")
                }
            }
            let bytes = try decompress(file[offset...], prefix: prefix, path: p)
            remember(sha256, bytes)
            return (bytes, depth)
        }
        let bytes = try decompress(file[...], prefix: nil, path: p)
        remember(sha256, bytes)
        return (bytes, 0)
    }

    private func remember(_ sha: String, _ bytes: [UInt8]) {
        guard bytes.count <= Self.maxDeltaBytes else { return }
        lock.withLock { recent = (sha, bytes) }
    }

    // MARK: zstd

    /// `"MRDB"`, format 1, chain depth, the base's SHA-256 in hex, inside a skippable frame.
    static let skippableMagic: UInt32 = 0x184D_2A5E
    static let deltaTag: [UInt8] = Array("MRDB".utf8)

    static func deltaHeader(base: String, depth: Int) -> [UInt8] {
        let payload = deltaTag + [1, UInt8(depth)] + Array(base.utf8)
        return littleEndian(skippableMagic) + littleEndian(UInt32(payload.count)) + payload
    }

    /// The base, depth and where the zstd frame starts, when `file` begins with a delta header.
    static func parseDeltaHeader(_ file: [UInt8]) -> (base: String, depth: Int, offset: Int)? {
        guard file.count >= 8 + 70, readLittleEndian(file, 0) == skippableMagic, readLittleEndian(file, 4) == 70,
              Array(file[8..<12]) == deltaTag, file[12] == 1 else { return nil }
        let base = String(decoding: file[14..<78], as: UTF8.self)
        guard base.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return (base, Int(file[13]), 78)
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
    }

    static func readLittleEndian(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    func compress(_ bytes: [UInt8], dictionary: BlobDictionary? = nil, level: Int32? = nil) throws -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = try withCompressor { cctx in
            out.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    if let dictionary {
                        return ZSTD_compress_usingCDict(cctx, dst.baseAddress, bound, src.baseAddress, src.count, dictionary.compressor)
                    }
                    return ZSTD_compressCCtx(cctx, dst.baseAddress, bound, src.baseAddress, src.count, level ?? self.level)
                }
            }
        }
        try check(n)
        out.removeSubrange(n...)
        return out
    }

    /// Compresses `bytes` with `prefix` as raw-content dictionary (`ZSTD_CCtx_refPrefix`).
    func compress(_ bytes: [UInt8], prefix: [UInt8]) throws -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = try withCompressor { cctx in
            try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))
            // The window must reach back over the whole prefix.
            let window = Int32(max(10, min(27, Int.bitWidth - (prefix.count + bytes.count).leadingZeroBitCount)))
            try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window))
            return try prefix.withUnsafeBytes { pre in
                try check(ZSTD_CCtx_refPrefix(cctx, pre.baseAddress, pre.count))
                return out.withUnsafeMutableBytes { dst in
                    bytes.withUnsafeBytes { src in ZSTD_compress2(cctx, dst.baseAddress, bound, src.baseAddress, src.count) }
                }
            }
        }
        try check(n)
        out.removeSubrange(n...)
        return out
    }

    private func check(_ code: Int) throws {
        if ZSTD_isError(code) != 0 {
            throw StoreError(path: root, reason: "zstd: " + String(cString: ZSTD_getErrorName(code)))
        }
    }

    func decompress(_ frame: ArraySlice<UInt8>, prefix: [UInt8]?, path: String) throws -> [UInt8] {
        let size = frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the two largest values.
        guard size < UInt64.max - 1 else { throw StoreError(path: path, reason: "not a zstd frame") }
        let dictID = frame.withUnsafeBytes { ZSTD_getDictID_fromFrame($0.baseAddress, $0.count) }
        let ddict = dictID == 0 || prefix != nil ? nil : try decoder(dictID, blob: path)
        var out = [UInt8](repeating: 0, count: Int(size))
        let n = try withDecompressor(path: path) { dctx in
            out.withUnsafeMutableBytes { dst in
                frame.withUnsafeBytes { src -> Int in
                    if let prefix {
                        return prefix.withUnsafeBytes { pre in
                            let r = ZSTD_DCtx_refPrefix(dctx, pre.baseAddress, pre.count)
                            if ZSTD_isError(r) != 0 { return r }
                            return ZSTD_decompressDCtx(dctx, dst.baseAddress, Int(size), src.baseAddress, src.count)
                        }
                    }
                    if let ddict {
                        return ZSTD_decompress_usingDDict(dctx, dst.baseAddress, Int(size), src.baseAddress, src.count, ddict)
                    }
                    return ZSTD_decompressDCtx(dctx, dst.baseAddress, Int(size), src.baseAddress, src.count)
                }
            }
        }
        if ZSTD_isError(n) != 0 {
            throw StoreError(path: path, reason: "zstd: " + String(cString: ZSTD_getErrorName(n)))
        }
        return out
    }

    /// The bytes of the dictionary with this ID.
    /// - Throws: `StoreError` naming `blob` (the blob that needs it) when the file is missing.
    func dictionaryFile(_ id: UInt32, blob: String) throws -> [UInt8] {
        let p = dictionaryPath(id: id)
        guard let data = FileManager.default.contents(atPath: p) else {
            throw StoreError(path: blob, reason: "its dictionary \(p) is missing")
        }
        return Array(data)
    }

    /// The decoder of a dictionary, loaded from `dict/<id>.zdict` once.
    private func decoder(_ id: UInt32, blob: String) throws -> OpaquePointer {
        if let d = lock.withLock({ decoders[id] }) { return d }
        guard let d = try dictionaryFile(id, blob: blob).withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) }) else {
            throw StoreError(path: dictionaryPath(id: id), reason: "not a zstd dictionary")
        }
        return lock.withLock {
            if let other = decoders[id] {
                ZSTD_freeDDict(d)
                return other
            }
            decoders[id] = d
            return d
        }
    }
}

/// The previous body of a document, offered to `BlobStore.stage` as a delta's base.
public struct DeltaBase: Sendable {
    public let sha256: String
    public let bytes: [UInt8]
    /// The base's own delta depth (0: stored whole).
    public let depth: Int

    public init(sha256: String, bytes: [UInt8], depth: Int) {
        self.sha256 = sha256
        self.bytes = bytes
        self.depth = depth
    }
}

/// A blob compressed into a temp file (or already present: `temp` nil), not yet durable.
public struct StagedBlob: Sendable {
    public let sha256: String
    let temp: String?
    /// Bytes of the blob file.
    public let storedSize: Int
    /// The blob it is a delta against, if any.
    public let base: String?
    /// The dictionary it was compressed with, if any.
    public let dictionaryID: UInt32?
}

/// POSIX file operations with the durability the stores promise.
public enum FileSystem {
    /// `mkdir -p path` (mode 0755 less the umask); each folder it creates is fsynced into its
    /// parent, so a blob's shard folder or the dictionary folder cannot vanish in a power cut
    /// after a row names a file inside it.
    /// - Throws: `StoreError` naming `path`, and the component that failed when it is another
    ///   one: "cannot create directory: /a/file is not a directory" (a file where a folder
    ///   should be), "… /a: Permission denied", with the errno (`isDiskFull` on ENOSPC).
    public static func makeDirectories(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + part
            if mkdir(prefix, 0o755) == 0 {
                // The new folder's name is durable before anything inside it is relied on.
                try syncFolder(parent)
                continue
            }
            let code = errno
            if code == EEXIST, stat(prefix, &st) == 0 {
                if (st.st_mode & S_IFMT) == S_IFDIR { continue }
                throw StoreError(path: path, reason: prefix == path ? "exists and is not a directory"
                                    : "cannot create directory: \(prefix) is not a directory", errno: ENOTDIR)
            }
            let reason = String(cString: strerror(code))
            throw StoreError(path: path, reason: "cannot create directory" + (prefix == path ? " (\(reason))" : ": \(prefix): \(reason)"),
                             errno: code)
        }
    }

    /// Writes `bytes` to a temp file in `tempDirectory` (same filesystem), fsyncs it, renames
    /// it over `path` and fsyncs `path`'s directory, so after a crash `path` holds either
    /// nothing or all of `bytes`.
    public static func writeDurably(_ bytes: [UInt8], to path: String, tempDirectory: String) throws {
        let temp = tempPath(in: tempDirectory)
        try writeFile(bytes, to: temp, sync: true)
        guard rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw StoreError(path: path, errno: e)
        }
        try syncFolder((path as NSString).deletingLastPathComponent)
    }

    /// Writes a whole file with `O_NOFOLLOW` (never through a planted symlink); fsyncs on request.
    public static func writeFile(_ bytes: [UInt8], to path: String, sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(path: path, errno: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                unlink(path)
                throw StoreError(path: path, errno: e)
            }
            written += n
        }
        if sync && fsync(fd) != 0 {
            let e = errno
            close(fd)
            unlink(path)
            throw StoreError(path: path, errno: e)
        }
        close(fd)
    }

    /// A fresh temp file name in `directory`.
    public static func tempPath(in directory: String) -> String {
        "\(directory)/.\(getpid())-\(UInt64.random(in: 0...UInt64.max)).tmp"
    }

    /// `fsync(2)` of a folder: the names linked or renamed into it are durable after.
    /// - Throws: `StoreError` with the errno.
    public static func syncFolder(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError(path: path, errno: errno) }
    }
}
