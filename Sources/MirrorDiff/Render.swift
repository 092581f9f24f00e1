import Foundation

/// Renderings of a `RevisionDiff`: unified text with `[-old-]{+new+}` inline markers (as
/// `git diff --word-diff=plain`), optionally coloured; JSON operations; one self-contained
/// side-by-side HTML page.
public struct DiffRenderer {
    public var diff: RevisionDiff
    public var old: DiffableContent
    public var new: DiffableContent
    /// `--- a/…` / `+++ b/…` labels.
    public var oldLabel: String
    public var newLabel: String
    /// Unchanged paragraphs shown around each change: 0 up to the number of paragraphs (any
    /// larger value shows them all).
    public var context: Int

    /// - Parameter context: clamped to 0 up to the number of paragraphs: a request's
    ///   `context=-5` or `context=9223372036854775807` had trapped in the hunk arithmetic and
    ///   killed the daemon.
    public init(diff: RevisionDiff, old: DiffableContent, new: DiffableContent, oldLabel: String, newLabel: String, context: Int = 1) {
        self.diff = diff
        self.old = old
        self.new = new
        self.oldLabel = oldLabel
        self.newLabel = newLabel
        self.context = min(max(0, context), diff.paragraphs.count)
    }

    // MARK: text

    static let red = "\u{1B}[31m", green = "\u{1B}[32m", cyan = "\u{1B}[36m", bold = "\u{1B}[1m", reset = "\u{1B}[0m"

    /// Inline ops as text: markers, or (with `color`) red/green without markers, as git does.
    public static func inline(_ ops: [InlineOp], color: Bool) -> String {
        ops.map { op in
            switch (op.op, color) {
            case (.equal, _): return op.text
            case (.delete, false): return "[-" + op.text + "-]"
            case (.insert, false): return "{+" + op.text + "+}"
            case (.delete, true): return red + op.text + reset
            case (.insert, true): return green + op.text + reset
            }
        }.joined()
    }

