import CZlib

/// gzip bodies recognised by their magic bytes (RFC 1952: `1f 8b`), whatever the server said:
/// sitemaps are published as `.xml.gz` with or without `Content-Encoding: gzip`. Also the
/// fetcher's decoder of `Content-Encoding: gzip` and `deflate`.
public enum Gzip {
    public struct TooLarge: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "gzip body expands past \(limit) bytes" }
    }

    public struct Corrupt: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "corrupt gzip body: \(reason)" }
    }

    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The formats zlib inflates: gzip (RFC 1952), zlib (RFC 1950: what `Content-Encoding:
    /// deflate` means) and raw deflate (RFC 1951: what some servers send under that name).
    public enum Format: Sendable {
        case gzip, zlib, raw
    }

    /// Inflates a gzip member (or several, concatenated), or one zlib or raw deflate stream.
    /// The stream must end: a body cut short (its gzip trailer missing) is `Corrupt`, not a
    /// shorter text.
    /// - Parameter limit: most bytes to produce; a decompression bomb stops there.
    /// - Throws: `TooLarge` past `limit`, `Corrupt` for data zlib rejects or a stream that
    ///   does not end.
    public static func inflate(_ bytes: [UInt8], limit: Int, format: Format = .gzip) throws -> [UInt8] {
        var stream = z_stream()
        let initialized: Int32
        switch format {
        case .gzip: initialized = mirrord_inflate_init_gzip(&stream)
        case .zlib: initialized = mirrord_inflate_init_zlib(&stream)
        case .raw: initialized = mirrord_inflate_init_raw(&stream)
        }
        guard initialized == Z_OK else { throw Corrupt(reason: "inflateInit failed") }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        // The gzip trailer's ISIZE (the size mod 2^32) sizes the output once, within the limit.
        if format == .gzip, bytes.count >= 18 {
            let n = bytes.count
            let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
            output.reserveCapacity(min(isize, limit, 64 << 20))
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        // zlib never writes to its input: no copy of the compressed body is made for it.
        return try bytes.withUnsafeBufferPointer { inBuf -> [UInt8] in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit { throw TooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // Another member may follow (concatenated gzip files are one file).
                    guard stream.avail_in > 0 else { return output }
                    guard format == .gzip else { throw Corrupt(reason: "\(stream.avail_in) bytes after the end of the stream") }
                    inflateReset(&stream)
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in > 0 || produced > 0:
                    continue  // no progress possible only when both are zero
                case Z_BUF_ERROR:
                    throw Corrupt(reason: "truncated")
                default:
                    throw Corrupt(reason: stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
                }
            }
        }
    }
}
