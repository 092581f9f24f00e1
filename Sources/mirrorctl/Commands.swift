import ArgumentParser
import Foundation
import MirrorControl
import MirrorCore
import MirrorStore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the daemon's state, the last run and the store's totals.",
        discussion: """
            With the daemon down, prints what the database knows and exits 3 (as \
            `systemctl status` does for an inactive unit).

            EXAMPLES
              mirrorctl status
              mirrorctl status --json | jq .last_run
            """)

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print JSON (fields: state, uptime_s, last_run, totals, sources, …).") var json = false

    func run() throws {
        let c = try connection.resolve()
        let (report, live) = try c.read("/v1/status") { db in
            try Reports.status(database: db, config: c.config, daemon: nil)
        }
        let object = report as? [String: Any] ?? [:]
        if json {
            FileHandle.standardOutput.write(Data(Reports.encode(object)))
        } else {
            print(Format.status(object, socket: c.client.socket, database: c.forceDatabase ? c.databasePath : nil))
        }
        // With --db the daemon was not asked, so there is nothing to say about it.
        if !live && !c.forceDatabase {
            throw Abort("mirrord is not running (no answer on \(c.client.socket)); showing the database", code: 3)
        }
    }
}

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a sync run.",
        subcommands: [Now.self])

    struct Now: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a run now (joins the run in progress when that does what is asked, else runs after it).",
            discussion: """
                EXAMPLES
                  mirrorctl sync now                    start and return at once
                  mirrorctl sync now --wait             wait and print the run's counters
                  mirrorctl sync now --all --source news
                """)

        @OptionGroup var connection: ConnectionOptions
        @Option(help: ArgumentHelp("Sync only this source.", valueName: "name")) var source: String?
        @Flag(help: "Re-check every known document regardless of its schedule.") var all = false
        @Flag(help: "Wait for the run to finish and print its counters.") var wait = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let c = try connection.resolve()
            var body: [String: Any] = ["all": all, "wait": wait]
            if let source { body["source"] = source }
            let answer: Any
            do {
                answer = try c.client.call("POST", "/v1/sync", body: body, timeout: wait ? 0 : 30).0
            } catch ControlClient.Failure.daemonNotRunning(let m) {
                throw Abort(connection.daemonOnly(m) + "; start it, or run `mirrord --config … --once`", code: 3)
            } catch let ControlClient.Failure.api(status, message) where (400..<500).contains(status) {
                throw Abort(message, code: 2)
            } catch {
                throw Abort("\(error)", code: 1)
            }
            let object = answer as? [String: Any] ?? [:]
            if json {
                FileHandle.standardOutput.write(Data(Reports.encode(object)))
            } else {
                if object["coalesced"] as? Bool == true {
                    print("a run is already in progress and does this; joined it")
                } else if object["queued"] as? Bool == true {
                    print("a run is in progress that does not do this (--all or --source); queued a run after it")
                } else if object["run"] == nil {
                    print("run started")
                }
                if let run = object["run"] as? [String: Any] { print(Format.runLine(run)) }
            }
        }
    }
}

