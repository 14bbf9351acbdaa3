import MLVSupport

/// How one tracked path differs from its pointer.
public struct PathStatus: Equatable, Sendable {
    public var target: String
    public var isDirectory: Bool
    /// The whole path is missing from the workspace.
    public var deleted = false
    /// A tracked file's content differs (for directories: see the lists).
    public var modified = false
    /// Objects the pointer needs are missing from the cache.
    public var notInCache = false
    /// Inside a directory: files whose content differs, that are new, that are gone.
    public var modifiedFiles: [String] = []
    public var addedFiles: [String] = []
    public var deletedFiles: [String] = []

    public var isClean: Bool {
        !deleted && !modified && !notInCache && modifiedFiles.isEmpty && addedFiles.isEmpty && deletedFiles.isEmpty
    }
}

/// What a tracked directory's files look like against its manifest.
struct DirectoryComparison {
    var modified: [(WorkspaceFile, Digest)] = []
    var added: [(WorkspaceFile, Digest)] = []
    var deleted: [DirectoryManifest.Entry] = []
    var unchanged = 0
}

extension Workspace {
    /// `mlv status`: compares every tracked path (or the given ones) with its pointer. Unchanged
    /// files are recognised by the state index and never rehashed.
    public func status(_ arguments: [String] = [], cwd: String = FS.currentDirectory()) throws -> [PathStatus] {
        let tracked = try pointers(for: arguments, cwd: cwd)
        let worker = HashWorker()
        var out: [PathStatus] = []
        for t in tracked {
            out.append(try status(of: t, worker))
        }
        flushState()
        return out
    }

    func status(of t: TrackedPath, _ worker: HashWorker) throws -> PathStatus {
        var s = PathStatus(target: t.target, isDirectory: t.pointer.hash.isDirectory)
        let abs = absolute(t.target)
        guard let st = try FS.status(abs) else {
            s.deleted = true
            s.notInCache = !cache.contains(t.pointer.hash)
            return s
        }
        if !t.pointer.hash.isDirectory {
            guard st.kind != .directory else { s.modified = true; return s }
            let file = try describe(abs, shownAs: t.target, relativePath: Path.base(t.target), status: st)
            s.modified = try currentDigest(abs, file, worker) != t.pointer.hash.digest
            s.notInCache = !cache.contains(t.pointer.hash)
            return s
        }
        guard st.kind == .directory else { s.modified = true; return s }
        let files = try walkDirectory(t.target)
        let fp = fingerprint(files)
        if let known = state.directory(t.target), known.hash == t.pointer.hash.description, known.fingerprint == fp {
            // Every file is as it was when this folder last matched its pointer.
            s.notInCache = !(try objectsPresent(t.pointer.hash, manifest: nil))
            return s
        }
        guard let manifest = try cache.manifest(t.pointer.hash) else {
            // Without the manifest only the whole tree can be compared.
            s.notInCache = true
            let entries = try files.map { DirectoryManifest.Entry(path: $0.path, digest: try currentDigest(abs + "/" + $0.path, $0, worker), size: $0.status.size) }
            s.modified = Digest(bytes: SHA256Hasher.hexBytes(DirectoryManifest(entries: entries).serialized())) != t.pointer.hash.digest
            return s
        }
        let cmp = try compare(t.target, files: files, with: manifest, worker)
        s.modifiedFiles = cmp.modified.map { $0.0.path }.sorted()
        s.addedFiles = cmp.added.map { $0.0.path }.sorted()
        s.deletedFiles = cmp.deleted.map { $0.path }
        s.notInCache = !(try objectsPresent(t.pointer.hash, manifest: manifest))
        if s.isClean { rememberDirectory(t.target, t.pointer.hash, fp, files) }
        return s
    }

    /// Records that a folder with these files matches `hash` (see `StateIndex.recordDirectory`).
    func rememberDirectory(_ target: String, _ hash: ContentHash, _ fp: [UInt8], _ files: [WorkspaceFile]) {
        state.recordDirectory(target, hash: hash.description, fingerprint: fp, newestMtimeNs: files.map(\.status.mtimeNs).max() ?? 0)
    }

    /// True when a `.dir` object and every object it lists are in the cache (remembered once seen).
    func objectsPresent(_ hash: ContentHash, manifest: DirectoryManifest?) throws -> Bool {
        guard cache.contains(hash) else { return false }
        if state.isComplete(hash.description) { return true }
        guard let m = try manifest ?? cache.manifest(hash) else { return false }
        guard m.entries.allSatisfy({ cache.contains(ContentHash($0.digest)) }) else { return false }
        state.markComplete(hash.description)
        return true
    }

    /// Compares a tracked directory in the workspace with a manifest.
    func compare(_ target: String, files: [WorkspaceFile], with manifest: DirectoryManifest, _ worker: HashWorker) throws -> DirectoryComparison {
        let abs = absolute(target)
        var expected: [String: DirectoryManifest.Entry] = [:]
        expected.reserveCapacity(manifest.entries.count)
        for e in manifest.entries { expected[e.path] = e }
        var cmp = DirectoryComparison()
        for f in files {
            let d = try currentDigest(abs + "/" + f.path, f, worker)
            if let e = expected.removeValue(forKey: f.path) {
                if e.digest == d { cmp.unchanged += 1 } else { cmp.modified.append((f, d)) }
            } else {
                cmp.added.append((f, d))
            }
        }
        cmp.deleted = expected.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return cmp
    }
}
