#if canImport(Glibc)
import Glibc
#endif

/// Reading files that another person may have written or planted (pointers, configs, manifests,
/// locks): only a regular file is read, never through a symlink, a FIFO or a device, and never
/// more than a stated number of bytes, so no such file can make mlv hang or exhaust memory.
package enum UntrustedFile {
    /// The largest pointer, config or lock file mlv reads (they are a few hundred bytes).
    package static let smallLimit = 4 << 20

    /// Why a file was not read (the caller words the message for its kind of file).
    package enum Refusal: Error, Equatable {
        /// "a symbolic link", "a folder", "a FIFO", "a device", "a socket", "not a regular file".
        case notRegular(kind: String)
        case tooLarge(size: Int, limit: Int)
    }

    /// Reads `path` whole. `shownAs` names it in errors; `what` says what it should be.
    /// The final component is opened with `O_NOFOLLOW` and `O_NONBLOCK` (a FIFO never blocks),
    /// and must be a regular file of at most `limit` bytes, also while it is being read.
    package static func read(_ path: String, shownAs: String, what: String, limit: Int = smallLimit) throws -> [UInt8] {
        do {
            return try bytes(path, shownAs: shownAs, limit: limit, followSymlinks: false)
        } catch Refusal.notRegular(let kind) {
            throw notRegular(shownAs, what, kind)
        } catch Refusal.tooLarge {
            throw tooLarge(shownAs, what, limit)
        }
    }

    /// Opens `path` for reading when it is a regular file (the checks of `read`): the
    /// descriptor and the size it had when opened; the caller closes it.
    package static func openRegular(_ path: String, shownAs: String, followSymlinks: Bool) throws -> (fd: Int32, size: Int) {
        var fd: Int32
        let flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followSymlinks ? 0 : O_NOFOLLOW)
        repeat { fd = open(path, flags) } while fd < 0 && errno == EINTR
        if fd < 0 {
            let e = errno
            if e == ELOOP && !followSymlinks { throw Refusal.notRegular(kind: "a symbolic link") }
            throw FileSystemError.posix("open", shownAs, errno: e)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw FileSystemError.posix("stat", shownAs, errno: e)
        }
        let kind: String? = switch st.st_mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
        if let kind {
            close(fd)
            throw Refusal.notRegular(kind: kind)
        }
        return (fd, Int(st.st_size))
    }

    /// The checks of `read` without the messages: throws `Refusal` (or a `FileSystemError`).
    /// `followSymlinks`: a symlink to a regular file is read (for data files such as images).
    package static func bytes(_ path: String, shownAs: String, limit: Int, followSymlinks: Bool) throws -> [UInt8] {
        let (fd, size) = try openRegular(path, shownAs: shownAs, followSymlinks: followSymlinks)
        defer { close(fd) }
        guard size <= limit else { throw Refusal.tooLarge(size: size, limit: limit) }
        var out = [UInt8](repeating: 0, count: size + 1)
        var used = 0
        while true {
            if used == out.count {
                guard out.count <= limit else { throw Refusal.tooLarge(size: used, limit: limit) }
                out.append(contentsOf: [UInt8](repeating: 0, count: min(out.count, limit + 1 - out.count) + 1))
            }
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.posix("read", shownAs, errno: errno)
            }
            if n == 0 { break }
            used += n
            guard used <= limit else { throw Refusal.tooLarge(size: used, limit: limit) }
        }
        out.removeSubrange(used...)
        return out
    }

    package static func readText(_ path: String, shownAs: String, what: String, limit: Int = smallLimit) throws -> String {
        String(decoding: try read(path, shownAs: shownAs, what: what, limit: limit), as: UTF8.self)
    }

    package static func notRegular(_ shown: String, _ what: String, _ kind: String) -> FileSystemError {
        FileSystemError("'\(shown)' is \(kind == "not a regular file" ? kind : kind + ", not a regular file"); \(what) must be a plain file",
                        hint: "remove or replace '\(shown)'")
    }

    package static func tooLarge(_ shown: String, _ what: String, _ limit: Int) -> FileSystemError {
        FileSystemError("'\(shown)' is larger than \(limit >> 20) MiB, too large for \(what)",
                        hint: "remove or replace '\(shown)'")
    }
}

extension Sequence where Element == Int64 {
    /// The sum, clamped to `Int64.max` instead of trapping (sizes read from files may be huge).
    package func saturatingSum() -> Int64 {
        reduce(Int64(0)) { a, b in
            let (s, o) = a.addingReportingOverflow(b)
            return o ? (b > 0 ? .max : .min) : s
        }
    }
}
