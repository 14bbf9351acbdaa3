import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// What a remote's index objects say it holds (see RemoteIndex): a hint, never proof. Each
/// index object usable has a checked copy in `folder`; questions asked in order are answered by
/// reading the copies in order (`cursor`), a buffer each, never by holding what they name (a
/// million objects).
struct RemoteHint {
    /// The index objects usable, by name, with how many objects each names.
    var indexes: [String: Int] = [:]
    /// Every index object the listing showed (read or not).
    var listed: Set<String> = []
    /// Where their checked copies are.
    var folder = ""
    /// Bodies checked and held in memory instead (downloaded by a reader that saves no copies).
    var unsaved: [String: [UInt8]] = [:]

    init(listed: Set<String> = [], folder: String = "") {
        self.listed = listed
        self.folder = folder
    }

    /// Answers "is it named?" for objects asked in order (`RemoteIndex.precedes`), each index
    /// object read once from its copy.
    func cursor() -> Cursor { Cursor(readers: indexes.keys.sorted().compactMap(reader)) }

    private func reader(_ name: String) -> IndexFileReader? {
        if let body = unsaved[name] { return IndexFileReader(body: body) }
        return IndexFileReader(path: Path.join(folder, name))
    }

    struct Cursor {
        fileprivate let readers: [IndexFileReader]
        /// Whether an index object names `h`; `h` may not come before an earlier question.
        func contains(_ h: ContentHash) -> Bool {
            var named = false
            for r in readers where r.skip(to: h) { named = true }
            return named
        }
    }

    /// The index objects that name any of `hashes`.
    func naming<C: Collection<ContentHash>>(_ hashes: C) -> [String] {
        guard !hashes.isEmpty else { return [] }
        let sorted = hashes.sorted(by: RemoteIndex.precedes)
        return indexes.keys.sorted().filter { name in
            guard let r = reader(name) else { return false }
            return sorted.contains { r.skip(to: $0) }
        }
    }

    /// The index object `name` read whole from its copy (checked again), for a merge.
    func load(_ name: String) -> RemoteIndex? {
        guard indexes[name] != nil,
              let bytes = unsaved[name] ?? (try? UntrustedFile.bytes(Path.join(folder, name), shownAs: name, limit: RemoteIndex.maxBytes, followSymlinks: false))
        else { return nil }
        return RemoteIndex.parse(bytes, name: name)
    }
}

extension RemoteSession {
    /// Index objects a listing returns at most (one ListObjectsV2 page).
    static let indexListLimit = 1000
    /// Index objects read at most (each is read through a buffer of its own); any subset of
    /// the index objects is still a true hint.
    static let indexReadLimit = 64
    /// After a push, index objects beyond this many are merged (the smallest first).
    static let indexKeep = 8

    /// `.mlv/cache/remote-index/<remote>/`: checked copies of the remote's index objects (named
    /// by their hash, so never stale), and `<name>.stale` marks for those found to name a
    /// missing object when the remote would not let them be deleted. Keyed by the bucket and
    /// prefix (not the remote's name or endpoint: the copies are content-addressed, and a stale
    /// mark only makes the hint smaller).
    var indexFolder: String {
        let id: String
        switch settings.url {
        case .s3(let bucket, let prefix): id = "s3\n\(bucket)\n\(prefix)"
        case .local(let path): id = "local\n\(path)"
        }
        return Path.join(cache.root, "remote-index/" + SHA256Hasher.hex(id).prefix(32))
    }

