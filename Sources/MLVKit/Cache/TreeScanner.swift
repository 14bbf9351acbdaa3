import MLVSupport

/// A file inside a tracked path, as found on disk.
struct WorkspaceFile {
    /// Path relative to the tracked directory (or the file's own name for a tracked file).
    var path: String
    var status: FileStatus
    /// Set when the workspace entry is a symlink into the cache (symlink mode): its object.
    var cacheLink: ContentHash?
}

/// A file or folder of the workspace as scanned and checked, before anything is written. A
/// folder's files are not kept: they are walked again, in path order, when stored.
struct ScannedTree {
    /// Workspace-relative path.
    var path: String
    /// As the user named it (for messages).
    var shownAs: String
    var isDirectory: Bool
    /// A tracked file: its own entry. A folder: empty.
    var files: [WorkspaceFile]
    var fileCount: Int
    var bytes: Int64
    /// A folder's walk fingerprint (see `TreeScanner.fingerprint`); empty for a file.
    var fingerprint: [UInt8]
}

/// What a walk found, one folder's files at a time: its fingerprint, how many files, their
/// bytes (saturating) and the newest mtime.
struct WalkSummary {
    var fingerprint = WalkFingerprint()
    var files = 0
    var bytes: Int64 = 0
    var newestMtimeNs: Int64 = 0

    mutating func add(_ folder: [WorkspaceFile]) {
        guard !folder.isEmpty else { return }
        fingerprint.add(TreeScanner.fingerprint(ofFolder: folder))
        files += folder.count
        bytes = [bytes, folder.lazy.map(\.status.size).saturatingSum()].saturatingSum()
        newestMtimeNs = max(newestMtimeNs, folder.lazy.map(\.status.mtimeNs).max() ?? 0)
    }
}

/// A walk's fingerprint from its folders' fingerprints (`TreeScanner.fingerprint(ofFolder:)`):
/// their sum, lane by lane, so it does not depend on the order the folders were walked in
/// (status walks a level at a time, add in path order). A folder's fingerprint covers its
/// files' paths, so no two folders add the same value.
struct WalkFingerprint {
    private var sum: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var folders: UInt64 = 0

    mutating func add(_ folder: [UInt8]) {
        guard folder.count == 32 else { return }
        folder.withUnsafeBytes { b in
            func lane(_ k: Int) -> UInt64 { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)) }
            sum = (sum.0 &+ lane(0), sum.1 &+ lane(1), sum.2 &+ lane(2), sum.3 &+ lane(3))
        }
        folders += 1
    }

    /// 40 bytes: the four sums and the number of folders.
    var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(40)
        for w in [sum.0, sum.1, sum.2, sum.3, folders] { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }
}

/// Reads what workspace paths hold: walks folders, describes entries (files, symlinks into the
/// cache or to a file inside the workspace), fingerprints a walk, and finds each file's digest
/// from its cache link, the state index, or by hashing it. It writes nothing but the state index.
struct TreeScanner {
    /// The workspace root (absolute, symlink-free).
    let root: String
    /// The cache's object folder: a symlink into it is a link to an object (symlink mode).
    let objectsRoot: String
    let state: StateIndex
    /// `.mlvignore` rules: matching files are not part of a folder.
    var ignores: IgnoreFiles?
    /// Told when a walk meets a symlink to a file of the workspace (not into the cache).
    var links: WorkspaceLinks?

    func absolute(_ rel: String) -> String { rel == "." ? root : Path.join(root, rel) }

