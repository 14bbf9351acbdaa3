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
        /// The folder to write in, workspace-relative with symlinks resolved when planned
        /// (every component is then opened with O_NOFOLLOW), and the name inside it.
        var folder: String
        var name: String
    }

    /// Per-worker state of a checkout: the hasher and the folder last written into.
    final class CheckoutWorker {
        let hasher = HashWorker()
        var folder = ""
        var handle: DirectoryHandle?
    }

    /// Opens `folder` (workspace-relative, symlinks resolved by `resolvedParent`) from the root,
    /// one component at a time without following a symlink; nil when missing and not `create`.
    func openFolder(_ folder: String, create: Bool, from rootHandle: DirectoryHandle? = nil) throws -> DirectoryHandle? {
        do {
            return try (rootHandle ?? DirectoryHandle.open(root)).descend(folder, create: create)
        } catch let e as DirectoryHandle.Swapped {
            throw WorkspaceError.folderSwapped(path: e.relativePath)
        }
    }

    /// The folder holding `rel`, workspace-relative, with the symlinks of its existing part
    /// resolved (they were checked to stay inside the workspace and outside .git and .mlv).
    func resolvedParent(_ rel: String) throws -> String {
        var existing = Path.parent(rel)
        var rest: [String] = []
        while existing != "." && !FS.exists(absolute(existing)) {
            rest.insert(Path.base(existing), at: 0)
            existing = Path.parent(existing)
        }
        try checkResolvesInside(absolute(existing), shownAs: rel)
        let real = FS.realPath(absolute(existing)).flatMap { Path.relative($0, to: root) } ?? existing
        return ([real] + rest).reduce(".") { Path.join($0, $1) }
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
                let parent = try resolvedParent(t.target)
                let inside = Path.join(parent, Path.base(t.target))
                func action(_ sub: String?, _ digest: Digest?, _ size: Int64) -> CheckoutAction {
                    guard let sub else {
                        return CheckoutAction(abs: abs, shown: t.target, digest: digest, size: size, folder: parent, name: Path.base(t.target))
                    }
                    return CheckoutAction(abs: abs + "/" + sub, shown: t.target + "/" + sub, digest: digest, size: size,
                                          folder: Path.join(inside, Path.parent(sub)), name: Path.base(sub))
                }
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
                    actions.append(action(nil, t.pointer.hash.digest, t.pointer.size))
                    continue
                }
                guard let manifest = try cache.manifest(t.pointer.hash) else { missing.append((t.target, t.pointer.hash)); continue }
                if let st, st.kind != .directory {
                    let file = try describe(abs, shownAs: t.target, relativePath: Path.base(t.target), status: st)
                    wouldLose(try currentDigest(abs, file, worker), t.target)
                    actions.append(action(nil, nil, 0))
                }
                let cmp = try compare(t.target, files: st?.kind == .directory ? try walkDirectory(t.target) : [], with: manifest, worker)
                result.unchanged += cmp.unchanged
                let entries = Dictionary(manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
                for (f, d) in cmp.modified {
                    wouldLose(d, t.target + "/" + f.path)
                    let e = entries[f.path]!
                    actions.append(action(f.path, e.digest, e.size))
                }
                for (f, d) in cmp.added {
                    wouldLose(d, t.target + "/" + f.path)
                    actions.append(action(f.path, nil, 0))
                }
                for e in cmp.deleted {
                    actions.append(action(e.path, e.digest, e.size))
                }
            }
            flushState()
            if let (path, hash) = missing.first { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
            if !unsaved.isEmpty { throw WorkspaceError.uncommittedChanges(paths: unsaved) }
            for case let a in actions where a.digest != nil {
                if !cache.contains(ContentHash(a.digest!)) { throw WorkspaceError.missingFromCache(path: a.shown, hash: ContentHash(a.digest!)) }
            }

            // Removals first (a file may become a folder), then writes in parallel. Every folder
            // is opened from the root one component at a time without following symlinks, so a
            // folder swapped for a symlink meanwhile stops the checkout instead of leading out.
            let rootHandle = try DirectoryHandle.open(root)
            func open(_ folder: String, create: Bool) throws -> DirectoryHandle? { try openFolder(folder, create: create, from: rootHandle) }
            for a in actions where a.digest == nil {
                try open(a.folder, create: false)?.removeTree(a.name)
                result.removed += 1
            }
            let writes = actions.filter { $0.digest != nil }
            var prepared = [Bool](repeating: false, count: writes.count)
            for (i, a) in writes.enumerated() { prepared[i] = (try FS.status(a.abs)) == nil }
            let mode = effectiveLinkType()
            let counter = ProgressCounter(label: "checkout", totalFiles: writes.count, totalBytes: writes.lazy.map(\.size).saturatingSum(), render: progress)
            let lock = Lock()
            var corrupted: [String] = []
            try Parallel.forEach(count: writes.count, makeContext: { CheckoutWorker() }) { i, w in
                let a = writes[i]
                if w.handle == nil || w.folder != a.folder {
                    w.handle = try open(a.folder, create: true)
                    w.folder = a.folder
                }
                do {
                    try materialize(a.digest!, into: w.handle!, name: a.name, shownAs: a.shown, mode: mode, prepared: prepared[i], w.hasher)
                } catch WorkspaceError.corruptedObject(let path, _) {
                    lock.lock(); corrupted.append(path); lock.unlock()
                    return
                }
                counter.advance(bytes: a.size)
            }
            flushState()
            result.restored = writes.count - corrupted.count
            result.bytes = writes.lazy.map(\.size).saturatingSum()
            result.seconds = Clock.monotonicSeconds() - start
            if !corrupted.isEmpty { throw WorkspaceError.corruptedObjects(paths: corrupted.sorted()) }
            return result
        }
    }
}
