import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Remembers (inode, size, mtime) → SHA-256 in SQLite (WAL), so unchanged files are never
/// rehashed. It is only a cache: if the database is missing or unreadable it is rebuilt empty,
/// which costs time, never correctness.
package final class StateIndex {
    struct Row { var size: Int64; var mtimeNs: Int64; var digest: Digest }

    private let path: String
    private var opened = false
    private var openedDB: SQLiteDatabase?
    private var openedCutoffNs: Int64 = 0
    private let openLock = Lock()
    /// Rows recorded and not yet written (at most `batchRows`); the rest are asked of SQLite
    /// one inode at a time, so memory never holds the whole table.
    private var pending: [UInt64: Row] = [:]
    private var lookupStatement: SQLiteDatabase.Statement?
    private var pendingComplete: [String] = []
    private var pendingUsed: [String] = []
    private let lock = Lock()
    /// One flush at a time (a worker that fills the batch writes it while others go on recording).
    private let flushLock = Lock()
    /// The connection is opened without SQLite's own mutex: a flush and a lookup, from two
    /// workers, take turns on it here.
    private let dbLock = Lock()
    /// Rows kept in memory before they are written: memory stays the same whatever the number of files.
    static let batchRows = 32_768
    /// Entries whose mtime is at or after this are not recorded: a file written within the
    /// timestamp granularity of our read could change again without changing its mtime.
    /// Taken when the index is first asked or told anything, which comes before any file it
    /// will hear about is read.
    private var cutoffNs: Int64 { openIfNeeded(); return openedCutoffNs }
    private var db: SQLiteDatabase? { openIfNeeded(); return openedDB }

    /// The wall clock, in nanoseconds since 1970 (injected: a test fixes it).
    private let now: () -> Int64

    /// Nothing is opened or created until first use: a command that finds nothing to look at
    /// never opens the database.
    package init(path: String, now: @escaping () -> Int64 = StateIndex.realtimeNanoseconds) {
        self.path = path
        self.now = now
    }

    package static func realtimeNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private func openIfNeeded() {
        openLock.lock()
        defer { openLock.unlock() }
        guard !opened else { return }
        opened = true
        openedCutoffNs = now() - 20_000_000
        try? FS.makeDirectories(Path.parent(path))
        openedDB = StateIndex.open(path: path, retry: true)
    }

    private static func open(path: String, retry: Bool) -> SQLiteDatabase? {
        do {
            let db = try SQLiteDatabase(path: path)
            try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            try db.execute("""
                CREATE TABLE IF NOT EXISTS state (inode INTEGER PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, hash BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY, hash TEXT NOT NULL, fingerprint BLOB NOT NULL, files BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS folder_parts (path TEXT NOT NULL, folder TEXT NOT NULL, fingerprint BLOB NOT NULL, files BLOB NOT NULL,
                                                         PRIMARY KEY (path, folder)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS complete (hash TEXT PRIMARY KEY);
                CREATE TABLE IF NOT EXISTS used (hash TEXT PRIMARY KEY, at INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS watch_tokens (path TEXT PRIMARY KEY, hash TEXT NOT NULL, token TEXT NOT NULL, dirty BLOB NOT NULL);
                """)
            try db.execute("SELECT count(*) FROM folders")
            return db
        } catch {
            guard retry else { return nil }
            // Corrupt or unreadable: start over (it is only a cache).
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            return open(path: path, retry: false)
        }
    }

    /// The digest recorded for a file whose inode, size and mtime are unchanged.
    package func lookup(_ st: FileStatus) -> Digest? {
        lock.lock()
        let recent = pending[st.inode]
        lock.unlock()
        if let row = recent { return row.size == st.size && row.mtimeNs == st.mtimeNs ? row.digest : nil }
        // A row a flush took from `pending` meanwhile is in the database once the flush lets go.
        guard let db else { return nil }
        dbLock.lock()
        defer { dbLock.unlock() }
        if lookupStatement == nil { lookupStatement = try? db.prepare("SELECT size, mtime, hash FROM state WHERE inode = ?") }
        var out: Digest?
        try? lookupStatement?.query([.int(Int64(bitPattern: st.inode))]) { r in
            guard r.int(0) == st.size, r.int(1) == st.mtimeNs else { return }
            out = r.withBlob(2) { $0.count == 32 ? Digest(raw: $0.baseAddress!) : nil }
        }
        return out
    }

    /// Remembers a file's digest (written to the database by `flush`).
    /// `written`: mlv wrote these bytes itself just now, so a recent mtime is no reason for doubt.
    package func record(_ st: FileStatus, _ digest: Digest, written: Bool = false) {
        guard written || st.mtimeNs < cutoffNs else { return }
        lock.lock()
        pending[st.inode] = Row(size: st.size, mtimeNs: st.mtimeNs, digest: digest)
        let full = pending.count >= Self.batchRows
        lock.unlock()
        if full { flush() }
    }

    /// One folder inside a tracked folder, as recorded: its files' fingerprint and a snapshot of
    /// each file in walk order (see `TreeScanner.fileSnapshot`). Kept per folder, so a status
    /// reads only the snapshots of the folders whose fingerprint changed.
    package struct FolderPart {
        package var folder: String
        package var fingerprint: [UInt8]
        package var files: [UInt8]
    }

    /// What was recorded for a tracked folder the last time it matched its pointer: the `.dir`
    /// hash and the fingerprint of all its files.
    package func directory(_ path: String) -> (hash: String, fingerprint: [UInt8])? {
        guard let db else { return nil }
        var out: (String, [UInt8])?
        try? db.prepare("SELECT hash, fingerprint FROM folders WHERE path = ?").query([.text(path)]) { r in
            if let h = r.text(0), let f = r.blob(1) { out = (h, f) }
        }
        return out
    }

    /// The fingerprint recorded for each folder (holding files) of a tracked folder.
    package func directoryParts(_ path: String) -> [String: [UInt8]] {
        guard let db else { return [:] }
        var out: [String: [UInt8]] = [:]
        try? db.prepare("SELECT folder, fingerprint FROM folder_parts WHERE path = ?").query([.text(path)]) { r in
            if let f = r.text(0), let fp = r.blob(1) { out[f] = fp }
        }
        return out
    }

    /// The snapshot recorded for one folder of a tracked folder.
    package func directoryPart(_ path: String, folder: String) -> [UInt8]? {
        guard let db else { return nil }
        var out: [UInt8]?
        try? db.prepare("SELECT files FROM folder_parts WHERE path = ? AND folder = ?").query([.text(path), .text(folder)]) { r in out = r.blob(0) ?? [] }
        return out
    }

    /// Starts recording that a tracked folder holds a hash: its inner folders' parts are written
    /// a batch at a time as they are made (memory holds one batch, not a million files'
    /// snapshots), its own row last (see `FolderRecorder`).
    package func recordDirectory(_ path: String) -> FolderRecorder {
        FolderRecorder(state: self, path: path)
    }

    /// A record cut short leaves no row: the old one goes before the first part is written.
    fileprivate func beginDirectory(_ path: String) {
        guard let db else { return }
        dbLock.lock()
        defer { dbLock.unlock() }
        _ = try? db.transaction {
            try db.prepare("DELETE FROM folders WHERE path = ?").run([.text(path)])
            try db.prepare("DELETE FROM folder_parts WHERE path = ?").run([.text(path)])
            try db.prepare("DELETE FROM watch_tokens WHERE path = ?").run([.text(path)])
        }
    }

    /// The watcher's token of when a tracked folder was last compared with `hash` (see
    /// `WatchDaemon`), and the files it found modified then (workspace-relative): a record made
    /// again since (add, checkout) drops it.
    package func watchToken(_ path: String, hash: String) -> (token: String, dirty: [String])? {
        guard let db else { return nil }
        dbLock.lock()
        defer { dbLock.unlock() }
        var out: (String, [String])?
        try? db.prepare("SELECT token, dirty FROM watch_tokens WHERE path = ? AND hash = ?").query([.text(path), .text(hash)]) { r in
            guard let token = r.text(0) else { return }
            let dirty = (r.blob(1) ?? []).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            out = (token, dirty)
        }
        return out
    }

    package func setWatchToken(_ path: String, hash: String, token: String, dirty: [String]) {
        guard let db else { return }
        dbLock.lock()
        defer { dbLock.unlock() }
        var list: [UInt8] = []
        for d in dirty { list += Array(d.utf8); list.append(0) }
        try? db.prepare("INSERT OR REPLACE INTO watch_tokens (path, hash, token, dirty) VALUES (?, ?, ?, ?)")
            .run([.text(path), .text(hash), .text(token), .blob(list)])
    }

    fileprivate func writeParts(_ path: String, _ parts: [FolderPart]) {
        guard !parts.isEmpty, let db else { return }
        dbLock.lock()
        defer { dbLock.unlock() }
        _ = try? db.transaction {
            let part = try db.prepare("INSERT OR REPLACE INTO folder_parts (path, folder, fingerprint, files) VALUES (?, ?, ?, ?)")
            for p in parts { try part.run([.text(path), .text(p.folder), .blob(p.fingerprint), .blob(p.files)]) }
        }
    }

    /// The folder's row, once all its parts are written; or, when a file is too recent to trust
    /// its mtime (and mlv did not write it: `written`), the parts taken back.
    fileprivate func finishDirectory(_ path: String, hash: String, fingerprint: [UInt8], newestMtimeNs: Int64, written: Bool) {
        guard written || newestMtimeNs < cutoffNs else { return dropParts(path) }
        guard let db else { return }
        dbLock.lock()
        defer { dbLock.unlock() }
        try? db.prepare("INSERT OR REPLACE INTO folders (path, hash, fingerprint, files) VALUES (?, ?, ?, ?)")
            .run([.text(path), .text(hash), .blob(fingerprint), .blob([])])
    }

    /// The parts written for a folder that gets no row.
    fileprivate func dropParts(_ path: String) {
        guard let db else { return }
        dbLock.lock()
        defer { dbLock.unlock() }
        try? db.prepare("DELETE FROM folder_parts WHERE path = ?").run([.text(path)])
    }

    /// True when every object of this `.dir` hash was seen in the cache (cleared when objects are removed).
    package func isComplete(_ hash: String) -> Bool {
        guard let db else { return false }
        var found = false
        try? db.prepare("SELECT 1 FROM complete WHERE hash = ?").query([.text(hash)]) { _ in found = true }
        return found
    }

    package func markComplete(_ hash: String) {
        lock.lock()
        pendingComplete.append(hash)
        lock.unlock()
    }

    /// Records that outputs with these hashes (a file's object, a folder's manifest) were
    /// written, checked out, fetched or produced now: the bounded cache evicts the least
    /// recently used first.
    package func markUsed(_ hashes: [ContentHash]) {
        lock.lock()
        pendingUsed += hashes.map(\.description)
        lock.unlock()
    }

    /// When each recorded hash was last used (nanoseconds since 1970).
    package func lastUses() -> [String: Int64] {
        guard let db else { return [:] }
        var out: [String: Int64] = [:]
        try? db.prepare("SELECT hash, at FROM used").query { r in if let h = r.text(0) { out[h] = r.int(1) } }
        return out
    }

    /// Objects were removed from the cache: forget which folders were complete.
    package func forgetComplete() {
        try? db?.execute("DELETE FROM complete")
    }

    /// Writes pending entries in one transaction. Failures are ignored: the index is a cache.
    package func flush() {
        flushLock.lock()
        defer { flushLock.unlock() }
        lock.lock()
        let batch = pending, complete = pendingComplete, used = pendingUsed
        pending = [:]
        pendingComplete = []
        pendingUsed = []
        lock.unlock()
        // Rows recorded as `written` never needed the cutoff, so the database may not be open yet: it opens here.
        guard !(batch.isEmpty && complete.isEmpty && used.isEmpty), let db else { return }
        let at = now()
        dbLock.lock()
        defer { dbLock.unlock() }
        _ = try? db.transaction {
            let stmt = try db.prepare("INSERT OR REPLACE INTO state (inode, size, mtime, hash) VALUES (?, ?, ?, ?)")
            for (inode, row) in batch {
                try stmt.run([.int(Int64(bitPattern: inode)), .int(row.size), .int(row.mtimeNs), .blob(row.digest.bytes)])
            }
            let c = try db.prepare("INSERT OR REPLACE INTO complete (hash) VALUES (?)")
            for h in complete { try c.run([.text(h)]) }
            let u = try db.prepare("INSERT OR REPLACE INTO used (hash, at) VALUES (?, ?)")
            for h in Set(used) { try u.run([.text(h), .int(at)]) }
        }
    }
}

