import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// A file inside a tracked path, as found on disk.
struct WorkspaceFile {
    /// Path relative to the tracked directory (or the file's own name for a tracked file).
    var path: String
    var status: FileStatus
    /// Set when the workspace entry is a symlink into the cache (symlink mode): its object.
    var cacheLink: ContentHash?
}

extension Workspace {
    /// The link type to use: the first of `cache.type` this file system supports.
    func effectiveLinkType() -> LinkType {
        for t in config.linkTypes {
            switch t {
            case .copy: return .copy
            case .reflink: if FS.supportsReflink(in: cache.tmp) { return .reflink }
            case .hardlink: if FS.supportsHardlink(in: cache.tmp) { return .hardlink }
            case .symlink: if FS.supportsSymlink(in: cache.tmp) { return .symlink }
            }
        }
        return .copy
    }

    /// Describes one workspace entry (file, or symlink into the cache / to a file in the workspace).
    func describe(_ abs: String, shownAs: String, relativePath: String, status st: FileStatus) throws -> WorkspaceFile {
        switch st.kind {
        case .file:
            return WorkspaceFile(path: relativePath, status: st, cacheLink: nil)
        case .symlink:
            if pointsIntoCache(abs), let target = try? FS.readLink(abs),
               let rel = Path.relative(Path.normalize(target), to: cache.objectsRoot),
               let hash = ContentHash(string: rel.replacingOccurrences(of: "/", with: "")) {
                return WorkspaceFile(path: relativePath, status: st, cacheLink: hash)
            }
            guard let real = FS.realPath(abs), Path.relative(real, to: root) != nil else { throw WorkspaceError.symlinkEscapes(path: shownAs) }
            guard let target = try FS.statusFollowingLinks(abs), target.kind == .file else { throw WorkspaceError.unsupportedFileType(path: shownAs) }
            return WorkspaceFile(path: relativePath, status: target, cacheLink: nil)
        default:
            throw WorkspaceError.unsupportedFileType(path: shownAs)
        }
    }

    /// Every file below a tracked directory (workspace-relative `dir`), recursively.
    func walkDirectory(_ dir: String) throws -> [WorkspaceFile] {
        let base = absolute(dir)
        let entries: [DirectoryWalker.Entry]
        do { entries = try DirectoryWalker.walk(base) } catch let e as DirectoryWalker.InvalidName {
            throw WorkspaceError.unsafeName(path: dir + "/" + e.path, reason: "has a name that is not valid UTF-8, which mlv cannot record")
        }
        return try entries.map { e in
            if let part = WorkspacePath.protectedComponent(in: e.path) {
                throw WorkspaceError.protectedPath(path: dir + "/" + e.path, component: part)
            }
            if e.status.kind == .file { return WorkspaceFile(path: e.path, status: e.status, cacheLink: nil) }
            return try describe(base + "/" + e.path, shownAs: dir + "/" + e.path, relativePath: e.path, status: e.status)
        }
    }

