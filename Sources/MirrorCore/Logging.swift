import Foundation
import Logging

/// swift-log handler writing one event per line to stderr.
///
/// Under systemd (`JOURNAL_STREAM` set, see systemd.exec(5)) each line starts with the
/// sd-daemon(3) priority prefix (`<3>` error … `<7>` debug) so journald files it at the right
/// level; on a terminal the level is spelled out instead.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let journal: Bool

    public init(label: String, journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) {
        self.label = label
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// sd-daemon(3) priorities.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let explicit = event.metadata
        var all = self.metadata
        if let explicit { all.merge(explicit) { $1 } }
        var line = journal ? "<\(Self.priority(level))>" : "\(RFC3339.string(Date())) \(level.rawValue.uppercased()) "
        line += message.description.replacingOccurrences(of: "\n", with: " ")
        if !all.isEmpty {
            line += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Installs this handler for every logger of the process; level from `MIRRORD_LOG_LEVEL`.
    public static func bootstrap() {
        let requested = ProcessInfo.processInfo.environment["MIRRORD_LOG_LEVEL"]
        let level = requested.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        if let requested, Logger.Level(rawValue: requested.lowercased()) == nil {
            let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("MIRRORD_LOG_LEVEL=\(requested) is not a level (\(known)); using info\n".utf8))
        }
        LoggingSystem.bootstrap { label in
            var h = StderrLogHandler(label: label)
            h.logLevel = level
            return h
        }
    }
}
