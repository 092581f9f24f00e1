import CCurl
import Foundation

/// A blocking HTTP/1.1 request over a Unix domain socket (`CURLOPT_UNIX_SOCKET_PATH`), as
/// `curl --unix-socket` does; `mirrorctl` talks to the daemon's control API with it.
public enum UnixSocketHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    public enum Failure: Error, CustomStringConvertible {
        /// Nothing listens on the socket (missing file, refused connection).
        case notListening(socket: String, reason: String)
        case transfer(String)

        public var description: String {
            switch self {
            case let .notListening(socket, reason): return "daemon not running (\(socket): \(reason))"
            case let .transfer(m): return m
            }
        }
    }

    /// - Parameters:
    ///   - timeout: seconds for the whole exchange (0: none, for `sync now --wait`).
    public static func request(socket: String, method: String, path: String, body: [UInt8]? = nil,
                               timeout: Double) throws -> Response {
        _ = Fetcher.globalInit
        guard let easy = curl_easy_init() else { throw Failure.transfer("curl_easy_init failed") }
        defer { curl_easy_cleanup(easy) }
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        _ = mirrord_easy_setopt_string(easy, CURLOPT_UNIX_SOCKET_PATH, socket)
        _ = mirrord_easy_setopt_string(easy, CURLOPT_URL, "http://localhost" + path)
        _ = mirrord_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
        _ = mirrord_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = mirrord_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = mirrord_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        var headers: UnsafeMutablePointer<curl_slist>?
        var payload = body ?? []
        if body != nil {
            headers = curl_slist_append(headers, "Content-Type: application/json")
            headers = curl_slist_append(headers, "Expect:")  // no 100-continue round trip on a local socket
            _ = mirrord_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headers)
            _ = mirrord_easy_setopt_long(easy, CURLOPT_POSTFIELDSIZE, payload.count)
        }
        defer { if let headers { curl_slist_free_all(headers) } }
        let me = Unmanaged.passUnretained(sink).toOpaque()
        _ = mirrord_easy_setopt_write(easy, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            data!.withMemoryRebound(to: UInt8.self, capacity: n) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            return n
        }
        _ = mirrord_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        let code: CURLcode = payload.withUnsafeMutableBytes { raw in
            if body != nil { _ = mirrord_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, raw.baseAddress) }
            return curl_easy_perform(easy)
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            if code == CURLE_COULDNT_CONNECT {
                // libcurl words this as a TCP failure ("port 80"); say what happened to the socket.
                let exists = access(socket, F_OK) == 0
                throw Failure.notListening(socket: socket, reason: exists ? "connection refused" : "no such socket")
            }
            throw Failure.transfer("\(socket): \(message)")
        }
        var status = 0
        _ = mirrord_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return Response(status: status, body: sink.bytes)
    }
}
