import ArgumentParser
import Foundation
import MirrorControl
import MirrorCore
import MirrorStore

/// `--config`, `--socket`, `--db`: accepted before or after the subcommand.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("mirrord's configuration (finds the socket and the database).", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Control socket (overrides the config's control_socket).", valueName: "path"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("Read the database directly (read-only commands, daemon not needed).", valueName: "path"))
    var db: String?

    static let defaultConfig = "/etc/mirrord/mirrord.toml"

    /// The configuration, if one was named or the default one exists.
    func loadConfig() throws -> MirrorConfig? {
        if let config { return try MirrorConfig.load(path: config) }
        if FileManager.default.fileExists(atPath: Self.defaultConfig) { return try MirrorConfig.load(path: Self.defaultConfig) }
        return nil
    }

    /// - Parameter warn: whether a config file that does not validate is reported here (a
    ///   warning); `reload` passes false, as the daemon's answer names the same error.
    /// A daemon-not-running message for a command only the daemon does, with a word on `--db`
    /// when that was the only way given (it reads the store; the socket named is the default).
    func daemonOnly(_ message: String) -> String {
        guard db != nil, config == nil, socket == nil else { return message }
        return message + " (--db reads the store only: give --config or --socket to reach the daemon)"
    }

    func resolve(warn: Bool = true) throws -> Connection {
        var cfg: MirrorConfig?
        var located: (controlSocket: String, stateDir: String)?
        var invalid: Error?
        do {
            cfg = try loadConfig()
        } catch {
            // Edited into a file that does not validate: the daemon still runs on the one it
            // read, and `reload` is how its error reaches the user. Its socket and store are
            // still found, with the error shown; a file that is no TOML at all stops here.
            let path = config ?? Self.defaultConfig
            guard let found = MirrorConfig.locations(path: path) else { throw Abort("\(error)", code: 2) }
            if warn {
                FileHandle.standardError.write(Data("mirrorctl: warning: \(error); using its control_socket and state_dir\n".utf8))
            }
            located = found
            invalid = error
        }
        let socket = self.socket ?? cfg?.controlSocket ?? located?.controlSocket ?? MirrorConfig.defaultControlSocket
        let db = self.db ?? cfg?.databasePath ?? located.map { MirrorConfig.databasePath(stateDir: $0.stateDir) }
        return Connection(config: cfg, client: ControlClient(socket: socket), databasePath: db, forceDatabase: self.db != nil,
                          configError: invalid)
    }
}

struct Connection {
    let config: MirrorConfig?
    let client: ControlClient
    let databasePath: String?
    /// `--db` given: read the database even if the daemon runs.
    let forceDatabase: Bool
    /// Why the named config file does not validate (its socket and store were found anyway).
    var configError: Error? = nil

    /// Where the blobs are: beside the database.
    var blobsRoot: String {
        (config?.stateDir ?? (databasePath.map { ($0 as NSString).deletingLastPathComponent } ?? MirrorConfig.defaultStateDir)) + "/blobs"
    }

    func database() throws -> MirrorDatabase {
        guard let databasePath else {
            throw Abort("mirrord is not running (no answer on \(client.socket)) and there is no database to read "
                + "(give --config or --db)", code: 3)
        }
        do {
            return try MirrorDatabase(path: databasePath, readOnly: true)
        } catch {
            throw Abort("\(error)", code: 1)
        }
    }

    /// History read straight from the store (daemon down or `--db`).
    func history() throws -> History {
        let db = try database()
        do {
            return History(database: db, blobs: try BlobStore(root: blobsRoot), config: config)
        } catch {
            throw Abort("\(error)", code: 1)
        }
    }

    /// Like `read`, for answers that are not JSON (text, HTML, raw bytes).
    func readRaw(_ path: String, fromStore: (History) throws -> [UInt8]) throws -> [UInt8] {
        try fallback(live: { try client.callRaw("GET", path) }, store: { try fromStore(try history()) }).0
    }

    /// Asks the daemon; when it is down (or `--db` was given) answers from the database.
    /// - Returns: the JSON and whether the daemon answered.
    func read(_ path: String, fromDatabase: (MirrorDatabase) throws -> Any) throws -> (Any, Bool) {
        try fallback(live: { try client.call("GET", path).0 }, store: { try fromDatabase(try database()) })
    }

    /// `live` unless the daemon is down or `--db` was given, then `store`; every failure
    /// becomes a one-line `Abort`.
    private func fallback<T>(live: () throws -> T, store: () throws -> T) throws -> (T, Bool) {
        if !forceDatabase {
            do {
                return (try live(), true)
            } catch ControlClient.Failure.daemonNotRunning {
                // fall through to the store
            } catch let ControlClient.Failure.api(status, message) where status == 404 || status == 400 {
                throw Abort(message, code: 1)
            } catch {
                throw Abort("\(error)", code: 1)
            }
        }
        do {
            return (try store(), false)
        } catch let abort as Abort {
            throw abort
        } catch {
            throw Abort("\(error)", code: 1)
        }
    }
}

