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

    init(path: String, errno code: Int32) {
        self.path = path
        self.reason = String(cString: strerror(code))
        self.errno = code
    }

    /// No space (or quota) left: the whole run must stop writing, not just this document.
    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

    public var description: String { "\(path): \(reason)" }
}

/// Raw bodies, content-addressed by SHA-256 and compressed with zstd:
/// `<root>/<first two hex digits>/<sha256>.zst`.
///
/// `put` is durable before it returns (temp file, `fsync`, `rename`, `fsync` of the directory),
/// so a database row naming a blob can only commit after the blob is on disk. Storing the same
/// bytes twice writes nothing the second time.
public final class BlobStore: Sendable {
    public let root: String
    /// zstd level 3: the library's default, ≈ 240 MB/s at 3.4× on article pages here.
    let level: Int32 = 3

    public init(root: String) throws {
        self.root = root
        try FileSystem.makeDirectories(root + "/tmp")
    }

    public func path(for sha256: String) -> String {
        "\(root)/\(sha256.prefix(2))/\(sha256).zst"
    }

    public func contains(_ sha256: String) -> Bool {
        access(path(for: sha256), F_OK) == 0
    }

    /// Stores `bytes` under `sha256` (which the caller computed) unless already present.
    /// - Returns: the number of bytes the compressed blob occupies.
    /// - Throws: `StoreError` (disk full, permissions) with nothing left behind.
    @discardableResult
    public func put(_ bytes: [UInt8], sha256: String) throws -> Int {
        let final = path(for: sha256)
        var st = stat()
        if stat(final, &st) == 0 { return Int(st.st_size) }
        let compressed = try compress(bytes)
        let dir = "\(root)/\(sha256.prefix(2))"
        try FileSystem.makeDirectories(dir)
        try FileSystem.writeDurably(compressed, to: final, tempDirectory: root + "/tmp")
        return compressed.count
    }

    /// Removes a blob's file (garbage collection; the row naming it is gone already).
    public func remove(_ sha256: String) {
        unlink(path(for: sha256))
    }

    /// The original bytes of a blob.
    /// - Throws: `StoreError` when missing or corrupt.
    public func get(_ sha256: String) throws -> [UInt8] {
        let p = path(for: sha256)
        guard let data = FileManager.default.contents(atPath: p) else {
            throw StoreError(path: p, reason: "blob missing")
        }
        return try decompress(Array(data), path: p)
    }

    func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                ZSTD_compress(dst.baseAddress, bound, src.baseAddress, src.count, level)
            }
        }
        if ZSTD_isError(n) != 0 {
            throw StoreError(path: root, reason: "zstd: " + String(cString: ZSTD_getErrorName(n)))
        }
        out.removeSubrange(n...)
        return out
    }

    func decompress(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        let size = bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR are the two largest values.
        guard size < UInt64.max - 1 else { throw StoreError(path: path, reason: "not a zstd frame") }
        var out = [UInt8](repeating: 0, count: Int(size))
        let n = out.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                ZSTD_decompress(dst.baseAddress, Int(size), src.baseAddress, src.count)
            }
        }
        if ZSTD_isError(n) != 0 {
            throw StoreError(path: path, reason: "zstd: " + String(cString: ZSTD_getErrorName(n)))
        }
        return out
    }
}

/// POSIX file operations with the durability the stores promise.
public enum FileSystem {
    public static func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            if let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
                throw StoreError(path: path, errno: Int32(posix.code))
            }
            throw StoreError(path: path, reason: "cannot create directory (\((error as NSError).localizedDescription))")
        }
    }

    /// Writes `bytes` to a temp file in `tempDirectory` (same filesystem), fsyncs it, renames
    /// it over `path` and fsyncs `path`'s directory, so after a crash `path` holds either
    /// nothing or all of `bytes`.
    public static func writeDurably(_ bytes: [UInt8], to path: String, tempDirectory: String) throws {
        let temp = "\(tempDirectory)/.\(getpid())-\(UInt64.random(in: 0...UInt64.max)).tmp"
        try writeFile(bytes, to: temp, sync: true)
        guard rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw StoreError(path: path, errno: e)
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
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

    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
