import MLVHTTP
import MLVSupport

public struct CloudGCResult: Sendable {
    public var remote: String
    public var removed = 0
    public var removedBytes: Int64 = 0
    public var kept = 0
    /// Unreferenced objects kept because they are younger than the grace period.
    public var tooYoung = 0
    public var dryRun = true
}

extension Workspace {
    /// `mlv gc --cloud`: removes from the remote the objects that no pointer of `selection`
    /// references (dry run unless `force`). Objects younger than `grace` seconds are kept, so a
    /// push running meanwhile elsewhere loses nothing. Every directory manifest the selection
    /// names must be in the cache (its files are kept too), else nothing is removed. Index
    /// objects naming a removed object are rewritten without it first (see RemoteIndex).
    public func cloudGC(remote name: String?, selection: RevisionSelection, force: Bool, grace: Double,
                        now: Double = SigningTime.now().secondsSince1970) throws -> CloudGCResult {
        let (settings, store) = try remote(name)
        let set = try objectSet(try trackedPaths([], selection: selection, cwd: root))
        if !set.unknownManifests.isEmpty {
            throw RemoteError.gcNeedsManifests(paths: set.unknownManifests.map { set.shownAs[$0] ?? $0.short }.sorted())
        }
        try store.check(forWriting: false)
        var result = CloudGCResult(remote: settings.name, dryRun: !force)
        var doomed: [ContentHash] = []
        for o in try store.listAll() {
            if set.files[o.hash] != nil || set.manifests[o.hash] != nil { result.kept += 1; continue }
            // An object without a date is treated as new: never removed on a guess.
            guard let m = o.modified, now - m >= grace else { result.tooYoung += 1; continue }
            doomed.append(o.hash)
            result.removed += 1
            result.removedBytes = [result.removedBytes, o.size].saturatingSum()   // sizes from the server's listing
        }
        if force {
            // Index objects first: if the deletes then fail half-way, the index only claims less.
            try pruneIndexes(removed: Set(doomed), store: store, settings: settings, jobs: settings.jobs)
            try store.delete(doomed)
        }
        return result
    }
}

