import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// The cache mechanics of `mlv add`, applied to pipeline deps and outs recorded in
/// `pipeline.lock` instead of pointer files.
extension Workspace {
    /// What a workspace path holds now (hash, size, files), or nil when it does not exist.
    /// Nothing is stored in the cache; unchanged files are recognised by the state index.
    func currentRecord(_ rel: String, _ worker: HashWorker) throws -> Lockfile.Entry? {
        let abs = absolute(rel)
        guard let st = try FS.status(abs) else { return nil }
        switch st.kind {
        case .file, .symlink:
            let file = try describe(abs, shownAs: rel, relativePath: Path.base(rel), status: st)
            let digest = try currentDigest(abs, file, worker)
            return Lockfile.Entry(path: rel, hash: ContentHash(digest), size: try contentSize(abs, file), fileCount: nil)
        case .directory:
            let files = try walkDirectory(rel)
            let fp = fingerprint(files)
            var size: Int64 = 0
            for f in files { size += try contentSize(abs + "/" + f.path, f) }
            if let known = state.directory(rel), known.fingerprint == fp, let hash = ContentHash(string: known.hash) {
                return Lockfile.Entry(path: rel, hash: hash, size: size, fileCount: files.count)
            }
            let digests = try files.map { try currentDigest(abs + "/" + $0.path, $0, worker) }
            let entries = files.indices.map { DirectoryManifest.Entry(path: files[$0].path, digest: digests[$0], size: files[$0].status.size) }
            let bytes = DirectoryManifest(entries: entries).serialized()
            let hash = ContentHash(Digest(bytes: SHA256Hasher.hexBytes(bytes)), isDirectory: true)
            rememberDirectory(rel, hash, fp, files, digests)
            return Lockfile.Entry(path: rel, hash: hash, size: size, fileCount: files.count)
        case .other:
            throw WorkspaceError.unsupportedFileType(path: rel)
        }
    }

    private func contentSize(_ abs: String, _ file: WorkspaceFile) throws -> Int64 {
        guard file.status.kind == .symlink else { return file.status.size }
        return try FS.statusFollowingLinks(abs)?.size ?? file.status.size
    }

