import MirrorMarkup

/// What a revision looks like to the diff: the title, the dateline fields and the paragraphs.
public struct DiffableContent: Sendable, Equatable {
    public var fields: [(name: String, value: String?)]
    public var paragraphs: [String]

    public init(fields: [(name: String, value: String?)], paragraphs: [String]) {
        self.fields = fields
        self.paragraphs = paragraphs
    }

    public static func == (l: DiffableContent, r: DiffableContent) -> Bool {
        l.paragraphs == r.paragraphs && l.fields.map(\.name) == r.fields.map(\.name) && l.fields.map(\.value) == r.fields.map(\.value)
    }
}

/// A changed header field (title, published, source, reporter, editor).
public struct FieldChange: Sendable, Equatable {
    public var field: String
    public var old: String?
    public var new: String?
    public var inline: [InlineOp]
}

/// One step of the body diff, paragraph by paragraph. Indexes are 0-based.
public enum ParagraphOp: Sendable, Equatable {
    case equal(old: Int, new: Int, text: String)
    case insert(new: Int, text: String)
    case delete(old: Int, text: String)
    /// The same paragraph, edited: the inline diff says how.
    case change(old: Int, new: Int, inline: [InlineOp])
    /// One paragraph became several (`new` consecutive indexes); the texts join to the old one.
    case split(old: Int, new: [Int], inline: [InlineOp])
    /// Several consecutive paragraphs became one.
    case merge(old: [Int], new: Int, inline: [InlineOp])

    public var isEqual: Bool { if case .equal = self { return true }; return false }
}

/// The difference between two revisions: header fields first, then the body.
public struct RevisionDiff: Sendable, Equatable {
    public var fields: [FieldChange]
    public var paragraphs: [ParagraphOp]

    public var isEmpty: Bool { fields.isEmpty && paragraphs.allSatisfy(\.isEqual) }

    /// Paragraph counts for `log`: added, removed, changed (splits and merges count as changed).
    public var stats: (added: Int, removed: Int, changed: Int) {
        var a = 0, r = 0, c = 0
        for p in paragraphs {
            switch p {
            case .equal: break
            case .insert: a += 1
            case .delete: r += 1
            case .change, .split, .merge: c += 1
            }
        }
        return (a, r, c)
    }

    /// Pilcrow marking a paragraph boundary inside a split/merge inline diff.
    public static let pilcrow = "¶"

