import Foundation
import MirrorCore

/// The browsable mirror under `mirror_dir`: `raw/<host>/<path>` and `parsed/<host>/<stem>.md|.json`.
///
/// File names come from upstream URLs, so every name is confined: path segments are
/// percent-decoded for readability, then `.`/`..`, `/` and `\` (from `%2F`/`%5C`), NUL and `%`
/// itself are re-encoded, over-long segments are shortened with a hash, and files are opened
/// with `O_NOFOLLOW` after checking that no directory on the way is a symlink. Nothing an
/// upstream serves can make mirrord write outside `root`.
public struct MirrorTree: Sendable {
    public let root: String

    /// - Parameter root: `mirror_dir`; made absolute and free of `//`, `.` and `..`.
    public init(root: String) {
        self.root = Paths.absolute(root, relativeTo: FileManager.default.currentDirectoryPath)
    }

    /// `host` or `host_port`; `local` for `file://`.
    public static func hostDirectory(_ url: URI) -> String {
        if url.scheme == "file" { return "local" }
        var host = url.host ?? "unknown-host"
        host = safeSegment(host)
        if let port = url.port, port != URI.defaultPort(url.scheme) ?? -1 { host += "_\(port)" }
        return host
    }

    /// The mirror-relative segments of a URL's path (and kept query), confined.
    static func pathSegments(_ url: URI) -> [String] {
        var parts = url.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "" { parts.removeFirst() }
        if parts.isEmpty || parts.last == "" {
            if !parts.isEmpty { parts.removeLast() }
            parts.append("index")
        }
        var segments = parts.filter { !$0.isEmpty }.map { safeSegment($0.removingPercentEncoding ?? $0) }
        if let q = url.query, !segments.isEmpty {
            segments[segments.count - 1] = safeSegment((segments.last!.removingPercentEncoding ?? "") + "?" + q)
        }
        return segments
    }

    /// One decoded path segment made safe as a file name: `%`, `/`, `\`, NUL and `?` encoded,
    /// `.`/`..` encoded, and names over 255 bytes cut with a hash of the whole.
    static func safeSegment(_ decoded: String) -> String {
        var out = ""
        for s in decoded.unicodeScalars {
            switch s {
            case "%": out += "%25"
            case "/": out += "%2F"
            case "\\": out += "%5C"
            case "\0": out += "%00"
            case "?": out += "%3F"
            default:
                if s.value < 0x20 { out += String(format: "%%%02X", s.value) } else { out.unicodeScalars.append(s) }
            }
        }
        if out == "." { out = "%2E" }
        if out == ".." { out = "%2E%2E" }
        if out.isEmpty { out = "%" }
        if out.utf8.count > 200 {
            var cut = ""
            for ch in out where cut.utf8.count + ch.utf8.count <= 180 { cut.append(ch) }
            out = cut + "~" + SHA256.hex(out).prefix(16)
        }
        return out
    }

    /// `raw/<host>/<path>` relative to the mirror root.
    public static func rawPath(_ url: URI) -> String {
        (["raw", hostDirectory(url)] + pathSegments(url)).joined(separator: "/")
    }

    /// `parsed/<host>/<path without its extension>` relative to the mirror root.
    public static func parsedStem(_ url: URI) -> String {
        var segments = pathSegments(url)
        if var last = segments.popLast() {
            if let dot = last.lastIndex(of: "."), dot != last.startIndex, !last[dot...].contains("%3F") {
                last = String(last[..<dot])
            }
            segments.append(last)
        }
        return (["parsed", hostDirectory(url)] + segments).joined(separator: "/")
    }

    /// Writes `bytes` at `relative` (temp file + rename) unless the file already holds exactly
    /// these bytes, so an unchanged upstream rewrites nothing and mtimes stay put.
    /// - Returns: whether the file was written.
    /// - Throws: `StoreError` when a directory on the way is a symlink or the write fails.
    @discardableResult
    public func write(_ bytes: [UInt8], at relative: String) throws -> Bool {
        let path = root + "/" + relative
        let dir = relative.lastIndex(of: "/").map { root + "/" + relative[..<$0] } ?? root
        try makeConfinedDirectories(dir)
        if let existing = FileManager.default.contents(atPath: path), existing.count == bytes.count,
           bytes.isEmpty || existing.withUnsafeBytes({ old in bytes.withUnsafeBytes { memcmp(old.baseAddress!, $0.baseAddress!, bytes.count) == 0 } }) {
            return false  // (compared in place: a copy of a 2 MB page's file had been made for it)
        }
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
            unlink(path)  // a planted symlink is replaced by a regular file, never followed
        }
        let temp = "\(dir)/.mirrord-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).tmp"
        try FileSystem.writeFile(bytes, to: temp, sync: false)
        guard rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw StoreError(path: path, errno: e)
        }
        return true
    }

    /// Removes the file at `relative` (a symlink on the way: nothing is removed); a missing
    /// file is no error.
    /// - Returns: whether a file was removed.
    @discardableResult
    public func remove(_ relative: String) -> Bool {
        guard read(relative) != nil else { return false }  // (the confinement checks of `read`)
        return unlink(root + "/" + relative) == 0
    }

    /// The bytes at `relative`, or nil when it is missing, not a regular file, or reached
    /// through a symlink anywhere on the way (the same confinement as `write`; the file
    /// itself is opened with `O_NOFOLLOW` and checked again once open).
    public func read(_ relative: String) -> [UInt8]? {
        var current = root
        for part in relative.split(separator: "/") {
            guard part != "..", part != ".", !part.contains("\u{0}") else { return nil }
            current += "/" + part
            var st = stat()
            guard lstat(current, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK else { return nil }
        }
        let fd = open(current, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return Array(out.prefix(done))
    }

    /// Creates `dir` under `root`, refusing any existing component that is a symlink.
    func makeConfinedDirectories(_ dir: String) throws {
        guard dir.hasPrefix(root) else { throw StoreError(path: dir, reason: "outside mirror_dir") }
        var current = root
        try FileSystem.makeDirectories(root)
        for part in dir.dropFirst(root.count).split(separator: "/") {
            guard part != "..", part != "." else { throw StoreError(path: dir, reason: "dot segment in mirror path") }
            current += "/" + part
            var st = stat()
            if lstat(current, &st) == 0 {
                if (st.st_mode & S_IFMT) == S_IFLNK {
                    throw StoreError(path: current, reason: "is a symlink; refusing to write through it")
                }
                if (st.st_mode & S_IFMT) != S_IFDIR {
                    throw StoreError(path: current, reason: "exists and is not a directory")
                }
            } else if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StoreError(path: current, errno: errno)
            }
        }
    }
}
