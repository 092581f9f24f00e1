import CCrypto
import Foundation

/// SHA-256 through OpenSSL's EVP interface (libcrypto is already linked by libcurl).
public enum SHA256 {
    /// The digest of `bytes` as 64 lowercase hex characters.
    public static func hex<Bytes: ContiguousBytes>(_ bytes: Bytes) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
        }
        return hexString(digest)
    }

    /// The first 128 bits of the digest of `text`'s UTF-8 bytes, big-endian: a compact,
    /// seed-free key for sets of strings (URLs) too large to keep as strings.
    public static func prefix128(_ text: String) -> UInt128 {
        var text = text
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var length: UInt32 = 0
        text.withUTF8 { utf8 in
            withUnsafeMutableBytes(of: &digest) { out in
                _ = EVP_Digest(utf8.baseAddress, utf8.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        return UInt128(UInt64(bigEndian: digest.0)) << 64 | UInt128(UInt64(bigEndian: digest.1))
    }

    /// The digest of the UTF-8 bytes of `text`.
    public static func hex(_ text: String) -> String {
        hex(Array(text.utf8))
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
