#if canImport(Glibc)
import Glibc
#endif

/// What `lstat` says about a path, reduced to what the cache and the state index need.
package struct FileStatus: Equatable, Sendable {
    package enum Kind: Sendable { case file, directory, symlink, other }
    package var kind: Kind
    package var inode: UInt64
    package var device: UInt64
    package var size: Int64
    /// Modification time in nanoseconds since the epoch.
    package var mtimeNs: Int64
    package var mode: UInt32
    package var linkCount: UInt64
}

/// Thin, checked wrappers over the POSIX calls mlv uses. Every failure becomes a `FileSystemError`
/// naming the operation and the path; EINTR is retried.
package enum FS {
    /// `lstat`; nil when the path does not exist.
    package static func status(_ path: String) throws -> FileStatus? {
        var st = stat()
        if lstat(path, &st) != 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR { return nil }
            throw FileSystemError.posix("stat", path, errno: e)
        }
        return FileStatus(st)
    }

    /// `stat` following symlinks; nil when missing.
    package static func statusFollowingLinks(_ path: String) throws -> FileStatus? {
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR { return nil }
            throw FileSystemError.posix("stat", path, errno: e)
        }
        return FileStatus(st)
    }

    package static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 || ((try? status(path)) ?? nil) != nil }

    package static func isDirectory(_ path: String) -> Bool {
        (try? statusFollowingLinks(path))??.kind == .directory
    }

    /// The nearest folder from `start` up (inclusive, symlinks resolved) that holds a folder
    /// named `name` (`.mlv` for a workspace, `.dvc` for a DVC repository); nil when none does.
    package static func nearestAncestor(of start: String, holding name: String) -> String? {
        var dir = realPath(start) ?? Path.absolute(start)
        while true {
            if isDirectory(Path.join(dir, name)) { return dir }
            let parent = Path.parent(dir)
            if parent == dir { return nil }
            dir = parent
        }
    }

    /// A new empty folder `prefix-XXXXXX` in `base` (mkdtemp: mode 0700, a name nobody else has).
    package static func makeTemporaryDirectory(in base: String, prefix: String) throws -> String {
        var template = Array(Path.join(base, prefix + "-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw FileSystemError.posix("create a folder in", base, errno: errno) }
        return String(cString: made)
    }

    /// `mkdir -p`.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) == 0 { return }
        let e = errno
        if e == EEXIST {
            if isDirectory(path) { return }
            throw FileSystemError.posix("create directory", path, errno: ENOTDIR)
        }
        if e == ENOENT {
            let parent = Path.parent(path)
            if parent != path && !parent.isEmpty {
                try makeDirectories(parent, mode: mode)
                if mkdir(path, mode) == 0 || errno == EEXIST { return }
                throw FileSystemError.posix("create directory", path, errno: errno)
            }
        }
        throw FileSystemError.posix("create directory", path, errno: e)
    }

    /// Entries of a directory (no "." or ".."), unsorted, with the kind when `readdir` knows it.
    package static func list(_ path: String) throws -> [(name: String, kind: FileStatus.Kind?)] {
        guard let dir = opendir(path) else { throw FileSystemError.posix("open directory", path, errno: errno) }
        defer { closedir(dir) }
        var out: [(String, FileStatus.Kind?)] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            out.append((name, kind(direntType: ent.pointee.d_type)))
        }
        return out
    }

    /// The names in a directory as raw bytes (no "." or ".."), unsorted: for callers that must
    /// tell a name that is not UTF-8 from one that is.
    package static func rawNames(_ path: String) throws -> [[UInt8]] {
        guard let dir = opendir(path) else { throw FileSystemError.posix("open directory", path, errno: errno) }
        defer { closedir(dir) }
        var out: [[UInt8]] = []
        while let ent = readdir(dir) {
            let raw = withUnsafePointer(to: ent.pointee.d_name) { p in
                p.withMemoryRebound(to: UInt8.self, capacity: 256) { Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)))) }
            }
            if raw == [46] || raw == [46, 46] { continue }
            out.append(raw)
        }
        return out
    }

    /// The kind `readdir` reports (nil: DT_UNKNOWN, ask `lstat`).
    package static func kind(direntType: UInt8) -> FileStatus.Kind? {
        switch Int32(direntType) {
        case Int32(DT_REG): return .file
        case Int32(DT_DIR): return .directory
        case Int32(DT_LNK): return .symlink
        case Int32(DT_UNKNOWN): return nil
        default: return .other
        }
    }

    package static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw FileSystemError.posix("remove", path, errno: errno) }
    }

    /// `rm -rf`, not following symlinks.
    package static func removeTree(_ path: String) throws {
        guard let st = try status(path) else { return }
        if st.kind == .directory {
            for entry in try list(path) { try removeTree(path + "/" + entry.name) }
            if rmdir(path) != 0 && errno != ENOENT { throw FileSystemError.posix("remove directory", path, errno: errno) }
        } else {
            try remove(path)
        }
    }

    package static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw FileSystemError.posix("rename to '\(to)'", from, errno: errno) }
    }

    package static func chmod(_ path: String, _ mode: mode_t) throws {
        if Glibc.chmod(path, mode) != 0 { throw FileSystemError.posix("chmod", path, errno: errno) }
    }

    package static func readLink(_ path: String) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        if n < 0 { throw FileSystemError.posix("read link", path, errno: errno) }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    package static func currentDirectory() -> String {
        guard let p = getcwd(nil, 0) else { return "." }
        defer { free(p) }
        return String(cString: p)
    }

    package static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.posix("read", path, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    package static func readText(_ path: String) throws -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Creates or truncates a file and writes `bytes` (no fsync, not atomic: for scratch data).
    package static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let fd = try openFile(path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        defer { close(fd) }
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    package static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw FileSystemError.posix(flags & O_CREAT != 0 ? "create" : "open", path, errno: errno)
        }
    }

    /// Reads `length` bytes of `fd` from `offset` with pread, `buffer` at a time, handing each
    /// piece to `body`; a file that ends first is an error (`short` says what that means).
    package static func readRange(_ fd: Int32, path: String, offset: Int64, length: Int64, buffer: inout [UInt8], short: String,
                                 _ body: (UnsafeRawBufferPointer) -> Void) throws {
        var done: Int64 = 0
        try buffer.withUnsafeMutableBytes { buf in
            while done < length {
                let piece = UnsafeMutableRawBufferPointer(rebasing: buf[0..<Int(min(Int64(buf.count), length - done))])
                try readFully(fd, into: piece, offset: offset + done, path: path, short: short)
                body(UnsafeRawBufferPointer(piece))
                done += Int64(piece.count)
            }
        }
    }

    /// Fills `buffer` with the bytes of `fd` from `offset` (pread, again after a short read or
    /// EINTR); a file that ends first is an error (`short` says what that means).
    package static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int64, path: String, short: String) throws {
        var got = 0
        while got < buffer.count {
            let n = pread(fd, buffer.baseAddress! + got, buffer.count - got, off_t(offset + Int64(got)))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n < 0 ? FileSystemError.posix("read", path, errno: errno) : FileSystemError("'\(path)' \(short)") }
            got += n
        }
    }

    /// The most `writeAll` hands to one write(2). Larger writes make the kernel (6.x, file systems
    /// with large folios) back the page cache with high-order pages, which on a VM with free page
    /// reporting are the ones the host has taken back: measured here, 2 GiB written in 1 MiB
    /// calls took 5-8 s of system time, in 64 KiB calls 0.6 s.
    package static let writeChunk = 64 << 10

    /// Writes all of `bytes` (write(2) at the file's offset, or pwrite(2) at `offset`), at most
    /// `writeChunk` a call.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil, path: String) throws {
        var done = 0
        while done < bytes.count {
            let want = min(bytes.count - done, writeChunk)
            let n = offset.map { pwrite(fd, bytes.baseAddress! + done, want, off_t($0 + Int64(done))) } ?? write(fd, bytes.baseAddress! + done, want)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileSystemError.posix("write", path, errno: n < 0 ? errno : EIO) }
            done += n
        }
    }

    /// Empties an open file for another attempt and moves its offset to 0. The truncate happens
    /// only when the file holds something: on ext4, truncating a file to 0 (even an empty one)
    /// marks it for "auto_da_alloc", and its close() then starts the writeback of every page
    /// written since, in the caller's time (measured: 1.2 s at close for a 2 GiB download).
    package static func rewind(_ fd: Int32, path: String) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileSystemError.posix("truncate", path, errno: errno) }
        if st.st_size > 0 {
            while ftruncate(fd, 0) != 0 {
                if errno != EINTR { throw FileSystemError.posix("truncate", path, errno: errno) }
            }
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw FileSystemError.posix("truncate", path, errno: errno) }
    }

    package static func fsync(_ fd: Int32, path: String) throws {
        if Glibc.fsync(fd) != 0 { throw FileSystemError.posix("sync", path, errno: errno) }
    }

    package static func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = Glibc.fsync(fd); close(fd) }
    }

    /// How a file was copied: by sharing extents (reflink) or by copying bytes.
    package enum CopyMethod: Sendable { case reflink, bytes }

    /// Copies `from` to a new file `to` (which must not exist): reflink (FICLONE) when the file
    /// system shares extents, else `sendfile` in the kernel, else read/write.
    @discardableResult
    package static func copyFile(from: String, to: String, mode: mode_t = 0o644, sync: Bool = false) throws -> CopyMethod {
        let src = try openFile(from, O_RDONLY)
        defer { close(src) }
        let dst = try openFile(to, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var ok = false
        defer {
            close(dst)
            if !ok { unlink(to) }
        }
        let method = try copyContents(src: src, dst: dst, from: from, to: to)
        if sync { try fsync(dst, path: to) }
        ok = true
        return method
    }

    static let FICLONE: UInt = 0x4004_9409

    static func copyContents(src: Int32, dst: Int32, from: String, to: String) throws -> CopyMethod {
        if ioctl(dst, FICLONE, src) == 0 { return .reflink }
        var st = stat()
        fstat(src, &st)
        var remaining = Int(st.st_size)
        var useSendfile = true
        while remaining > 0 {
            if useSendfile {
                let n = sendfile(dst, src, nil, min(remaining, 1 << 30))
                if n > 0 { remaining -= n; continue }
                if n == 0 { break }
                if errno == EINTR { continue }
                if errno == EINVAL || errno == ENOSYS { useSendfile = false; continue }
                throw FileSystemError.posix("copy to '\(to)'", from, errno: errno)
            }
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buf.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw FileSystemError.posix("read", from, errno: errno) }
                if n == 0 { break }
                try buf.withUnsafeBytes { try writeAll(dst, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: to) }
            }
            remaining = 0
        }
        return .bytes
    }

    /// True when this file system supports reflinks between `directory` files.
    package static func supportsReflink(in directory: String) -> Bool {
        let a = directory + "/.mlv-probe-\(getpid())-a", b = directory + "/.mlv-probe-\(getpid())-b"
        defer { unlink(a); unlink(b) }
        let fa = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fa >= 0 else { return false }
        _ = write(fa, "x", 1)
        close(fa)
        let src = open(a, O_RDONLY | O_CLOEXEC)
        let dst = open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { if src >= 0 { close(src) }; if dst >= 0 { close(dst) } }
        guard src >= 0, dst >= 0 else { return false }
        return ioctl(dst, FICLONE, src) == 0
    }

    package static func supportsHardlink(in directory: String) -> Bool {
        let a = directory + "/.mlv-probe-\(getpid())-h", b = a + "2"
        defer { unlink(a); unlink(b) }
        let fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        close(fd)
        return link(a, b) == 0
    }

    package static func supportsSymlink(in directory: String) -> Bool {
        let a = directory + "/.mlv-probe-\(getpid())-s"
        defer { unlink(a) }
        return symlink("target", a) == 0
    }

    /// Linux's O_TMPFILE (`__O_TMPFILE | O_DIRECTORY`; the C macro does not import).
    package static let O_TMPFILE: Int32 = 0o20000000 | O_DIRECTORY

    /// An unnamed file on the file system of `directory`, open for writing, or nil when the file
    /// system cannot make one. Nothing is visible until `linkTemporary` names it, so a crash
    /// never leaves a partial file behind under any name.
    package static func openTemporary(in directory: String, mode: mode_t, readable: Bool = false) throws -> Int32? {
        while true {
            let fd = open(directory, O_TMPFILE | (readable ? O_RDWR : O_WRONLY) | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            switch errno {
            case EINTR: continue
            case EOPNOTSUPP, EISDIR, EINVAL: return nil
            default: throw FileSystemError.posix("create a file in", directory, errno: errno)
            }
        }
    }

    /// Gives an unnamed file its name. False when `path` exists already (nothing is replaced).
    package static func linkTemporary(_ fd: Int32, to path: String) throws -> Bool {
        if linkUnnamed(fd, AT_FDCWD, path) { return true }
        if errno == EEXIST { return false }
        throw FileSystemError.posix("create", path, errno: errno)
    }

    /// Whether `linkat(fd, "", …, AT_EMPTY_PATH)` is allowed (it needs CAP_DAC_READ_SEARCH);
    /// cleared at the first refusal, after which names go through /proc/self/fd.
    nonisolated(unsafe) private static var emptyPathLinks = true

    /// Names the unnamed file `fd` as `name` in `dir` (errno set when false): directly by the
    /// descriptor where the kernel lets this process, else through /proc/self/fd (a path lookup).
    package static func linkUnnamed(_ fd: Int32, _ dir: Int32, _ name: String) -> Bool {
        if emptyPathLinks {
            if linkat(fd, "", dir, name, 0x1000 /* AT_EMPTY_PATH */) == 0 { return true }
            guard errno == EPERM || errno == ENOENT || errno == EINVAL else { return false }
            emptyPathLinks = false
        }
        return linkat(AT_FDCWD, "/proc/self/fd/\(fd)", dir, name, AT_SYMLINK_FOLLOW) == 0
    }

    /// Copies the rest of `src` into `dst` (reflink when possible, else the kernel's sendfile).
    @discardableResult
    package static func copy(descriptor src: Int32, to dst: Int32, from: String, to: String) throws -> CopyMethod {
        try copyContents(src: src, dst: dst, from: from, to: to)
    }

    package static func hardlink(_ target: String, _ path: String) throws {
        if link(target, path) != 0 { throw FileSystemError.posix("hard-link to '\(target)'", path, errno: errno) }
    }

    package static func makeSymlink(_ target: String, _ path: String) throws {
        if symlink(target, path) != 0 { throw FileSystemError.posix("symlink to '\(target)'", path, errno: errno) }
    }
}