    /// Aligns paragraphs (Myers over their canonical text, so re-wrapping is not a change),
    /// then pairs the deletions and insertions between two alignments: a paragraph that
    /// reappears cut in two (or two glued into one) is a split (merge); a pair at least
    /// `similarity` alike is a change; the rest stay deletions and insertions.
    public static func compute(_ old: DiffableContent, _ new: DiffableContent, similarity: Double = 0.5) -> RevisionDiff {
        var fields: [FieldChange] = []
        let newFields = Dictionary(new.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for (name, value) in old.fields {
            let other = newFields[name] ?? nil
            if canonical(value ?? "") != canonical(other ?? "") {
                fields.append(FieldChange(field: name, old: value, new: other, inline: InlineDiff.diff(value ?? "", other ?? "")))
            }
        }
        let a = old.paragraphs.map(canonical), b = new.paragraphs.map(canonical)
        var ops: [ParagraphOp] = []
        var dels: [Int] = [], ins: [Int] = []
        func flush() {
            ops += pair(dels, ins, old.paragraphs, new.paragraphs, a, b, similarity)
            dels.removeAll()
            ins.removeAll()
        }
        for e in Myers.diff(a, b) {
            switch e {
            case let .equal(i, j):
                flush()
                ops.append(.equal(old: i, new: j, text: new.paragraphs[j]))
            case let .delete(i): dels.append(i)
            case let .insert(j): ins.append(j)
            }
        }
        flush()
        return RevisionDiff(fields: fields, paragraphs: ops)
    }

    static func canonical(_ s: String) -> String { TextNormalizer.canonical(s) }

    /// Whether `whole` is the first k (2 or more, of `available`) of `part(0)`, `part(1)`, …
    /// joined, as CJK text joins (nothing between) or as other text does (a space): the k and
    /// the glue. Paragraphs are compared in canonical form, where a space between Latin
    /// sentences stays: "A. B." cut in two had not read as a split.
    static func joins(_ whole: String, _ available: Int, _ part: (Int) -> String) -> (Int, String)? {
        var tight = part(0), spaced = tight
        for k in 2...available {
            let next = part(k - 1)
            tight += next
            spaced += " " + next
            if tight == whole { return (k, "") }
            if spaced == whole { return (k, " ") }
            if tight.utf8.count > whole.utf8.count { return nil }
        }
        return nil
    }

    /// How many paragraphs ahead a pairing looks for a closer partner.
    static let partnerWindow = 8

    /// Pairs a run of deleted paragraphs with the run of inserted ones that replaced them, in
    /// order: a deleted and an inserted paragraph pair as a change when they are alike and
    /// neither has a closer partner among the next `partnerWindow` on the other's side that
    /// it is also the best match of.
    static func pair(_ dels: [Int], _ ins: [Int], _ oldP: [String], _ newP: [String],
                     _ a: [String], _ b: [String], _ similarity: Double) -> [ParagraphOp] {
        var out: [ParagraphOp] = []
        var d = 0, i = 0
        while d < dels.count || i < ins.count {
            if d < dels.count, i < ins.count {
                let o = dels[d]
                // Split: old paragraph == next k inserted ones joined.
                if ins.count - i >= 2, let (k, glue) = joins(a[o], ins.count - i, { b[ins[i + $0]] }) {
                    let parts = ins[i..<(i + k)].map { newP[$0] }
                    out.append(.split(old: o, new: Array(ins[i..<(i + k)]),
                                      inline: InlineDiff.diff(oldP[o], parts.joined(separator: pilcrow + glue))))
                    d += 1
                    i += k
                    continue
                }
                let n = ins[i]
                // Merge: next k deleted ones joined == new paragraph.
                if dels.count - d >= 2, let (k, glue) = joins(b[n], dels.count - d, { a[dels[d + $0]] }) {
                    let parts = dels[d..<(d + k)].map { oldP[$0] }
                    out.append(.merge(old: Array(dels[d..<(d + k)]), new: n,
                                      inline: InlineDiff.diff(parts.joined(separator: pilcrow + glue), newP[n])))
                    d += k
                    i += 1
                    continue
                }
                let alike = ratio(a[o], b[n])
                if alike >= similarity {
                    // Alike, but is a paragraph just ahead more so? An index that drops one
                    // headline and edits the next had paired the dropped one with the edited
                    // one (both alike in their link), then listed the old headline as removed.
                    let window = Self.partnerWindow
                    let laterDels = dels[(d + 1)..<min(dels.count, d + 1 + window)]
                    let laterIns = ins[(i + 1)..<min(ins.count, i + 1 + window)]
                    func closer(_ x: String, _ y: String, than r: Double) -> Bool { quickRatio(x, y) > r && ratio(x, y) > r }
                    // A later deletion takes n only if n is also its best match ahead (and the
                    // same for a later insertion and o): a pair that is only second best for
                    // both stays a change.
                    if let rival = laterDels.first(where: { closer(a[$0], b[n], than: alike) }) {
                        let its = ratio(a[rival], b[n])
                        if !laterIns.contains(where: { closer(a[rival], b[$0], than: its) }) {
                            out.append(.delete(old: o, text: oldP[o]))
                            d += 1
                            continue
                        }
                    }
                    if let rival = laterIns.first(where: { closer(a[o], b[$0], than: alike) }) {
                        let its = ratio(a[o], b[rival])
                        if !laterDels.contains(where: { closer(a[$0], b[rival], than: its) }) {
                            out.append(.insert(new: n, text: newP[n]))
                            i += 1
                            continue
                        }
                    }
                    out.append(.change(old: o, new: n, inline: InlineDiff.diff(oldP[o], newP[n])))
                    d += 1
                    i += 1
                    continue
                }
                // Unrelated: whichever comes first in reading order goes out alone.
                if dels.count - d >= ins.count - i {
                    out.append(.delete(old: o, text: oldP[o]))
                    d += 1
                } else {
                    out.append(.insert(new: n, text: newP[n]))
                    i += 1
                }
            } else if d < dels.count {
                out.append(.delete(old: dels[d], text: oldP[dels[d]]))
                d += 1
            } else {
                out.append(.insert(new: ins[i], text: newP[ins[i]]))
                i += 1
            }
        }
        return out
    }

    /// An upper bound of `ratio`, in linear time: 2·(characters the two have in common, as
    /// multisets, order ignored) / (total length); Python difflib's `quick_ratio`.
    static func quickRatio(_ x: String, _ y: String) -> Double {
        var counts: [Character: Int] = [:]
        var total = 0
        for ch in x { counts[ch, default: 0] += 1; total += 1 }
        var common = 0, other = 0
        for ch in y {
            other += 1
            if let n = counts[ch], n > 0 {
                counts[ch] = n - 1
                common += 1
            }
        }
        guard total + other > 0 else { return 1 }
        return 2 * Double(common) / Double(total + other)
    }

    /// Similarity of two strings: 2·(common characters in a character diff) / (total length).
    static func ratio(_ x: String, _ y: String) -> Double {
        let a = Array(x), b = Array(y)
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        let common = Myers.diff(a, b).reduce(0) { n, e in if case .equal = e { return n + 1 }; return n }
        return 2 * Double(common) / Double(a.count + b.count)
    }
}