    /// Describes one workspace entry (file, or symlink into the cache / to a file in the workspace).
    func describe(_ abs: String, shownAs: String, relativePath: String, status st: FileStatus) throws -> WorkspaceFile {
        switch st.kind {
        case .file:
            return WorkspaceFile(path: relativePath, status: st, cacheLink: nil)
        case .symlink:
            if pointsIntoCache(abs), let target = try? FS.readLink(abs),
               let rel = Path.relative(Path.normalize(target), to: objectsRoot),
               let hash = ContentHash(string: rel.split(separator: "/", omittingEmptySubsequences: false).joined()) {
                // The link's own status, but the object's size: a manifest records the data's size.
                var linked = st
                if let object = try FS.statusFollowingLinks(abs) { linked.size = object.size }
                return WorkspaceFile(path: relativePath, status: linked, cacheLink: hash)
            }
            guard let real = FS.realPath(abs), Path.relative(real, to: root) != nil else { throw WorkspaceError.symlinkEscapes(path: shownAs) }
            guard let target = try FS.statusFollowingLinks(abs), target.kind == .file else { throw WorkspaceError.unsupportedFileType(path: shownAs) }
            return WorkspaceFile(path: relativePath, status: target, cacheLink: nil)
        default:
            throw WorkspaceError.unsupportedFileType(path: shownAs)
        }
    }

    /// True when `path` is a symlink whose target is an object in this workspace's cache.
    func pointsIntoCache(_ path: String) -> Bool { TreeScanner.pointsIntoCache(path, objectsRoot: objectsRoot) }

    static func pointsIntoCache(_ path: String, objectsRoot: String) -> Bool {
        guard let target = try? FS.readLink(path) else { return false }
        return Path.relative(Path.normalize(target), to: objectsRoot) != nil
    }

    /// Every file below a folder (workspace-relative `dir`), recursively, in walk order (see
    /// `forEachFolder`).
    func walk(_ dir: String) throws -> [WorkspaceFile] {
        var out: [WorkspaceFile] = []
        try forEachFolder(dir) { _, files in out += files }
        return out
    }

    /// The files below a folder, one folder at a time (its path relative to `dir`, "" for
    /// `dir` itself; the files' paths are relative to `dir`), without `.mlvignore`d files:
    /// memory holds a few folders' files, not the tree's.
    func forEachFolder(_ dir: String, _ body: (String, [WorkspaceFile]) throws -> Void) throws {
        let base = absolute(dir)
        try ignores?.lookAbove(dir == "." ? "x" : dir + "/x")
        try namingInvalidNames(dir) {
            try DirectoryWalker.forEachFolder(base) { folder, entries in try body(folder, try files(dir, entries)) }
        }
    }

    /// Every file below `dir` in the byte order of its path, which is a manifest's order: the
    /// walk goes depth first, each folder's entries sorted by name with an inner folder's name
    /// taken with its "/" (so "a.txt" comes before "a/b"). `folder` gets each folder's files as
    /// `forEachFolder` gives them (same order, same checks) when the walk enters it, and returns
    /// a token; `file` then gets (token, index in those files) in path order, between the folders
    /// inside. Memory holds the folders on the way down, never the tree.
    func forEachInPathOrder<Token>(_ dir: String, folder enter: (String, [WorkspaceFile]) throws -> Token,
                                   file: (Token, Int) throws -> Void) throws {
        try ignores?.lookAbove(dir == "." ? "x" : dir + "/x")
        try namingInvalidNames(dir) {
            let root = try DirectoryWalker.Root(absolute(dir))
            func open(_ folder: String) throws -> PathOrderFrame<Token> {
                let (entries, inner) = try root.read(folder)
                let files = try self.files(dir, entries)
                let token = try enter(folder, files)
                let order = files.indices.sorted { DirectoryManifest.order(files[$0].path, files[$1].path) < 0 }
                let folders = inner.map { $0 + "/" }.sorted { DirectoryManifest.order($0, $1) < 0 }
                return PathOrderFrame(token: token, files: files, order: order, folders: folders)
            }
            var stack = [try open("")]
            while let top = stack.last {
                let f = top.nextFile, d = top.nextFolder
                if f < top.order.count, d == top.folders.count || DirectoryManifest.order(top.files[top.order[f]].path, top.folders[d]) < 0 {
                    stack[stack.count - 1].nextFile += 1
                    try file(top.token, top.order[f])
                } else if d < top.folders.count {
                    stack[stack.count - 1].nextFolder += 1
                    stack.append(try open(String(top.folders[d].dropLast())))
                } else {
                    stack.removeLast()
                }
            }
        }
    }

