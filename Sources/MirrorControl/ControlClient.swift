import Foundation
import MirrorCore
import MirrorFetch

/// `mirrorctl`'s side of the control API.
public struct ControlClient: Sendable {
    public let socket: String

    public init(socket: String) {
        self.socket = socket
    }

    public enum Failure: Error, CustomStringConvertible {
        case daemonNotRunning(String)
        /// The daemon answered with an error status; `message` is its `error` field.
        case api(status: Int, message: String)
        case badResponse(String)

        public var description: String {
            switch self {
            case let .daemonNotRunning(m): return m
            case let .api(_, message): return message
            case let .badResponse(m): return m
            }
        }
    }

    /// Performs a request and returns the body as is (for text, HTML and raw answers).
    /// - Throws: `Failure.daemonNotRunning`, or `Failure.api` with the server's message.
    public func callRaw(_ method: String, _ path: String, timeout: Double = 30) throws -> [UInt8] {
        let response = try perform(method, path, payload: nil, timeout: timeout)
        guard (200..<300).contains(response.status) else {
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            throw Failure.api(status: response.status, message: object?["error"] as? String ?? "HTTP \(response.status)")
        }
        return response.body
    }

    /// Performs a request and returns the decoded JSON and its raw bytes.
    /// - Throws: `Failure.daemonNotRunning` when nothing listens on the socket.
    public func call(_ method: String, _ path: String, body: [String: Any]? = nil, timeout: Double = 30) throws -> (Any, [UInt8]) {
        let payload = try body.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) }
        let response = try perform(method, path, payload: payload, timeout: timeout)
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) else {
            throw Failure.badResponse("\(socket): answer to \(method) \(path) is not JSON (HTTP \(response.status))")
        }
        guard (200..<300).contains(response.status) else {
            let message = (object as? [String: Any])?["error"] as? String ?? "request failed"
            throw Failure.api(status: response.status, message: message)
        }
        return (object, response.body)
    }

    private func perform(_ method: String, _ path: String, payload: [UInt8]?, timeout: Double) throws -> UnixSocketHTTP.Response {
        do {
            return try UnixSocketHTTP.request(socket: socket, method: method, path: path, body: payload, timeout: timeout)
        } catch let failure as UnixSocketHTTP.Failure {
            if case .notListening = failure { throw Failure.daemonNotRunning(failure.description) }
            throw Failure.badResponse(failure.description)
        }
    }
}