    /// Unified text: header, changed fields, then hunks of paragraphs. Each paragraph is one
    /// line: `  ` unchanged, `- ` removed, `+ ` added, `~ ` edited (inline markers show how;
    /// `¶` marks where a paragraph was split or merged). Empty when nothing changed.
    public func text(color: Bool = false) -> String {
        guard !diff.isEmpty else { return "" }
        func c(_ code: String, _ s: String) -> String { color ? code + s + Self.reset : s }
        var lines = [c(Self.bold, "--- " + oldLabel), c(Self.bold, "+++ " + newLabel)]
        for f in diff.fields {
            lines.append("\(f.field): " + Self.inline(f.inline, color: color))
        }
        // Paragraphs of each side before the hunk, counted as the hunks go (they come in
        // order, each walk starting where the last stopped): what an empty side's range names.
        var oldBefore = 0, newBefore = 0, counted = 0
        for hunk in hunks() {
            for op in diff.paragraphs[counted..<hunk.lowerBound] {
                oldBefore = Self.oldIndexes(op).max().map { $0 + 1 } ?? oldBefore
                newBefore = Self.newIndexes(op).max().map { $0 + 1 } ?? newBefore
            }
            counted = hunk.lowerBound
            let ops = diff.paragraphs[hunk]
            let oldNums = ops.flatMap(Self.oldIndexes), newNums = ops.flatMap(Self.newIndexes)
            lines.append(c(Self.cyan, "@@ " + Self.range("-", oldNums, after: oldBefore) + " "
                           + Self.range("+", newNums, after: newBefore) + " @@"))
            for op in ops {
                switch op {
                case let .equal(_, _, text): lines.append("  " + text)
                case let .insert(_, text): lines.append(c(Self.green, "+ " + text))
                case let .delete(_, text): lines.append(c(Self.red, "- " + text))
                case let .change(_, _, inline), let .split(_, _, inline), let .merge(_, _, inline):
                    lines.append("~ " + Self.inline(inline, color: color))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Paragraph ranges of the hunks: each change with `context` unchanged paragraphs around
    /// it, overlapping hunks merged.
    func hunks() -> [Range<Int>] {
        var out: [Range<Int>] = []
        for (i, op) in diff.paragraphs.enumerated() where !op.isEqual {
            let r = max(0, i - context)..<min(diff.paragraphs.count, i + context + 1)
            if let last = out.last, last.upperBound >= r.lowerBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    static func oldIndexes(_ op: ParagraphOp) -> [Int] {
        switch op {
        case let .equal(o, _, _), let .delete(o, _), let .change(o, _, _), let .split(o, _, _): return [o]
        case let .merge(o, _, _): return o
        case .insert: return []
        }
    }

    static func newIndexes(_ op: ParagraphOp) -> [Int] {
        switch op {
        case let .equal(_, n, _), let .insert(n, _), let .change(_, n, _), let .merge(_, n, _): return [n]
        case let .split(_, n, _): return n
        case .delete: return []
        }
    }

    /// `-3,2` (paragraphs 3–4, 1-based), `-3` for one, and for none `-N,0`, N the paragraph
    /// the hunk comes after (`after`, 0 at the start): as GNU diff and git count lines (an
    /// empty hunk "ends at the line that precedes it").
    static func range(_ sign: String, _ idx: [Int], after: Int) -> String {
        guard let first = idx.min(), let last = idx.max() else { return "\(sign)\(after),0" }
        return first == last ? "\(sign)\(first + 1)" : "\(sign)\(first + 1),\(last - first + 1)"
    }

    // MARK: JSON

    /// `{"fields": [...], "paragraphs": [{"op", "old", "new", "text"?, "inline"?}]}` with
    /// 1-based paragraph numbers, every paragraph in order (unchanged ones included).
    public func jsonObject() -> [String: Any] {
        func inline(_ ops: [InlineOp]) -> [[String: String]] { ops.map { ["op": $0.op.rawValue, "text": $0.text] } }
        let fields: [[String: Any]] = diff.fields.map {
            ["field": $0.field, "old": $0.old ?? NSNull(), "new": $0.new ?? NSNull(), "inline": inline($0.inline)]
        }
        let paragraphs: [[String: Any]] = diff.paragraphs.map { op in
            switch op {
            case let .equal(o, n, text): return ["op": "equal", "old": o + 1, "new": n + 1, "text": text]
            case let .insert(n, text): return ["op": "insert", "old": NSNull(), "new": n + 1, "text": text]
            case let .delete(o, text): return ["op": "delete", "old": o + 1, "new": NSNull(), "text": text]
            case let .change(o, n, ops): return ["op": "change", "old": o + 1, "new": n + 1, "inline": inline(ops)]
            case let .split(o, n, ops): return ["op": "split", "old": o + 1, "new": n.map { $0 + 1 }, "inline": inline(ops)]
            case let .merge(o, n, ops): return ["op": "merge", "old": o.map { $0 + 1 }, "new": n + 1, "inline": inline(ops)]
            }
        }
        return ["from": oldLabel, "to": newLabel, "fields": fields, "paragraphs": paragraphs]
    }

    // MARK: HTML

    /// Text for HTML element content and double- or single-quoted attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&#39;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// One HTML side of an inline diff: the old side shows deletions, the new side insertions.
    static func side(_ ops: [InlineOp], old: Bool) -> String {
        ops.compactMap { op in
            switch op.op {
            case .equal: return escape(op.text)
            case .delete: return old ? "<del>" + escape(op.text) + "</del>" : nil
            case .insert: return old ? nil : "<ins>" + escape(op.text) + "</ins>"
            }
        }.joined()
    }

    /// The page's `lang` from its script, for fonts and line breaking: `ja` with kana, `ko` with
    /// hangul, `zh` with Han characters alone; nil otherwise (the attribute is left out rather
    /// than guessed: it had been `zh` on English articles too).
    public static func language(of text: String) -> String? {
        var han = false
        for s in text.unicodeScalars {
            switch s.value {
            case 0x3040...0x30FF: return "ja"
            case 0xAC00...0xD7AF, 0x1100...0x11FF: return "ko"
            case 0x4E00...0x9FFF, 0x3400...0x4DBF: han = true
            default: continue
            }
        }
        return han ? "zh" : nil
    }

    /// A self-contained side-by-side page (inline CSS, no scripts, no external assets).
    public func html(title: String) -> String {
        var rows: [String] = []
        for f in diff.fields {
            rows.append("<tr class=\"field\"><th class=\"n\">\(Self.escape(f.field))</th><td class=\"old\">\(Self.side(f.inline, old: true))</td>"
                + "<td class=\"new\">\(Self.side(f.inline, old: false))</td></tr>")
        }
        for op in diff.paragraphs {
            let (n, l, r, cls): (String, String, String, String)
            switch op {
            case let .equal(o, _, text): (n, l, r, cls) = ("¶\(o + 1)", Self.escape(text), Self.escape(text), "equal")
            case let .insert(j, text): (n, l, r, cls) = ("+¶\(j + 1)", "", "<ins>" + Self.escape(text) + "</ins>", "insert")
            case let .delete(o, text): (n, l, r, cls) = ("¶\(o + 1)", "<del>" + Self.escape(text) + "</del>", "", "delete")
            case let .change(o, _, ops), let .split(o, _, ops): (n, l, r, cls) = ("¶\(o + 1)", Self.side(ops, old: true), Self.side(ops, old: false), "change")
            case let .merge(o, _, ops): (n, l, r, cls) = ("¶\(o[0] + 1)", Self.side(ops, old: true), Self.side(ops, old: false), "change")
            }
            rows.append("<tr class=\"\(cls)\"><th class=\"n\">\(n)</th><td class=\"old\">\(l)</td><td class=\"new\">\(r)</td></tr>")
        }
        let lang = Self.language(of: title + rows.prefix(8).joined()).map { " lang=\"\($0)\"" } ?? ""
        return """
            <!DOCTYPE html>
            <html\(lang)><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:1.5em;color:#222}
            h1{font-size:1.2em}p.meta{color:#555;font-size:.9em}
            table{border-collapse:collapse;width:100%;table-layout:fixed}
            th{color:#888;font-weight:normal;vertical-align:top;text-align:left;padding:.4em .8em;word-break:break-all}
            th.n{text-align:right;padding:.4em}
            td{vertical-align:top;padding:.4em .8em;border-left:1px solid #ddd;line-height:1.6}
            tr.field th{color:#333;font-weight:bold}tr.delete td.old{background:#fff0f0}tr.insert td.new{background:#f0fff0}
            del{background:#ffc8c8;text-decoration:line-through}ins{background:#c8f5c8;text-decoration:none}
            </style></head><body>
            <h1>\(Self.escape(title))</h1>
            <p class="meta">\(Self.escape(oldLabel)) → \(Self.escape(newLabel))</p>
            <table><colgroup><col style="width:5em"><col><col></colgroup>
            <tr><th class="n"></th><th>\(Self.escape(oldLabel))</th><th>\(Self.escape(newLabel))</th></tr>
            \(rows.joined(separator: "\n"))
            </table></body></html>

            """
    }
}
