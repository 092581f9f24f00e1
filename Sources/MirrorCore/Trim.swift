/// Trimming white space without Foundation: `trimmingCharacters(in:)` bridges every string to
/// `NSString` and back, which cost 10 % of plain-HTML extraction (`perf`, BENCHMARKS.md).
extension Substring {
    /// Without leading and trailing white space, the sets of Foundation's CharacterSets:
    /// `newlines: true` trims `.whitespacesAndNewlines` (Unicode `White_Space`: the space
    /// separators, tab, line breaks, U+0085, U+2028, U+2029), `newlines: false` only
    /// `.whitespaces` (the space separators and tab); both also trim U+200B ZERO WIDTH SPACE,
    /// as CoreFoundation's sets do (`0x2000...0x200B`), which scraped CJK pages often carry.
    /// Works on scalars, as Foundation does, not on grapheme clusters.
    public func trimmingWhitespace(newlines: Bool = true) -> String {
        func blank(_ s: Unicode.Scalar) -> Bool {
            if s.value == 0x200B { return true }
            guard s.properties.isWhitespace else { return false }
            if newlines { return true }
            return !(0x0A...0x0D).contains(s.value) && s.value != 0x85 && s.value != 0x2028 && s.value != 0x2029
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !blank($0) }),
              let last = scalars.lastIndex(where: { !blank($0) }) else { return "" }
        return String(scalars[first...last])
    }
}

extension String {
    /// See `Substring.trimmingWhitespace(newlines:)`.
    public func trimmingWhitespace(newlines: Bool = true) -> String {
        self[...].trimmingWhitespace(newlines: newlines)
    }
}
