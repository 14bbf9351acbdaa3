import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// One run-cache entry: the run's key and the entry's name, both SHA-256 hex. On a remote it
/// lies where it lies in the cache, `runs/ab/cdef…(key)/<name>`, below the remote's root or prefix.
struct RunEntryName: Hashable, Sendable {
    var key: String
    var name: String

    /// "ab/cdef…/<name>", relative to `runs/`.
    var relative: String { key.prefix(2) + "/" + key.dropFirst(2) + "/" + name }

    init?(key: String, name: String) {
        guard RemoteIndex.isName(key), RemoteIndex.isName(name) else { return nil }
        self.key = key
        self.name = name
    }

    /// From a listed key relative to `runs/` (untrusted: only the exact shape counts).
    init?(relative: String) {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == 2, parts[1].utf8.count == 62 else { return nil }
        self.init(key: String(parts[0] + parts[1]), name: String(parts[2]))
    }
}

/// A run-cache entry with its outs.
struct RunEntry: Sendable {
    var id: RunEntryName
    var outs: [Lockfile.Entry]

    /// Its outs as outputs (for reachability and fetching).
    var outputs: [Output] { RunCache.outputs(outs) }
}

extension RunCache {
    static let entryLimit = (1 << 20) - 1
    /// Run-cache entries read or listed at most.
    static let entriesMax = 1_000_000

    func path(_ id: RunEntryName) -> String { root + "/" + id.relative }

    /// An entry's outs as outputs recorded by the run-cache.
    static func outputs(_ outs: [Lockfile.Entry]) -> [Output] {
        outs.map { Output(path: $0.path, hash: $0.hash, size: $0.size, fileCount: $0.fileCount, record: .runCache) }
    }

    /// The entry's bytes if they hash to its name and parse as an entry of some stage (every
    /// out a safe workspace path); nil for anything else.
    static func checked(_ bytes: [UInt8], _ id: RunEntryName) -> [Lockfile.Entry]? {
        guard bytes.count <= entryLimit, SHA256Hasher.hex(bytes) == id.name else { return nil }
        return parse(bytes, declared: nil)
    }

    /// Every entry that checks out (see `checked`).
    func entries() throws -> [RunEntry] {
        var out: [RunEntry] = []
        guard FS.isDirectory(root) else { return [] }
        for a in try FS.list(root) where a.kind == .directory && a.name.utf8.count == 2 {
            for b in try FS.list(root + "/" + a.name) where b.kind == .directory {
                for c in try FS.list(root + "/" + a.name + "/" + b.name) where c.kind == .file {
                    guard out.count < Self.entriesMax, let id = RunEntryName(key: a.name + b.name, name: c.name),
                          let bytes = try? UntrustedFile.bytes(path(id), shownAs: c.name, limit: Self.entryLimit, followSymlinks: false),
                          let outs = Self.checked(bytes, id) else { continue }
                    out.append(RunEntry(id: id, outs: outs))
                }
            }
        }
        return out
    }
}

extension Workspace {
    /// The workspace's run-cache (`.mlv/cache/runs`).
    var runCache: RunCache { RunCache(root: Path.join(cache.root, "runs")) }
}

extension RemoteSession {
    /// The entries the remote lacks, uploaded (their objects must be there already); returns how many.
    func pushRunEntries(_ entries: [RunEntry]) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        let there = Set(try store.listSide("runs", limit: RunCache.entriesMax))
        let todo = entries.filter { !there.contains($0.id.relative) }
        try Parallel.forEachOnThreads(count: todo.count, workers: max(1, jobs)) { i in
            let bytes = try UntrustedFile.bytes(ws.runCache.path(todo[i].id), shownAs: todo[i].id.name, limit: RunCache.entryLimit, followSymlinks: false)
            try store.putSide("runs/" + todo[i].id.relative, bytes)
        }
        return todo.count
    }

    /// Downloads the remote's run-cache entries that the cache lacks. Each is kept only if it
    /// hashes to its name and is an entry mlv would write with safe workspace paths (whether
    /// its outs are a stage's declared outs is checked again when `repro` uses it). Returns
    /// how many were kept and how many refused.
    func fetchRunEntries() throws -> (kept: Int, refused: Int) {
        let listed = try store.listSide("runs", limit: RunCache.entriesMax)
        var refused = listed.filter { RunEntryName(relative: $0) == nil && !Path.base($0).hasPrefix(".") }.count
        let todo = listed.compactMap(RunEntryName.init(relative:)).filter { !FS.exists(ws.runCache.path($0)) }
        let lock = Lock()
        var kept = 0
        try Parallel.forEachOnThreads(count: todo.count, workers: max(1, jobs)) { i in
            let id = todo[i]
            guard let bytes = try store.getSide("runs/" + id.relative, limit: RunCache.entryLimit), RunCache.checked(bytes, id) != nil else {
                lock.lock(); refused += 1; lock.unlock()
                return
            }
            let dest = ws.runCache.path(id)
            try FS.makeDirectories(Path.parent(dest))
            try AtomicFile.write(bytes, to: dest, mode: 0o444)
            lock.lock(); kept += 1; lock.unlock()
        }
        return (kept, refused)
    }

    /// The remote's run-cache entries with an out among `removed`. Each entry is read from the
    /// local run-cache when it is there (same name, same bytes), else downloaded; keys and
    /// entries that are not mlv's are left alone.
    func runEntries(naming removed: Set<ContentHash>) throws -> [RunEntryName] {
        guard !removed.isEmpty else { return [] }
        let ids = try store.listSide("runs", limit: RunCache.entriesMax).compactMap(RunEntryName.init(relative:))
        let lock = Lock()
        var out: [RunEntryName] = []
        try Parallel.forEachOnThreads(count: ids.count, workers: max(1, min(jobs, 16))) { i in
            let id = ids[i]
            let local = try? UntrustedFile.bytes(ws.runCache.path(id), shownAs: id.name, limit: RunCache.entryLimit, followSymlinks: false)
            guard let bytes = try local ?? store.getSide("runs/" + id.relative, limit: RunCache.entryLimit),
                  let outs = RunCache.checked(bytes, id), outs.contains(where: { removed.contains($0.hash) }) else { return }
            lock.lock(); out.append(id); lock.unlock()
        }
        return out.sorted { $0.relative < $1.relative }
    }

    /// `fetch --run-cache`: the remote's run-cache entries, then the objects of every entry in
    /// the cache that lacks some. An entry whose objects the remote lacks is left as it is
    /// (`repro` uses only entries whose objects are all cached); a corrupted object is an error.
    func fetchRunCache() throws -> TransferResult {
        let (kept, refused) = try fetchRunEntries()
        let incomplete = try ws.runCache.entries().filter { try !$0.outs.allSatisfy { try ws.isCached($0.hash) } }
        var outcome = try fetchObjects(incomplete.flatMap(\.outputs))
        outcome.missing = []
        var result = try outcome.get()
        result.failed = 0
        result.runEntries = kept
        result.refusedRunEntries = refused
        return result
    }

}

extension Reproducer {
    /// With `repro --pull`: fetches the entry's objects from the remote; true when they are all
    /// cached then. Any failure (the remote lacks one, the network) leaves the stage to run.
    func fetchedFromRemote(_ entry: [Lockfile.Entry]) -> Bool {
        guard let session = remoteSession else { return false }
        do {
            _ = try session.fetchObjects(RunCache.outputs(entry)).get()
            return try entry.allSatisfy { try ws.isCached($0.hash) }
        } catch {
            return false
        }
    }
}