    /// Stores a stage's out in the cache (a folder as its files plus a `.dir` manifest, as
    /// `mlv add` does) and returns its record. The out is linked back per `cache.type`.
    func cacheOutput(_ rel: String) throws -> Lockfile.Entry {
        let plan = try self.plan(rel, shownAs: rel)
        try FS.makeDirectories(cache.objectsRoot)  // a deleted cache is re-created, not an error
        let mode = effectiveLinkType()
        var digests = [Digest?](repeating: nil, count: plan.files.count)
        let lock = Lock()
        try undoingCreatedObjects {
            try Parallel.forEach(count: plan.files.count, makeContext: { HashWorker() }) { i, worker in
                let file = plan.files[i]
                let abs = plan.isDirectory ? absolute(rel) + "/" + file.path : absolute(rel)
                let d = try ingest(abs, file, mode: mode, worker)
                lock.lock()
                digests[i] = d
                lock.unlock()
            }
        }
        if !plan.isDirectory {
            return Lockfile.Entry(path: rel, hash: ContentHash(digests[0]!), size: plan.files[0].status.size, fileCount: nil)
        }
        let entries = plan.files.indices.map { DirectoryManifest.Entry(path: plan.files[$0].path, digest: digests[$0]!, size: plan.files[$0].status.size) }
        let manifest = DirectoryManifest(entries: entries)
        let hash = try cache.store(bytes: manifest.serialized(), isDirectory: true)
        if mode == .copy || mode == .reflink {
            rememberDirectory(rel, hash, fingerprint(plan.files), plan.files, digests.map { $0! })
        }
        return Lockfile.Entry(path: rel, hash: hash, size: manifest.totalSize, fileCount: entries.count)
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

    /// True when the objects of a recorded out are all in the cache.
    func isCached(_ entry: Lockfile.Entry) throws -> Bool {
        entry.hash.isDirectory ? try objectsPresent(entry.hash, manifest: nil) : cache.contains(entry.hash)
    }

    /// Writes a recorded out from the cache into the workspace, replacing what is there.
    /// Every object is checked to be present before anything is removed.
    /// `copy`: a plain copy whatever `cache.type` says (for outs that are not cached).
    func restoreOutput(_ entry: Lockfile.Entry, copy: Bool = false) throws {
        try checkNoSymlinkEscape(entry.path, shownAs: entry.path)
        let mode = copy ? .copy : effectiveLinkType()
        // Written through folders opened from the root without following symlinks (see checkout).
        let parent = try resolvedParent(entry.path)
        let name = Path.base(entry.path)
        guard entry.hash.isDirectory else {
            guard cache.contains(entry.hash) else { throw WorkspaceError.missingFromCache(path: entry.path, hash: entry.hash) }
            let dir = try openFolder(parent, create: true)!
            try materialize(entry.hash.digest, into: dir, name: name, shownAs: entry.path, mode: mode, HashWorker())
            flushState()
            return
        }
        guard let manifest = try cache.manifest(entry.hash) else { throw WorkspaceError.missingFromCache(path: entry.path, hash: entry.hash) }
        for e in manifest.entries where !cache.contains(ContentHash(e.digest)) {
            throw WorkspaceError.missingFromCache(path: entry.path + "/" + e.path, hash: ContentHash(e.digest))
        }
        try openFolder(parent, create: true)!.removeTree(name)
        let inside = Path.join(parent, name)
        _ = try openFolder(inside, create: true)
        try Parallel.forEach(count: manifest.entries.count, makeContext: { CheckoutWorker() }) { i, w in
            let e = manifest.entries[i]
            let folder = Path.join(inside, Path.parent(e.path))
            if w.handle == nil || w.folder != folder {
                w.handle = try openFolder(folder, create: true)
                w.folder = folder
            }
            try materialize(e.digest, into: w.handle!, name: Path.base(e.path), shownAs: entry.path + "/" + e.path, mode: mode, w.hasher)
        }
        let files = try walkDirectory(entry.path)
        if mode == .copy || mode == .reflink, files.count == manifest.entries.count {
            let byPath = Dictionary(manifest.entries.map { ($0.path, $0.digest) }, uniquingKeysWith: { a, _ in a })
            let digests = files.compactMap { byPath[$0.path] }
            if digests.count == files.count { rememberDirectory(entry.path, entry.hash, fingerprint(files), files, digests) }
        }
        flushState()
    }
}

extension Workspace {
    /// `ensureGitignored` for many paths, reading and writing each `.gitignore` once; the
    /// changed files (workspace-relative).
    func ensureGitignored(all targets: [String]) throws -> [String] {
        var byFolder: [String: [String]] = [:]
        for t in targets { byFolder[Path.parent(t), default: []].append(Path.base(t)) }
        var changed: [String] = []
        for (dir, names) in byFolder.sorted(by: { $0.key < $1.key }) {
            let ignoreRel = dir == "." ? ".gitignore" : dir + "/.gitignore"
            let path = absolute(ignoreRel)
            var text = FS.exists(path) ? try UntrustedFile.readText(path, shownAs: ignoreRel, what: "a .gitignore file", limit: 64 << 20) : ""
            var present = Set(text.split(separator: "\n").map(String.init))
            var added = false
            for name in names {
                let entry = "/" + Workspace.gitignoreEscape(name)
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
    /// The lock's stages, or an empty lock when there is no `pipeline.lock`.
    func loadLock() throws -> Lockfile { try loadLockWithText().lock }

    /// The lock and its bytes (nil when there is no `pipeline.lock`).
    func loadLockWithText() throws -> (lock: Lockfile, text: String?) {
        let path = absolute(Lockfile.fileName)
        guard let st = try FS.status(path) else { return (Lockfile(), nil) }
        guard st.kind == .file else { throw PipelineError.notARegularFile(path: Lockfile.fileName) }
        let text = try PipelineError.readText(path, shown: Lockfile.fileName)
        return (try Lockfile.parse(text), text)
    }

    /// The outs `pipeline.lock` records (path, hash) that belong in the cache: all but the
    /// `cache: false` ones the cache never held. gc keeps their objects, and refuses when a
    /// folder's manifest cannot be read.
    func pipelineRecordedOutputs() throws -> [(String, ContentHash)] {
        let lock = try loadLock()
        guard !lock.stages.isEmpty else { return [] }
        let uncached = Set(((try? PipelineFile.load(root: root))??.stages ?? []).flatMap { $0.outs.filter { !$0.cache }.map(\.path) })
        return lock.stages.flatMap { $0.outs }.filter { cache.contains($0.hash) || !uncached.contains($0.path) }.map { ($0.path, $0.hash) }
    }
}
