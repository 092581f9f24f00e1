import Foundation
import Logging
import MirrorCore
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Why the control socket could not be set up.
public struct ControlSocketError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "\(path): \(reason)" }
}

/// HTTP/1.1 + JSON on the Unix socket `control_socket` (SwiftNIO), created mode 0660.
///
/// A socket file left by a crash is replaced, but only after checking that nothing answers on
/// it: another mirrord with another `state_dir` (so another state lock) may be serving the
/// same path, and silently taking its socket over would cut it off from `mirrorctl`.
public final class ControlServer: Service, @unchecked Sendable {
    public let socketPath: String
    let router: ControlRouter
    let logger: Logger
    /// Requests with a larger body are answered 413 and the connection closed.
    public static let maxRequestBytes = 64 * 1024
    /// Seconds a client has to send a whole request (from connecting, or from the previous
    /// answer): a client that trickles bytes or sends nothing is closed, never served forever.
    public nonisolated(unsafe) static var requestDeadline: Int64 = 30
    private var channel: Channel?
    private var group: EventLoopGroup?
    /// Device and inode of the socket file we created, so we only ever remove our own.
    private var created: (dev: UInt64, ino: UInt64)?

    /// Group given ownership of the socket, if any.
    let socketGroup: String?

    public init(socketPath: String, router: ControlRouter, group: String? = nil, logger: Logger = Logger(label: "mirrord.control")) {
        self.socketPath = socketPath
        self.socketGroup = group
        self.router = router
        self.logger = logger
    }

    /// Binds the socket; returns once it listens (so readiness can be announced).
    /// - Throws: `ControlSocketError` when a live process answers on the path, or the bind fails.
    public func bind(group: EventLoopGroup) async throws {
        let folder = (socketPath as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var st = stat()
        if lstat(socketPath, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw ControlSocketError(path: socketPath, reason: "exists and is not a socket; refusing to replace it")
            }
            if let served = Self.served(socketPath) { throw served }
            unlink(socketPath)  // stale: left by a crash
        }
        let router = self.router
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                        try channel.pipeline.syncOperations.addHandler(MalformedRequestResponder { reason in
                            ControlResponse.error(400, "malformed HTTP request: \(reason)")
                        })
                        try channel.pipeline.syncOperations.addHandler(ControlHTTPHandler { await router.handle($0) })
                    }
                }
                .bind(unixDomainSocketPath: socketPath).get()
        } catch {
            throw ControlSocketError(path: socketPath, reason: "cannot listen (\(error))")
        }
        chmod(socketPath, 0o660)
        if let socketGroup, let entry = getgrnam(socketGroup), chown(socketPath, UInt32.max, entry.pointee.gr_gid) != 0 {
            logger.warning("\(socketPath): cannot give the socket to group \(socketGroup): \(String(cString: strerror(errno)))")
        }
        if stat(socketPath, &st) == 0 { created = (UInt64(st.st_dev), UInt64(st.st_ino)) }
        self.group = group
        logger.info("control API listening on \(socketPath)")
    }

    /// The error for a socket another process is serving, or nil. A daemon checks this before
    /// it takes its store, so that a second one on the same socket leaves nothing behind.
    public static func served(_ path: String) -> ControlSocketError? {
        guard answers(path) else { return nil }
        return ControlSocketError(path: path, reason: "another process is serving this socket (another mirrord with a different state_dir?)")
    }

    /// Whether something accepts connections on the Unix socket at `path`.
    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }

    /// Closes the listener and removes the socket file if it is still the one we created.
    public func close() async {
        try? await channel?.close()
        channel = nil
        var st = stat()
        if let created, stat(socketPath, &st) == 0, UInt64(st.st_dev) == created.dev, UInt64(st.st_ino) == created.ino {
            unlink(socketPath)
        }
        created = nil
    }

    /// Serves (the socket is bound already, see `bind`) until graceful shutdown or
    /// cancellation, then closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}

/// Writes `response` on `context` (head, body unless `headOnly`, end) and flushes it:
/// `Content-Length` is the body's even for HEAD (RFC 9110 §9.3.2), `Connection` says whether
/// the connection stays open. Shared by the request handler and the malformed-request answer.
/// - Returns: the future of the flush.
func writeResponse(_ response: ControlResponse, keepAlive: Bool, headOnly: Bool, on context: ChannelHandlerContext) -> EventLoopFuture<Void> {
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: response.contentType)
    headers.add(name: "Content-Length", value: "\(response.body.count)")
    headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
    for h in response.headers { headers.add(name: h.name, value: h.value) }
    let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
    context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    if !headOnly {
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
    }
    return context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
}

/// Answers a request the HTTP parser rejects (a garbage request line, a bad header) with a
/// 400 that says why. NIO's
/// `HTTPServerProtocolErrorHandler` does the same with an empty body; this one writes the
/// body `answer` makes (JSON on the control socket, a page in the web view), and closes the
/// connection once it is out. As there, the answer goes out only when no other response has
/// begun, and the error travels on.
final class MalformedRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let answer: (String) -> ControlResponse
    private var responding = false

    init(answer: @escaping (String) -> ControlResponse) {
        self.answer = answer
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parserError = error as? HTTPParserError, !responding {
            // Nothing more can be read from this connection: close it once the answer is out.
            let channel = context.channel
            writeResponse(answer("\(parserError)"), keepAlive: false, headOnly: false, on: context).whenComplete { _ in channel.close(promise: nil) }
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: responding = true  // not a 1xx
        case .end: responding = false
        default: break
        }
        context.write(data, promise: promise)
    }
}

/// Collects one request (bounded), hands it to the router, writes the answer.
final class ControlHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handle: @Sendable (ControlRequest) async -> ControlResponse
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var rejected = false
    private var deadline: Scheduled<Void>?

    /// - Parameter handle: answers one whole request (the control API's router, or the web view's).
    init(handle: @escaping @Sendable (ControlRequest) async -> ControlResponse) {
        self.handle = handle
    }

    func channelActive(context: ChannelHandlerContext) {
        armDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    /// Closes the connection unless a whole request arrives in time.
    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: .seconds(ControlServer.requestDeadline)) {
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            rejected = false
        case .body(var buffer):
            guard !rejected else { return }
            if body.count + buffer.readableBytes > ControlServer.maxRequestBytes {
                // Discard the rest as it arrives (nothing more is kept), answer at the end:
                // NIO's pipeline handler holds a response written before its request is read.
                rejected = true
                body = []
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            if rejected {
                deadline?.cancel()
                respond(context, ControlResponse.error(413, "request body over \(ControlServer.maxRequestBytes) bytes"), keepAlive: false)
                return
            }
            guard let head else { return }
            deadline?.cancel()  // a whole request: however long the answer takes (sync --wait), no deadline
            let request = ControlRequest(method: head.method.rawValue, uri: head.uri, body: body)
            let keepAlive = head.isKeepAlive, headOnly = head.method == .HEAD
            let handle = self.handle
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { await handle(request) }.whenSuccess { response in
                let (handler, ctx) = bound.value
                handler.respond(ctx, response, keepAlive: keepAlive, headOnly: headOnly)
            }
        }
    }

    /// Writes `response`. For a HEAD request (`headOnly`) only the head goes out, with the
    /// `Content-Length` the GET would have (RFC 9110 §9.3.2: the same header fields).
    func respond(_ context: ChannelHandlerContext, _ response: ControlResponse, keepAlive: Bool, headOnly: Bool = false) {
        let done = writeResponse(response, keepAlive: keepAlive, headOnly: headOnly, on: context)
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        } else {
            armDeadline(context)  // the next request has the same time
        }
    }
}
