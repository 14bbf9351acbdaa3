import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// What a remote's index objects say it holds (see RemoteIndex): a hint, never proof.
/// Looked up in each index object read (each sorted: a bisection in each), never copied into
/// one set of everything they name (a million objects).
struct RemoteHint: Sendable {
    /// The index objects read, by name.
    var indexes: [String: RemoteIndex] = [:] { didSet { searched = Array(indexes.values) } }
    private var searched: [RemoteIndex] = []
    /// Every index object the listing showed (read or not).
    var listed: Set<String> = []

    init(listed: Set<String> = []) { self.listed = listed }

    /// Whether an index object read names `h`.
    func contains(_ h: ContentHash) -> Bool { searched.contains { $0.contains(h) } }
}

extension RemoteSession {
    /// Index objects a listing returns at most (one ListObjectsV2 page).
    static let indexListLimit = 1000
    /// Index objects read at most, and objects they may name in all (bounding memory); any
    /// subset of the index objects is still a true hint.
    static let indexReadLimit = 64
    static let hintLimit = 4_000_000
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

    /// The remote's hint: its index objects listed (one request), each read from the local copy
    /// or downloaded, checked (hash and shape) and copied. Index objects that fail the checks,
    /// cannot be downloaded, or are marked stale here are left out. Empty for a store that
    /// keeps no index. `saveCopies`: keep copies of what was downloaded.
    func readHint(saveCopies: Bool = true) throws -> RemoteHint {
        var hint = RemoteHint()
        guard store.usesIndex else { return hint }
        let listedNames = try store.listSide("index", limit: Self.indexListLimit).filter(RemoteIndex.isName)
        hint.listed = Set(listedNames)
        let folder = indexFolder
        let local = Set(((try? FS.list(folder)) ?? []).map(\.name))
        let names = listedNames.filter { !local.contains($0 + ".stale") }.sorted().prefix(Self.indexReadLimit)
        let lock = Lock()
        var budget = Self.hintLimit
        // Four at a time: an index object may be 33 MB.
        try Parallel.forEachOnThreads(count: names.count, workers: max(1, min(jobs, 4))) { i in
            let name = names[i]
            let copy = Path.join(folder, name)
            var index: RemoteIndex?
            if local.contains(name), let bytes = try? UntrustedFile.bytes(copy, shownAs: name, limit: RemoteIndex.maxBytes, followSymlinks: false) {
                index = RemoteIndex.parse(bytes, name: name)
            }
            if index == nil, let bytes = try? store.getSide("index/" + name, limit: RemoteIndex.maxBytes) {
                index = RemoteIndex.parse(bytes, name: name)
                if index != nil && saveCopies { try? saveIndexCopy(bytes, name: name, folder: folder) }
            }
            guard let index else { return }
            lock.lock()
            if index.objects.count <= budget {
                budget -= index.objects.count
                hint.indexes[name] = index
            }
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
        var indexes = hint.indexes
        let new = confirmed.filter { !hint.contains($0) }
        for start in stride(from: 0, to: new.count, by: RemoteIndex.maxObjects) {
            let index = RemoteIndex(new[start..<min(start + RemoteIndex.maxObjects, new.count)])
            let bytes = index.serialized()
            let name = SHA256Hasher.hex(bytes)
            try store.putSide("index/" + name, bytes)
            try? saveIndexCopy(bytes, name: name, folder: folder)
            indexes[name] = index
        }
        let listedCount = hint.listed.union(indexes.keys).count
        guard listedCount > Self.indexKeep, indexes.count >= 2 else { return }
        let bySize = indexes.sorted { ($0.value.objects.count, $0.key) < ($1.value.objects.count, $1.key) }
        let sources = bySize.prefix(max(2, min(indexes.count, listedCount - Self.indexKeep + 1)))
        let merged = RemoteIndex(sources.flatMap(\.value.objects))
        guard merged.objects.count <= RemoteIndex.maxObjects else { return }
        let bytes = merged.serialized()
        let name = SHA256Hasher.hex(bytes)
        let doomed = sources.map(\.key).filter { $0 != name }
        try store.putSide("index/" + name, bytes)
        try? saveIndexCopy(bytes, name: name, folder: folder)
        let now = Set(try store.listSide("index", limit: Self.indexListLimit))
        if doomed.allSatisfy(now.contains) {
            try store.deleteSide(doomed.map { "index/" + $0 })
            for d in doomed { try? FS.remove(Path.join(folder, d)) }
        } else if !indexes.keys.contains(name) {
            try store.deleteSide(["index/" + name])
            try? FS.remove(Path.join(folder, name))
        }
    }

    /// Objects the hint named turned out missing: every index object naming one is deleted from
    /// the remote and its copy here removed (if the remote refuses the delete, a stale mark here
    /// keeps this workspace from using it), so the next push asks the remote about those
    /// objects and re-sends them. Returns how many index objects were dropped.
    @discardableResult
    func dropIndexes(naming missing: Set<ContentHash>, hint: RemoteHint) -> Int {
        guard store.usesIndex, !missing.isEmpty else { return 0 }
        let folder = indexFolder
        let stale = hint.indexes.filter { !missing.isDisjoint(with: $0.value.objects) }.map(\.key).sorted()
        guard !stale.isEmpty else { return 0 }
        for name in stale { try? FS.remove(Path.join(folder, name)) }
        if (try? store.deleteSide(stale.map { "index/" + $0 })) == nil {
            for name in stale { try? saveIndexCopy([], name: name + ".stale", folder: folder) }
        }
        return stale.count
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
        var h = RemoteHint(listed: listed.subtracting(names))
        h.indexes = indexes.filter { !names.contains($0.key) }
        return h
    }
}

extension RemoteSession {
    /// Which of `hashes` the remote holds: those the hint names (unless `verify`), and those the
    /// remote answers for when asked. With `verify` every hash is asked about, and the index
    /// objects naming one that is missing are dropped (and taken out of `hint`).
    func presentOnRemote<S: Sequence<ContentHash>>(_ hashes: S, hint: inout RemoteHint, verify: Bool) throws -> (present: RemotePresence, fromIndex: Int) {
        var asked: [ContentHash] = [], count = 0
        for h in hashes {
            count += 1
            if verify || !hint.contains(h) { asked.append(h) }
        }
        let found = try store.existing(asked, jobs: jobs)
        if verify {
            let lost = Set(asked.filter { hint.contains($0) && !found.contains($0) })
            let stale = hint.indexes.filter { !lost.isDisjoint(with: $0.value.objects) }.map(\.key)
            dropIndexes(naming: lost, hint: hint)
            hint = hint.removing(stale)
        }
        return (RemotePresence(found: found, hinted: verify ? nil : hint), count - asked.count)
    }
}

/// Which of the objects asked about the remote holds: those it answered for, and (unless
/// verifying) those its index objects name. Looked up in both, never merged into a copy (a
/// million objects each).
struct RemotePresence {
    let found: Set<ContentHash>
    let hinted: RemoteHint?
    func contains(_ h: ContentHash) -> Bool { found.contains(h) || hinted?.contains(h) == true }
}
