import Foundation
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Reading the files the engine is given (params, images, checkpoints), which other people wrote:
/// only regular files, each kind under a size cap, checked on the open descriptor before a byte
/// is read, so a FIFO, a device such as /dev/zero or a huge file is an error, never a hang or an
/// allocation that brings the machine down.
enum EngineFile {
    /// params.yaml: a few hundred bytes in practice.
    static let maxParamsBytes = 1 << 20
    /// One PNG image (its decoded size has its own cap, `PNGImage.maxPixels`).
    static let maxImageBytes = 256 << 20
    /// model.safetensors: the largest network the params' ranges allow that fits in memory is
    /// far smaller.
    static let maxModelBytes = 4 << 30

    /// The bytes of `path`, which must be a regular file (a symlink to one is fine) of at most
    /// `limit` bytes; `what` names the kind of file in errors ("image", "checkpoint").
    static func read(_ path: String, what: String, limit: Int, hint: String? = nil) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO with no writer must not wait; regular files ignore it.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw FileSystemError.posix("open", path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileSystemError.posix("stat", path, errno: errno) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            let kind: String
            switch st.st_mode & S_IFMT {
            case S_IFDIR: kind = "a folder"
            case S_IFIFO: kind = "a FIFO"
            case S_IFCHR, S_IFBLK: kind = "a device"
            case S_IFSOCK: kind = "a socket"
            default: kind = "not a regular file"
            }
            throw EngineError("\(path): is \(kind), not a regular \(what) file", hint: hint)
        }
        let size = Int(st.st_size)
        guard size <= limit else {
            throw EngineError("\(path): \(formatBytes(size)) is too large for \(what == "image" ? "an" : "a") \(what) file (at most \(formatBytes(limit)))", hint: hint)
        }
        // Read what fstat promised, and one byte more to notice a file that grew meanwhile.
        var out = [UInt8](repeating: 0, count: size + 1)
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.posix("read", path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        guard done <= size else {
            throw EngineError("\(path): the file grew while it was read", hint: "run the command again once it is written")
        }
        out.removeLast(out.count - done)
        return out
    }
}

/// "1.5 GB", "276.0 GB", "512 KB", "12 bytes" (decimal units).
func formatBytes(_ n: Int) -> String { formatBytes(Double(n)) }

func formatBytes(_ n: Double) -> String {
    if n < 1000 { return "\(Int(n)) bytes" }
    for (unit, scale) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)] where n >= scale {
        return String(format: "%.1f", n / scale) + " " + unit
    }
    return "\(Int(n)) bytes"
}