extension FileStatus {
    package init(_ st: stat) {
        let fmt = st.st_mode & S_IFMT
        kind = fmt == S_IFREG ? .file : fmt == S_IFDIR ? .directory : fmt == S_IFLNK ? .symlink : .other
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
        size = Int64(st.st_size)
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        mode = UInt32(st.st_mode)
        linkCount = UInt64(st.st_nlink)
    }
}

/// String path helpers (POSIX, "/"-separated).
package enum Path {
    package static func join(_ a: String, _ b: String) -> String {
        if a.isEmpty || a == "." { return b }
        if b.isEmpty { return a }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }

    package static func parent(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        if i == path.startIndex { return "/" }
        return String(path[..<i])
    }

    package static func base(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: i)...])
    }

    package static func absolute(_ path: String, relativeTo cwd: String = FS.currentDirectory()) -> String {
        normalize(path.hasPrefix("/") ? path : join(cwd, path))
    }

    /// Removes "." components, resolves ".." lexically, drops duplicate and trailing slashes.
    package static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." {
                if let last = parts.last, last != ".." { parts.removeLast(); continue }
                if absolute { continue }
            }
            parts.append(c)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// `path` relative to `root` when inside it (both absolute and normalized), else nil.
    package static func relative(_ path: String, to root: String) -> String? {
        if path == root { return "." }
        let prefix = root == "/" ? "/" : root + "/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.dropFirst(prefix.count))
    }
}
