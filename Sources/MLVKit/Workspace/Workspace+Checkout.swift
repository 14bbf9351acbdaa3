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
        let scanner = self.scanner
        try checkNotGitTracked(outputs.filter(\.cache).map(\.path))
        var plan = try CheckoutPlan(outputs, in: self, force: force)
        state.markUsed(outputs.map(\.hash))
        var actions = plan.actions
        plan.actions = []  // one copy, freed before the folders are remembered
        let lock = Lock()
        var result = CheckoutResult()
        result.unchanged = plan.unchanged
        flushState()
        if let (path, hash) = plan.missing.first { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
        if !plan.unsaved.isEmpty { throw WorkspaceError.uncommittedChanges(paths: plan.unsaved) }
        // Every object must be there before the first file is touched; a folder whose objects
        // were all seen before needs no look (a stat per object, in parallel, otherwise).
        let writes = actions.indices.filter { actions[$0].action.digest != nil }
        let complete = Set(outputs.indices.filter { outputs[$0].hash.isDirectory && state.isComplete(outputs[$0].hash.description) })
        var absentObject: Int?
        try Parallel.forEach(count: writes.count, makeContext: { () }) { k, _ in
            let (o, a) = actions[writes[k]]
            if complete.contains(o) || cache.contains(ContentHash(a.digest!)) { return }
            lock.lock(); absentObject = min(absentObject ?? k, k); lock.unlock()
        }
        if let k = absentObject {
            let a = actions[writes[k]].action
            throw WorkspaceError.missingFromCache(path: a.shown, hash: ContentHash(a.digest!))
        }

        // Removals first (a file may become a folder), then writes in parallel. Every folder
        // is opened from the root one component at a time without following symlinks, so a
        // folder swapped for a symlink meanwhile stops the checkout instead of leading out.
        let rootHandle = try DirectoryHandle.open(root)
        func open(_ folder: String, create: Bool) throws -> DirectoryHandle? { try CheckoutPlan.openFolder(folder, in: self, create: create, from: rootHandle) }
        for (_, a) in actions where a.digest == nil {
            try open(a.folder, create: false)?.removeTree(a.name)
            result.removed += 1
        }
        let totalBytes = writes.lazy.map { actions[$0].action.size }.saturatingSum()
        let counter = ProgressCounter(label: "checkout", totalFiles: writes.count, totalBytes: totalBytes, render: progress)
        var corrupted: [String] = []
        try Parallel.forEach(count: writes.count, makeContext: { CheckoutPlan.Worker() }) { k, w in
            let a = actions[writes[k]].action
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
        let touched = Set(actions.map(\.output))
        let written = writes.count
        var writesPerOutput: [Int: Int] = [:]
        for i in writes { writesPerOutput[actions[i].output, default: 0] += 1 }
        actions = []
        if corrupted.isEmpty, linker.mode == .copy || linker.mode == .reflink {
            // A folder that now matches its manifest: remember it, so the next status or repro
            // need not read it (best effort: a folder changed meanwhile is simply not remembered).
            for i in touched.sorted() {
                guard let manifest = plan.manifests.removeValue(forKey: i) else { continue }
                // Every object it lists was checked before being written: the folder is complete.
                let all = writesPerOutput[i] == manifest.entries.count
                if all { state.markComplete(outputs[i].hash.description) }
                guard let files = try? scanner.walk(outputs[i].path), let digests = TreeScanner.digests(of: files, from: manifest) else { continue }
                scanner.remember(outputs[i].path, outputs[i].hash, TreeScanner.fingerprint(files), files, digests, written: all)
            }
        }
        flushState()
        result.restored = written - corrupted.count
        result.bytes = totalBytes
        result.seconds = MonotonicClock.monotonicSeconds() - start
        result.restoredOutputs = outputs.indices.filter { !outputs[$0].isPointer && touched.contains($0) }.map { outputs[$0].path }
        result.pointerOutputs = outputs.filter(\.isPointer).count
        if !corrupted.isEmpty { throw WorkspaceError.corruptedObjects(paths: corrupted.sorted()) }
        return result
    }
}