    /// A digest of every file's (path, inode, size, mtime) in walk order: equal fingerprints mean
    /// the state index would find every file unchanged.
    func fingerprint(_ files: [WorkspaceFile]) -> [UInt8] {
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
    func currentDigest(_ abs: String, _ file: WorkspaceFile, _ worker: HashWorker) throws -> Digest {
        if let link = file.cacheLink { return link.digest }
        if let d = state.lookup(file.status) { return d }
        let (d, _, stable) = try worker.hashFileStable(abs)
        if let stable { state.record(stable, d) }
        return d
    }

    /// Records a workspace file in the cache (per `mode`) and returns its digest.
    func ingest(_ abs: String, _ file: WorkspaceFile, mode: LinkType, _ worker: HashWorker) throws -> Digest {
        if let link = file.cacheLink { return link.digest }
        if let known = state.lookup(file.status), cache.contains(ContentHash(known)) {
            try ensureLinked(abs, file, known, mode: mode)
            return known
        }
        switch mode {
        case .copy where !Workspace.namedTemporaries:
            if let digest = try ingestUnnamed(abs, file, worker) { return digest }
            fallthrough
        case .copy, .reflink:
            let tmp = cache.temporaryPath("obj")
            let digest: Digest
            if mode == .reflink {
                let (d, _, _) = try worker.hashFileStable(abs)
                digest = d
                if !cache.contains(ContentHash(d)) { try FS.copyFile(from: abs, to: tmp, mode: 0o444) }
            } else {
                (digest, _, _) = try worker.copyHashing(from: abs, to: tmp, mode: 0o444)
            }
            let hash = ContentHash(digest)
            if FS.exists(tmp) {
                if cache.contains(hash) { unlink(tmp) } else { try cache.install(temporary: tmp, as: hash); noteCreated(hash) }
            }
            if let after = try FS.status(abs), after == file.status { state.record(after, digest) }
            return digest
        case .hardlink, .symlink:
            let (digest, _, stable) = try worker.hashFileStable(abs)
            let hash = ContentHash(digest)
            if mode == .hardlink, let stable, try linkAsObject(abs, stable, hash) { return digest }
            if !cache.contains(hash) {
                let tmp = cache.temporaryPath("obj")
                if file.status.linkCount > 1 || link(abs, tmp) != 0 {
                    _ = try worker.copyHashing(from: abs, to: tmp, mode: 0o444)
                }
                try cache.install(temporary: tmp, as: hash)
            }
            try ensureLinked(abs, file, digest, mode: mode)
            if mode == .hardlink, let st = try FS.status(abs), stable != nil { state.record(st, digest) }
            return digest
        }
    }

    /// `MLV_NAMED_TEMPORARIES=1` writes objects and restored files under temporary names and
    /// renames them (the path for file systems without O_TMPFILE), for comparison and tests.
    static let namedTemporaries = Environment.get("MLV_NAMED_TEMPORARIES") != nil

    /// Copy mode, the fast way: copy into an unnamed file of the cache's file system while
    /// hashing, then give it its object name (one directory change per object, and a crash
    /// leaves nothing behind). Nil when the file system has no unnamed files or the source
    /// changed while being copied.
    func ingestUnnamed(_ abs: String, _ file: WorkspaceFile, _ worker: HashWorker) throws -> Digest? {
        guard let fd = try FS.openTemporary(in: cache.objectsRoot, mode: 0o444) else { return nil }
        defer { close(fd) }
        let (digest, _) = try worker.copyHashing(from: abs, toDescriptor: fd)
        guard let after = try FS.status(abs), after == file.status else { return nil }
        let hash = ContentHash(digest)
        if try cache.install(descriptor: fd, as: hash) { noteCreated(hash) }
        state.record(after, digest)
        return digest
    }

    /// Hardlink mode, the fast way: the workspace file itself becomes the object, linked straight
    /// to its final name (a link is atomic; no temporary name, no rename). The file is made
    /// read-only first, and must still be the inode, size and mtime that were hashed; otherwise
    /// the link is undone and false returned, as when the object already exists.
    func linkAsObject(_ abs: String, _ hashed: FileStatus, _ hash: ContentHash) throws -> Bool {
        // A file with other names (perhaps outside the workspace) is copied instead: making it
        // read-only and an object would change those other names too.
        guard hashed.kind == .file, hashed.linkCount == 1, !cache.contains(hash) else { return false }
        let object = cache.path(hash)
        _ = Glibc.chmod(abs, mode_t(hashed.mode & 0o555))
        var rc = link(abs, object)
        if rc != 0 && errno == ENOENT {
            try FS.makeDirectories(Path.parent(object))
            rc = link(abs, object)
        }
        guard rc == 0 else { return false }
        guard let now = try FS.status(abs), now.inode == hashed.inode, now.size == hashed.size, now.mtimeNs == hashed.mtimeNs else {
            unlink(object)
            return false
        }
        state.record(now, hash.digest)
        return true
    }

    /// In hardlink or symlink mode, replaces a workspace copy by a link to its cache object.
    func ensureLinked(_ abs: String, _ file: WorkspaceFile, _ digest: Digest, mode: LinkType) throws {
        let object = cache.path(ContentHash(digest))
        switch mode {
        case .copy, .reflink:
            return
        case .hardlink:
            if let now = try FS.status(abs), now.kind == .file, let o = try FS.status(object), o.inode == now.inode { return }
            try replace(abs, with: { tmp in link(object, tmp) == 0 ? nil : errno }, what: "hard-link")
            if let st = try FS.status(abs) { state.record(st, digest) }
        case .symlink:
            if file.status.kind == .symlink { return }
            try replace(abs, with: { tmp in symlink(object, tmp) == 0 ? nil : errno }, what: "symlink")
        }
    }

    /// Atomically replaces `abs` by what `make` creates at a temporary name in `.mlv/tmp`
    /// (beside `abs` only when the two are on different file systems), so a crash never leaves
    /// a partial file where it could be taken for data.
    func replace(_ abs: String, with make: (String) -> Int32?, what: String) throws {
        let tmp = cache.temporaryPath("link")
        if let e = make(tmp) { throw FileSystemError.posix(what, abs, errno: e) }
        // rename() does nothing when both names are links to one inode: unlink either way.
        if Glibc.rename(tmp, abs) == 0 { unlink(tmp); return }
        var e = errno
        unlink(tmp)
        if e == EXDEV {
            let beside = Path.join(Path.parent(abs), Workspace.besideTemporaryPrefix + "\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
            if let e = make(beside) { throw FileSystemError.posix(what, abs, errno: e) }
            if Glibc.rename(beside, abs) == 0 { unlink(beside); return }
            e = errno
            unlink(beside)
        }
        throw FileSystemError.posix("replace", abs, errno: e)
    }

    /// Temporaries written beside their target: only where `.mlv/tmp` is on another file system.
    static let besideTemporaryPrefix = ".mlv-tmp."

    /// Checks that a cache object hashes to its name, reading it whole (the state index is not
    /// trusted for objects: a link must never place bytes this run has not verified).
    func verifyObject(_ digest: Digest, for shown: String, _ worker: HashWorker) throws {
        let hash = ContentHash(digest)
        let path = cache.path(hash)
        guard try FS.status(path) != nil else { throw WorkspaceError.missingFromCache(path: shown, hash: hash) }
        let (d, _) = try worker.hashFile(path)
        guard d == digest else { throw WorkspaceError.corruptedObject(path: shown, hash: hash) }
    }

    /// Writes a cache object as `name` in `dir` (replacing what is there) per `mode`. Copies are
    /// checked against the digest while they are written and links are made only to objects
    /// rehashed just before, so a corrupted object never reaches the workspace. The file is
    /// built in `.mlv/tmp` (or unnamed in `dir`) and appears under its name only when complete;
    /// `dir` was opened without following symlinks, so nothing is written outside it.
    /// `prepared`: nothing was at `name` when the checkout was planned.
    func materialize(_ digest: Digest, into dir: DirectoryHandle, name: String, shownAs: String, mode: LinkType,
                     prepared: Bool = false, _ worker: HashWorker) throws {
        let hash = ContentHash(digest)
        let object = cache.path(hash)
        if !prepared, let st = try dir.status(name), st.kind == .directory { try dir.removeTree(name) }
        if prepared, mode == .copy, !Workspace.namedTemporaries,
           try materializeUnnamed(digest, object: object, into: dir, name: name, shownAs: shownAs, worker) {
            return
        }
        do {
            let written = try buildTemporary(hash, object: object, at: cache.temporaryPath("co"), shownAs: shownAs, mode: mode, worker)
            do {
                try dir.rename(written.path, to: name)
                unlink(written.path)  // left when both names were links to one inode
            } catch let e as FileSystemError where e.errno == EXDEV {
                unlink(written.path)
                // Another file system than .mlv/tmp's: build it beside its target instead.
                let beside = Workspace.besideTemporaryPrefix + "\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
                _ = try buildTemporary(hash, object: object, at: dir.path + "/" + beside, shownAs: shownAs, mode: mode, worker)
                do { try dir.renameInside(beside, to: name) } catch { dir.remove(beside); throw error }
            } catch {
                unlink(written.path)
                throw error
            }
            if mode == .symlink { return }
            if let st = try written.status ?? dir.status(name) { state.record(st, digest, written: true) }
        } catch let e as FileSystemError where e.errno == ENOENT && !FS.exists(object) {
            throw WorkspaceError.missingFromCache(path: shownAs, hash: hash)
        }
    }

    /// Makes the file (or link) for `hash` at the temporary path `tmp`, verified; removes it on failure.
    private func buildTemporary(_ hash: ContentHash, object: String, at tmp: String, shownAs: String, mode: LinkType,
                                _ worker: HashWorker) throws -> (path: String, status: FileStatus?) {
        var done = false
        defer { if !done { unlink(tmp) } }
        var written: FileStatus?
        switch mode {
        case .copy, .reflink:
            var method = FS.CopyMethod.bytes
            if mode == .reflink { method = try FS.copyFile(from: object, to: tmp, mode: 0o644) }
            if method == .reflink {
                let (d, _) = try worker.hashFile(tmp)
                guard d == hash.digest else { throw WorkspaceError.corruptedObject(path: shownAs, hash: hash) }
            } else {
                if mode == .reflink { unlink(tmp) }
                let (d, _, st) = try worker.copyHashing(from: object, to: tmp, mode: 0o644)
                guard d == hash.digest else { throw WorkspaceError.corruptedObject(path: shownAs, hash: hash) }
                written = st
            }
        case .hardlink:
            try verifyObject(hash.digest, for: shownAs, worker)
            if link(object, tmp) != 0 { throw FileSystemError.posix("hard-link", shownAs, errno: errno) }
        case .symlink:
            try verifyObject(hash.digest, for: shownAs, worker)
            if symlink(object, tmp) != 0 { throw FileSystemError.posix("symlink", shownAs, errno: errno) }
        }
        done = true
        return (tmp, written)
    }
}

extension Workspace {
    /// Restores a file that does not exist: copy the object into an unnamed file in the target's
    /// folder while hashing it, and name it only if the hash matches. False when the file system
    /// has no unnamed files or something appeared at `name` meanwhile (the caller then renames).
    func materializeUnnamed(_ digest: Digest, object: String, into dir: DirectoryHandle, name: String, shownAs: String,
                            _ worker: HashWorker) throws -> Bool {
        let hash = ContentHash(digest)
        guard let fd = try dir.openTemporary(mode: 0o644) else { return false }
        defer { close(fd) }
        let d: Digest
        do {
            (d, _) = try worker.copyHashing(from: object, toDescriptor: fd)
        } catch let e as FileSystemError where e.errno == ENOENT && !FS.exists(object) {
            throw WorkspaceError.missingFromCache(path: shownAs, hash: hash)
        }
        guard d == digest else { throw WorkspaceError.corruptedObject(path: shownAs, hash: hash) }
        guard try dir.linkTemporary(fd, as: name) else { return false }
        var st = stat()
        if fstat(fd, &st) == 0 { state.record(FileStatus(st), digest, written: true) }
        return true
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
