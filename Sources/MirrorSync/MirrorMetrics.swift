import Foundation
import MirrorCore
import MirrorFetch
import MirrorStore
import Prometheus

/// The daemon's counters and gauges in the Prometheus text format (swift-prometheus), served
/// at `GET /metrics`. Counters live in memory and start at zero with the process, as
/// Prometheus expects; gauges are read from the store at each scrape.
public final class MirrorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    public init() {}

    /// `mirrord_<name>_<unit>` with its help text.
    private func d(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "mirrord", metricName: name, unitName: unit, helpText: help)
    }

    /// `2xx`…`5xx` for an answer, `error` for a transfer that failed.
    func fetch(status: Int?, bytes: Int) {
        let cls = status.map { "\($0 / 100)xx" } ?? "error"
        fetchCounters.counter(cls) {
            registry.makeCounter(descriptor: d("fetches", "total", "Fetches by HTTP status class (error: no answer)"), labels: [("class", cls)])
        }.increment()
        if bytes > 0 {
            fetchCounters.counter("bytes") {
                registry.makeCounter(descriptor: d("fetched_bytes", "total", "Body bytes received"))
            }.increment(by: Int64(bytes))
        }
    }

    /// The fetch counters once made: `makeCounter` builds its descriptor's strings and looks
    /// the metric up under the registry's lock on every call, 2 % of a resync's CPU at one call
    /// per fetch. A counter still appears at its first use, as before.
    private let fetchCounters = MadeCounters()

    private final class MadeCounters: @unchecked Sendable {
        private let lock = NSLock()
        private var made: [String: Counter] = [:]

        func counter(_ key: String, _ make: () -> Counter) -> Counter {
            lock.lock()
            defer { lock.unlock() }
            if let c = made[key] { return c }
            let c = make()
            made[key] = c
            return c
        }
    }

    func error(_ kind: String) {
        registry.makeCounter(descriptor: d("errors", "total", "Failed checks by kind"), labels: [("kind", kind)]).increment()
    }

    func newVersion(revision: Bool) {
        registry.makeCounter(descriptor: d("new_versions", "total", "Distinct raw bodies recorded")).increment()
        if revision {
            registry.makeCounter(descriptor: d("new_revisions", "total", "Content changes recorded")).increment()
        }
    }

    func run(_ r: RunRecord) {
        registry.makeCounter(descriptor: d("runs", "total", "Sync runs by trigger and outcome"), labels: [("trigger", r.trigger), ("status", r.status)]).increment()
        if let finished = r.finished {
            registry.makeDurationHistogram(
                descriptor: d("run_duration", "seconds", "Duration of sync runs"),
                buckets: [.seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300), .seconds(900), .seconds(3600)]).record(.milliseconds(Int64(finished.timeIntervalSince(r.started) * 1000)))
        }
    }

    /// A failure's kind for `mirrord_errors_total`: what an operator would alert on.
    static func kind(_ e: FetchError) -> String {
        switch e {
        case let .transfer(code, _):
            switch code {
            case 28: return "timeout"
            case 6, 5: return "dns"
            case 7: return "connect"
            case 18, 52, 56: return "truncated"
            case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: return "tls"
            case 47: return "redirects"
            default: return "transfer"
            }
        case .tooLarge: return "too_large"
        case let .http(status): return status == 404 || status == 410 ? "gone" : "http_\(status / 100)xx"
        case .redirectLoop: return "redirect_loop"
        case .badContentEncoding, .undecodableBody: return "encoding"
        case .cancelled: return "cancelled"
        case .hostDown: return "host_down"
        case .hostBusy: return "host_busy"
        }
    }

    /// The exposition, with the store's gauges refreshed.
    /// - Parameter sources: the configured sources' names (what `mirrord_due_documents` counts).
    public func render(database: MirrorDatabase, sources: [String], now: Date = Date()) throws -> [UInt8] {
        let totals = try database.totals()
        for (kind, n) in [("index", totals.indexes), ("article", totals.articles), ("asset", totals.assets)] {
            registry.makeGauge(descriptor: d("documents", "", "Documents by kind"), labels: [("kind", kind)]).set(to: Double(n))
        }
        registry.makeGauge(descriptor: d("versions", "", "Versions stored")).set(to: Double(totals.versions))
        registry.makeGauge(descriptor: d("revisions", "", "Revisions stored")).set(to: Double(totals.revisions))
        registry.makeGauge(descriptor: d("documents_in_error", "", "Documents whose last check failed")).set(to: Double(totals.errors))
        registry.makeGauge(descriptor: d("due_documents", "", "Documents a run started now would check: every index of a configured source, and the articles and assets whose next check has come"))
            .set(to: Double(try database.dueCount(now: now, sources: sources)))
        registry.makeGauge(descriptor: d("store_raw_bytes", "", "Bytes of distinct raw bodies")).set(to: Double(totals.rawBytes))
        registry.makeGauge(descriptor: d("store_bytes", "", "Bytes the compressed blobs occupy")).set(to: Double(totals.storedBytes))
        return registry.emitToBuffer()
    }
}
