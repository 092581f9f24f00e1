import MirrorMarkup

/// One piece of an inline (within-paragraph) diff.
public struct InlineOp: Equatable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case equal, insert, delete }
    public var op: Kind
    public var text: String

    public init(_ op: Kind, _ text: String) {
        self.op = op
        self.text = text
    }
}

/// A word- and character-level diff of two strings at the grain a reader expects: characters
/// for CJK text (no spaces between words), whole words for Latin text (Unicode word boundaries
/// approximated by runs of letters and digits), then a semantic cleanup so a half-changed word
/// or a phrase with one shared character in the middle shows as one change.
public enum InlineDiff {
    /// Splits into tokens: each CJK character; each run of letters/digits (a word); each run of
    /// whitespace; each other character (punctuation).
    public static func tokenize(_ s: String) -> [Substring] {
        var tokens: [Substring] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let scalar = c.unicodeScalars.first!
            var j = s.index(after: i)
            if TextNormalizer.isCJK(scalar) {
                // one character
            } else if c.isLetter || c.isNumber {
                while j < s.endIndex, (s[j].isLetter || s[j].isNumber || s[j] == "'" || s[j] == "’"),
                      !TextNormalizer.isCJK(s[j].unicodeScalars.first!) { j = s.index(after: j) }
            } else if c.isWhitespace {
                while j < s.endIndex, s[j].isWhitespace { j = s.index(after: j) }
            }
            tokens.append(s[i..<j])
            i = j
        }
        return tokens
    }

    public static func diff(_ old: String, _ new: String) -> [InlineOp] {
        let a = tokenize(old), b = tokenize(new)
        var ops: [InlineOp] = []
        func push(_ kind: InlineOp.Kind, _ text: Substring) {
            if let last = ops.last, last.op == kind {
                ops[ops.count - 1].text += text
            } else {
                ops.append(InlineOp(kind, String(text)))
            }
        }
        for e in Myers.diff(a, b) {
            switch e {
            case let .equal(i, _): push(.equal, a[i])
            case let .delete(i): push(.delete, a[i])
            case let .insert(j): push(.insert, b[j])
            }
        }
        return cleanup(ops)
    }

    /// Semantic cleanup (after Neil Fraser's diff-match-patch "cleanupSemantic"): an equality
    /// no longer than the edits on both sides of it is folded into them, so `美[-国-]{+方+}的`
    /// stays as is but `[-abc-]x[-def-]` / `{+uvw+}x{+yz+}` becomes `[-abcxdef-]{+uvwxyz+}`.
    static func cleanup(_ input: [InlineOp]) -> [InlineOp] {
        var ops = input
        var changed = true
        while changed {
            changed = false
            var i = 1
            while i < ops.count - 1 {
                guard ops[i].op == .equal, ops[i - 1].op != .equal, ops[i + 1].op != .equal else { i += 1; continue }
                // Edits on each side of the equality (a side may be a delete+insert pair).
                var l = i - 1
                while l > 0, ops[l - 1].op != .equal { l -= 1 }
                var r = i + 1
                while r < ops.count - 1, ops[r + 1].op != .equal { r += 1 }
                let left = ops[l..<i].map(\.text.count).max() ?? 0
                let right = ops[(i + 1)...r].map(\.text.count).max() ?? 0
                let eq = ops[i].text
                guard eq.count <= min(left, right), !eq.contains(where: { "。，！？；\n".contains($0) }) else { i += 1; continue }
                var del = "", ins = ""
                for op in ops[l...r] {
                    switch op.op {
                    case .equal: del += op.text; ins += op.text
                    case .delete: del += op.text
                    case .insert: ins += op.text
                    }
                }
                var merged: [InlineOp] = []
                if !del.isEmpty { merged.append(InlineOp(.delete, del)) }
                if !ins.isEmpty { merged.append(InlineOp(.insert, ins)) }
                ops.replaceSubrange(l...r, with: merged)
                changed = true
                i = l + 1
            }
        }
        return ops
    }
}