    /// The files of one folder below `dir` (as `forEachFolder` gives them).
    func folderFiles(_ dir: String, folder: String) throws -> [WorkspaceFile] {
        try namingInvalidNames(dir) { try files(dir, DirectoryWalker.list(absolute(dir), folder: folder)) }
    }

    /// Runs a walk of `dir`, refusing a name that is not UTF-8 by its workspace path.
    private func namingInvalidNames<T>(_ dir: String, _ walk: () throws -> T) throws -> T {
        do { return try walk() } catch let e as DirectoryWalker.InvalidName {
            throw WorkspaceError.unsafeName(path: dir + "/" + e.path, reason: "has a name that is not valid UTF-8, which mlv cannot record")
        }
    }

    /// One folder's walked entries as workspace files: ignore files read first, ignored files
    /// left out, protected names refused, symlinks described.
    private func files(_ dir: String, _ entries: [DirectoryWalker.Entry]) throws -> [WorkspaceFile] {
        var kept = entries
        if let ignores {
            for e in entries where IgnoreFiles.isIgnoreFile(e.path) {
                let f = Path.parent(e.path)
                try ignores.look(in: f == "." ? dir : Path.join(dir, f))
            }
            if !ignores.isEmpty {
                let ignored = try ignores.ignoredFiles(entries.map { dir == "." ? $0.path : dir + "/" + $0.path })
                kept = entries.indices.filter { !ignored[$0] }.map { entries[$0] }
            }
        }
        let base = absolute(dir)
        return try kept.map { e in
            if let part = WorkspacePath.protectedComponent(in: e.path) {
                throw WorkspaceError.protectedPath(path: dir + "/" + e.path, component: part)
            }
            if e.status.kind == .file { return WorkspaceFile(path: e.path, status: e.status, cacheLink: nil) }
            let file = try describe(base + "/" + e.path, shownAs: dir + "/" + e.path, relativePath: e.path, status: e.status)
            if file.cacheLink == nil { links?.seen = true }
            return file
        }
    }

    /// What `mlv watch` says changed (workspace-relative paths) means for a tracked folder whose
    /// record matched when its token was given: the modified files, read only in the inner
    /// folders it names. Nil when only a walk can tell: the folder itself or one inside it was
    /// made, moved or removed, an ignore file changed, or a folder's set of files changed.
    func watchedStatus(_ target: String, changed: [String], _ worker: HashWorker) throws -> [String]? {
        let prefix = target + "/"
        var inside: [String] = []
        for p in changed {
            if IgnoreFiles.isIgnoreFile(p) || p == target || target.hasPrefix(p + "/") { return nil }
            if p.hasPrefix(prefix) { inside.append(String(p.dropFirst(prefix.count))) }
        }
        if inside.isEmpty { return [] }
        let parts = state.directoryParts(target)
        var folders = Set<String>()
        for rel in inside {
            // Said by another process: a path that is not a plain one inside is walked instead.
            guard WorkspacePath.isSafeRelative(rel), parts[rel] == nil, !FS.isDirectory(absolute(prefix + rel)) else { return nil }
            folders.insert(String(TreeScanner.folder(of: rel)))
        }
        var modified: [String] = []
        for folder in folders.sorted() {
            guard let files = try? folderFiles(target, folder: folder) else { return nil }
            guard let known = parts[folder] else {
                if files.isEmpty { continue }
                return nil
            }
            if TreeScanner.fingerprint(ofFolder: files) == known { continue }
            guard let m = try compareWithRecord(target, folder: folder, files, worker) else { return nil }
            modified += m
        }
        return modified
    }

