#if canImport(Glibc)
import Glibc
#endif

/// An open folder, reached from a trusted root one component at a time with `O_NOFOLLOW`, and
/// the file operations mlv makes inside it (`*at` calls relative to its descriptor). Nothing
/// written through a handle can follow a symlink, not even one swapped in while mlv runs: a
/// component that is (or became) a symlink or a file makes `descend` throw `Swapped`.
package final class DirectoryHandle: @unchecked Sendable {
    package let fd: Int32
    /// The folder's path, for messages only (never used to reach it).
    package let path: String

    /// A component on the way was a symlink or not a folder (it may have been swapped in).
    package struct Swapped: Error {
        /// Relative to the handle `descend` started from.
        package var relativePath: String
    }

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// A handle owning `fd` (closed in deinit).
    convenience init(adopting fd: Int32, path: String) { self.init(fd: fd, path: path) }

    deinit { close(fd) }

    /// Opens a trusted folder (the workspace root: found by mlv, symlinks already resolved).
    package static func open(_ path: String) throws -> DirectoryHandle {
        DirectoryHandle(fd: try FS.openFile(path, O_RDONLY | O_DIRECTORY), path: path)
    }

    /// The folder `relative` below this one ("." for itself), opening each component with
    /// `O_NOFOLLOW`; missing ones are created when `create`, else nil is returned.
    package func descend(_ relative: String, create: Bool) throws -> DirectoryHandle? {
        var current = self
        var walked = ""
        for part in relative.split(separator: "/") where part != "." {
            walked += (walked.isEmpty ? "" : "/") + part
            do {
                guard let next = try current.child(String(part), create: create) else { return nil }
                current = next
            } catch is Swapped {
                throw Swapped(relativePath: walked)
            }
        }
        return current
    }

    /// The folder `name` right inside this one (one component, `O_NOFOLLOW`; `descend` is this
    /// a component at a time). Created when missing and `create`; nil when missing otherwise;
    /// `Swapped` when it is a symlink or not a folder.
    package func child(_ name: String, create: Bool) throws -> DirectoryHandle? {
        var f = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if f < 0 && errno == ENOENT && create {
            if mkdirat(fd, name, 0o755) != 0 && errno != EEXIST { throw FileSystemError.posix("create directory", path + "/" + name, errno: errno) }
            f = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if f < 0 {
            let e = errno
            if e == ENOENT && !create { return nil }
            // ENOENT after creating it: the folder was moved away between mkdir and open.
            if e == ELOOP || e == ENOTDIR || e == ENOENT { throw Swapped(relativePath: name) }
            throw FileSystemError.posix("open directory", path + "/" + name, errno: e)
        }
        return DirectoryHandle(fd: f, path: path + "/" + name)
    }

    /// `fstatat` without following a symlink; nil when missing.
    package func status(_ name: String) throws -> FileStatus? {
        var st = stat()
        if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return nil }
            throw FileSystemError.posix("stat", path + "/" + name, errno: errno)
        }
        return FileStatus(st)
    }

    /// Removes `name` (a file, a symlink, or a whole folder, never following a symlink).
    package func removeTree(_ name: String) throws {
        guard let st = try status(name) else { return }
        if st.kind == .directory {
            guard let sub = try descend(name, create: false) else { return }
            for entry in try sub.entries() { try sub.removeTree(entry) }
            if unlinkat(fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
                throw FileSystemError.posix("remove directory", path + "/" + name, errno: errno)
            }
        } else if unlinkat(fd, name, 0) != 0 && errno != ENOENT {
            throw FileSystemError.posix("remove", path + "/" + name, errno: errno)
        }
    }

    /// The raw names in this folder (no "." or "..").
    package func entries() throws -> [String] { try list().map(\.name) }

    /// An unnamed file in this folder (Linux `O_TMPFILE`), or nil when the file system has none.
    package func openTemporary(mode: mode_t) throws -> Int32? {
        while true {
            let f = openat(fd, ".", FS.O_TMPFILE | O_WRONLY | O_CLOEXEC, mode)
            if f >= 0 { return f }
            switch errno {
            case EINTR: continue
            case EOPNOTSUPP, EISDIR, EINVAL: return nil
            default: throw FileSystemError.posix("create a file in", path, errno: errno)
            }
        }
    }

    /// Names an unnamed file here; false when `name` exists already (nothing is replaced).
    package func linkTemporary(_ file: Int32, as name: String) throws -> Bool {
        if FS.linkUnnamed(file, fd, name) { return true }
        if errno == EEXIST { return false }
        throw FileSystemError.posix("create", path + "/" + name, errno: errno)
    }

    /// Moves `from` (an absolute path in mlv's own temporary folder) to `name` here, replacing
    /// what is there. Throws with `errno` EXDEV when the two are on different file systems.
    package func rename(_ from: String, to name: String) throws {
        if renameat(AT_FDCWD, from, fd, name) != 0 { throw FileSystemError.posix("rename to '\(path)/\(name)'", from, errno: errno) }
    }

    /// Moves `from` to `to`, both names in this folder.
    package func renameInside(_ from: String, to: String) throws {
        if renameat(fd, from, fd, to) != 0 { throw FileSystemError.posix("rename to '\(path)/\(to)'", path + "/" + from, errno: errno) }
    }

    /// Creates `name` here (it must not exist) and returns its descriptor, open for writing.
    package func create(_ name: String, mode: mode_t) throws -> Int32 {
        while true {
            let f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if f >= 0 { return f }
            if errno == EINTR { continue }
            throw FileSystemError.posix("create", path + "/" + name, errno: errno)
        }
    }

    package func hardlink(_ target: String, as name: String) throws {
        if linkat(AT_FDCWD, target, fd, name, 0) != 0 { throw FileSystemError.posix("hard-link to '\(target)'", path + "/" + name, errno: errno) }
    }

    package func symlink(_ target: String, as name: String) throws {
        if symlinkat(target, fd, name) != 0 { throw FileSystemError.posix("symlink to '\(target)'", path + "/" + name, errno: errno) }
    }

    package func remove(_ name: String) {
        _ = unlinkat(fd, name, 0)
    }
}

