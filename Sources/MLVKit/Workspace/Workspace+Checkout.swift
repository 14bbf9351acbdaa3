import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

public struct CheckoutResult: Sendable {
    public var restored = 0
    public var removed = 0
    public var unchanged = 0
    public var bytes: Int64 = 0
    public var seconds = 0.0
}

extension Workspace {
    /// One file to write or remove.
    struct CheckoutAction {
        var abs: String
        var shown: String
        var digest: Digest?   // nil: remove
        var size: Int64
    }

    /// `mlv checkout [PATH...] [--force]`: makes the workspace match the pointers. Changes that
    /// are not in the cache are never overwritten without `force`; everything is planned and
    /// checked before the first file is touched.
    public func checkout(_ arguments: [String] = [], cwd: String = FS.currentDirectory(), force: Bool = false,
                         progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> CheckoutResult {
        try withLock {
            let start = Clock.monotonicSeconds()
            let tracked = try pointers(for: arguments, cwd: cwd)
            let worker = HashWorker()
            var actions: [CheckoutAction] = []
            var unsaved: [String] = []
            var missing: [(String, ContentHash)] = []
            var result = CheckoutResult()

            func wouldLose(_ digest: Digest, _ shown: String) {
                if !force && !cache.contains(ContentHash(digest)) { unsaved.append(shown) }
            }
            for t in tracked {
                let abs = absolute(t.target)
                let st = try FS.status(abs)
                if !t.pointer.hash.isDirectory {
                    guard cache.contains(t.pointer.hash) else { missing.append((t.target, t.pointer.hash)); continue }
                    if let st {
                        if st.kind == .directory {
                            if !force { unsaved.append(t.target) }
                        } else {
                            let file = try describe(abs, shownAs: t.target, relativePath: Path.base(t.target), status: st)
                            let d = try currentDigest(abs, file, worker)
                            if d == t.pointer.hash.digest { result.unchanged += 1; continue }
                            wouldLose(d, t.target)
                        }
                    }
                    actions.append(CheckoutAction(abs: abs, shown: t.target, digest: t.pointer.hash.digest, size: t.pointer.size))
                    continue
                }
                guard let manifest = try cache.manifest(t.pointer.hash) else { missing.append((t.target, t.pointer.hash)); continue }
                if let st, st.kind != .directory {
                    let file = try describe(abs, shownAs: t.target, relativePath: Path.base(t.target), status: st)
                    wouldLose(try currentDigest(abs, file, worker), t.target)
                    actions.append(CheckoutAction(abs: abs, shown: t.target, digest: nil, size: 0))
                }
                let cmp = try compare(t.target, files: st?.kind == .directory ? try walkDirectory(t.target) : [], with: manifest, worker)
                result.unchanged += cmp.unchanged
                let entries = Dictionary(manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
                for (f, d) in cmp.modified {
                    wouldLose(d, t.target + "/" + f.path)
                    let e = entries[f.path]!
                    actions.append(CheckoutAction(abs: abs + "/" + f.path, shown: t.target + "/" + f.path, digest: e.digest, size: e.size))
                }
                for (f, d) in cmp.added {
                    wouldLose(d, t.target + "/" + f.path)
                    actions.append(CheckoutAction(abs: abs + "/" + f.path, shown: t.target + "/" + f.path, digest: nil, size: 0))
                }
                for e in cmp.deleted {
                    actions.append(CheckoutAction(abs: abs + "/" + e.path, shown: t.target + "/" + e.path, digest: e.digest, size: e.size))
                }
            }
            flushState()
            if let (path, hash) = missing.first { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
            if !unsaved.isEmpty { throw WorkspaceError.uncommittedChanges(paths: unsaved) }
            for case let a in actions where a.digest != nil {
                if !cache.contains(ContentHash(a.digest!)) { throw WorkspaceError.missingFromCache(path: a.shown, hash: ContentHash(a.digest!)) }
            }

            // Removals first (a file may become a folder), then writes in parallel.
            for a in actions where a.digest == nil {
                try FS.removeTree(a.abs)
                result.removed += 1
            }
            let writes = actions.filter { $0.digest != nil }
            // Each folder is made once, just before its first file: on ext4, making every folder
            // first and filling them afterwards makes file creation several times slower.
            var made = Set<String>()
            var prepared = [Bool](repeating: false, count: writes.count)
            for (i, a) in writes.enumerated() { prepared[i] = (try FS.status(a.abs)) == nil }
            let mode = effectiveLinkType()
            let counter = ProgressCounter(label: "checkout", totalFiles: writes.count, totalBytes: writes.reduce(0) { $0 + $1.size }, render: progress)
            let lock = Lock()
            var corrupted: [String] = []
            try Parallel.forEach(count: writes.count, makeContext: { HashWorker() }) { i, w in
                let a = writes[i]
                let parent = Path.parent(a.abs)
                lock.lock()
                let known = made.contains(parent)
                lock.unlock()
                if !known {
                    try FS.makeDirectories(parent)
                    lock.lock(); made.insert(parent); lock.unlock()
                }
                do {
                    try materialize(a.digest!, to: a.abs, shownAs: a.shown, mode: mode, prepared: prepared[i], w)
                } catch WorkspaceError.corruptedObject(let path, _) {
                    lock.lock(); corrupted.append(path); lock.unlock()
                    return
                }
                counter.advance(bytes: a.size)
            }
            flushState()
            result.restored = writes.count - corrupted.count
            result.bytes = writes.reduce(0) { $0 + $1.size }
            result.seconds = Clock.monotonicSeconds() - start
            if !corrupted.isEmpty { throw WorkspaceError.corruptedObjects(paths: corrupted.sorted()) }
            return result
        }
    }
}
