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
        if let known = state.directory(t.target), known.hash == t.pointer.hash.description {
            if known.fingerprint == fp {
                // Every file is as it was when this folder last matched its pointer.
                s.notInCache = !(try objectsPresent(t.pointer.hash, manifest: nil))
                return s
            }
            if let modified = try quickCompare(t.target, files, snapshot: known.files, worker) {
                // The same files as then, some with new stats: only those were read.
                s.modifiedFiles = modified.sorted()
                s.notInCache = !(try objectsPresent(t.pointer.hash, manifest: nil))
                return s
            }
        }
        guard let manifest = try cache.manifest(t.pointer.hash) else {
            // Without the manifest only the whole tree can be compared.
            s.notInCache = true
            let entries = try files.map { DirectoryManifest.Entry(path: $0.path, digest: try currentDigest(abs + "/" + $0.path, $0, worker), size: $0.status.size) }
            s.modified = Digest(bytes: SHA256Hasher.hexBytes(DirectoryManifest(entries: entries).serialized())) != t.pointer.hash.digest
            return s
        }
        var digests: [Digest] = []
        let cmp = try compare(t.target, files: files, with: manifest, worker, digests: &digests)
        s.modifiedFiles = cmp.modified.map { $0.0.path }.sorted()
        s.addedFiles = cmp.added.map { $0.0.path }.sorted()
        s.deletedFiles = cmp.deleted.map { $0.path }
        s.notInCache = !(try objectsPresent(t.pointer.hash, manifest: manifest))
        if s.isClean { rememberDirectory(t.target, t.pointer.hash, fp, files, digests) }
        return s
    }

    /// Records that a folder with these files (and these digests, in the same order) matches
    /// `hash` (see `StateIndex.recordDirectory`).
    func rememberDirectory(_ target: String, _ hash: ContentHash, _ fp: [UInt8], _ files: [WorkspaceFile], _ digests: [Digest]) {
        state.recordDirectory(target, hash: hash.description, fingerprint: fp, files: Workspace.fileSnapshot(files, digests),
                              newestMtimeNs: files.map(\.status.mtimeNs).max() ?? 0)
    }

    /// Per file, 64 bytes: FNV-1a of the path, inode, size, mtime, SHA-256.
    static func fileSnapshot(_ files: [WorkspaceFile], _ digests: [Digest]) -> [UInt8] {
        guard files.count == digests.count else { return [] }
        var out = [UInt8]()
        out.reserveCapacity(files.count * 64)
        for (f, d) in zip(files, digests) {
            for w in [fnv1a(f.path), f.status.inode, UInt64(bitPattern: f.status.size), UInt64(bitPattern: f.status.mtimeNs), d.w0, d.w1, d.w2, d.w3] {
                withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// When the folder holds the same paths as the snapshot taken when it last matched its
    /// pointer, only files whose inode, size or mtime changed are read; their new hash is compared
    /// with the snapshot's (which is the manifest's). Returns the modified paths, or nil when the
    /// set of files changed (then the manifest is needed).
    func quickCompare(_ target: String, _ files: [WorkspaceFile], snapshot: [UInt8], _ worker: HashWorker) throws -> [String]? {
        guard snapshot.count == files.count * 64, !files.isEmpty else { return nil }
        let abs = absolute(target)
        var candidates: [(WorkspaceFile, Digest)] = []
        let same: Bool = snapshot.withUnsafeBytes { raw in
            func word(_ i: Int, _ k: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 64 + k * 8, as: UInt64.self)) }
            var index = [UInt64: Int](minimumCapacity: files.count)
            for i in 0..<files.count where index.updateValue(i, forKey: word(i, 0)) != nil { return false }
            for f in files {
                // Equal counts and every path found: the same set of paths (FNV-1a collisions
                // between two paths of one folder would make the snapshot unusable above).
                guard f.cacheLink == nil, let i = index[Workspace.fnv1a(f.path)] else { return false }
                if word(i, 1) == f.status.inode, word(i, 2) == UInt64(bitPattern: f.status.size),
                   word(i, 3) == UInt64(bitPattern: f.status.mtimeNs) { continue }
                var d = Digest(bytes: [UInt8](repeating: 0, count: 32))
                (d.w0, d.w1, d.w2, d.w3) = (word(i, 4), word(i, 5), word(i, 6), word(i, 7))
                candidates.append((f, d))
            }
            return true
        }
        guard same else { return nil }
        var modified: [String] = []
        for (f, recorded) in candidates {
            let (d, _, stable) = try worker.hashFileStable(abs + "/" + f.path)
            if let stable { state.record(stable, d) }
            if d != recorded { modified.append(f.path) }
        }
        return modified
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
        var digests: [Digest] = []
        return try compare(target, files: files, with: manifest, worker, digests: &digests)
    }

    /// The same, also giving each file's current digest (in `files` order).
    func compare(_ target: String, files: [WorkspaceFile], with manifest: DirectoryManifest, _ worker: HashWorker,
                 digests: inout [Digest]) throws -> DirectoryComparison {
        let abs = absolute(target)
        digests.reserveCapacity(files.count)
        var expected: [String: DirectoryManifest.Entry] = [:]
        expected.reserveCapacity(manifest.entries.count)
        for e in manifest.entries { expected[e.path] = e }
        var cmp = DirectoryComparison()
        for f in files {
            let d = try currentDigest(abs + "/" + f.path, f, worker)
            digests.append(d)
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
