import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

package struct TransferResult: Sendable {
    package var remote: String
    package var transferred = 0
    package var bytes: Int64 = 0
    /// Objects already where they had to go.
    package var skipped = 0
    package var failed = 0
    package var seconds = 0.0
    /// Run-cache entries sent or received (`--run-cache`).
    package var runEntries = 0
    /// Run-cache entries from the remote that were not kept (not an entry mlv writes, or a path leaving the workspace).
    package var refusedRunEntries = 0
    /// Workspace files a pull wrote while downloading (`checkoutAbsent`), and their bytes.
    package var checkedOutEarly = 0
    package var checkedOutEarlyBytes: Int64 = 0
}

extension Workspace {
    /// `mlv push`: uploads the objects of the given tracked paths (default: all) that the remote
    /// lacks, files first and each directory's manifest after its files, so a manifest on the
    /// remote means its files are there. An interrupted push, run again, sends only the rest.
    ///
    /// On S3 the remote's index objects (see RemoteIndex) are read first: objects they name are
    /// taken as present without asking, unless `verify`; the others are asked about. When every
    /// object has been confirmed present, the push writes an index object of those the index did
    /// not name yet. With `verify`, every object is asked about, and index objects naming an
    /// object that is missing are dropped.
    ///
    /// `runCache`: also the run-cache entries whose objects are all in the cache, with those
    /// objects (each entry after its objects, so an entry on the remote means they are there).
    package func push(_ selection: OutputSelection, remote name: String?, jobs: Int?, verify: Bool = false,
                      progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> TransferResult {
        try withLock {
            let session = try RemoteSession(self, remote: name, jobs: jobs, progress: progress)
            let runs = selection.runCache ? try runCache.entries().filter { try $0.outs.allSatisfy { try isCached($0.hash) } } : []
            let set = try SpooledObjects(try selection.outputs(in: self) + runs.flatMap(\.outputs), cache: cache)
            var result = try session.push(set, verify: verify)
            if selection.runCache { result.runEntries = try session.pushRunEntries(runs) }
            return result
        }
    }

    /// `mlv fetch`: downloads into the cache the objects of the given tracked paths that it
    /// lacks. Each object is written to `.mlv/tmp`, hashed as it arrives, and renamed into the
    /// cache only if its hash matches its name; directory manifests are validated (every path
    /// must stay inside the directory) before they are kept. `runCache`: first the remote's
    /// run-cache entries and their objects (see `fetchRunCache`).
    ///
    /// `checkoutAbsent` (`mlv pull`): the files of tracked paths absent from the workspace are
    /// written as their objects arrive (see EarlyCheckout); the caller then runs the checkout,
    /// which writes whatever is still missing or different.
    package func fetch(_ selection: OutputSelection, remote name: String?, jobs: Int?,
                       progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> TransferResult {
        try withLock {
            let result = try fetch(selection, session: try RemoteSession(self, remote: name, jobs: jobs, progress: progress))
            CacheLimit(self).afterGrowth()
            return result
        }
    }

    /// `mlv pull`: fetch, writing the files of absent outputs as their objects arrive, then
    /// checkout, all under one hold of the workspace lock. `fetched` hears of the fetch before the
    /// checkout starts.
    package func pull(_ selection: OutputSelection, remote name: String?, jobs: Int?, force: Bool,
                      fetched: (TransferResult) -> Void = { _ in },
                      progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> CheckoutResult {
        try withLock {
            let transfer = try fetch(selection, session: try RemoteSession(self, remote: name, jobs: jobs, progress: progress),
                                     checkoutAbsent: true)
            fetched(transfer)
            let outputs = try self.outputs(for: selection.targets, cwd: selection.cwd).filter(\.cache)
            var result = try restore(outputs, force: force, linker: linker(), progress: progress)
            // Files written while downloading are found unchanged: they count as restored.
            let early = min(transfer.checkedOutEarly, result.unchanged)
            result.restored += early
            result.unchanged -= early
            if early > 0 { result.bytes = [result.bytes, transfer.checkedOutEarlyBytes].saturatingSum() }
            CacheLimit(self).afterGrowth()
            return result
        }
    }

    /// `fetch` through an open session, for a caller that holds the workspace lock.
    /// `checkoutAbsent` (`pull`): the files of outputs absent from the workspace are written as
    /// their objects arrive (see EarlyCheckout); the caller then runs the checkout, which writes
    /// whatever is still missing or different.
    func fetch(_ selection: OutputSelection, session: RemoteSession, checkoutAbsent: Bool = false) throws -> TransferResult {
        let start = MonotonicClock.monotonicSeconds()
        let tracked = try selection.outputs(in: self)
        let runs = selection.runCache ? try session.fetchRunCache() : nil
        if checkoutAbsent { try checkNotGitTracked(tracked.map(\.path)) }
        let early = checkoutAbsent && selection.revisions == .workspace ? EarlyCheckout(self, tracked: tracked) : nil
        defer { if early != nil { flushState() } }
        let outcome: FetchOutcome
        do {
            outcome = try session.fetchObjects(tracked, early: early)
        } catch {
            early?.rollBack()
            throw error
        }
        if !outcome.missing.isEmpty || !outcome.corrupted.isEmpty { early?.rollBack() }
        var result = try outcome.get()
        state.markUsed(tracked.map(\.hash))
        flushState()
        result.checkedOutEarly = early?.written ?? 0
        result.checkedOutEarlyBytes = early?.bytes ?? 0
        if let runs { result.add(runs) }
        result.seconds = MonotonicClock.monotonicSeconds() - start
        return result
    }

    /// What a fetch moved, and what it could not: objects the remote lacks, and objects whose
    /// bytes did not match their hash (discarded).
    struct FetchOutcome {
        var result: TransferResult
        var missing: [String] = []
        var corrupted: [String] = []

        /// The result, or the error that reports what went wrong.
        func get() throws -> TransferResult {
            if !corrupted.isEmpty { throw RemoteError.corruptedDownloads(remote: result.remote, objects: corrupted.sorted()) }
            if !missing.isEmpty { throw RemoteError.missingOnRemote(remote: result.remote, objects: missing.sorted()) }
            return result
        }
    }

}

extension TransferResult {
    /// Adds the counts of `other`.
    mutating func add(_ other: TransferResult) {
        transferred += other.transferred
        bytes = [bytes, other.bytes].saturatingSum()
        skipped += other.skipped
        failed += other.failed
        runEntries += other.runEntries
        refusedRunEntries += other.refusedRunEntries
    }
}

/// What `status -c` found for one tracked path.
package struct CloudStatus: Sendable, Equatable {
    package var target: String
    /// Objects in the cache but not on the remote (a push would send them).
    package var notOnRemote = 0
    /// Objects on the remote but not in the cache (a fetch would get them).
    package var notInCache = 0
    /// Objects in neither.
    package var missingEverywhere = 0
    package var isInSync: Bool { notOnRemote == 0 && notInCache == 0 && missingEverywhere == 0 }
}

extension Workspace {
    /// `mlv status -c`: per tracked path, what the remote lacks and what the cache lacks.
    /// On S3, objects the remote's index objects name count as on the remote (`fromIndex` says
    /// how many) and the rest are asked of the remote; with `verify` every object is asked
    /// about, and index objects naming a missing one are dropped.
    package func cloudStatus(_ selection: OutputSelection, remote name: String?, jobs: Int?, verify: Bool = false)
        throws -> (remote: String, paths: [CloudStatus], fromIndex: Int) {
        let session = try RemoteSession(self, remote: name, jobs: jobs)
        let tracked = try selection.outputs(in: self)
        let set = try SpooledObjects(tracked, cache: cache)
        var hint = try session.readHint()
        if !session.store.usesIndex { try session.store.check(forWriting: false) }
        // A folder whose objects were all seen in the cache needs no look at each of them.
        let complete = tracked.map { $0.hash.isDirectory && state.isComplete($0.hash.description) && cache.contains($0.hash) }
        var out = tracked.map { CloudStatus(target: $0.path) }
        func count(_ tags: [UInt32], cached: Bool, onRemote: Bool) {
            for t in tags {
                switch (cached, onRemote) {
                case (true, false): out[Int(t)].notOnRemote += 1
                case (false, true): out[Int(t)].notInCache += 1
                case (false, false): out[Int(t)].missingEverywhere += 1
                case (true, true): break
                }
            }
        }
        // Each object once, in order, merged with the index objects (read in order too); those
        // they do not name (every one, with `verify`) are asked of the remote after.
        let named = hint.cursor()
        var asked: [(hash: ContentHash, tags: [UInt32], cached: Bool)] = []
        var fromIndex = 0
        try set.forEachObject { h, tags in
            let cached = tags.contains { complete[Int($0)] } || cache.contains(h)
            if !verify && named.contains(h) {
                fromIndex += 1
                count(tags, cached: cached, onRemote: true)
            } else {
                asked.append((h, tags, cached))
            }
        }
        let found = try session.askRemote(asked.map(\.hash), hint: &hint, verify: verify)
        for a in asked { count(a.tags, cached: a.cached, onRemote: found.contains(a.hash)) }
        // An output whose folder an earlier one reached counts as that one.
        for (i, first) in set.tagOf.enumerated() where first != i {
            out[i] = out[first]
            out[i].target = tracked[i].path
        }
        return (session.settings.name, out, fromIndex)
    }
}

extension RemoteSession {
    typealias FetchOutcome = Workspace.FetchOutcome

    /// Uploads the objects of `set` that the remote lacks (see `push`); the caller holds the lock.
    func push(_ set: SpooledObjects, verify: Bool) throws -> TransferResult {
        let start = MonotonicClock.monotonicSeconds()
        var result = TransferResult(remote: settings.name)
        // The index listing proves the bucket and the credentials as `check` would.
        var hint = try readHint()
        if !store.usesIndex { try store.check(forWriting: true) }
        // Each object once, in order, merged with the index objects (read in order too): what
        // they name is not looked for in the cache either (one stat saved an object).
        let named = hint.cursor()
        var files: [ContentHash] = [], manifests: [ContentHash] = [], notCached: [ContentHash] = []
        var total = 0
        try set.forEachObject { h, _ in
            total += 1
            if !verify && named.contains(h) { return }
            if h.isDirectory {
                // A manifest read is in the cache; one unknown may have arrived since.
                if set.folders.manifests[h] != nil { manifests.append(h) } else if !cache.contains(h) { notCached.append(h) }
            } else if cache.contains(h) {
                files.append(h)
            } else {
                notCached.append(h)
            }
        }
        result.skipped = total - files.count - manifests.count - notCached.count
        let present = try askRemote(files + manifests, hint: &hint, verify: verify)
        for phase in [files, manifests] {
            let todo = phase.filter { !present.contains($0) }
            result.skipped += phase.count - todo.count
            // The object in the cache says how large it is (a pointer or lock only claims it).
            let sizes = try todo.map { (try FS.status(cache.path($0)))?.size ?? 0 }
            let counter = ProgressCounter(label: "push", totalFiles: todo.count, totalBytes: sizes.saturatingSum(), render: progress)
            // Small objects many at a time; large ones one at a time, each in parallel parts.
            let small = todo.indices.filter { sizes[$0] < store.largeObjectSize }
            let large = todo.indices.filter { sizes[$0] >= store.largeObjectSize }
            try Parallel.forEachOnThreads(count: small.count, workers: jobs) { k in
                let i = small[k]
                try store.upload(todo[i], from: cache.path(todo[i]), size: sizes[i], jobs: 1)
                counter.advance(bytes: sizes[i])
            }
            for i in large {
                try store.upload(todo[i], from: cache.path(todo[i]), size: sizes[i], jobs: RemoteSettings.largeObjectJobs(jobs))
                counter.advance(bytes: sizes[i])
            }
            result.transferred += todo.count
            result.bytes = [result.bytes, sizes.saturatingSum()].saturatingSum()
        }
        try recordPushed(files + manifests, hint: hint)
        result.seconds = MonotonicClock.monotonicSeconds() - start
        if !notCached.isEmpty {
            throw RemoteError.missingFromCache(objects: notCached.map { set.folders.shown($0) }.sorted())
        }
        return result
    }

    /// Downloads the objects of `tracked` that the cache lacks (see `fetch`); the caller holds the
    /// lock. `manifestsOnly`: the folders' manifests, not their files (to read what they list).
    func fetchObjects(_ tracked: [Output], early: EarlyCheckout? = nil, manifestsOnly: Bool = false) throws -> FetchOutcome {
        var outcome = FetchOutcome(result: TransferResult(remote: settings.name))
        var missingHashes = Set<ContentHash>()
        let lock = Lock()
        var set = try ReachableObjects(tracked, cache: cache)
        if !set.unknownManifests.isEmpty || set.files.keys.contains(where: { !cache.contains($0) }) {
            try store.check(forWriting: false)
        }

        /// Downloads `todo` into the cache.
        func download(_ todo: [ContentHash], label: String, validate: ((ContentHash, String) throws -> Void)? = nil) throws {
            let sizes = todo.map { set.files[$0] ?? 0 }
            let counter = ProgressCounter(label: label, totalFiles: todo.count, totalBytes: sizes.saturatingSum(), render: progress)
            func get(_ i: Int, jobs: Int) throws {
                let h = todo[i]
                // An unnamed file (in .mlv/tmp, the cache's file system): nothing to clean up after
                // a crash, and no folder that every download locks to add a name to (the name comes
                // with the link into the cache). A named one where the file system has none, or
                // for a manifest (read by name to validate it). Read and write: a ranged download
                // reads back what landed.
                let unnamed = validate == nil ? try FS.openTemporary(in: cache.tmp, mode: 0o444, readable: true) : nil
                let tmp = unnamed == nil ? cache.temporaryPath("obj") : ".mlv/cache/\(h.objectName) (arriving)"
                let fd = try unnamed ?? FS.openFile(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
                var keep = false
                // A large object for an absent workspace file is copied there as it is verified.
                let copy = jobs > 1 ? early?.copyTarget(h) : nil
                defer { close(fd); if !keep && unnamed == nil { unlink(tmp) }; copy?.close() }
                // At most the size recorded for it (a manifest: what the cache reads of one).
                let limit = h.isDirectory ? ObjectCache.manifestLimit : set.files[h] ?? 0
                guard let digest = try (jobs > 1 ? store.download(h, to: fd, path: tmp, limit: limit, jobs: jobs, copy: copy?.file)
                                                 : store.download(h, to: fd, path: tmp, limit: limit)) else {
                    lock.lock(); outcome.missing.append(set.shown(h)); missingHashes.insert(h); lock.unlock()
                    return
                }
                guard digest == h.digest else {
                    lock.lock(); outcome.corrupted.append(set.shown(h)); lock.unlock()
                    return
                }
                try validate?(h, tmp)
                if unnamed != nil {
                    _ = try cache.install(descriptor: fd, as: h)  // false: another process installed it first
                } else {
                    try cache.install(temporary: tmp, as: h)
                }
                keep = true
                let size = (try? FS.status(cache.path(h)))??.size ?? 0
                lock.lock(); outcome.result.transferred += 1; outcome.result.bytes += size; lock.unlock()
                counter.advance(bytes: size)
                early?.arrived(h, copy: copy)
            }
            // Small objects many at a time; large ones (by the size the pointer claims) one
            // at a time, each in parallel ranges.
            let small = todo.indices.filter { sizes[$0] < store.largeObjectSize }
            let large = todo.indices.filter { sizes[$0] >= store.largeObjectSize }
            try Parallel.forEachOnThreads(count: small.count, workers: jobs) { k in
                try get(small[k], jobs: 1)
            }
            for i in large { try get(i, jobs: RemoteSettings.largeObjectJobs(jobs)) }
        }

        // Manifests first: they say which files a directory needs.
        let manifestsToGet = set.unknownManifests
        try download(manifestsToGet, label: "fetch") { h, tmp in
            let bytes = try FS.readFile(tmp)
            // Parsing refuses paths leaving the workspace or reaching .git/.mlv (in any spelling).
            do {
                _ = try DirectoryManifest.parse(bytes, source: "'\(h.short)…'")
            } catch let e as DirectoryManifest.Invalid {
                throw RemoteError.invalidManifest(remote: self.settings.name, object: "\(h.short)….dir", reason: e.reason)
            }
        }
        if manifestsOnly {
            outcome.result.failed = outcome.corrupted.count + outcome.missing.count
            return outcome
        }
        if !manifestsToGet.isEmpty { set = try ReachableObjects(tracked, cache: cache) }
        early?.plan()
        let files = set.files.keys.filter { !self.cache.contains($0) }.sorted { $0.digest < $1.digest }
        outcome.result.skipped = set.files.count - files.count + set.manifests.count - manifestsToGet.count
        try download(files, label: "fetch")
        outcome.result.failed = outcome.corrupted.count + outcome.missing.count
        // An index object that names a missing object lies: it goes, so the next push re-sends it.
        if !missingHashes.isEmpty, store.usesIndex, let hint = try? readHint(saveCopies: false) {
            dropIndexes(naming: missingHashes, hint: hint)
        }
        return outcome
    }
}
