import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Remembers (inode, size, mtime) → SHA-256 in SQLite (WAL), so unchanged files are never
/// rehashed. It is only a cache: if the database is missing or unreadable it is rebuilt empty,
/// which costs time, never correctness.
public final class StateIndex {
    struct Row { var size: Int64; var mtimeNs: Int64; var digest: Digest }

    private let db: SQLiteDatabase?
    private var rows: [UInt64: Row] = [:]
    private var pending: [(UInt64, Row)] = []
    private let lock = NSLockLike()
    /// Entries whose mtime is at or after this are not recorded: a file written within the
    /// timestamp granularity of our read could change again without changing its mtime.
    private let cutoffNs: Int64

    public init(path: String) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        cutoffNs = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec) - 20_000_000
        db = StateIndex.open(path: path, retry: true)
        if let db { rows = (try? StateIndex.load(db)) ?? [:] }
    }

    private static func open(path: String, retry: Bool) -> SQLiteDatabase? {
        do {
            let db = try SQLiteDatabase(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            try db.execute("CREATE TABLE IF NOT EXISTS state (inode INTEGER PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, hash BLOB NOT NULL)")
            _ = try load(db)
            return db
        } catch {
            guard retry else { return nil }
            // Corrupt or unreadable: start over (it is only a cache).
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            return open(path: path, retry: false)
        }
    }

    private static func load(_ db: SQLiteDatabase) throws -> [UInt64: Row] {
        var out: [UInt64: Row] = [:]
        try db.prepare("SELECT inode, size, mtime, hash FROM state").query { r in
            guard let blob = r.blob(3), blob.count == 32 else { return }
            out[UInt64(bitPattern: r.int(0))] = Row(size: r.int(1), mtimeNs: r.int(2), digest: Digest(bytes: blob))
        }
        return out
    }

    /// The digest recorded for a file whose inode, size and mtime are unchanged.
    public func lookup(_ st: FileStatus) -> Digest? {
        lock.lock()
        defer { lock.unlock() }
        guard let row = rows[st.inode], row.size == st.size, row.mtimeNs == st.mtimeNs else { return nil }
        return row.digest
    }

    /// Remembers a file's digest (written to the database by `flush`).
    /// `written`: mlv wrote these bytes itself just now, so a recent mtime is no reason for doubt.
    public func record(_ st: FileStatus, _ digest: Digest, written: Bool = false) {
        guard written || st.mtimeNs < cutoffNs else { return }
        lock.lock()
        defer { lock.unlock() }
        if let row = rows[st.inode], row.size == st.size, row.mtimeNs == st.mtimeNs, row.digest == digest { return }
        let row = Row(size: st.size, mtimeNs: st.mtimeNs, digest: digest)
        rows[st.inode] = row
        pending.append((st.inode, row))
    }

    /// Writes pending entries in one transaction. Failures are ignored: the index is a cache.
    public func flush() {
        lock.lock()
        let batch = pending
        pending = []
        lock.unlock()
        guard let db, !batch.isEmpty else { return }
        _ = try? db.transaction {
            let stmt = try db.prepare("INSERT OR REPLACE INTO state (inode, size, mtime, hash) VALUES (?, ?, ?, ?)")
            for (inode, row) in batch {
                try stmt.run([.int(Int64(bitPattern: inode)), .int(row.size), .int(row.mtimeNs), .blob(row.digest.bytes)])
            }
        }
    }
}

/// A pthread mutex, so this file needs no Foundation.
final class NSLockLike: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func lock() { pthread_mutex_lock(&m) }
    func unlock() { pthread_mutex_unlock(&m) }
}
