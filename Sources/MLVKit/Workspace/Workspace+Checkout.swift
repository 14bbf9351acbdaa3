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
        let work = CheckoutWork(plan: plan, outputs: outputs)
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
        var absentObject: Int?
        try Parallel.forEach(count: work.count, makeContext: { () }) { k, _ in
            let (o, digest) = work.object(k)
            if complete.contains(o) || cache.contains(ContentHash(digest)) { return }
            lock.lock(); absentObject = min(absentObject ?? k, k); lock.unlock()
        }
        if let k = absentObject {
            let a = work.item(k)
            throw WorkspaceError.missingFromCache(path: a.shown, hash: ContentHash(a.digest!))
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
        let totalBytes = (0..<work.count).lazy.map { work.size($0) }.saturatingSum()
        let counter = ProgressCounter(label: "checkout", totalFiles: work.count, totalBytes: totalBytes, render: progress)
        var corrupted: [String] = []
        try Parallel.forEach(count: work.count, makeContext: { CheckoutPlan.Worker() }) { k, w in
            let a = work.item(k)
            if w.handle == nil || w.folder != a.folder {
                w.handle = try open(a.folder, create: true)
                w.folder = a.folder
            }
            do {
                try linker.materialize(a.digest!, into: w.handle!, name: a.name, shownAs: a.shown, prepared: a.absent, size: a.size, w.hasher)
            } catch WorkspaceError.corruptedObject(let path, _) {
                lock.lock(); corrupted.append(path); lock.unlock()
                return
            }
            counter.advance(bytes: a.size)
        }
        let touched = work.touchedOutputs
        if corrupted.isEmpty, linker.mode == .copy || linker.mode == .reflink {
            // A folder that now matches its manifest: remember it, so the next status or repro
            // need not read it (best effort: a folder changed meanwhile is simply not remembered).
            for i in touched.sorted() {
                guard let manifest = plan.manifests.removeValue(forKey: i) else { continue }
                // Written whole: every object it lists was checked just before, and every file is ours.
                let whole = work.isWhole(i)
                if whole { state.markComplete(outputs[i].hash.description) }
                rememberCheckedOut(outputs[i], manifest, written: whole)
            }
        }
        flushState()
        result.restored = work.count - corrupted.count
        result.bytes = totalBytes
        result.seconds = MonotonicClock.monotonicSeconds() - start
        result.restoredOutputs = outputs.indices.filter { !outputs[$0].isPointer && touched.contains($0) }.map { outputs[$0].path }
        result.pointerOutputs = outputs.filter(\.isPointer).count
        if !corrupted.isEmpty { throw WorkspaceError.corruptedObjects(paths: corrupted.sorted()) }
        return result
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

/// The files a checkout writes: the plan's actions that write, then every entry of each folder
/// written whole from its manifest (nothing was there: no action per file is kept).
private struct CheckoutWork {
    struct Item {
        var shown: String
        var digest: Digest?
        var size: Int64
        var folder: String
        var name: String
        var absent: Bool
    }
    let actions: [(output: Int, action: CheckoutPlan.Action)]
    let writes: [Int]
    /// Whole folders: output index, manifest, the folder to write in, where its items start.
    let wholes: [(output: Int, manifest: DirectoryManifest, inside: String, path: String, first: Int)]
    let count: Int

    init(plan: CheckoutPlan, outputs: [Output]) {
        actions = plan.actions
        writes = actions.indices.filter { plan.actions[$0].action.digest != nil }
        var first = writes.count
        var wholes: [(Int, DirectoryManifest, String, String, Int)] = []
        for i in plan.wholeFolders {
            guard let m = plan.manifests[i], let place = plan.places[i], !m.entries.isEmpty else { continue }
            wholes.append((i, m, Path.join(place.folder, place.name), outputs[i].path, first))
            first += m.entries.count
        }
        self.wholes = wholes
        count = first
    }

    private func whole(_ k: Int) -> (Int, Int) {
        var w = wholes.count - 1
        while wholes[w].first > k { w -= 1 }
        return (w, k - wholes[w].first)
    }

    func object(_ k: Int) -> (output: Int, digest: Digest) {
        if k < writes.count { let (o, a) = actions[writes[k]]; return (o, a.digest!) }
        let (w, j) = whole(k)
        return (wholes[w].output, wholes[w].manifest.entries[j].digest)
    }

    func size(_ k: Int) -> Int64 {
        if k < writes.count { return actions[writes[k]].action.size }
        let (w, j) = whole(k)
        return wholes[w].manifest.entries[j].size
    }

    func item(_ k: Int) -> Item {
        if k < writes.count {
            let a = actions[writes[k]].action
            return Item(shown: a.shown, digest: a.digest, size: a.size, folder: a.folder, name: a.name, absent: a.absent)
        }
        let (w, j) = whole(k)
        let e = wholes[w].manifest.entries[j]
        let (sub, name) = TreeScanner.split(e.path)
        let folder = sub.isEmpty ? wholes[w].inside : wholes[w].inside + "/" + sub
        return Item(shown: wholes[w].path + "/" + e.path, digest: e.digest, size: e.size, folder: folder, name: name, absent: true)
    }

    func isWhole(_ output: Int) -> Bool { wholes.contains { $0.output == output } }

    var touchedOutputs: Set<Int> { Set(actions.map(\.output)).union(wholes.map(\.output)) }
}