    /// The remote's hint: its index objects listed (one request), each checked (hash and
    /// shape) from the local copy, or downloaded, checked and copied there (held in memory
    /// instead when not `saveCopies`). Index objects that fail the checks, cannot be downloaded
    /// or copied, or are marked stale here are left out. Empty for a store that keeps no index.
    func readHint(saveCopies: Bool = true) throws -> RemoteHint {
        let folder = indexFolder
        var hint = RemoteHint(folder: folder)
        guard store.usesIndex else { return hint }
        let listedNames = try store.listSide("index", limit: Self.indexListLimit).filter(RemoteIndex.isName)
        hint.listed = Set(listedNames)
        let local = Set(((try? FS.list(folder)) ?? []).map(\.name))
        let names = listedNames.filter { !local.contains($0 + ".stale") }.sorted().prefix(Self.indexReadLimit)
        let lock = Lock()
        // Four at a time: an index object may be 33 MB.
        try Parallel.forEachOnThreads(count: names.count, workers: max(1, min(jobs, 4))) { i in
            let name = names[i]
            var count: Int?, held: [UInt8]?
            if local.contains(name) { count = RemoteIndex.count(ofFile: Path.join(folder, name), name: name) }
            if count == nil, let bytes = try? store.getSide("index/" + name, limit: RemoteIndex.maxBytes),
               let n = RemoteIndex.count(of: bytes, name: name) {
                if !saveCopies { (count, held) = (n, bytes) } else if (try? saveIndexCopy(bytes, name: name, folder: folder)) != nil { count = n }
            }
            guard let count else { return }
            lock.lock()
            hint.indexes[name] = count
            hint.unsaved[name] = held
            lock.unlock()
        }
        // Copies and marks of index objects the remote no longer lists go (when the listing was whole).
        if listedNames.count < Self.indexListLimit {
            for name in local where !hint.listed.contains(String(name.prefix(64))) { try? FS.remove(Path.join(folder, name)) }
        }
        return hint
    }