struct Reparse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regenerate parsed copies from the stored raw versions (no network).",
        discussion: """
            Documents parsed by an older parser or under other extraction rules \
            (content_xpath, remove_xpath) are re-parsed from their raw versions; their content \
            hashes and revision numbers are recomputed, so a better parser does not create \
            false revisions. The daemon also does this at start-up. A second reparse changes \
            nothing. With the daemon down, use `mirrord --config … --reparse`.

            EXAMPLES
              mirrorctl reparse
              mirrorctl reparse --source news --force
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: ArgumentHelp("Only this source.", valueName: "name")) var source: String?
    @Flag(help: "Regenerate every document, outdated or not.") var force = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let c = try connection.resolve()
        var body: [String: Any] = ["force": force]
        if let source { body["source"] = source }
        let answer: Any
        do {
            answer = try c.client.call("POST", "/v1/reparse", body: body, timeout: 0).0
        } catch ControlClient.Failure.daemonNotRunning(let m) {
            throw Abort(connection.daemonOnly(m) + "; with the daemon down run `mirrord --config … --reparse`", code: 3)
        } catch let ControlClient.Failure.api(status, message) where (400..<500).contains(status) {
            throw Abort(message, code: 2)
        } catch {
            throw Abort("\(error)", code: 1)
        }
        let o = answer as? [String: Any] ?? [:]
        if json {
            FileHandle.standardOutput.write(Data(Reports.encode(o)))
        } else {
            print("reparse: \(Format.int(o["documents"])) documents (\(Format.int(o["versions"])) versions) regenerated; "
                + "revisions \(Format.int(o["revisions_before"])) → \(Format.int(o["revisions_after"])); \(Format.int(o["failures"])) failures")
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the daemon re-read its configuration (as SIGHUP does).",
        discussion: """
            A bad file keeps the running configuration; the reason (file, line, key) is \
            printed and the exit status is 1. Sources added, removed and changed take effect \
            from the next run.

            EXAMPLES
              mirrorctl reload
              systemctl reload mirrord          (the unit's ExecReload sends SIGHUP)
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        // The daemon's answer names a bad file's error: no warning of our own as well.
        let c = try connection.resolve(warn: false)
        do {
            let (answer, _) = try c.client.call("POST", "/v1/reload", body: [:])
            print("reloaded: " + Format.s((answer as? [String: Any])?["summary"]))
        } catch ControlClient.Failure.daemonNotRunning(let m) {
            throw Abort(connection.daemonOnly(m) + (c.configError.map { "; and the file would not load: \($0)" } ?? ""), code: 3)
        } catch {
            throw Abort("reload failed, running configuration kept: \(error)", code: 1)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store: every version's blob exists and re-hashes to its SHA-256.",
        discussion: """
            Also runs SQLite's integrity_check. Reads the store directly (the daemon may be \
            running). Exit status 1 when any problem is found; each is printed with the blob \
            or row it concerns.

            EXAMPLES
              mirrorctl verify --config /etc/mirrord/mirrord.toml
              mirrorctl verify --db /var/lib/mirrord/mirror.sqlite3 --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let c = try connection.resolve()
        let report: VerifyReport
        do {
            report = try Verifier.verify(database: try c.database(), blobs: try BlobStore(root: c.blobsRoot))
        } catch let abort as Abort {
            throw abort
        } catch {
            throw Abort("\(error)", code: 1)
        }
        if json {
            FileHandle.standardOutput.write(Data(Reports.encode([
                "versions": report.versions, "blobs": report.blobs, "bytes": report.bytes,
                "unreferenced_blobs": report.unreferencedBlobs, "problems": report.problems])))
        } else {
            print("verified \(Format.plural(report.versions, "version")) in \(Format.plural(report.blobs, "blob")) "
                + "(\(Format.bytes(report.bytes))), \(report.unreferencedBlobs) unreferenced: "
                + (report.problems.isEmpty ? "ok" : "\(Format.plural(report.problems.count, "problem"))"))
            report.problems.forEach { print("  " + $0) }
        }
        if !report.problems.isEmpty { throw Abort("store has \(report.problems.count) problem(s)", code: 1) }
    }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List recent runs with their counters.",
        discussion: """
            Newest first: trigger (startup, scheduled, manual for `sync now`, once for \
            `mirrord --once`), status, start time, \
            bodies fetched, 304s, new documents, new versions, new revisions, errors, and its \
            scope: all documents (--all) or those due, and the sources whose indexes it polled \
            (a scheduled run polls those whose poll_interval came). A run with errors still \
            completed; `mirrorctl list` names each failing URL.

            EXAMPLES
              mirrorctl runs --limit 5
              mirrorctl runs --json | jq '.[0]'
            """)

    @OptionGroup var connection: ConnectionOptions
    // Unconditional: `--limit -1` is a value to refuse, not a missing one.
    @Option(parsing: .unconditional, help: "How many runs.") var limit = 20
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let c = try connection.resolve()
        let (runs, _) = try c.read("/v1/runs?limit=\(limit)") { db in try db.runs(limit: limit).map(Reports.run) }
        let list = runs as? [[String: Any]] ?? []
        if json {
            FileHandle.standardOutput.write(Data(Reports.encode(list)))
            return
        }
        print(Format.table(["RUN", "TRIGGER", "STATUS", "STARTED", "FETCHED", "304", "NEW", "VERSIONS", "REVISIONS", "ERRORS", "SCOPE"],
                           list.map { r in
                               [Format.s(r["id"]), Format.s(r["trigger"]), Format.s(r["status"]), Format.s(r["started"]),
                                Format.s(r["fetched"]), Format.s(r["not_modified"]), Format.s(r["new_documents"]),
                                Format.s(r["new_versions"]), Format.s(r["new_revisions"]), Format.s(r["errors"]), Format.s(r["scope"])]
                           }))
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List mirrored documents.",
        discussion: """
            EXAMPLES
              mirrorctl list --kind article
              mirrorctl list --json | jq '.[] | select(.error != null)'
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case article, index, asset
    }

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Only documents of this kind (article, index or asset).") var kind: Kind?
    @Option(help: ArgumentHelp("Only this source's documents.", valueName: "name")) var source: String?
    @Flag(help: "Print JSON (url, kind, source, title, versions, revisions, last_status, last_checked, raw_sha256, content_sha256, error).") var json = false

    func run() throws {
        let c = try connection.resolve()
        var query: [String] = []
        if let kind { query.append("kind=\(kind.rawValue)") }
        if let source { query.append("source=\(source.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? source)") }
        let path = "/v1/documents" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        // A source the config does not name lists the documents it kept, if any (it was taken
        // out); with none it is a mistyped name: exit 2, as for any bad argument.
        let list: [[String: Any]]
        do {
            let (docs, _) = try c.read(path) { db in
                if let source, c.config?.source(named: source) == nil, try !db.hasDocuments(source: source) {
                    throw Abort(c.config?.noSource(source) ?? "no source named '\(source)'", code: 2)
                }
                return try Reports.documents(database: db, kind: kind?.rawValue, source: source)
            }
            list = docs as? [[String: Any]] ?? []
        } catch let e as Abort where source != nil && e.message.hasPrefix("no source named ") {
            throw Abort(e.message, code: 2)  // the daemon's 404 for it
        }
        if json {
            FileHandle.standardOutput.write(Data(Reports.encode(list)))
            return
        }
        print(Format.table(["KIND", "VER", "REV", "STATUS", "CHECKED", "NEXT CHECK", "URL", "TITLE / ERROR"], list.map { d in
            let asset = d["kind"] as? String == "asset"
            let note = ((d["error"] as? String).map { "error: " + $0 }
                ?? (asset ? "\(Format.bytes(Format.int(d["size"]))) \(Format.s(d["content_type"]))" : Format.s(d["title"])))
                + ((d["fetch_url"] as? String).map { " (moved to \($0))" } ?? "")
            let next = (d["next_check"] as? String).map { $0.hasPrefix("4001-") ? "never" : $0 } ?? "next run"
            // No HTTP status (connection refused, a timeout, a body over the limit): "-", not 0.
            let status = (d["last_status"] as? Int).map { $0 == 0 ? "-" : "\($0)" } ?? Format.s(d["last_status"])
            return [Format.s(d["kind"]), Format.s(d["versions"]), Format.s(d["revisions"]), status,
                    Format.s(d["last_checked"]), d["gone"] as? Bool == true ? "gone; " + next : next, Format.s(d["url"]), note]
        }))
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the revisions of one document, oldest first.",
        discussion: """
            One line per revision: number, date, short content hash, paragraphs added (+), \
            removed (-) and changed (~) against the revision before with the header fields \
            that changed in brackets ([title, reporter]), title, and "revert to rN" \
            when a revision restores an earlier one. Versions whose content did not change (a \
            new cache-buster, an edited promotion line) are not revisions and are not listed. \
            When the document's last check failed, a last line says how (a gone article: HTTP \
            404 or 410).

            EXAMPLES
              mirrorctl log https://example.org/news/pages/1/101.md
              mirrorctl log URL --json
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The document's URL (as listed by mirrorctl list, or as linked from an index).") var url: String
    @Flag(help: "Print JSON (revision, fetched_at, raw_sha256, content_sha256, title, reverts_to, added, removed, changed, fields_changed).") var json = false

    func run() throws {
        let c = try connection.resolve()
        let (revs, _) = try c.read("/v1/revisions?url=\(Format.query(url))") { db in
            try History(database: db, blobs: try BlobStore(root: c.blobsRoot), config: c.config).log(url: url)
        }
        let list = revs as? [[String: Any]] ?? []
        if json {
            FileHandle.standardOutput.write(Data(Reports.encode(list)))
            return
        }
        // The document's last check, when it failed: a gone article's log had looked like one
        // still served (DESIGN: a recorded error is visible in `status` and `log`).
        let state = try? c.read("/v1/documents?url=\(Format.query(url))") { db in
            try Reports.documents(database: db, kind: nil, source: nil, url: url, config: c.config)
        }
        let doc = (state?.0 as? [[String: Any]])?.first
        let failure = doc.flatMap(Reports.failedCheck)
        if list.isEmpty {
            // Known, but never stored (every check failed): an empty log, as `git log` of a
            // path without commits, with a word on stderr so that it does not look like a hang.
            let unchecked = doc.map { $0["last_checked"] is NSNull } ?? false
            let why = failure.map { "\(url): no revision stored yet; \($0)" }
                ?? (unchecked ? "\(url): not checked yet (it is, in the next run)" : "\(ReportError.noRevisions(url))")
            FileHandle.standardError.write(Data("mirrorctl: \(why)\n".utf8))
            return
        }
        for r in list {
            let hash = (r["content_sha256"] as? String).map { String($0.prefix(12)) } ?? "-"
            let revert = (r["reverts_to"] as? NSNumber).map { "  (revert to r\($0))" } ?? ""
            let fields = (r["fields_changed"] as? [String]) ?? []
            let stats = "+\(Format.int(r["added"])) -\(Format.int(r["removed"])) ~\(Format.int(r["changed"]))"
                + (fields.isEmpty ? "" : " [" + fields.joined(separator: ", ") + "]")
            print("r\(Format.s(r["revision"]))  \(Format.s(r["fetched_at"]))  \(hash)  \(stats)  \(Format.s(r["title"]))\(revert)")
        }
        if let failure { print(failure) }
    }
}

/// `r2` or `2`.
func parseRevision(_ text: String) throws -> Int {
    guard let n = Int(text.hasPrefix("r") ? String(text.dropFirst()) : text), n >= 1 else {
        throw ValidationError("'\(text)' is not a revision (r1, r2, … or 1, 2, …)")
    }
    return n
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the parsed copy of a revision (or its raw bytes).",
        discussion: """
            URL@REV picks a revision (r2 or 2); without it, the latest. The parsed copy is \
            regenerated from the stored raw bytes by the current parser.

            EXAMPLES
              mirrorctl show https://example.org/news/pages/1/101.md
              mirrorctl show https://example.org/news/pages/1/101.md@r1 --json
              mirrorctl show https://example.org/news/pages/1/101.md@1 --raw > r1.md
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "URL[@REV]") var target: String
    @Flag(help: "The raw bytes as served.") var raw = false
    @Flag(help: "The parsed copy as JSON.") var json = false

    func validate() throws {
        _ = try Self.split(target)
    }

    /// `URL@REV` → the URL and the revision; a URL without `@r2`/`@2` at its end is whole (a
    /// URL may hold an @ of its own). `@0` and `@r0` ask for a revision that cannot exist.
    static func split(_ target: String) throws -> (url: String, revision: Int?) {
        guard let at = target.lastIndex(of: "@") else { return (target, nil) }
        let suffix = String(target[target.index(after: at)...])
        let digits = suffix.hasPrefix("r") ? suffix.dropFirst() : Substring(suffix)
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return (target, nil) }
        return (String(target[..<at]), try parseRevision(suffix))
    }

    func run() throws {
        let c = try connection.resolve()
        let (url, rev) = try Self.split(target)
        let format = raw ? "raw" : json ? "json" : "md"
        let path = "/v1/show?url=\(Format.query(url))&format=\(format)" + (rev.map { "&rev=\($0)" } ?? "")
        let bytes: [UInt8]
        do {
            bytes = try c.readRaw(path) { h in
                let shown = try h.show(url: url, revision: rev)
                return raw ? shown.raw : json ? shown.json : shown.markdown
            }
        } catch let e as Abort where rev == nil && url.contains("@") && e.message.hasSuffix("not a mirrored document (see mirrorctl list)") {
            // `URL@x`: read whole (a URL may hold an @), but the user likely meant a revision.
            throw Abort(e.message + "; a revision is written URL@r2 or URL@2", code: e.code)
        }
        FileHandle.standardOutput.write(Data(bytes))
    }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what changed between two revisions of a document.",
        discussion: """
            By default the previous revision against the latest; with REV1, that revision \
            against the latest; with both, REV1 against REV2. Title and dateline changes come \
            first, then the body, paragraph by paragraph: '  ' unchanged, '- ' removed, \
            '+ ' added, '~ ' edited with [-deleted-]{+inserted+} inside (characters for \
            Chinese, words for Latin text; ¶ marks a split or merged paragraph).

            EXAMPLES
              mirrorctl diff https://example.org/news/pages/1/101.md
              mirrorctl diff URL r1 r3 --color=always | less -R
              mirrorctl diff URL --html > changes.html
              mirrorctl diff URL --json
            """)

    enum ColorMode: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The document's URL.") var url: String
    @Argument(help: "From this revision (r1 or 1).") var rev1: String?
    @Argument(help: "To this revision (default: the latest).") var rev2: String?
    @Flag(help: "The operations as JSON.") var json = false
    @Flag(help: "One self-contained side-by-side HTML page.") var html = false
    @Option(help: "Colour the output: auto (on a terminal), always or never.") var color: ColorMode = .auto
    // Unconditional: `-U -1` is a value to refuse, not a missing one.
    @Option(name: [.customShort("U"), .long], parsing: .unconditional, help: "Unchanged paragraphs shown around each change.") var context = 1

    func validate() throws {
        if let rev1 { _ = try parseRevision(rev1) }
        if let rev2 { _ = try parseRevision(rev2) }
        if json && html { throw ValidationError("--json and --html are exclusive") }
        if context < 0 { throw ValidationError("--context must be ≥ 0") }
    }

    func run() throws {
        let c = try connection.resolve()
        let from = try rev1.map(parseRevision), to = try rev2.map(parseRevision)
        let useColor = color == .always || (color == .auto && isatty(STDOUT_FILENO) == 1 && !json && !html)
        let format = json ? "json" : html ? "html" : "text"
        var path = "/v1/diff?url=\(Format.query(url))&format=\(format)&context=\(context)"
        if let from { path += "&from=\(from)" }
        if let to { path += "&to=\(to)" }
        if useColor {
            // Colour is a terminal concern: render locally from the JSON-free store path when
            // possible, else recolour the plain text the daemon sends.
            let text = try c.readRaw(path) { h in Array(try h.diff(url: url, from: from, to: to, context: context).renderer.text().utf8) }
            FileHandle.standardOutput.write(Data(Format.colorize(String(decoding: text, as: UTF8.self)).utf8))
            return
        }
        let bytes = try c.readRaw(path) { h in
            let (r, title) = try h.diff(url: url, from: from, to: to, context: context)
            switch format {
            case "json": return Reports.encode(r.jsonObject())
            case "html": return Array(r.html(title: title).utf8)
            default: return Array(r.text().utf8)
            }
        }
        FileHandle.standardOutput.write(Data(bytes))
    }
}

