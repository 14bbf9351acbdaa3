import MLVHTTP
import MLVSupport

package struct CloudGCResult: Sendable {
    package var remote: String
    package var removed = 0
    package var removedBytes: Int64 = 0
    package var kept = 0
    /// Unreferenced objects kept because they are younger than the grace period.
    package var tooYoung = 0
    /// Run-cache entries on the remote that name a removed object (removed with it).
    package var runEntries = 0
    /// Multipart uploads left open (by a push that was killed or failed) and older than the
    /// grace period: aborted, so the parts they hold stop taking space.
    package var unfinishedUploads = 0
    package var dryRun = true
}

extension Workspace {
    /// `mlv gc --cloud`: removes from the remote the objects that no pointer of `selection`
    /// references (dry run unless `force`). Objects younger than `grace` seconds are kept, so a
    /// push running meanwhile elsewhere loses nothing. Every directory manifest the selection
    /// names must be in the cache (its files are kept too), else nothing is removed. Index
    /// objects naming a removed object are rewritten without it first (see RemoteIndex), and
    /// run-cache entries naming one are removed (an entry on a remote means its objects are there).
    /// Multipart uploads left open for longer than `grace` are aborted (a push resuming one later
    /// just starts afresh); younger ones may belong to a push that is running.
    package func cloudGC(_ selection: OutputSelection, remote name: String?, force: Bool, grace: Double,
                        now: Double = SigningTime.now().secondsSince1970) throws -> CloudGCResult {
        let session = try RemoteSession(self, remote: name, jobs: nil)
        let (settings, store) = (session.settings, session.store)
        let set = try ReachableObjects(try selection.outputs(in: self), cache: cache)
        if !set.unknownManifests.isEmpty { throw RemoteError.gcNeedsManifests(paths: set.unknownPaths) }
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
        // An upload without a date is left alone, as an object without one is.
        let stale = try store.unfinishedUploads().filter { u in u.initiated.map { now - $0 >= grace } ?? false }
        result.unfinishedUploads = stale.count
        let removed = Set(doomed)
        let entries = try session.runEntries(naming: removed)
        result.runEntries = entries.count
        if force {
            // Index objects and entries first: if the deletes then fail half-way, they only claim less.
            try session.pruneIndexes(removed: removed)
            try store.deleteSide(entries.map { "runs/" + $0.relative })
            try store.delete(doomed)
            // Every stale upload is tried; one the server refuses to abort (credentials that may
            // list uploads but not abort them) does not stop the others, and is reported after.
            var refused: [(String, Error)] = []
            for u in stale {
                do { try store.abort(u) } catch { refused.append((u.key, error)) }
            }
            if let (key, error) = refused.first {
                throw RemoteError.abortRefused(remote: settings.name, count: refused.count, key: key,
                                               reason: (error as? UserFacingError)?.message ?? "\(error)", removed: result.removed)
            }
        }
        return result
    }
}