    /// The folder part of a walked file's or manifest entry's path ("" at the top).
    static func folder(of path: String) -> Substring {
        guard let slash = path.utf8.lastIndex(of: 47) else { return "" }
        return path[..<slash]
    }

    /// The same path's folder part ("" at the top) and its name.
    static func split(_ path: String) -> (folder: Substring, name: String) {
        let folder = folder(of: path)
        return (folder, folder.isEmpty ? path : String(path[path.utf8.index(after: folder.endIndex)...]))
    }

    /// Checks an existing file or folder (`st`: its status, not following a symlink) and sums
    /// it up: a folder is walked once, one inner folder at a time, each folder's files given to
    /// `check` and then let go.
    func scan(_ rel: String, shownAs: String, status st: FileStatus, check: ([WorkspaceFile]) throws -> Void = { _ in }) throws -> ScannedTree {
        switch st.kind {
        case .directory:
            var walk = WalkSummary()
            try forEachFolder(rel) { _, files in
                try check(files)
                walk.add(files)
            }
            return ScannedTree(path: rel, shownAs: shownAs, isDirectory: true, files: [], fileCount: walk.files, bytes: walk.bytes,
                               fingerprint: walk.fingerprint.bytes)
        case .file, .symlink:
            let file = try describe(absolute(rel), shownAs: shownAs, relativePath: Path.base(rel), status: st)
            return ScannedTree(path: rel, shownAs: shownAs, isDirectory: false, files: [file], fileCount: 1, bytes: file.status.size, fingerprint: [])
        case .other:
            throw WorkspaceError.unsupportedFileType(path: shownAs)
        }
    }

    /// A folder's files may not hold another tracked path's pointer (with its data beside it).
    func refuseTrackedInside(_ target: String, shownAs: String, _ files: [WorkspaceFile]) throws {
        let abs = absolute(target)
        for f in files where f.path.hasSuffix(PointerFile.suffix) {
            let inner = String(f.path.dropLast(PointerFile.suffix.count))
            if FS.exists(Path.join(abs, inner)) {
                throw WorkspaceError.containsTrackedData(path: shownAs, pointer: target + "/" + f.path)
            }
        }
    }

    /// The fingerprint of a walk's files (in walk order: each folder's files together, as
    /// `forEachFolder` gives them), from its folders' (see `WalkFingerprint`): equal
    /// fingerprints mean the state index would find every file unchanged.
    static func fingerprint(_ files: [WorkspaceFile]) -> [UInt8] {
        var whole = WalkFingerprint()
        var start = 0
        while start < files.count {
            let folder = TreeScanner.folder(of: files[start].path)
            var end = start + 1
            while end < files.count, TreeScanner.folder(of: files[end].path) == folder { end += 1 }
            whole.add(fingerprint(ofFolder: files[start..<end]))
            start = end
        }
        return whole.bytes
    }

    /// A digest of one folder's files' (path, inode, size, mtime, cache link), in the order
    /// they were listed.
    static func fingerprint<Files: Collection<WorkspaceFile>>(ofFolder files: Files) -> [UInt8] {
        let h = SHA256Hasher()
        var fields = [Int64](repeating: 0, count: 3)
        for f in files {
            h.update(f.path)
            fields[0] = Int64(bitPattern: f.status.inode)
            fields[1] = f.status.size
            fields[2] = f.status.mtimeNs
            if let link = f.cacheLink { h.update(link.description) }
            fields.withUnsafeBytes { h.update($0) }
        }
        return h.finalizeBytes()
    }

    /// The digest of a workspace file's current content: from the cache link, the state index, or by hashing.
    func digest(_ abs: String, _ file: WorkspaceFile, _ worker: HashWorker) throws -> Digest {
        if let link = file.cacheLink { return link.digest }
        if let d = state.lookup(file.status) { return d }
        let (d, _, stable) = try worker.hashFileStable(abs)
        if let stable { state.record(stable, d) }
        return d
    }

