import Foundation

/// A minimal SOCKS5 proxy (RFC 1928, no authentication, CONNECT only) on 127.0.0.1 that
/// records the destination each client asked for and then answers the tunnelled HTTP request
/// itself with `body`: enough to prove a request went through the proxy and, with
/// `socks5h://`, that the host name was resolved by the proxy rather than locally.
public final class SOCKS5Server: @unchecked Sendable {
    public private(set) var port = 0
    private let listener: Int32
    private let lock = NSLock()
    private var destinations: [String] = []
    private let body: String

    public init(body: String) throws {
        self.body = body
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) == 0 && getsockname(listener, $0, &len) == 0 }
        }
        guard ok, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let t = Thread { [weak self] in self?.acceptLoop() }
        t.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// `host:port` of every CONNECT received, in order.
    public var requested: [String] {
        lock.lock()
        defer { lock.unlock() }
        return destinations
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            serve(fd)
            close(fd)
        }
    }

    private func read(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, n - got) }
            guard r > 0 else { return nil }
            got += r
        }
        return out
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    private func serve(_ fd: Int32) {
        guard let greeting = read(fd, 2), greeting[0] == 5, read(fd, Int(greeting[1])) != nil else { return }
        write(fd, [5, 0])  // no authentication
        guard let req = read(fd, 4), req[0] == 5, req[1] == 1 else { return }
        var host = ""
        switch req[3] {
        case 1: guard let a = read(fd, 4) else { return }; host = a.map(String.init).joined(separator: ".")
        case 3: guard let n = read(fd, 1), let name = read(fd, Int(n[0])) else { return }; host = String(decoding: name, as: UTF8.self)
        case 4: guard read(fd, 16) != nil else { return }; host = "[ipv6]"
        default: return
        }
        guard let p = read(fd, 2) else { return }
        lock.lock()
        destinations.append("\(host):\(Int(p[0]) << 8 | Int(p[1]))")
        lock.unlock()
        write(fd, [5, 0, 0, 1, 0, 0, 0, 0, 0, 0])  // succeeded
        // The tunnelled HTTP request: read its head, answer it.
        var head = [UInt8]()
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]), let b = read(fd, 1) { head += b }
        let bytes = Array(body.utf8)
        write(fd, Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n".utf8) + bytes)
    }
}
