/// Eugene W. Myers, "An O(ND) Difference Algorithm and Its Variations" (Algorithmica, 1986):
/// the shortest edit script between two sequences, in O((N+M)·D) time and O(N+M) space per
/// step (the trace of V arrays is kept to recover the path).
public enum Myers {
    public enum Edit: Equatable, Sendable {
        /// `a[i] == b[j]`.
        case equal(Int, Int)
        /// `a[i]` removed.
        case delete(Int)
        /// `b[j]` added.
        case insert(Int)
    }

    /// The edit script turning `a` into `b`, deletions before insertions within a change.
    public static func diff<T: Equatable>(_ a: [T], _ b: [T]) -> [Edit] {
        let n = a.count, m = b.count
        // Common prefix and suffix cost nothing and are most of a typical revision.
        var prefix = 0
        while prefix < n, prefix < m, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < n - prefix, suffix < m - prefix, a[n - 1 - suffix] == b[m - 1 - suffix] { suffix += 1 }
        var edits: [Edit] = (0..<prefix).map { .equal($0, $0) }
        edits += middle(a, b, aRange: prefix..<(n - suffix), bRange: prefix..<(m - suffix))
        edits += (0..<suffix).map { .equal(n - suffix + $0, m - suffix + $0) }
        return edits
    }

    private static func middle<T: Equatable>(_ a: [T], _ b: [T], aRange: Range<Int>, bRange: Range<Int>) -> [Edit] {
        let n = aRange.count, m = bRange.count
        if n == 0 { return bRange.map { .insert($0) } }
        if m == 0 { return aRange.map { .delete($0) } }
        let max = n + m
        let offset = max
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        var found = false
        outer: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]          // down: insertion
                } else {
                    x = v[offset + k - 1] + 1      // right: deletion
                }
                var y = x - k
                while x < n, y < m, a[aRange.lowerBound + x] == b[bRange.lowerBound + y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m {
                    found = true
                    break outer
                }
            }
        }
        precondition(found)
        // Walk the trace back from (n, m).
        var edits: [Edit] = []
        var x = n, y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let prevK: Int
            if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                prevK = k + 1
            } else {
                prevK = k - 1
            }
            let prevX = v[offset + prevK]
            let prevY = prevX - prevK
            while x > prevX && y > prevY {
                x -= 1
                y -= 1
                edits.append(.equal(aRange.lowerBound + x, bRange.lowerBound + y))
            }
            if d > 0 {
                if x == prevX {
                    y -= 1
                    edits.append(.insert(bRange.lowerBound + y))
                } else {
                    x -= 1
                    edits.append(.delete(aRange.lowerBound + x))
                }
            }
        }
        return reorder(edits.reversed())
    }

    /// Within each run of changes, deletions first: `-a -b +c +d` reads better than interleaved.
    static func reorder(_ edits: [Edit]) -> [Edit] {
        var out: [Edit] = []
        var dels: [Edit] = [], ins: [Edit] = []
        func flush() {
            out += dels
            out += ins
            dels.removeAll()
            ins.removeAll()
        }
        for e in edits {
            switch e {
            case .equal: flush(); out.append(e)
            case .delete: dels.append(e)
            case .insert: ins.append(e)
            }
        }
        flush()
        return out
    }
}
