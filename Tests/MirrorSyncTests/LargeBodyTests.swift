import Foundation
@testable import MirrorSync
import Synchronization
import XCTest

final class LargeBodyTests: XCTestCase {
    /// Large bodies are processed one at a time, whatever the number of threads; the result
    /// and errors of the work pass through.
    func testLargeBodiesNeverOverlap() throws {
        let active = Mutex(0), most = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            LargeBody.oneAtATime(size: LargeBody.threshold) {
                let now = active.withLock { a in a += 1; return a }
                most.withLock { $0 = max($0, now) }
                usleep(3000)  // long enough that unguarded work would overlap
                active.withLock { $0 -= 1 }
            }
        }
        XCTAssertEqual(most.withLock { $0 }, 1)
        XCTAssertEqual(LargeBody.oneAtATime(size: 10) { 42 }, 42)
        struct Failure: Error {}
        XCTAssertThrowsError(try LargeBody.oneAtATime(size: LargeBody.threshold) { throw Failure() })
        // After a failure the gate is open again.
        XCTAssertEqual(LargeBody.oneAtATime(size: LargeBody.threshold) { 7 }, 7)
    }
}
