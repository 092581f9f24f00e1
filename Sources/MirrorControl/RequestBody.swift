import Foundation

/// A control request's JSON body, read strictly and the same way on every endpoint.
///
/// Foundation's `JSONSerialization` and `JSONDecoder` accept more than JSON: a trailing comma
/// (`{"source": "x",}`), and a number where a boolean belongs (`"force": 1` reads as `true`).
/// A control API that guesses is one a script can misuse without noticing, so the body is
/// first checked against RFC 8259's grammar, then each field against its declared type; the
/// answer to anything else is a 400 naming the field or the byte offset.
struct RequestBody {
    /// The type a field must have.
    enum FieldType {
        case string, bool

        var expected: String { self == .string ? "a string" : "true or false" }
    }

    /// The fields present, decoded: `String` or `Bool` values.
    let fields: [String: Any]

    /// - Parameters:
    ///   - body: the request body; empty means `{}`.
    ///   - schema: every known field and its type; any other field is rejected.
    /// - Throws: `ControlRouter.BadRequest` (status 400) naming what is wrong.
    init(_ body: [UInt8], schema: KeyValuePairs<String, FieldType>) throws {
        guard !body.isEmpty else {
            fields = [:]
            return
        }
        let members: [(key: String, kind: StrictJSON.Kind)]
        do {
            members = try StrictJSON.objectMembers(body)
        } catch let e as StrictJSON.SyntaxError {
            // `[]`, `3`, `"x"`: JSON, but not the object every endpoint takes.
            let first = body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if first != UInt8(ascii: "{"), (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil {
                throw ControlRouter.BadRequest(status: 400, message: "request body must be a JSON object ({\"…\": …})")
            }
            throw ControlRouter.BadRequest(status: 400, message: "request body is not valid JSON: \(e)")
        }
        let known = schema.map(\.key)
        var seen = Set<String>()
        for m in members {
            guard let type = schema.first(where: { $0.key == m.key })?.value else {
                throw ControlRouter.BadRequest(status: 400, message: "unknown field '\(m.key)' (known: \(known.joined(separator: ", ")))")
            }
            guard seen.insert(m.key).inserted else {
                throw ControlRouter.BadRequest(status: 400, message: "field '\(m.key)' is given twice")
            }
            let ok = type == .string ? m.kind == .string : m.kind == .boolean
            guard ok else {
                throw ControlRouter.BadRequest(status: 400, message: "'\(m.key)' must be \(type.expected), not \(m.kind.rawValue)")
            }
        }
        // The grammar and the types are checked: Foundation only decodes the values now.
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        var fields: [String: Any] = [:]
        for (key, type) in schema {
            if type == .string, let v = object[key] as? String { fields[key] = v }
            if type == .bool, let v = object[key] as? Bool { fields[key] = v }
        }
        self.fields = fields
    }

    func string(_ key: String) -> String? { fields[key] as? String }
    func bool(_ key: String) -> Bool? { fields[key] as? Bool }
}

/// An RFC 8259 grammar check (§2-§7) that also reports the members of a top-level object.
enum StrictJSON {
    enum Kind: String {
        case object = "an object", array = "an array", string = "a string", number = "a number", boolean = "a boolean"
        case null
    }

    struct SyntaxError: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// The top-level object's members in order, with each value's kind.
    /// - Throws: `SyntaxError` for anything that is not exactly one JSON object (white space
    ///   around it allowed): a trailing comma, a bare word, trailing bytes, an unescaped
    ///   control character, nesting deeper than 64.
    static func objectMembers(_ bytes: [UInt8]) throws -> [(key: String, kind: Kind)] {
        var p = Parser(b: bytes)
        p.space()
        guard p.peek == UInt8(ascii: "{") else { throw p.error("expected a JSON object") }
        var members: [(key: String, kind: Kind)] = []
        _ = try p.value(depth: 0) { key, kind in members.append((key, kind)) }
        p.space()
        guard p.i == bytes.count else { throw p.error("unexpected bytes after the object") }
        return members
    }

    struct Parser {
        let b: [UInt8]
        var i = 0

        var peek: UInt8? { i < b.count ? b[i] : nil }

        func error(_ reason: String) -> SyntaxError { SyntaxError(offset: i, reason: reason) }

        mutating func space() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        mutating func expect(_ c: Character) throws {
            guard peek == c.asciiValue else { throw error("expected '\(c)'") }
            i += 1
        }

        /// One value; `member` is called for each member when it is the top-level object.
        mutating func value(depth: Int, member: ((String, Kind) -> Void)? = nil) throws -> Kind {
            guard depth < 64 else { throw error("nesting deeper than 64") }
            space()
            guard let c = peek else { throw error("unexpected end") }
            switch c {
            case UInt8(ascii: "{"):
                i += 1
                space()
                if peek == UInt8(ascii: "}") { i += 1; return .object }
                while true {
                    space()
                    guard peek == UInt8(ascii: "\"") else {
                        throw error(peek == UInt8(ascii: "}") ? "trailing comma before '}'" : "expected a field name in double quotes")
                    }
                    let key = try string()
                    space()
                    try expect(":")
                    let kind = try value(depth: depth + 1)
                    member?(key, kind)
                    space()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    try expect("}")
                    return .object
                }
            case UInt8(ascii: "["):
                i += 1
                space()
                if peek == UInt8(ascii: "]") { i += 1; return .array }
                while true {
                    space()
                    if peek == UInt8(ascii: "]") { throw error("trailing comma before ']'") }
                    _ = try value(depth: depth + 1)
                    space()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    try expect("]")
                    return .array
                }
            case UInt8(ascii: "\""):
                _ = try string()
                return .string
            case UInt8(ascii: "t"): try word("true"); return .boolean
            case UInt8(ascii: "f"): try word("false"); return .boolean
            case UInt8(ascii: "n"): try word("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
                return .number
            default:
                throw error("unexpected character")
            }
        }

        mutating func word(_ w: String) throws {
            for c in w.utf8 {
                guard peek == c else { throw error("expected '\(w)'") }
                i += 1
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` (§6).
        mutating func number() throws {
            func digits() throws {
                guard let c = peek, c >= 0x30 && c <= 0x39 else { throw error("expected a digit") }
                while let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
            }
            if peek == UInt8(ascii: "-") { i += 1 }
            if peek == UInt8(ascii: "0") { i += 1 } else { try digits() }
            if peek == UInt8(ascii: ".") { i += 1; try digits() }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                try digits()
            }
        }

        /// A string (§7), returned decoded when it has no escapes (field names), else as its
        /// raw bytes' text (only compared, never shown decoded).
        mutating func string() throws -> String {
            i += 1
            let start = i
            var escaped = false
            while true {
                guard let c = peek else { throw error("unterminated string") }
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw error("control character in a string") }
                if c == UInt8(ascii: "\\") {
                    escaped = true
                    i += 1
                    guard let e = peek else { throw error("unterminated string") }
                    if e == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            i += 1
                            guard let h = peek, (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66) else {
                                throw error("bad \\u escape")
                            }
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(e) {
                        throw error("bad escape")
                    }
                }
                i += 1
            }
            let raw = String(decoding: b[start..<i], as: UTF8.self)
            i += 1
            if escaped, let decoded = try? JSONSerialization.jsonObject(with: Data(("[\"" + raw + "\"]").utf8)) as? [String],
               let s = decoded.first {
                return s
            }
            return raw
        }
    }
}