/// One tracked folder's record in the state index, written as it is made: `add` the parts of
/// its inner folders (written every few MiB of snapshots), then `finish` with the folder's hash
/// and fingerprint. Until `finish` the folder has no row, so a command killed halfway leaves a
/// folder the next status reads from its manifest, never a record half old and half new.
package final class FolderRecorder {
    private let state: StateIndex
    private let path: String
    private var batch: [StateIndex.FolderPart] = []
    private var batchBytes = 0
    static let batchBytes = 4 << 20

    fileprivate init(state: StateIndex, path: String) {
        self.state = state
        self.path = path
        state.beginDirectory(path)
    }

    package func add(_ part: StateIndex.FolderPart) {
        batch.append(part)
        batchBytes += part.files.count + part.folder.utf8.count + part.fingerprint.count
        if batchBytes >= Self.batchBytes { write() }
    }

    private func write() {
        state.writeParts(path, batch)
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
    }

    /// Drops what was written: the folder turned out not to match.
    package func discard() {
        batch.removeAll()
        state.dropParts(path)
    }

    /// `written`: mlv wrote every file itself just now (see `StateIndex.record`).
    package func finish(hash: String, fingerprint: [UInt8], newestMtimeNs: Int64, written: Bool) {
        write()
        state.finishDirectory(path, hash: hash, fingerprint: fingerprint, newestMtimeNs: newestMtimeNs, written: written)
    }
}
