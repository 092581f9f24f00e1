import MirrorCore
import XCTest

/// `SHA256.Hasher` gives the digest of its pieces' concatenation, as `SHA256.hex` does.
final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        // FIPS 180-2, appendix B.1, and the empty message.
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.Hasher().finalizeHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testPiecesHashLikeTheirConcatenation() {
        let hasher = SHA256.Hasher()
        hasher.update("ab")
        hasher.update("")
        hasher.update([UInt8(ascii: "c")])
        hasher.update("市场")
        XCTAssertEqual(hasher.finalizeHex(), SHA256.hex("abc市场"))
        // A small (inline) string and one made from a slice of a larger one.
        let second = SHA256.Hasher()
        second.update("ab")
        second.update(String("xx市场 and a tail long enough to be stored out of line".dropFirst(2)))
        XCTAssertEqual(second.finalizeHex(), SHA256.hex("ab市场 and a tail long enough to be stored out of line"))
        // Written out: the same digest any sha256sum gives for these UTF-8 bytes.
        XCTAssertEqual(SHA256.hex("abc市场"), "e98a04ae6e32f4f45bd092d0cfd921d0013077a1df606ce81884865a457d2025")
    }

    func testPrefix128IsTheDigestsFirstSixteenBytes() {
        XCTAssertEqual(SHA256.prefix128("abc"), 0xba7816bf_8f01cfea_414140de_5dae2223)
        XCTAssertEqual(SHA256.prefix128(""), 0xe3b0c442_98fc1c14_9afbf4c8_996fb924)
        // Big-endian: the digest's first byte is the key's top byte.
        XCTAssertEqual(SHA256.prefix128("abc") >> 120, 0xba)
    }
}