/// A one-line failure and an exit status.
struct Abort: Error, CustomStringConvertible {
    let message: String
    let code: Int32

    init(_ message: String, code: Int32) {
        self.message = message
        self.code = code
    }

    var description: String { message }
}

@main
struct Mirrorctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mirrorctl",
        abstract: "Control and query a running mirrord.",
        discussion: """
            mirrorctl talks to mirrord over its control socket (HTTP/1.1 + JSON; \
            `curl --unix-socket SOCK http://localhost/v1/status` works too). Read-only commands \
            also work on the database directly when the daemon is down.

            EXAMPLES
              mirrorctl --config /etc/mirrord/mirrord.toml status
              mirrorctl status --json
              mirrorctl sync now --wait
              mirrorctl list --kind article
              mirrorctl log https://example.org/news/pages/1/101.md
              mirrorctl diff https://example.org/news/pages/1/101.md

            EXIT STATUS
              0 success · 1 failure · 2 bad usage or config
              3 daemon not running (status, sync now, reload, reparse)
            """,
        version: "0.1.0",
        subcommands: [Status.self, Sync.self, Runs.self, List.self, Log.self, Show.self, Diff.self, Reparse.self,
                      Reload.self, Verify.self])

    /// Moves `--config/--socket/--db` given before the subcommand to after it, so both
    /// `mirrorctl --config F status` and `mirrorctl status --config F` work.
    static func reorder(_ args: [String]) -> [String] {
        let globals: Set = ["--config", "--socket", "--db"]
        var leading: [String] = []
        var rest = args[...]
        while let first = rest.first, first.hasPrefix("--") {
            let name = first.split(separator: "=", maxSplits: 1).first.map(String.init) ?? first
            guard globals.contains(name) else { break }
            leading.append(first)
            rest = rest.dropFirst()
            if !first.contains("="), let value = rest.first {
                leading.append(value)
                rest = rest.dropFirst()
            }
        }
        // Leading options go after the subcommand path (`sync now`), before the rest.
        var path: [String] = []
        while let first = rest.first, !first.hasPrefix("-") {
            path.append(first)
            rest = rest.dropFirst()
            if path.count == 2 || !(path.first == "sync") { break }
        }
        return path + leading + Array(rest)
    }

    /// The global options and their values taken out of `args`, and what is left.
    static func splitGlobals(_ args: [String]) -> (globals: [String], rest: [String]) {
        let names: Set = ["--config", "--socket", "--db"]
        var globals: [String] = [], rest: [String] = []
        var i = 0
        while i < args.count {
            let name = args[i].split(separator: "=", maxSplits: 1).first.map(String.init) ?? args[i]
            if names.contains(name) {
                globals.append(args[i])
                if !args[i].contains("="), i + 1 < args.count { globals.append(args[i + 1]); i += 1 }
            } else {
                rest.append(args[i])
            }
            i += 1
        }
        return (globals, rest)
    }

    /// A first word that is no command, with the nearest command when one is close
    /// (`stauts` → `status`); nil when the command line names a command (or `help`).
    static func unknownCommand(_ args: [String]) -> String? {
        let names = configuration.subcommands.map { $0._commandName }
        let words = splitGlobals(args).rest.filter { !$0.hasPrefix("-") }
        // `help WORD`: WORD must be a command too (ArgumentParser printed the overview, exit 0).
        let asked = words.first == "help" ? words.dropFirst().first : words.first
        guard let word = asked, word != "help", !names.contains(word) else { return nil }
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var row = Array(0...b.count)
            for i in 1...max(1, a.count) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in 1...max(1, b.count) where !b.isEmpty {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let near = names.min { distance(word, $0) < distance(word, $1) }.flatMap { distance(word, $0) <= 2 ? $0 : nil }
        return "unknown command '\(word)'" + (near.map { "; did you mean '\($0)'?" } ?? "")
            + " (commands: \(names.joined(separator: ", ")); mirrorctl help COMMAND is its manual)"
    }

    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        if let unknown = unknownCommand(args) {
            FileHandle.standardError.write(Data("mirrorctl: \(unknown)\n".utf8))
            Foundation.exit(2)
        }
        // `help` needs no configuration: `mirrorctl --config F help diff` is the diff manual.
        if splitGlobals(args).rest.first == "help" { args = splitGlobals(args).rest }
        do {
            var command = try parseAsRoot(reorder(args))
            try command.run()
        } catch let abort as Abort {
            FileHandle.standardError.write(Data("mirrorctl: \(abort.message)\n".utf8))
            Foundation.exit(abort.code)
        } catch {
            // Bad usage exits 2 (as the help promises), not ArgumentParser's 64.
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