extension DirectoryHandle {
    /// Opens `name` here without following a symlink (`flags` gain O_NOFOLLOW and O_CLOEXEC);
    /// nil when it does not exist. A symlink is an error (ELOOP), as is anything `openat` refuses.
    package func openFile(_ name: String, flags: Int32, mode: mode_t = 0o644) throws -> Int32? {
        while true {
            let f = openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
            if f >= 0 { return f }
            switch errno {
            case EINTR: continue
            case ENOENT: return nil
            default: throw FileSystemError.posix("open", path + "/" + name, errno: errno)
            }
        }
    }
}

extension DirectoryHandle {
    /// The folder `relative` below this one, however deep: opened in pieces of at most ~3,000
    /// bytes (each an `openat` of several components at once), so a path longer than PATH_MAX
    /// still opens, and a normal one costs one call. Symlinks inside a piece are followed only
    /// as `openat` would; callers walking their own listings never name one. Nil when missing.
    package func openDeep(_ relative: String) throws -> DirectoryHandle? {
        var pieces: [String] = []
        var current = ""
        for part in relative.split(separator: "/") {
            if !current.isEmpty && current.utf8.count + part.utf8.count + 1 > 3000 { pieces.append(current); current = "" }
            current += (current.isEmpty ? "" : "/") + part
        }
        if !current.isEmpty { pieces.append(current) }
        var fd = Glibc.dup(self.fd)
        guard fd >= 0 else { throw FileSystemError.posix("open directory", path, errno: errno) }
        for piece in pieces {
            let next = openat(fd, piece, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let e = errno
            close(fd)
            if next < 0 {
                if e == ENOENT || e == ENOTDIR { return nil }
                throw FileSystemError.posix("open directory", path + "/" + relative, errno: e)
            }
            fd = next
        }
        return DirectoryHandle(adopting: fd, path: relative.isEmpty ? path : path + "/" + relative)
    }

    /// Entries (no "." or ".."), unsorted, with the kind when `readdir` knows it (as `FS.list`).
    package func list() throws -> [(name: String, kind: FileStatus.Kind?)] {
        let copy = Glibc.dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else { throw FileSystemError.posix("open directory", path, errno: errno) }
        defer { closedir(dir) }
        rewinddir(dir)
        var out: [(String, FileStatus.Kind?)] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out.append((name, FS.kind(direntType: ent.pointee.d_type)))
        }
        return out
    }
}
