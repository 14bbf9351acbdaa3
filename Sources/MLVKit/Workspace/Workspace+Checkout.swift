import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

package struct CheckoutResult: Sendable {
    package var restored = 0
    package var removed = 0
    package var unchanged = 0
    package var bytes: Int64 = 0
    package var seconds = 0.0
    /// Pipeline outs (recorded in pipeline.lock) that were written or removed, in lock order.
    package var restoredOutputs: [String] = []
    /// How many of the outputs checked out are recorded by pointer files.
    package var pointerOutputs = 0
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

    /// `mlv checkout [PATH...] [--force]`: makes the workspace match the pointers and
    /// `pipeline.lock` (cached outs only). Changes that are not in the cache are never
    /// overwritten without `force`; everything is planned and checked before the first file is
    /// touched.
    package func checkout(_ arguments: [String] = [], cwd: String = FS.currentDirectory(), force: Bool = false,
                         progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> CheckoutResult {
        try withLock {
            let outputs = try self.outputs(for: arguments, cwd: cwd).filter(\.cache)
            return try restore(outputs, force: force, linker: linker(), progress: progress)
        }
    }

    /// `mlv repro --pull`: restores the cached pipeline outs that are absent from the workspace
    /// and whose objects are all in the cache (the others are left alone); the outs restored.
    /// The caller holds the lock.
    func restoreMissingOutputs() throws -> [String] {
        guard FS.exists(absolute(Lockfile.fileName)) else { return [] }
        let missing = try outputs(.lock).filter { o in try o.cache && FS.status(absolute(o.path)) == nil && isCached(o.hash) }
        return try restore(missing, force: false, linker: linker()).restoredOutputs
    }

    /// Makes the workspace match the given outputs (the caller holds the lock).
    func restore(_ outputs: [Output], force: Bool, linker: Linker,
                 progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> CheckoutResult {
        let start = MonotonicClock.monotonicSeconds()
        let scanner = self.scanner
        let worker = HashWorker()
        var actions: [(output: Int, action: CheckoutAction)] = []
        var unsaved: [String] = []
        var missing: [(String, ContentHash)] = []
        var manifests: [Int: DirectoryManifest] = [:]
        var result = CheckoutResult()

        try checkNotGitTracked(outputs.filter(\.cache).map(\.path))
        func wouldLose(_ digest: Digest, _ shown: String) {
            if !force && !cache.contains(ContentHash(digest)) { unsaved.append(shown) }
        }
        for (i, o) in outputs.enumerated() {
            if !o.isPointer { try checkNoSymlinkEscape(o.path, shownAs: o.path) }
            let abs = absolute(o.path)
            let parent = try resolvedParent(o.path)
            let inside = Path.join(parent, Path.base(o.path))
            func add(_ sub: String?, _ digest: Digest?, _ size: Int64) {
                guard let sub else {
                    actions.append((i, CheckoutAction(abs: abs, shown: o.path, digest: digest, size: size, folder: parent, name: Path.base(o.path))))
                    return
                }
                actions.append((i, CheckoutAction(abs: abs + "/" + sub, shown: o.path + "/" + sub, digest: digest, size: size,
                                                  folder: Path.join(inside, Path.parent(sub)), name: Path.base(sub))))
            }
            let st = try FS.status(abs)
            if !o.hash.isDirectory {
                guard cache.contains(o.hash) else { missing.append((o.path, o.hash)); continue }
                if let st {
                    if st.kind == .directory {
                        if !force { unsaved.append(o.path) }
                    } else {
                        let file = try scanner.describe(abs, shownAs: o.path, relativePath: Path.base(o.path), status: st)
                        let d = try scanner.digest(abs, file, worker)
                        if d == o.hash.digest { result.unchanged += 1; continue }
                        wouldLose(d, o.path)
                    }
                }
                add(nil, o.hash.digest, o.size)
                continue
            }
            guard let manifest = try cache.manifest(o.hash) else { missing.append((o.path, o.hash)); continue }
            manifests[i] = manifest
            if let st, st.kind != .directory {
                let file = try scanner.describe(abs, shownAs: o.path, relativePath: Path.base(o.path), status: st)
                wouldLose(try scanner.digest(abs, file, worker), o.path)
                add(nil, nil, 0)
            }
            let cmp = try scanner.compare(o.path, files: st?.kind == .directory ? try scanner.walk(o.path) : [], with: manifest, worker)
            result.unchanged += cmp.unchanged
            let entries = Dictionary(manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            for (f, d) in cmp.modified {
                wouldLose(d, o.path + "/" + f.path)
                let e = entries[f.path]!
                add(f.path, e.digest, e.size)
            }
            for (f, d) in cmp.added {
                wouldLose(d, o.path + "/" + f.path)
                add(f.path, nil, 0)
            }
            for e in cmp.deleted {
                add(e.path, e.digest, e.size)
            }
        }
        flushState()
        if let (path, hash) = missing.first { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
        if !unsaved.isEmpty { throw WorkspaceError.uncommittedChanges(paths: unsaved) }
        for (_, a) in actions where a.digest != nil {
            if !cache.contains(ContentHash(a.digest!)) { throw WorkspaceError.missingFromCache(path: a.shown, hash: ContentHash(a.digest!)) }
        }

        // Removals first (a file may become a folder), then writes in parallel. Every folder
        // is opened from the root one component at a time without following symlinks, so a
        // folder swapped for a symlink meanwhile stops the checkout instead of leading out.
        let rootHandle = try DirectoryHandle.open(root)
        func open(_ folder: String, create: Bool) throws -> DirectoryHandle? { try openFolder(folder, create: create, from: rootHandle) }
        for (_, a) in actions where a.digest == nil {
            try open(a.folder, create: false)?.removeTree(a.name)
            result.removed += 1
        }
        let writes = actions.map(\.action).filter { $0.digest != nil }
        var prepared = [Bool](repeating: false, count: writes.count)
        for (i, a) in writes.enumerated() { prepared[i] = (try FS.status(a.abs)) == nil }
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
                try linker.materialize(a.digest!, into: w.handle!, name: a.name, shownAs: a.shown, prepared: prepared[i], w.hasher)
            } catch WorkspaceError.corruptedObject(let path, _) {
                lock.lock(); corrupted.append(path); lock.unlock()
                return
            }
            counter.advance(bytes: a.size)
        }
        let touched = Set(actions.map(\.output))
        if corrupted.isEmpty, linker.mode == .copy || linker.mode == .reflink {
            // A folder that now matches its manifest: remember it, so the next status or repro
            // need not read it (best effort: a folder changed meanwhile is simply not remembered).
            for i in touched.sorted() {
                guard let manifest = manifests[i], let files = try? scanner.walk(outputs[i].path) else { continue }
                let byPath = Dictionary(manifest.entries.map { ($0.path, $0.digest) }, uniquingKeysWith: { a, _ in a })
                let digests = files.compactMap { byPath[$0.path] }
                if files.count == manifest.entries.count, digests.count == files.count {
                    scanner.remember(outputs[i].path, outputs[i].hash, TreeScanner.fingerprint(files), files, digests)
                }
            }
        }
        flushState()
        result.restored = writes.count - corrupted.count
        result.bytes = writes.lazy.map(\.size).saturatingSum()
        result.seconds = MonotonicClock.monotonicSeconds() - start
        result.restoredOutputs = outputs.indices.filter { !outputs[$0].isPointer && touched.contains($0) }.map { outputs[$0].path }
        result.pointerOutputs = outputs.filter(\.isPointer).count
        if !corrupted.isEmpty { throw WorkspaceError.corruptedObjects(paths: corrupted.sorted()) }
        return result
    }
}
