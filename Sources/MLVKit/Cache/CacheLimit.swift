import MLVSupport

/// A cache that stays within a size (`cache.max_size`, `mlv gc --keep-size`): with every object
/// safely on the default remote, the local copy is only a cache. Objects go least recently used
/// first (last use: when an output holding them was added, checked out, fetched or produced, as
/// the state index records it; else when the object arrived), and only objects that (1) no
/// output of the workspace needs and (2) the remote holds, asked of the remote itself (never
/// only its index). An object that is only here is never evicted. Each is removed on its own,
/// after the remote confirmed it, so a run killed at any point has lost nothing the remote lacks.
package struct CacheLimit {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    package struct Report: Sendable, Equatable {
        package var limit: Int64
        package var sizeBefore: Int64 = 0
        package var sizeAfter: Int64 = 0
        package var evicted = 0
        package var evictedBytes: Int64 = 0
        /// Kept because the workspace's outputs need them.
        package var needed = 0
        package var neededBytes: Int64 = 0
        /// Kept because the remote does not hold them.
        package var onlyHere = 0
        package var onlyHereBytes: Int64 = 0
        package var dryRun = true
        package var remote = ""
        package var withinLimit: Bool { sizeAfter <= limit }
    }

    /// `mlv gc --keep-size SIZE [-f]`: `enforce` under the workspace lock.
    package func keep(_ limit: Int64, remote name: String?, force: Bool) throws -> Report {
        try ws.withLock { try enforce(limit, remote: name, force: force) }
    }

    /// `cache.max_size`, when set.
    package var configuredLimit: Int64? { ws.config.values["cache.max_size"].flatMap(RemoteSettings.parseSize) }

    /// Evicts until the cache holds at most `limit` bytes (counts only, unless `force`). The
    /// caller holds the workspace lock. The remote is asked only when the cache is over the limit.
    package func enforce(_ limit: Int64, remote name: String?, force: Bool, jobs: Int? = nil) throws -> Report {
        var report = Report(limit: limit, dryRun: !force)
        let objects = try ws.cache.allObjects()
        var sizes: [ContentHash: Int64] = [:]
        var arrived: [ContentHash: Int64] = [:]
        for h in objects {
            guard let st = try FS.status(ws.cache.path(h)) else { continue }
            sizes[h] = st.size
            arrived[h] = st.mtimeNs
        }
        report.sizeBefore = sizes.values.saturatingSum()
        report.sizeAfter = report.sizeBefore
        guard report.sizeBefore > limit else { return report }

        // What the workspace needs stays (every out the lock records, declared or not: gc's rule).
        let needed = try ReachableObjects(try OutputSelection.workspace(at: ws.root).keptOutputs(in: ws), cache: ws.cache)
        // Last use of each object: the newest use of an output reaching it (a folder's files
        // share their manifest's), else its arrival.
        var lastUse = arrived
        for (text, at) in ws.state.lastUses() {
            guard let h = ContentHash(string: text), sizes[h] != nil else { continue }
            lastUse[h] = max(lastUse[h] ?? 0, at)
            if h.isDirectory, let reader = try? ws.cache.manifestReader(h) {
                while (try? reader.next()) == true {
                    let f = ContentHash(reader.digest)
                    if sizes[f] != nil { lastUse[f] = max(lastUse[f] ?? 0, at) }
                }
            }
        }
        var candidates: [ContentHash] = []
        for h in objects where sizes[h] != nil {
            if needed.contains(h) { report.needed += 1; report.neededBytes += sizes[h]!; continue }
            candidates.append(h)
        }
        candidates.sort { (lastUse[$0] ?? 0, $0.digest) < (lastUse[$1] ?? 0, $1.digest) }
        let session = try RemoteSession(ws, remote: name, jobs: jobs)
        report.remote = session.settings.name
        try session.store.check(forWriting: false)
        let onRemote = try session.store.existing(candidates, jobs: session.jobs)
        var removedAny = false
        for h in candidates {
            let size = sizes[h]!
            guard onRemote.contains(h) else { report.onlyHere += 1; report.onlyHereBytes += size; continue }
            guard report.sizeAfter > limit else { continue }
            if force {
                try FS.remove(ws.cache.path(h))
                removedAny = true
            }
            report.evicted += 1
            report.evictedBytes += size
            report.sizeAfter -= size
        }
        if removedAny { ws.state.forgetComplete() }
        return report
    }
}

extension CacheLimit {
    /// After a command that adds to the cache (add, commit, fetch, pull, repro): with
    /// `cache.max_size` set and the cache past it, evicts what may go and says so through
    /// `onWarning` (also when the limit cannot be met, or the remote cannot be asked: the
    /// command itself has succeeded). The caller holds the lock.
    func afterGrowth() {
        guard let limit = configuredLimit else { return }
        do {
            let r = try enforce(limit, remote: nil, force: true)
            guard r.sizeBefore > limit else { return }
            var text = "the cache was \(ByteCount.text(r.sizeBefore)), over cache.max_size \(ByteCount.text(limit)): evicted "
                + "\(r.evicted) object\(r.evicted == 1 ? "" : "s") (\(ByteCount.text(r.evictedBytes))) that remote '\(r.remote)' holds"
            if !r.withinLimit {
                text += "; still \(ByteCount.text(r.sizeAfter)): \(ByteCount.text(r.neededBytes)) the workspace needs"
                    + (r.onlyHere > 0 ? ", \(ByteCount.text(r.onlyHereBytes)) only here (run `mlv push`)" : "")
            }
            ws.warnOnce(text)
        } catch {
            ws.warnOnce("the cache is over cache.max_size and nothing was evicted: \((error as? UserFacingError)?.message ?? "\(error)")")
        }
    }
}