/// Terse, aligned human output.
enum Format {
    static func s(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "-"
        case let v as String: return v
        // JSON numbers arrive as NSNumber, which also casts to Bool: ask what it holds.
        case let v as NSNumber: return String(cString: v.objCType) == "c" ? (v.boolValue ? "yes" : "no") : v.stringValue
        default: return "\(value!)"
        }
    }

    static func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }

    /// A value for a query string.
    static func query(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }

    /// Colours plain `diff` output the way `git diff --word-diff=color` does: markers removed,
    /// deletions red, insertions green, hunk headers cyan.
    static func colorize(_ text: String) -> String {
        let red = "\u{1B}[31m", green = "\u{1B}[32m", cyan = "\u{1B}[36m", bold = "\u{1B}[1m", reset = "\u{1B}[0m"
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("--- ") || line.hasPrefix("+++ ") { return bold + line + reset }
            if line.hasPrefix("@@ ") { return cyan + line + reset }
            if line.hasPrefix("- ") { return red + line + reset }
            if line.hasPrefix("+ ") { return green + line + reset }
            return String(line)
                .replacingOccurrences(of: "[-", with: red).replacingOccurrences(of: "-]", with: reset)
                .replacingOccurrences(of: "{+", with: green).replacingOccurrences(of: "+}", with: reset)
        }.joined(separator: "\n")
    }

    /// Columns padded to their widest cell (display width: CJK counts double).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count - 1 { widths[i] = max(widths[i], width(cell)) }
        }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - width(cell))
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + ($1.properties.isEmojiPresentation || (0x1100...0xFFEF).contains($1.value) && !(0x2000...0x2FFF).contains($1.value) ? 2 : 1) }
    }

    static func duration(_ seconds: Int) -> String {
        let d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        if d > 0 { return "\(d)d \(h)h" }
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m \(s)s" }
        return "\(s)s"
    }

    static func plural(_ n: Int, _ word: String) -> String {
        n == 1 ? "\(n) \(word)" : "\(n) \(word)\(word.hasSuffix("x") ? "es" : "s")"
    }

    static func runLine(_ r: [String: Any]) -> String {
        let when = r["finished"] is NSNull || r["finished"] == nil
            ? "since \(s(r["started"]))" : "\(s(r["finished"])) in \(s(r["duration_s"]))s"
        return "run #\(s(r["id"])) (\(s(r["trigger"]))) \(s(r["status"])) \(when): "
            + "\(int(r["fetched"])) fetched, \(int(r["not_modified"])) not modified, "
            + "\(plural(int(r["new_documents"]), "new document")), \(plural(int(r["new_versions"]), "new version")), "
            + "\(plural(int(r["new_revisions"]), "new revision")), \(plural(int(r["errors"]), "error"))"
    }

    static func bytes(_ n: Int) -> String {
        if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
        if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
        return "\(n) B"
    }

    static func status(_ o: [String: Any], socket: String, database: String?) -> String {
        var lines: [String] = []
        if let database {
            lines.append("mirrord: database \(database) (read directly; the daemon was not asked)")
        } else if o["daemon"] as? String == "running" {
            lines.append("mirrord: running, \(s(o["state"])), up \(duration(int(o["uptime_s"]))) (\(socket))")
        } else {
            lines.append("mirrord: not running (no answer on \(socket))")
        }
        if let cur = o["current_run"] as? [String: Any] {
            lines.append("  current: " + runLine(cur))
        }
        if let last = o["last_run"] as? [String: Any] {
            lines.append("  last:    " + runLine(last))
            if let error = last["error"] as? String, !error.isEmpty { lines.append("  reason:  " + error) }
        } else {
            lines.append("  last:    no run yet")
        }
        if let t = o["totals"] as? [String: Any] {
            let assets = int(t["assets"]) > 0 ? ", \(plural(int(t["assets"]), "image"))" : ""
            lines.append("  totals:  \(plural(int(t["documents"]), "document")) (\(plural(int(t["indexes"]), "index")), "
                + "\(plural(int(t["articles"]), "article"))\(assets)), \(plural(int(t["versions"]), "version")), "
                + "\(plural(int(t["revisions"]), "revision")), \(plural(int(t["errors"]), "error"))")
            lines.append("  store:   \(bytes(int(t["stored_bytes"]))) for \(bytes(int(t["raw_bytes"]))) of raw bodies")
        }
        let sources = o["sources"] as? [[String: Any]] ?? []
        if !sources.isEmpty {
            lines.append("")
            lines.append(table(["SOURCE", "LAST POLL", "NEXT POLL", "LAST ERROR"], sources.map {
                [s($0["name"]), s($0["last_poll"]), s($0["next_poll"]), s($0["last_error"])]
            }).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        return lines.joined(separator: "\n")
    }
}
