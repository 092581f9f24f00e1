import CCrypto
import Foundation

/// SHA-256 through OpenSSL's EVP interface (libcrypto is already linked by libcurl).
public enum SHA256 {
    /// The digest of `bytes` as 64 lowercase hex characters.
    public static func hex<Bytes: ContiguousBytes>(_ bytes: Bytes) -> String {
        hexString(bytes.withUnsafeBytes(digest))
    }

    /// The digest of the UTF-8 bytes of `text`.
    public static func hex(_ text: String) -> String {
        hexString(digest(of: text))
    }

    /// The first 128 bits of the digest of `text`'s UTF-8 bytes, big-endian: a compact,
    /// seed-free key for sets of strings (URLs) too large to keep as strings.
    public static func prefix128(_ text: String) -> UInt128 {
        digest(of: text).prefix(16).reduce(0) { $0 << 8 | UInt128($1) }
    }

    /// The 32-byte digest of `raw`.
    static func digest(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
        return digest
    }

    /// The digest of `text`'s UTF-8 bytes, read in place.
    static func digest(of text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { digest(UnsafeRawBufferPointer($0)) }
    }

    /// An incremental SHA-256: the digest of everything passed to `update` in order, equal to
    /// `SHA256.hex` of the concatenation. Hashing a document's canonical text piece by piece
    /// keeps a 2 MB article from being joined into one more 2 MB string first. Not shared
    /// between threads.
    public final class Hasher {
        private let context: OpaquePointer

        public init() {
            context = EVP_MD_CTX_new()
            EVP_DigestInit_ex(context, EVP_sha256(), nil)
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes`.
        public func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress, raw.count > 0 { EVP_DigestUpdate(context, base, raw.count) }
            }
        }

        /// Adds the UTF-8 bytes of `text` (in place for a native string, copied otherwise).
        public func update(_ text: String) {
            var text = text
            text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
        }

        /// The digest as 64 lowercase hex characters. The hasher is spent after this.
        public func finalizeHex() -> String {
            var digest = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &digest, &length)
            return hexString(digest)
        }
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
