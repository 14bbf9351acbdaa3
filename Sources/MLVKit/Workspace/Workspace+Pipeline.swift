import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Pipeline outs go through the same scanner and linker as `mlv add`; only their record
/// (`pipeline.lock` instead of a pointer file) differs.
extension Workspace {
    /// Stores a stage's out in the cache (a folder as its files plus a `.dir` manifest, as
    /// `mlv add` does) and returns its record. The out is linked back per `cache.type`.
    func cacheOutput(_ rel: String) throws -> Lockfile.Entry {
        let tree = try plan(rel, shownAs: rel)
        try FS.makeDirectories(cache.objectsRoot)  // a deleted cache is re-created, not an error
        let entry = try linker().store([tree], scanner: scanner)[0]
        state.markUsed([entry.hash])
        return entry
    }

    /// The record of cached content at `path` as the cache holds it: a file's size from its
    /// object, a folder's size and file count from its manifest (parsed and checked: an unsafe
    /// one is an error).
    func entryFromCache(path: String, hash: ContentHash) throws -> Lockfile.Entry {
        guard hash.isDirectory else {
            guard let st = try FS.status(cache.path(hash)), st.kind == .file else { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
            return Lockfile.Entry(path: path, hash: hash, size: st.size, fileCount: nil)
        }
        guard let manifest = try cache.manifest(hash) else { throw WorkspaceError.missingFromCache(path: path, hash: hash) }
        return Lockfile.Entry(path: path, hash: hash, size: manifest.totalSize, fileCount: manifest.entries.count)
    }

    /// Stores a copy of an uncached file out (≤ 64 MiB) as a cache object; false when it is a
    /// folder, too large, or changed since it was hashed.
    func storeCopy(_ entry: Lockfile.Entry) throws -> Bool {
        guard !entry.hash.isDirectory, entry.size <= 64 << 20 else { return false }
        if cache.contains(entry.hash) { return true }
        let bytes = try PipelineError.readFile(absolute(entry.path), shown: entry.path)
        try FS.makeDirectories(cache.objectsRoot)
        return try cache.store(bytes: bytes, isDirectory: false) == entry.hash
    }
}

extension Workspace {
    /// `ensureGitignored` for many paths, reading and writing each `.gitignore` once; the
    /// changed files (workspace-relative).
    func ensureGitignored(all targets: [String]) throws -> [String] {
        var byFolder: [String: [WorkspacePath]] = [:]
        for t in targets {
            let path: WorkspacePath
            do { path = try WorkspacePath(validating: t) } catch {
                throw WorkspaceError.unsafeName(path: WorkspacePath.escapingLineBreaks(t), reason: WorkspaceError.untrackableName)
            }
            byFolder[path.parent, default: []].append(path)
        }
        var changed: [String] = []
        // libgit2 is only opened when some .gitignore would be written below the root.
        let git = byFolder.keys.contains { $0 != "." } ? try self.git() : nil
        for (dir, names) in byFolder.sorted(by: { $0.key < $1.key }) {
            // A folder git ignores already hides what is in it: no .gitignore there (as DVC).
            if dir != ".", let git, FS.isDirectory(absolute(dir)), try git.isIgnored(absolute(dir) + "/") { continue }
            let ignoreRel = dir == "." ? ".gitignore" : dir + "/.gitignore"
            let path = absolute(ignoreRel)
            var text = FS.exists(path) ? try UntrustedFile.readText(path, shownAs: ignoreRel, what: "a .gitignore file", limit: 64 << 20) : ""
            var present = Set(text.split(separator: "\n").map(String.init))
            var added = false
            for name in names {
                let entry = name.gitignoreLine
                guard present.insert(entry).inserted else { continue }
                if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
                text += entry + "\n"
                added = true
            }
            if added {
                try AtomicFile.write(text, to: path)
                changed.append(ignoreRel)
            }
        }
        return changed
    }
}

extension Workspace {
    /// Takes the lines `ensureGitignored` wrote for `targets` out of their `.gitignore` files
    /// (a file left empty is removed); returns the files changed (workspace-relative).
    func removeFromGitignore(_ targets: [String]) throws -> [String] {
        var byFolder: [String: Set<String>] = [:]
        for t in targets {
            guard let path = try? WorkspacePath(validating: t) else { continue }
            byFolder[path.parent, default: []].insert(path.gitignoreLine)
        }
        var changed: [String] = []
        for (dir, lines) in byFolder.sorted(by: { $0.key < $1.key }) {
            let ignoreRel = dir == "." ? ".gitignore" : dir + "/.gitignore"
            let path = absolute(ignoreRel)
            guard FS.exists(path) else { continue }
            let text = try UntrustedFile.readText(path, shownAs: ignoreRel, what: "a .gitignore file", limit: 64 << 20)
            let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !lines.contains(String($0)) }
            let updated = kept.joined(separator: "\n")
            guard updated != text else { continue }
            if updated.allSatisfy({ $0 == "\n" }) { try FS.remove(path) } else { try AtomicFile.write(updated, to: path) }
            changed.append(ignoreRel)
        }
        return changed
    }
}

extension Workspace {
    /// The lock's entries that the pipeline files declare (see `Lockfile.declared(by:)`), or an
    /// empty lock when there is no `pipeline.lock`. `stages`: the pipeline's, when the caller
    /// has read it already. Undeclared entries are reported once, through `onWarning`.
    func loadLock(stages: [Stage]? = nil) throws -> Lockfile { try loadLockWithText(stages: stages).lock }

    /// The declared lock (see `loadLock`) and the bytes of each lock file (by workspace-relative
    /// path; absent when there is none).
    func loadLockWithText(stages: [Stage]? = nil) throws -> (lock: Lockfile, texts: [String: String]) {
        let (recorded, texts) = try loadRecordedLock()
        guard !recorded.stages.isEmpty else { return (recorded, texts) }
        let (lock, dropped) = recorded.declared(by: try stages ?? PipelineFile.load(in: self)?.stages ?? [])
        for d in dropped { warnOnce("\(Lockfile.fileName): \(d); ignored") }
        return (lock, texts)
    }

    /// Every entry the lock files beside the pipeline files hold, declared or not, their stages
    /// named by address (`FILE:NAME` below the root): only for keeping objects (gc keeps more,
    /// never less), never for deciding what to write.
    func loadRecordedLock() throws -> (lock: Lockfile, texts: [String: String]) {
        var lock = Lockfile()
        var texts: [String: String] = [:]
        for file in try PipelineFile.files(in: self) {
            let rel = Stage.lockFile(for: file)
            guard let st = try FS.status(absolute(rel)) else { continue }
            guard st.kind == .file else { throw PipelineError.notARegularFile(path: rel) }
            let text = try PipelineError.readText(absolute(rel), shown: rel)
            texts[rel] = text
            for var s in try Lockfile.parse(text, file: rel).stages {
                s.name = Stage.address(s.name, file: file)
                lock.stages.append(s)
            }
        }
        return (lock, texts)
    }
}
