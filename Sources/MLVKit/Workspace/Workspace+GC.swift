import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

package struct GCResult: Sendable {
    package var removed = 0
    package var removedBytes: Int64 = 0
    package var kept = 0
    package var dryRun = true
}

extension Workspace {
    /// `mlv gc`: removes cache objects that no output of `selection` reaches (only counts them
    /// unless `force`). The workspace part keeps every out the lock records, declared or not;
    /// `--rev`/`--all-commits`/… keep the data committed there too. A folder whose manifest is
    /// missing or cannot be read makes the set unknowable: an error, never a smaller set.
    package func gc(_ selection: OutputSelection, force: Bool) throws -> GCResult {
        try withLock {
            // Both in order: the cache's listing is merged with the objects kept (sorted on disk).
            let keep = try SpooledObjects(try selection.keptOutputs(in: self), cache: cache, complete: true).spool.reader()
            var next = try keep.next()
            var result = GCResult(dryRun: !force)
            try cache.forEachObject { h in
                let here = SpoolRecord(h)
                while let k = next, k < here { next = try keep.next() }
                if let k = next, k.hash == h { result.kept += 1; return }
                let path = cache.path(h)
                result.removed += 1
                result.removedBytes += (try FS.status(path))?.size ?? 0
                if force { try FS.remove(path) }
            }
            if force && result.removed > 0 { state.forgetComplete() }
            return result
        }
    }
}

package struct VerifyResult: Sendable {
    package var checked = 0
    package var bytes: Int64 = 0
    /// Objects whose content no longer matches their name, moved to `.mlv/cache/quarantine/`.
    package var corrupted: [ContentHash] = []
    package var seconds = 0.0
}

extension Workspace {
    /// `mlv cache verify`: rehashes every object in parallel and quarantines the corrupted ones.
    package func verifyCache(progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws -> VerifyResult {
        try withLock {
            let start = MonotonicClock.monotonicSeconds()
            let objects = try cache.allObjects()
            let sizes = try objects.map { (try FS.status(cache.path($0)))?.size ?? 0 }
            let counter = ProgressCounter(label: "verify", totalFiles: objects.count, totalBytes: sizes.reduce(0, +), render: progress)
            let lock = Lock()
            var bad: [ContentHash] = []
            try Parallel.forEach(count: objects.count, makeContext: { HashWorker() }) { i, w in
                let (d, _) = try w.hashFile(cache.path(objects[i]))
                if d != objects[i].digest {
                    lock.lock(); bad.append(objects[i]); lock.unlock()
                }
                counter.advance(bytes: sizes[i])
            }
            bad.sort { $0.digest < $1.digest }
            if !bad.isEmpty { try FS.makeDirectories(cache.quarantine) }
            for h in bad {
                try FS.rename(cache.path(h), Path.join(cache.quarantine, h.description))
            }
            if !bad.isEmpty { state.forgetComplete() }
            return VerifyResult(checked: objects.count, bytes: sizes.reduce(0, +), corrupted: bad, seconds: MonotonicClock.monotonicSeconds() - start)
        }
    }
}
