import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// A local directory (another disk, a mounted share) used as a remote, laid out like the cache.
/// Other people write into it too, so it is opened like the workspace: its root as configured,
/// and below it every folder one component at a time with `O_NOFOLLOW` and every file operation
/// relative to that folder's descriptor. A planted symlink (`sha256/ab → /home/you`) makes a
/// write or read there fail, and is never listed or deleted through.
package final class LocalRemote: ObjectStore, @unchecked Sendable {
    package let remoteName: String
    let root: String

    init(name: String, root: String) {
        remoteName = name
        self.root = root
    }

    package var largeObjectSize: Int64 { .max }
    package var usesIndex: Bool { false }

    package func check(forWriting: Bool) throws {
        if forWriting && !FS.exists(root) { try FS.makeDirectories(root) }
        guard FS.isDirectory(root) else { throw RemoteError.localRemoteMissing(remote: remoteName, path: root) }
    }

    /// Folders opened so far (by path below the root): a handle stays valid for the command,
    /// whatever is renamed or swapped in later, and saves reopening it per object.
    private var opened: [String: DirectoryHandle] = [:]
    private let openedLock = Lock()

    /// The folder `relative` below the root (nil when missing and not `create`).
    func folder(_ relative: String, create: Bool) throws -> DirectoryHandle? {
        openedLock.lock()
        let known = opened[relative]
        openedLock.unlock()
        if let known { return known }
        // From the parent folder's handle (itself opened this way, and kept), one component:
        // the 256 object folders cost one openat each.
        let parent = Path.parent(relative)
        let from: DirectoryHandle
        if relative.contains("/") {
            guard let p = try folder(parent, create: create) else { return nil }
            from = p
        } else {
            do { from = try DirectoryHandle.open(root) } catch let e as FileSystemError where e.errno == ENOENT {
                if create { throw e }
                return nil
            }
        }
        let handle: DirectoryHandle?
        do {
            handle = try from.child(Path.base(relative), create: create)
        } catch let e as DirectoryHandle.Swapped {
            let prefix = relative.contains("/") ? parent + "/" : ""
            throw RemoteError.notAFolder(remote: remoteName, path: prefix + e.relativePath)
        }
        if let handle {
            openedLock.lock()
            // At most the 256 object folders and a few side ones: descriptors stay few.
            if opened.count < 512 { opened[relative] = handle }
            openedLock.unlock()
        }
        return handle
    }

    /// The folder holding an object and its name there.
    func place(_ hash: ContentHash) -> (folder: String, name: String) {
        // By UTF-8 offsets: this runs for every object of a push (Path.parent walks Characters).
        let hex = hash.description.utf8
        let cut = hex.index(hex.startIndex, offsetBy: 2)
        return ("sha256/" + String(Substring(hex[..<cut])), String(Substring(hex[cut...])))
    }

    /// One listing per object folder that holds a wanted object (not a stat per object): the
    /// regular files it lists are there.
    package func existing(_ hashes: [ContentHash], jobs: Int) throws -> Set<ContentHash> {
        var found = Set<ContentHash>()
        var byFolder: [String: [(ContentHash, String)]] = [:]
        for h in hashes {
            let (f, name) = place(h)
            byFolder[f, default: []].append((h, name))
        }
        for (f, wanted) in byFolder {
            guard let dir = try? folder(f, create: false), let entries = try? dir.list() else { continue }
            var files = Set<String>()
            for e in entries {
                let kind = e.kind ?? (try? dir.status(e.name))??.kind
                if kind == .file { files.insert(e.name) }
            }
            for (h, name) in wanted where files.contains(name) { found.insert(h) }
        }
        return found
    }

    package func listAll() throws -> [StoredObject] {
        guard let base = try folder("sha256", create: false) else { return [] }
        var out: [StoredObject] = []
        for name in try base.entries() where name.utf8.count == 2 {
            // A folder that is a symlink (or a file) is skipped: nothing is listed through it.
            guard (try base.status(name))?.kind == .directory, let sub = try? base.descend(name, create: false) else { continue }
            for entry in try sub.entries() {
                guard let h = ContentHash(string: name + entry), let st = try sub.status(entry), st.kind == .file else { continue }
                out.append(StoredObject(hash: h, size: st.size, modified: Double(st.mtimeNs) / 1e9))
            }
        }
        return out
    }

    package func delete(_ hashes: [ContentHash]) throws {
        for h in hashes {
            let (f, name) = place(h)
            guard let dir = try folder(f, create: false), (try dir.status(name))?.kind == .file else { continue }
            dir.remove(name)
        }
    }

    package func upload(_ hash: ContentHash, from source: String, size: Int64, jobs: Int) throws {
        let (f, name) = place(hash)
        guard let dir = try folder(f, create: true) else { return }
        try Self.write(into: dir, name: name) { dst, shown in
            let src = try FS.openFile(source, O_RDONLY | O_CLOEXEC)
            defer { close(src) }
            try FS.copy(descriptor: src, to: dst, from: source, to: shown)
        }
    }

    package func download(_ hash: ContentHash, to fd: Int32, path out: String, limit: Int64) throws -> Digest? {
        let (f, name) = place(hash)
        guard let dir = try folder(f, create: false) else { return nil }
        let shown = "\(f)/\(name)"
        let src: Int32
        do {
            // O_NONBLOCK: a FIFO planted in the remote must not block the open.
            guard let opened = try dir.openFile(name, flags: O_RDONLY | O_NONBLOCK) else { return nil }
            src = opened
        } catch let e as FileSystemError where e.errno == ELOOP {
            throw RemoteError.notARegularFile(remote: remoteName, path: shown, kind: "a symbolic link")
        }
        defer { close(src) }
        var st = stat()
        guard fstat(src, &st) == 0 else { throw FileSystemError.posix("stat", root + "/" + shown, errno: errno) }
        let status = FileStatus(st)
        guard status.kind == .file else {
            throw RemoteError.notARegularFile(remote: remoteName, path: shown, kind: st.st_mode & S_IFMT == S_IFIFO ? "a FIFO" : "not a regular file")
        }
        guard status.size <= limit else { throw RemoteError.largerThanRecorded(remote: remoteName, object: hash.short, size: status.size, recorded: limit) }
        let (digest, _) = try HashWorker().copyHashing(from: "/proc/self/fd/\(src)", toDescriptor: fd)
        return digest
    }

    /// Writes a new file under a dotted temporary name in `dir` (listings skip those) through
    /// `body`, then renames it to `name`, replacing what was there.
    static func write(into dir: DirectoryHandle, name: String, mode: mode_t = 0o444, _ body: (Int32, String) throws -> Void) throws {
        let tmp = ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = try dir.create(tmp, mode: mode)
        var done = false
        defer { if !done { dir.remove(tmp) } }
        do {
            defer { close(fd) }
            try body(fd, dir.path + "/" + name)
        }
        try dir.renameInside(tmp, to: name)
        done = true
    }
}

