import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A programmable HTTP/1.1 server on 127.0.0.1 (a free port) for tests: serves a mutable set
/// of files with strong ETags and Last-Modified, answers conditional GETs with 304 as nginx
/// does, and records every request. `handler` can override any answer (status codes, delays,
/// lying headers).
public final class TestHTTPServer: @unchecked Sendable {
    public struct Request: Sendable {
        /// When the request arrived.
        public var received = Date()
        public var method: String
        public var uri: String
        public var headers: [String: String]

        public var path: String { String(uri.split(separator: "?", maxSplits: 1)[0]) }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// Seconds to wait before answering.
        public var delay: Double
        /// Send the body one byte every `dribble` seconds.
        public var dribble: Double
        /// Announce the whole body in Content-Length, send only this many bytes, then close.
        public var truncateAfter: Int?
        /// Close the connection without a byte of response (curl: "Empty reply from server").
        public var hangUp: Bool

        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], delay: Double = 0,
                    dribble: Double = 0, truncateAfter: Int? = nil, hangUp: Bool = false) {
            self.hangUp = hangUp
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.dribble = dribble
            self.truncateAfter = truncateAfter
        }
    }

    private let lock = NSLock()
    private var files: [String: (body: [UInt8], modified: Date)] = [:]
    private var log: [Request] = []
    /// Returns a response to send instead of the file answer, or nil for the default.
    public var handler: (@Sendable (Request) -> Response?)?
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: Channel?
    public private(set) var port = 0
    /// Answer every GET in full, as servers that ignore validators do.
    public var ignoreValidators: Bool {
        get { lock.lock(); defer { lock.unlock() }; return ignoring }
        set { lock.lock(); ignoring = newValue; lock.unlock() }
    }
    private var ignoring = false

    public init() throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [unowned self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: self))
                }
            }
        channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        port = channel?.localAddress?.port ?? 0
    }

    deinit {
        // May run on the event loop (the last reference can drop there): never block.
        channel?.close(promise: nil)
        group.shutdownGracefully { _ in }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Publishes `body` at `path`; Last-Modified advances only when the bytes change.
    public func put(_ path: String, _ body: String, modified: Date = Date()) {
        put(path, Array(body.utf8), modified: modified)
    }

    public func put(_ path: String, _ body: [UInt8], modified: Date = Date()) {
        lock.lock()
        if files[path]?.body != body {
            files[path] = (body, modified)
        }
        lock.unlock()
    }

    public func remove(_ path: String) {
        lock.lock()
        files[path] = nil
        lock.unlock()
    }

    /// Every request received so far, in order.
    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    public func clearRequests() {
        lock.lock()
        log.removeAll()
        lock.unlock()
    }

    static func etag(_ body: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable and good enough for a test ETag
        for b in body { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return "\"\(String(h, radix: 16))-\(body.count)\""
    }

    static func httpDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }

    func answer(_ request: Request) -> Response {
        lock.lock()
        log.append(request)
        let file = files[request.path]
        let custom = handler
        let ignoring = self.ignoring
        lock.unlock()
        if let custom, let r = custom(request) { return r }
        guard let file else { return Response(status: 404, body: Array("not found\n".utf8)) }
        let etag = Self.etag(file.body)
        let lastModified = Self.httpDate(file.modified)
        let headers = [("ETag", etag), ("Last-Modified", lastModified), ("Content-Type", "text/plain; charset=utf-8")]
        // RFC 9110 section 13.1.2: If-None-Match, when present, decides.
        if ignoring {
            return Response(status: 200, headers: headers, body: file.body)
        }
        if let inm = request.headers["if-none-match"] {
            let tags = inm.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") }
            if tags.contains(etag) || tags.contains("*") { return Response(status: 304, headers: headers) }
        } else if let ims = request.headers["if-modified-since"], ims == lastModified {
            return Response(status: 304, headers: headers)
        }
        return Response(status: 200, headers: headers, body: file.body)
    }

    final class Handler: ChannelInboundHandler {
        func dribble(_ context: ChannelHandlerContext, _ rest: ArraySlice<UInt8>, every: Double, keepAlive: Bool) {
            guard context.channel.isActive else { return }
            guard let byte = rest.first else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: 1)
            buffer.writeInteger(byte)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(every * 1000))) {
                let (handler, ctx) = bound.value
                handler.dribble(ctx, rest.dropFirst(), every: every, keepAlive: keepAlive)
            }
        }

        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        weak var server: TestHTTPServer?
        var head: HTTPRequestHead?

        init(server: TestHTTPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head, let server else { return }
                var headers: [String: String] = [:]
                for (k, v) in head.headers { headers[k.lowercased()] = v }
                let response = server.answer(Request(method: head.method.rawValue, uri: head.uri, headers: headers))
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let send = {
                    let (handler, ctx) = bound.value
                    handler.write(ctx, response, keepAlive: head.isKeepAlive)
                }
                if response.delay > 0 {
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(response.delay * 1000)), send)
                } else {
                    send()
                }
            }
        }

        func write(_ context: ChannelHandlerContext, _ response: Response, keepAlive: Bool) {
            if response.hangUp {
                context.close(promise: nil)
                return
            }
            var headers = HTTPHeaders()
            for (k, v) in response.headers { headers.add(name: k, value: v) }
            // `Transfer-Encoding: chunked` in a test response: no Content-Length, NIO chunks the body.
            if !headers.contains(name: "Content-Length") && !headers.contains(name: "Transfer-Encoding") {
                headers.add(name: "Content-Length", value: "\(response.body.count)")
            }
            headers.remove(name: "Transfer-Encoding")
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if let cut = response.truncateAfter {
                var buffer = context.channel.allocator.buffer(capacity: cut)
                buffer.writeBytes(response.body.prefix(cut))
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer)))).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return
            }
            if response.dribble > 0 {
                context.flush()
                dribble(context, response.body[...], every: response.dribble, keepAlive: keepAlive)
                return
            }
            if !response.body.isEmpty && response.status != 304 {
                var buffer = context.channel.allocator.buffer(capacity: response.body.count)
                buffer.writeBytes(response.body)
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

/// A scratch directory removed when the value is released.
public final class TemporaryDirectory {
    public let path: String

    public init(_ prefix: String = "mirrord-test") {
        let template = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-XXXXXX")
        var buf = Array(template.utf8CString)
        path = String(cString: mkdtemp(&buf)!)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ relative: String) -> String { path + "/" + relative }

    public func write(_ relative: String, _ text: String) throws {
        let p = file(relative)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
    }
}