    /// What a workspace path holds now (hash, size, files), or nil when it does not exist.
    /// Nothing is stored in the cache; unchanged files are recognised by the state index, and a
    /// folder whose fingerprint is remembered is not read at all.
    func current(_ rel: String, _ worker: HashWorker) throws -> Lockfile.Entry? {
        let abs = absolute(rel)
        guard let st = try FS.status(abs) else { return nil }
        switch st.kind {
        case .file, .symlink:
            let file = try describe(abs, shownAs: rel, relativePath: Path.base(rel), status: st)
            return Lockfile.Entry(path: rel, hash: ContentHash(try digest(abs, file, worker)), size: try contentSize(abs, file), fileCount: nil)
        case .directory:
            let files = try walk(rel)
            let fp = TreeScanner.fingerprint(files)
            var size: Int64 = 0
            for f in files { size += try contentSize(abs + "/" + f.path, f) }
            if let known = state.directory(rel), known.fingerprint == fp, let hash = ContentHash(string: known.hash) {
                return Lockfile.Entry(path: rel, hash: hash, size: size, fileCount: files.count)
            }
            let digests = try files.map { try digest(abs + "/" + $0.path, $0, worker) }
            let entries = files.indices.map { DirectoryManifest.Entry(path: files[$0].path, digest: digests[$0], size: files[$0].status.size) }
            let bytes = DirectoryManifest(entries: entries).serialized()
            let hash = ContentHash(Digest(bytes: SHA256Hasher.hexBytes(bytes)), isDirectory: true)
            remember(rel, hash, fp, files, digests)
            return Lockfile.Entry(path: rel, hash: hash, size: size, fileCount: files.count)
        case .other:
            throw WorkspaceError.unsupportedFileType(path: rel)
        }
    }

    private func contentSize(_ abs: String, _ file: WorkspaceFile) throws -> Int64 {
        guard file.status.kind == .symlink else { return file.status.size }
        return try FS.statusFollowingLinks(abs)?.size ?? file.status.size
    }

    // MARK: - Folders remembered in the state index

    /// Records that a folder with these files (walk order, and these digests in the same order)
    /// matches `hash`, with a part per folder inside it (see `StateIndex.recordDirectory`).
    /// `written`: this command wrote every one of these files (a checkout).
    func remember<Digests: RandomAccessCollection<Digest>>(_ target: String, _ hash: ContentHash, _ fp: [UInt8], _ files: [WorkspaceFile],
                                                         _ digests: Digests, written: Bool = false) where Digests.Index == Int {
        guard files.count == digests.count else { return }
        let newest = files.lazy.map(\.status.mtimeNs).max() ?? 0
        let recorder = state.recordDirectory(target)
        var start = 0
        while start < files.count {
            let folder = TreeScanner.folder(of: files[start].path)
            var end = start + 1
            while end < files.count, TreeScanner.folder(of: files[end].path) == folder { end += 1 }
            recorder.add(TreeScanner.part(String(folder), files[start..<end], digests[start..<end]))
            start = end
        }
        recorder.finish(hash: hash.description, fingerprint: fp, newestMtimeNs: newest, written: written)
    }

    /// One inner folder's record: its files' fingerprint and snapshot.
    static func part<Files: Collection<WorkspaceFile>, Digests: Collection<Digest>>(_ folder: String, _ files: Files, _ digests: Digests) -> StateIndex.FolderPart {
        StateIndex.FolderPart(folder: folder, fingerprint: fingerprint(ofFolder: files), files: fileSnapshot(files, digests))
    }

