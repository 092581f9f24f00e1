import Foundation

/// The single-instance lock: an exclusive `flock` on `<state_dir>/mirrord.lock`, which holds
/// the holder's PID. The kernel drops the lock when the process dies, however it dies, so a
/// crash never leaves a stale lock behind.
public final class StateLock: Sendable {
    public let path: String
    private let fd: Int32

    /// - Throws: `StoreError` naming the PID of the mirrord that already holds it.
    public init(stateDir: String) throws {
        try FileSystem.makeDirectories(stateDir)
        path = stateDir + "/mirrord.lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(path: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw Held(path: path)
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        close(fd)
    }

    /// Who holds the lock of `stateDir`, found without creating anything; nil when nobody does
    /// (or there is no store there yet).
    public static func holder(stateDir: String) -> Held? {
        let path = stateDir + "/mirrord.lock"
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) != 0 else {
            flock(fd, LOCK_UN)
            return nil
        }
        return Held(path: path)
    }

    /// Another process holds the lock (mirrord's exit status 3); every other failure to take
    /// it is the store's own (`StoreError`: a state_dir that cannot be created or opened).
    public struct Held: Error, CustomStringConvertible {
        public let path: String
        /// The PID the lock file names, or "unknown".
        public let holder: String
        public var description: String { "\(path): store locked by another mirrord (pid \(holder))" }

        /// The holder as the lock file names it.
        init(path: String) {
            let pid = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            (self.path, holder) = (path, pid?.isEmpty == false ? pid! : "unknown")
        }
    }
}
