import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Moves content between the workspace and the cache for one command: ingests files (copies
/// them in, or makes them the objects, and links them back per the link type) and materialises
/// objects as workspace files. It owns the link type and remembers the objects it created, so a
/// failed command can take them back out; pointer data and pipeline outs both go through it.
final class Linker: @unchecked Sendable {
    let cache: ObjectCache
    let mode: LinkType
    let state: StateIndex

    private var created: CreatedObjects
    private let createdLock = Lock()

    init(cache: ObjectCache, state: StateIndex, mode: LinkType) {
        self.cache = cache
        self.state = state
        self.mode = mode
        created = CreatedObjects(spillIn: cache.tmp)
    }

    /// The first of `preferred` (`cache.type`) that the cache's file system supports.
    static func linkType(preferring preferred: [LinkType], in cache: ObjectCache) -> LinkType {
        for t in preferred {
            switch t {
            case .copy: return .copy
            case .reflink: if FS.supportsReflink(in: cache.tmp) { return .reflink }
            case .hardlink: if FS.supportsHardlink(in: cache.tmp) { return .hardlink }
            case .symlink: if FS.supportsSymlink(in: cache.tmp) { return .symlink }
            }
        }
        return .copy
    }

    /// `MLV_NAMED_TEMPORARIES=1` writes objects and restored files under temporary names and
    /// renames them (the path for file systems without O_TMPFILE), for comparison and tests.
    static let namedTemporaries = Environment.get("MLV_NAMED_TEMPORARIES") != nil

    /// Temporaries written beside their target: only where `.mlv/tmp` is on another file system.
    static let besideTemporaryPrefix = ".mlv-tmp."

    // MARK: - Objects this command created

    private func noteCreated(_ hash: ContentHash) {
        createdLock.lock()
        created.append(hash.digest)
        createdLock.unlock()
    }

    /// Runs `body`; if it throws, removes the objects it created (copies only, never linked
    /// workspace files), so a failed command leaves the cache as it was.
    func undoingCreatedObjects<T>(_ body: () throws -> T) throws -> T {
        createdLock.lock(); created.removeAll(); createdLock.unlock()
        do {
            let result = try body()
            createdLock.lock(); created.removeAll(); createdLock.unlock()
            return result
        } catch {
            createdLock.lock()
            defer { created.removeAll(); createdLock.unlock() }
            created.forEach { d in
                let object = cache.path(ContentHash(d))
                unlink(object)
                rmdir(Path.parent(object))  // only if this left it empty
            }
            throw error
        }
    }

    // MARK: - Workspace → cache

    /// Stores the scanned trees and returns each one's record: a file's object, or a folder's
    /// `.dir` manifest (stored too). Single files are hashed as one job list across all of them
    /// (so many small ones still use every core); each folder is streamed (`storeFolder`). On
    /// failure the objects created are removed.
    func store(_ trees: [ScannedTree], scanner: TreeScanner, progress: ProgressCounter? = nil) throws -> [Lockfile.Entry] {
        try undoingCreatedObjects {
            let singles = trees.indices.filter { !trees[$0].isDirectory }
            var digests = [Digest?](repeating: nil, count: trees.count)
            let lock = Lock()
            try Parallel.forEach(count: singles.count, makeContext: { HashWorker() }) { k, worker in
                let tree = trees[singles[k]]
                let d = try ingest(scanner.absolute(tree.path), tree.files[0], worker)
                lock.lock()
                digests[singles[k]] = d
                lock.unlock()
                progress?.advance(bytes: tree.bytes)
            }
            return try trees.indices.map { t in
                let tree = trees[t]
                guard tree.isDirectory else {
                    return Lockfile.Entry(path: tree.path, hash: ContentHash(digests[t]!), size: tree.files[0].status.size, fileCount: nil)
                }
                return try storeFolder(tree, scanner: scanner, progress: progress)
            }
        }
    }

    /// How many files a folder's store hashes at a time: its memory, whatever the folder's size.
    var storeWindow = 4096

    /// Stores a folder in memory that does not grow with it: walked again in path order
    /// (`forEachInPathOrder`), its files hashed a window at a time on every core, and each
    /// window's manifest lines written as it completes. Each inner folder's state record (copy
    /// or reflink: linked files change their status when linked) is written once its files are
    /// hashed, the folder's own last (see `FolderRecorder`).
    private func storeFolder(_ tree: ScannedTree, scanner: TreeScanner, progress: ProgressCounter?) throws -> Lockfile.Entry {
        final class Folder {
            let path: String
            let files: [WorkspaceFile]
            var digests: [Digest]
            var left: Int
            init(_ path: String, _ files: [WorkspaceFile]) {
                self.path = path
                self.files = files
                digests = [Digest](repeating: Digest(bytes: [UInt8](repeating: 0, count: 32)), count: files.count)
                left = files.count
            }
        }
        let base = scanner.absolute(tree.path)
        let writer = try cache.manifestWriter()
        let recorder = mode == .copy || mode == .reflink ? state.recordDirectory(tree.path) : nil
        var walk = WalkSummary()
        var window: [(folder: Folder, index: Int)] = []
        window.reserveCapacity(storeWindow)
        var found = [Digest](repeating: Digest(bytes: [UInt8](repeating: 0, count: 32)), count: storeWindow)
        func hashWindow() throws {
            try found.withUnsafeMutableBufferPointer { out in
                try Parallel.forEach(count: window.count, makeContext: { HashWorker() }) { i, worker in
                    let (folder, k) = window[i]
                    let file = folder.files[k]
                    out[i] = try ingest(base + "/" + file.path, file, worker)
                    progress?.advance(bytes: file.status.size)
                }
            }
            for (i, (folder, k)) in window.enumerated() {
                let file = folder.files[k]
                try writer.append(path: file.path, digest: found[i], size: file.status.size)
                folder.digests[k] = found[i]
                folder.left -= 1
                if folder.left == 0 { recorder?.add(TreeScanner.part(folder.path, folder.files, folder.digests)) }
            }
            window.removeAll(keepingCapacity: true)
        }
        do {
            try scanner.forEachInPathOrder(tree.path, folder: { path, files -> Folder in
                // The tree may have changed since it was planned: the same checks again.
                try scanner.refuseTrackedInside(tree.path, shownAs: tree.shownAs, files)
                walk.add(files)
                return Folder(path, files)
            }, file: { folder, k in
                window.append((folder, k))
                if window.count == storeWindow { try hashWindow() }
            })
            try hashWindow()
        } catch {
            recorder?.discard()
            throw error
        }
        let hash = try writer.finish()
        state.markComplete(hash.description)  // every object it lists was just stored
        recorder?.finish(hash: hash.description, fingerprint: walk.fingerprint.bytes, newestMtimeNs: walk.newestMtimeNs, written: false)
        return Lockfile.Entry(path: tree.path, hash: hash, size: walk.bytes, fileCount: walk.files)
    }

    /// Records a workspace file in the cache (per the link type) and returns its digest.
    func ingest(_ abs: String, _ file: WorkspaceFile, _ worker: HashWorker) throws -> Digest {
        if let link = file.cacheLink { return link.digest }
        if let known = state.lookup(file.status), cache.contains(ContentHash(known)) {
            try ensureLinked(abs, file, known)
            return known
        }
        switch mode {
        case .copy where !Linker.namedTemporaries:
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
            try ensureLinked(abs, file, digest)
            if mode == .hardlink, let st = try FS.status(abs), stable != nil { state.record(st, digest) }
            return digest
        }
    }

    /// Copy mode, the fast way: copy into an unnamed file of the cache's file system while
    /// hashing, then give it its object name (one directory change per object, and a crash
    /// leaves nothing behind). Nil when the file system has no unnamed files or the source
    /// changed while being copied.
    private func ingestUnnamed(_ abs: String, _ file: WorkspaceFile, _ worker: HashWorker) throws -> Digest? {
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
    private func linkAsObject(_ abs: String, _ hashed: FileStatus, _ hash: ContentHash) throws -> Bool {
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
    private func ensureLinked(_ abs: String, _ file: WorkspaceFile, _ digest: Digest) throws {
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
    private func replace(_ abs: String, with make: (String) -> Int32?, what: String) throws {
        let tmp = cache.temporaryPath("link")
        if let e = make(tmp) { throw FileSystemError.posix(what, abs, errno: e) }
        // rename() does nothing when both names are links to one inode: unlink either way.
        if Glibc.rename(tmp, abs) == 0 { unlink(tmp); return }
        var e = errno
        unlink(tmp)
        if e == EXDEV {
            let beside = Path.join(Path.parent(abs), Linker.besideTemporaryPrefix + "\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
            if let e = make(beside) { throw FileSystemError.posix(what, abs, errno: e) }
            if Glibc.rename(beside, abs) == 0 { unlink(beside); return }
            e = errno
            unlink(beside)
        }
        throw FileSystemError.posix("replace", abs, errno: e)
    }

    // MARK: - Cache → workspace

    /// Checks that a cache object hashes to its name, reading it whole (the state index is not
    /// trusted for objects: a link must never place bytes this run has not verified).
    func verifyObject(_ digest: Digest, for shown: String, _ worker: HashWorker) throws {
        let hash = ContentHash(digest)
        let path = cache.path(hash)
        guard try FS.status(path) != nil else { throw WorkspaceError.missingFromCache(path: shown, hash: hash) }
        let (d, _) = try worker.hashFile(path)
        guard d == digest else { throw WorkspaceError.corruptedObject(path: shown, hash: hash) }
    }

    /// Writes a cache object as `name` in `dir` (replacing what is there) per the link type.
    /// Copies are checked against the digest while they are written and links are made only to
    /// objects rehashed just before, so a corrupted object never reaches the workspace. The file
    /// is built in `.mlv/tmp` (or unnamed in `dir`) and appears under its name only when complete;
    /// `dir` was opened without following symlinks, so nothing is written outside it.
    /// `prepared`: nothing was at `name` when the checkout was planned.
    /// `verified`: this process hashed the object's bytes as it wrote them into the cache, just
    /// before (a download): the copy is made by the kernel without hashing it again, and a link
    /// without rehashing the object.
    /// `size`: the object's size as its manifest records it, when known (see `copyHashing`).
    func materialize(_ digest: Digest, into dir: DirectoryHandle, name: String, shownAs: String,
                     prepared: Bool = false, verified: Bool = false, size: Int64? = nil, _ worker: HashWorker) throws {
        let hash = ContentHash(digest)
        let object = cache.path(hash)
        let unnamed = prepared && mode == .copy && !Linker.namedTemporaries
        if unnamed, try materializeUnnamed(digest, object: object, into: dir, name: name, shownAs: shownAs, verified: verified, size: size, worker) {
            return
        }
        // Something is there after all (planned as absent: an ignored file, a folder).
        if !prepared || unnamed, let st = try dir.status(name), st.kind == .directory { try dir.removeTree(name) }
        do {
            let written = try buildTemporary(hash, object: object, at: cache.temporaryPath("co"), shownAs: shownAs, verified: verified, worker)
            do {
                try dir.rename(written.path, to: name)
                unlink(written.path)  // left when both names were links to one inode
            } catch let e as FileSystemError where e.errno == EXDEV {
                unlink(written.path)
                // Another file system than .mlv/tmp's: build it beside its target instead.
                let beside = Linker.besideTemporaryPrefix + "\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
                _ = try buildTemporary(hash, object: object, at: dir.path + "/" + beside, shownAs: shownAs, verified: verified, worker)
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
    private func buildTemporary(_ hash: ContentHash, object: String, at tmp: String, shownAs: String,
                                verified: Bool, _ worker: HashWorker) throws -> (path: String, status: FileStatus?) {
        var done = false
        defer { if !done { unlink(tmp) } }
        var written: FileStatus?
        switch mode {
        case .copy where verified, .reflink where verified:
            try FS.copyFile(from: object, to: tmp, mode: 0o644)
            written = try FS.status(tmp)
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
            if !verified { try verifyObject(hash.digest, for: shownAs, worker) }
            if link(object, tmp) != 0 { throw FileSystemError.posix("hard-link", shownAs, errno: errno) }
        case .symlink:
            if !verified { try verifyObject(hash.digest, for: shownAs, worker) }
            if symlink(object, tmp) != 0 { throw FileSystemError.posix("symlink", shownAs, errno: errno) }
        }
        done = true
        return (tmp, written)
    }

    /// Restores a file that does not exist: copy the object into an unnamed file in the target's
    /// folder while hashing it, and name it only if the hash matches. False when the file system
    /// has no unnamed files or something appeared at `name` meanwhile (the caller then renames).
    private func materializeUnnamed(_ digest: Digest, object: String, into dir: DirectoryHandle, name: String, shownAs: String,
                                    verified: Bool, size: Int64?, _ worker: HashWorker) throws -> Bool {
        let hash = ContentHash(digest)
        guard let fd = try dir.openTemporary(mode: 0o644) else { return false }
        defer { close(fd) }
        var d = digest
        do {
            if verified {
                let src = try FS.openFile(object, O_RDONLY)
                defer { close(src) }
                _ = try FS.copy(descriptor: src, to: fd, from: object, to: shownAs)
            } else if let size {
                (d, _) = try worker.copyHashing(from: object, toDescriptor: fd, expectedSize: size)
            } else {
                (d, _) = try worker.copyHashing(from: object, toDescriptor: fd)
            }
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

/// The objects a command created, so that a failed command can take them back out: 32 bytes
/// each, in a buffer that spills to an unnamed file in `.mlv/tmp` (gone with the process), so
/// memory stays at a MiB whatever their number. Not thread-safe: the linker locks around it.
final class CreatedObjects {
    private let directory: String
    private let spillAt: Int
    private var buffer: [UInt8] = []
    private var spill: Int32 = -1
    private var spilled: Int64 = 0

    init(spillIn directory: String, spillAt: Int = 1 << 20) {
        self.directory = directory
        self.spillAt = spillAt
    }

    deinit { if spill >= 0 { close(spill) } }

    func append(_ d: Digest) {
        for w in [d.w0, d.w1, d.w2, d.w3] { withUnsafeBytes(of: w.bigEndian) { buffer.append(contentsOf: $0) } }
        if buffer.count >= spillAt { write() }
    }

    /// Moves the buffer to the spill file (kept in memory when there is none).
    private func write() {
        if spill < 0, let fd = try? FS.openTemporary(in: directory, mode: 0o600, readable: true) { spill = fd }
        guard spill >= 0 else { return }
        let ok = buffer.withUnsafeBytes { b in pwrite(spill, b.baseAddress, b.count, off_t(spilled)) == b.count }
        if ok {
            spilled += Int64(buffer.count)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    func forEach(_ body: (Digest) -> Void) {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < spilled {
            let n = chunk.withUnsafeMutableBytes { pread(spill, $0.baseAddress, min($0.count, Int(spilled - offset)), off_t(offset)) }
            guard n > 0 else { break }
            chunk.withUnsafeBytes { b in for i in stride(from: 0, to: n - n % 32, by: 32) { body(Digest(raw: b.baseAddress! + i)) } }
            offset += Int64(n - n % 32)
        }
        buffer.withUnsafeBytes { b in for i in stride(from: 0, to: b.count, by: 32) { body(Digest(raw: b.baseAddress! + i)) } }
    }

    func removeAll() {
        buffer.removeAll(keepingCapacity: false)
        spilled = 0
        if spill >= 0 { _ = ftruncate(spill, 0) }
    }
}