    /// How a folder differs from the record of when it last matched `fingerprint`, the fast
    /// way: one walk that keeps each inner folder's fingerprint, not its files. Equal: nothing
    /// changed. Otherwise only the inner folders whose fingerprint changed are listed again and
    /// only their files with new stats are read (`quickCompare`). Nil when the set of files
    /// changed or a part is unknown (then the manifest is needed).
    func quickStatus(_ target: String, fingerprint recorded: [UInt8], _ worker: HashWorker) throws -> [String]? {
        var whole = WalkFingerprint()
        var folders: [(String, [UInt8])] = []
        try forEachFolder(target) { folder, files in
            guard !files.isEmpty else { return }
            let fp = TreeScanner.fingerprint(ofFolder: files)
            whole.add(fp)
            folders.append((folder, fp))
        }
        if whole.bytes == recorded { return [] }
        let parts = state.directoryParts(target)
        guard parts.count == folders.count else { return nil }
        var modified: [String] = []
        for (folder, fp) in folders {
            guard let known = parts[folder] else { return nil }
            if known == fp { continue }
            guard let m = try compareWithRecord(target, folder: folder, try folderFiles(target, folder: folder), worker) else { return nil }
            modified += m
        }
        return modified
    }

    /// One inner folder's files, whose fingerprint differs from its record's, compared with the
    /// snapshot recorded for it (`quickCompare`); nil when there is none or the set of files changed.
    private func compareWithRecord(_ target: String, folder: String, _ files: [WorkspaceFile], _ worker: HashWorker) throws -> [String]? {
        guard let snapshot = state.directoryPart(target, folder: folder) else { return nil }
        return try quickCompare(target, files, snapshot: snapshot, worker)
    }

    /// Per file, 64 bytes: FNV-1a of the path, inode, size, mtime, SHA-256.
    static func fileSnapshot<Files: Collection<WorkspaceFile>, Digests: Collection<Digest>>(_ files: Files, _ digests: Digests) -> [UInt8] {
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
    /// record, only files whose inode, size or mtime changed are read; their new hash is compared
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
                guard f.cacheLink == nil, let i = index[TreeScanner.fnv1a(f.path)] else { return false }
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

    /// Compares a folder in the workspace with a manifest, also giving each file's current
    /// digest (in `files` order).
    func compare(_ target: String, files: [WorkspaceFile], with manifest: DirectoryManifest, _ worker: HashWorker,
                 digests: inout [Digest]) throws -> DirectoryComparison {
        if files.isEmpty {
            // Nothing there (a checkout into an empty folder): every entry is missing, in order.
            return DirectoryComparison(deleted: manifest.entries)
        }
        let abs = absolute(target)
        digests.reserveCapacity(files.count)
        var expected: [String: DirectoryManifest.Entry] = [:]
        expected.reserveCapacity(manifest.entries.count)
        for e in manifest.entries { expected[e.path] = e }
        var cmp = DirectoryComparison()
        for f in files {
            let d = try digest(abs + "/" + f.path, f, worker)
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

    func compare(_ target: String, files: [WorkspaceFile], with manifest: DirectoryManifest, _ worker: HashWorker) throws -> DirectoryComparison {
        var digests: [Digest] = []
        return try compare(target, files: files, with: manifest, worker, digests: &digests)
    }
}

/// What a folder's files look like against its manifest.
struct DirectoryComparison {
    var modified: [(WorkspaceFile, Digest)] = []
    var added: [(WorkspaceFile, Digest)] = []
    var deleted: [DirectoryManifest.Entry] = []
    var unchanged = 0
}

/// One folder on the way down a path-order walk: its files, their path order, the folders in
/// it (each with its "/", sorted), and how far the walk has gone through both.
private struct PathOrderFrame<Token> {
    var token: Token
    var files: [WorkspaceFile]
    var order: [Int]
    var folders: [String]
    var nextFile = 0
    var nextFolder = 0
}

/// Whether a walk met a symlink to a file of the workspace: a change to that file is made in
/// another folder, so `mlv watch` cannot vouch for the folder holding the link.
final class WorkspaceLinks: @unchecked Sendable {
    var seen = false
}
