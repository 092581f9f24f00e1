import Foundation
import GRDB
import MirrorCore

/// What `mirrorctl verify` found.
public struct VerifyReport: Sendable {
    public var versions = 0
    public var blobs = 0
    public var bytes = 0
    /// One line per problem, naming the blob/row and what is wrong.
    public var problems: [String] = []
    public var unreferencedBlobs = 0
}

/// Checks the store's invariants: SQLite's own `integrity_check`, every version row's blob
/// present, and every referenced blob re-hashing to its name. Read-only.
public enum Verifier {
    public static func verify(database: MirrorDatabase, blobs: BlobStore) throws -> VerifyReport {
        var report = VerifyReport()
        let integrity = try database.pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        if integrity != ["ok"] {
            report.problems += integrity.map { "database: integrity_check: \($0)" }
        }
        // Each row's delta base must be the one its file's header names (retention keeps
        // what the row says).
        let bases = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, base_sha256 FROM blobs")
        }
        for row in bases {
            let sha: String = row["sha256"], base: String? = row["base_sha256"]
            guard blobs.contains(sha) else { continue }  // a missing blob is reported below if a version names it
            let inFile = blobs.storage(of: blobs.path(for: sha)).base
            if inFile != base {
                report.problems.append("\(blobs.path(for: sha)): a delta against \(inFile ?? "nothing"), but its row says \(base ?? "nothing")")
            }
        }
        let referenced = try database.pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT v.raw_sha256 AS sha, COUNT(*) AS n, MIN(d.url) AS url FROM versions v
                JOIN documents d ON d.id = v.document_id GROUP BY v.raw_sha256
                """)
        }
        for row in referenced {
            let sha: String = row["sha"]
            report.versions += row["n"] as Int
            report.blobs += 1
            do {
                let bytes = try blobs.get(sha)
                report.bytes += bytes.count
                let actual = SHA256.hex(bytes)
                if actual != sha {
                    report.problems.append("\(blobs.path(for: sha)): content hashes to \(actual) (a version of \(row["url"] as String))")
                }
            } catch {
                report.problems.append("\(error) (a version of \(row["url"] as String))")
            }
        }
        // Bases of deltas are in use too (`BlobStore.get` of a delta reads them).
        let known = Set(try database.pool.read { db in try String.fetchAll(db, sql: MirrorDatabase.keptBlobsSQL) })
        if let files = FileManager.default.enumerator(atPath: blobs.root) {
            for case let rel as String in files where rel.hasSuffix(".zst") {
                let name = String((rel as NSString).lastPathComponent.dropLast(4))
                if !known.contains(name) { report.unreferencedBlobs += 1 }
            }
        }
        return report
    }
}