    private func saveIndexCopy(_ bytes: [UInt8], name: String, folder: String) throws {
        try FS.makeDirectories(folder)
        let tmp = Path.join(folder, ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try FS.writeFile(tmp, bytes, mode: 0o444)
            try FS.rename(tmp, Path.join(folder, name))
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// After a push confirmed every object of `confirmed` present (uploaded, or found there):
    /// writes an index object of those the hint did not name, then merges the smallest index
    /// objects into one while more than `indexKeep` remain. A merge deletes its sources only if
    /// a second listing still shows all of them (else another push or a `gc --cloud` changed
    /// them meanwhile, and the merged object, which may name what gc removed, is deleted instead).
    func recordPushed(_ confirmed: [ContentHash], hint: RemoteHint) throws {
        guard store.usesIndex else { return }
        let folder = indexFolder
        var counts = hint.indexes
        var written: [String: RemoteIndex] = [:]
        let cursor = hint.cursor()
        let new = confirmed.sorted(by: RemoteIndex.precedes).filter { !cursor.contains($0) }   // asked in order
        for start in stride(from: 0, to: new.count, by: RemoteIndex.maxObjects) {
            let index = RemoteIndex(sorted: Array(new[start..<min(start + RemoteIndex.maxObjects, new.count)]))
            let bytes = index.serialized()
            let name = SHA256Hasher.hex(bytes)
            try store.putSide("index/" + name, bytes)
            try? saveIndexCopy(bytes, name: name, folder: folder)
            counts[name] = index.objects.count
            written[name] = index
        }
        let listedCount = hint.listed.union(counts.keys).count
        guard listedCount > Self.indexKeep, counts.count >= 2 else { return }
        let bySize = counts.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        let chosen = bySize.prefix(max(2, min(counts.count, listedCount - Self.indexKeep + 1)))
        guard chosen.map(\.value).reduce(0, +) <= RemoteIndex.maxObjects else { return }
        var objects: [ContentHash] = []
        for (name, _) in chosen {
            guard let index = written[name] ?? hint.load(name) else { return }
            objects += index.objects
        }
        let merged = RemoteIndex(objects)
        let bytes = merged.serialized()
        let name = SHA256Hasher.hex(bytes)
        let doomed = chosen.map(\.key).filter { $0 != name }
        try store.putSide("index/" + name, bytes)
        try? saveIndexCopy(bytes, name: name, folder: folder)
        let now = Set(try store.listSide("index", limit: Self.indexListLimit))
        if doomed.allSatisfy(now.contains) {
            try store.deleteSide(doomed.map { "index/" + $0 })
            for d in doomed { try? FS.remove(Path.join(folder, d)) }
        } else if counts[name] == nil {
            try store.deleteSide(["index/" + name])
            try? FS.remove(Path.join(folder, name))
        }
    }

    /// Objects the hint named turned out missing: every index object naming one is deleted from
    /// the remote and its copy here removed (if the remote refuses the delete, a stale mark here
    /// keeps this workspace from using it), so the next push asks the remote about those
    /// objects and re-sends them. Returns the names of the index objects dropped.
    @discardableResult
    func dropIndexes<C: Collection<ContentHash>>(naming missing: C, hint: RemoteHint) -> [String] {
        guard store.usesIndex, !missing.isEmpty else { return [] }
        let folder = indexFolder
        let stale = hint.naming(missing)
        guard !stale.isEmpty else { return [] }
        for name in stale { try? FS.remove(Path.join(folder, name)) }
        if (try? store.deleteSide(stale.map { "index/" + $0 })) == nil {
            for name in stale { try? saveIndexCopy([], name: name + ".stale", folder: folder) }
        }
        return stale
    }

    /// After `gc --cloud` removed `removed` from the remote: each index object naming one is
    /// rewritten without them (or deleted, when nothing is left), so the hint names nothing
    /// that gc removed. Every listed index object is read for this, however many there are.
    func pruneIndexes(removed: Set<ContentHash>) throws {
        guard store.usesIndex, !removed.isEmpty else { return }
        let names = try store.listSide("index", limit: .max)
        let folder = indexFolder
        let lock = Lock()
        var rewrite: [(name: String, keep: RemoteIndex?)] = []
        try Parallel.forEachOnThreads(count: names.count, workers: max(1, min(jobs, 4))) { i in
            let name = names[i]
            // A key that is no index object, or a body that is none (or too large, or unreadable),
            // names nothing to trust: it goes too (dropping an index object is always safe).
            guard RemoteIndex.isName(name), let bytes = (try? store.getSide("index/" + name, limit: RemoteIndex.maxBytes)) ?? nil,
                  let index = RemoteIndex.parse(bytes, name: name) else {
                lock.lock(); rewrite.append((name, nil)); lock.unlock()
                return
            }
            guard index.objects.contains(where: removed.contains) else { return }
            let rest = index.objects.filter { !removed.contains($0) }
            lock.lock(); rewrite.append((name, rest.isEmpty ? nil : RemoteIndex(rest))); lock.unlock()
        }
        for r in rewrite {
            if let keep = r.keep {
                let bytes = keep.serialized()
                try store.putSide("index/" + SHA256Hasher.hex(bytes), bytes)
            }
            try? FS.remove(Path.join(folder, r.name))
        }
        try store.deleteSide(rewrite.map { "index/" + $0.name })
    }
}

extension RemoteHint {
    /// The hint without the index objects `names`.
    func removing(_ names: [String]) -> RemoteHint {
        guard !names.isEmpty else { return self }
        var h = RemoteHint(listed: listed.subtracting(names), folder: folder)
        h.indexes = indexes.filter { !names.contains($0.key) }
        h.unsaved = unsaved.filter { !names.contains($0.key) }
        return h
    }
}

extension RemoteSession {
    /// Asks the remote which of `asked` it holds. With `verify` the objects asked include those
    /// the hint names: the index objects naming one found missing are dropped (and taken out of
    /// `hint`).
    func askRemote(_ asked: [ContentHash], hint: inout RemoteHint, verify: Bool) throws -> Set<ContentHash> {
        let found = try store.existing(asked, jobs: jobs)
        if verify {
            let stale = dropIndexes(naming: asked.filter { !found.contains($0) }, hint: hint)
            hint = hint.removing(stale)
        }
        return found
    }
}
