#if canImport(Glibc)
import Glibc
#endif

/// Writes a whole small file so that readers see either the old or the new bytes, never a mix:
/// write to a temporary file beside it, fsync, rename over the target, fsync the directory.
package enum AtomicFile {
    package static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let dir = Path.parent(path)
        let tmp = Path.join(dir, ".\(Path.base(path)).mlv-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = try FS.openFile(tmp, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var done = false
        defer { if !done { unlink(tmp) } }
        do {
            try bytes.withUnsafeBytes { try FS.writeAll(fd, $0, path: tmp) }
            try FS.fsync(fd, path: tmp)
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        try FS.rename(tmp, path)
        done = true
        FS.fsyncDirectory(dir)
    }

    package static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}
