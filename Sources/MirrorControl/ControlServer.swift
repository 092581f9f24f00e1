import Foundation
import Logging
import MirrorCore
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// HTTP/1.1 + JSON on the Unix socket `control_socket` (SwiftNIO), created mode 0660.
///
/// A stale socket file left by a crash is replaced: the caller holds the state lock, so no
/// live mirrord can be serving it.
public struct ControlServer: Service {
    public let socketPath: String
    let router: ControlRouter
    let logger: Logger
    /// Requests with a larger body are answered 413 and the connection closed.
    public static let maxRequestBytes = 64 * 1024

    public init(socketPath: String, router: ControlRouter, logger: Logger = Logger(label: "mirrord.control")) {
        self.socketPath = socketPath
        self.router = router
        self.logger = logger
    }

    /// Binds the socket. Returns once it listens (so READY can follow).
    public func bind(group: EventLoopGroup) async throws -> Channel {
        try FileManager.default.createDirectory(atPath: (socketPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let router = self.router
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ControlHTTPHandler(router: router))
                }
            }
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).get()
        chmod(socketPath, 0o660)
        logger.info("control API listening on \(socketPath)")
        return channel
    }

    /// Serves until graceful shutdown or cancellation, then closes and removes the socket.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try await bind(group: group)
        try? await gracefulShutdown()
        try? await channel.close()
        unlink(socketPath)
        try? await group.shutdownGracefully()
    }
}

/// Collects one request (bounded), hands it to the router, writes the answer.
final class ControlHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let router: ControlRouter
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var rejected = false

    init(router: ControlRouter) {
        self.router = router
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
                rejected = true
                respond(context, ControlResponse.error(413, "request body over \(ControlServer.maxRequestBytes) bytes"),
                        keepAlive: false)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard !rejected, let head else { return }
            let request = ControlRequest(method: head.method.rawValue, uri: head.uri, body: body)
            let keepAlive = head.isKeepAlive
            let router = self.router
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { await router.handle(request) }.whenSuccess { response in
                let (handler, ctx) = bound.value
                handler.respond(ctx, response, keepAlive: keepAlive)
            }
        }
    }

    func respond(_ context: ChannelHandlerContext, _ response: ControlResponse, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
