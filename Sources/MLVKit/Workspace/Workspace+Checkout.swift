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

    /// Makes the workspace match the given outputs (the caller holds the lock).
    func restore(_ outputs: [Output], force: Bool, linker: Linker,
                 progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> CheckoutResult {
        let start = MonotonicClock.monotonicSeconds()
        try checkNotGitTracked(outputs.filter(\.cache).map(\.path))
        var plan = try CheckoutPlan(outputs, in: self, force: force, expandWhole: false)
        state.markUsed(outputs.map(\.hash))
        let work = CheckoutWork(plan: plan)
        plan.actions = []  // one copy (in `work`), freed before the folders are remembered
        let lock = Lock()
        var result = CheckoutResult()
        result.unchanged = plan.unchanged
        flushState()
        if let (path, hash) = plan.missing.first { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
        if !plan.unsaved.isEmpty { throw WorkspaceError.uncommittedChanges(paths: plan.unsaved) }
        // Every object must be there before the first file is touched; a folder whose objects
        // were all seen before needs no look (a stat per object, in parallel, otherwise).
        let complete = Set(outputs.indices.filter { outputs[$0].hash.isDirectory && state.isComplete(outputs[$0].hash.description) })
        /// The first of `count` objects (nil: known present) the cache lacks.
        func firstAbsent(_ count: Int, _ digest: (Int) -> Digest?) throws -> Int? {
            var absent: Int?
            try Parallel.forEach(count: count, makeContext: { () }) { k, _ in
                guard let d = digest(k), !cache.contains(ContentHash(d)) else { return }
                lock.lock(); absent = min(absent ?? k, k); lock.unlock()
            }
            return absent
        }
        if let k = try firstAbsent(work.count, { k in
            let (o, a) = work.actions[work.writes[k]]
            return complete.contains(o) ? nil : a.digest
        }) {
            let a = work.actions[work.writes[k]].action
            throw WorkspaceError.missingFromCache(path: a.shown, hash: ContentHash(a.digest!))
        }
        // A folder written whole is read as a stream, here once to check its manifest to the
        // end and that every object it lists is there, then again to write it.
        var wholes = plan.wholeFolders.compactMap { i in plan.places[i].map { (output: i, inside: Path.join($0.folder, $0.name), files: 0) } }
        var totalFiles = work.count
        var totalBytes = work.bytes
        for (n, w) in wholes.enumerated() {
            let o = outputs[w.output]
            try wholeFolderBatches(o) { batch in
                wholes[n].files += batch.count
                totalFiles += batch.count
                totalBytes = [totalBytes, batch.lazy.map(\.size).saturatingSum()].saturatingSum()
                if complete.contains(w.output) { return }
                if let k = try firstAbsent(batch.count, { batch[$0].digest }) { throw WorkspaceError.missingFromCache(path: o.path + "/" + batch[k].path, hash: ContentHash(batch[k].digest)) }
            }
        }

        // Removals first (a file may become a folder), then writes in parallel. Every folder
        // is opened from the root one component at a time without following symlinks, so a
        // folder swapped for a symlink meanwhile stops the checkout instead of leading out.
        let rootHandle = try DirectoryHandle.open(root)
        func open(_ folder: String, create: Bool) throws -> DirectoryHandle? { try CheckoutPlan.openFolder(folder, in: self, create: create, from: rootHandle) }
        for (_, a) in work.actions where a.digest == nil {
            try open(a.folder, create: false)?.removeTree(a.name)
            result.removed += 1
        }
        let counter = ProgressCounter(label: "checkout", totalFiles: totalFiles, totalBytes: totalBytes, render: progress)
        var corrupted: [String] = []
        /// Writes `count` files, the `k`th described by `item(k)`; false when one was corrupted.
        func write(_ count: Int, _ item: (Int) -> CheckoutPlan.Action) throws -> Bool {
            var clean = true
            try Parallel.forEach(count: count, makeContext: { CheckoutPlan.Worker() }) { k, w in
                let a = item(k)
                if w.handle == nil || w.folder != a.folder {
                    w.handle = try open(a.folder, create: true)
                    w.folder = a.folder
                }
                do {
                    try linker.materialize(a.digest!, into: w.handle!, name: a.name, shownAs: a.shown, prepared: a.absent, size: a.size, w.hasher)
                } catch WorkspaceError.corruptedObject(let path, _) {
                    lock.lock(); corrupted.append(path); clean = false; lock.unlock()
                    return
                }
                counter.advance(bytes: a.size)
            }
            return clean
        }
        _ = try write(work.count) { work.actions[work.writes[$0]].action }
        let remembering = linker.mode == .copy || linker.mode == .reflink
        wholes.removeAll { $0.files == 0 }  // nothing to write (no folder is made for no file)
        for w in wholes {
            let o = outputs[w.output]
            // Written whole: every object it lists was checked just before, and every file is ours.
            let recorder = remembering ? WrittenFolderRecorder(o.path, scanner: scanner, state: state) : nil
            var clean = true
            try wholeFolderBatches(o) { batch in
                if !(try write(batch.count) { k in
                    let e = batch[k]
                    let (sub, name) = TreeScanner.split(e.path)
                    return CheckoutPlan.Action(shown: o.path + "/" + e.path, digest: e.digest, size: e.size,
                                               folder: sub.isEmpty ? w.inside : w.inside + "/" + sub, name: name, absent: true)
                }) { clean = false }
                for e in batch { recorder?.written(e.path, e.digest) }
            }
            if clean && remembering { state.markComplete(o.hash.description) }
            if clean { recorder?.finish(hash: o.hash) } else { recorder?.discard() }
        }
        let touched = work.touchedOutputs.union(wholes.map(\.output))
        if corrupted.isEmpty, remembering {
            // A folder that now matches its manifest: remember it, so the next status or repro
            // need not read it (best effort: a folder changed meanwhile is simply not remembered).
            for i in touched.sorted() {
                guard let manifest = plan.manifests.removeValue(forKey: i) else { continue }
                rememberCheckedOut(outputs[i], manifest, written: false)
            }
        }
        flushState()
        result.restored = totalFiles - corrupted.count
        result.bytes = totalBytes
        result.seconds = MonotonicClock.monotonicSeconds() - start
        result.restoredOutputs = outputs.indices.filter { !outputs[$0].isPointer && touched.contains($0) }.map { outputs[$0].path }
        result.pointerOutputs = outputs.filter(\.isPointer).count
        if !corrupted.isEmpty { throw WorkspaceError.corruptedObjects(paths: corrupted.sorted()) }
        return result
    }

    /// A folder's manifest entries, a few thousand at a time, read as a stream (its hash is
    /// checked when it ends).
    private func wholeFolderBatches(_ o: Output, _ body: ([DirectoryManifest.Entry]) throws -> Void) throws {
        guard let reader = try cache.manifestReader(o.hash) else { throw WorkspaceError.missingFromCache(path: o.path, hash: o.hash) }
        var batch: [DirectoryManifest.Entry] = []
        batch.reserveCapacity(checkoutBatch)
        while try reader.next() {
            batch.append(reader.entry)
            if batch.count == checkoutBatch {
                try body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try body(batch) }
    }

    /// Remembers a folder just checked out (see `TreeScanner.remember`), walked one inner folder
    /// at a time and each file's digest found in the manifest by path; nothing when the folder
    /// does not hold exactly the manifest's files.
    private func rememberCheckedOut(_ o: Output, _ manifest: DirectoryManifest, written: Bool) {
        let scanner = self.scanner
        var whole = WalkFingerprint()
        let recorder = state.recordDirectory(o.path)
        var count = 0
        var newest: Int64 = 0
        var matches = true
        try? scanner.forEachFolder(o.path) { folder, files in
            guard matches, !files.isEmpty else { return }
            var digests: [Digest] = []
            digests.reserveCapacity(files.count)
            for f in files {
                guard f.cacheLink == nil, let e = manifest.entry(at: f.path) else { matches = false; return }
                digests.append(e.digest)
                newest = max(newest, f.status.mtimeNs)
            }
            count += files.count
            let part = TreeScanner.part(folder, files, digests)
            whole.add(part.fingerprint)
            recorder.add(part)
        }
        // A folder not holding exactly the manifest's files gets no record.
        guard matches, count == manifest.entries.count else { return recorder.discard() }
        recorder.finish(hash: o.hash.description, fingerprint: whole.bytes, newestMtimeNs: newest, written: written)
    }
}

/// The files a checkout writes as the plan's actions (not those of folders written whole).
private struct CheckoutWork {
    let actions: [(output: Int, action: CheckoutPlan.Action)]
    /// The actions that write.
    let writes: [Int]

    init(plan: CheckoutPlan) {
        actions = plan.actions
        writes = actions.indices.filter { plan.actions[$0].action.digest != nil }
    }

    var count: Int { writes.count }
    var bytes: Int64 { writes.lazy.map { actions[$0].action.size }.saturatingSum() }
    var touchedOutputs: Set<Int> { Set(actions.map(\.output)) }
}

/// Remembers a folder checked out whole as its files are written (see `TreeScanner.remember`).
/// Its manifest's entries come in path order, so an inner folder's files are all written once
/// the entries leave it: it is then listed, and each file found matched with its digest by
/// name. Memory holds the folders on the way down, not the tree; a folder that does not hold
/// exactly the manifest's files gets no record.
private final class WrittenFolderRecorder {
    private let target: String
    private let scanner: TreeScanner
    private let recorder: FolderRecorder
    /// Folders whose files are being written, each inside the one before, and their files' digests by name.
    private var open: [(folder: String, digests: [String: Digest])] = []
    private var whole = WalkFingerprint()
    private var expected = 0, found = 0
    private var newest: Int64 = 0
    private var matches = true

    init(_ target: String, scanner: TreeScanner, state: StateIndex) {
        self.target = target
        self.scanner = scanner
        recorder = state.recordDirectory(target)
    }

    /// The next file written, in path order.
    func written(_ path: String, _ digest: Digest) {
        let (folder, name) = TreeScanner.split(path)
        while let top = open.last, !(top.folder.isEmpty || folder == top.folder || folder.hasPrefix(top.folder + "/")) { close() }
        if open.last?.folder != String(folder) { open.append((String(folder), [:])) }
        open[open.count - 1].digests[name] = digest
        expected += 1
    }

    private func close() {
        let (folder, digests) = open.removeLast()
        guard matches, let files = try? scanner.folderFiles(target, folder: folder), files.count == digests.count else { matches = false; return }
        var listed: [Digest] = []
        listed.reserveCapacity(files.count)
        for f in files {
            guard f.cacheLink == nil, let d = digests[String(TreeScanner.split(f.path).name)] else { matches = false; return }
            listed.append(d)
            newest = max(newest, f.status.mtimeNs)
        }
        let part = TreeScanner.part(folder, files, listed)
        whole.add(part.fingerprint)
        recorder.add(part)
        found += files.count
    }

    func finish(hash: ContentHash) {
        while !open.isEmpty { close() }
        guard matches, found == expected else { return recorder.discard() }
        recorder.finish(hash: hash.description, fingerprint: whole.bytes, newestMtimeNs: newest, written: true)
    }

    func discard() { recorder.discard() }
}