// Small objects beside the content objects: `index/<name>` and `runs/ab/cdef…/<entry>` (see
// StoreSideObjects.swift), reached the same way.
extension LocalRemote {
    /// Regular files below `folder` (at most 4 levels deep), skipping names that start with a dot
    /// (an upload in progress) and anything that is not a real folder or file.
    package func listSide(_ folder: String, limit: Int) throws -> [String] {
        var out: [String] = []
        func walk(_ dir: DirectoryHandle, _ rel: String, depth: Int) throws {
            guard depth <= 4, out.count < limit else { return }
            for name in try dir.entries().sorted() where !name.hasPrefix(".") {
                guard out.count < limit, let st = try dir.status(name) else { continue }
                let child = rel.isEmpty ? name : rel + "/" + name
                switch st.kind {
                case .directory: if let sub = try? dir.descend(name, create: false) { try walk(sub, child, depth: depth + 1) }
                case .file: out.append(child)
                default: continue
                }
            }
        }
        guard let top = try? self.folder(folder, create: false) else { return [] }
        try walk(top, "", depth: 1)
        return out
    }

    /// The object's bytes; nil when there is none, or it is not a regular file of at most `limit` bytes.
    package func getSide(_ key: String, limit: Int) throws -> [UInt8]? {
        guard let dir = try? folder(Path.parent(key), create: false),
              let fd = try? dir.openFile(Path.base(key), flags: O_RDONLY | O_NONBLOCK) else { return nil }
        defer { close(fd) }
        do {
            return try UntrustedFile.bytes("/proc/self/fd/\(fd)", shownAs: key, limit: limit, followSymlinks: true)
        } catch is UntrustedFile.Refusal {
            return nil
        }
    }

    package func putSide(_ key: String, _ bytes: [UInt8]) throws {
        guard let dir = try folder(Path.parent(key), create: true) else { return }
        try Self.write(into: dir, name: Path.base(key)) { fd, shown in
            try bytes.withUnsafeBytes { try FS.writeAll(fd, $0, path: shown) }
            guard fsync(fd) == 0 else { throw FileSystemError.posix("sync", shown, errno: errno) }
        }
    }

    package func deleteSide(_ keys: [String]) throws {
        for k in keys {
            guard let dir = try? folder(Path.parent(k), create: false), (try? dir.status(Path.base(k)))??.kind == .file else { continue }
            dir.remove(Path.base(k))
        }
    }
}
