import Dispatch
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Per-worker state for hashing and copying files: one hasher and one buffer, reused for every
/// file, so memory stays bounded whatever the number or size of files.
package final class HashWorker {
    let hasher = SHA256Hasher()
    let buffer: UnsafeMutableRawBufferPointer

    package static let bufferSize = 1 << 20
    /// `MLV_TRACE_HASHING=1` prints every file read for hashing to stderr (a debugging aid, used by the
    /// tests that prove unchanged files are never rehashed).
    static let trace = Environment.get("MLV_TRACE_HASHING") != nil

    func traceHashing(_ path: String) {
        var line = "mlv: trace: hashing \(path)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    package init() {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Streams a file through SHA-256.
    package func hashFile(_ path: String) throws -> (Digest, Int64) {
        if Self.trace { traceHashing(path) }
        let fd = try FS.openFile(path, O_RDONLY)
        defer { close(fd) }
        let total = try stream(fd, path: path) { hasher.update($0) }
        return (Digest(bytes: hasher.finalizeBytes()), total)
    }

    /// Reads a whole file through the worker's buffer, chunk by chunk. `expected`: the size
    /// the caller knows the file has (a manifest's): a small file is then read without the
    /// read-ahead hint, and reading stops at that size (the caller checks the digest of exactly
    /// the bytes read, so a longer file can only fail that check).
    private func stream(_ fd: Int32, path: String, expected: Int64? = nil, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        if (expected ?? Int64.max) > Int64(buffer.count) { posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) }
        var total: Int64 = 0
        while true {
            if let expected, total == expected { return total }
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.posix("read", path, errno: errno)
            }
            if n == 0 { return total }
            try body(UnsafeRawBufferPointer(start: buffer.baseAddress, count: n))
            total += Int64(n)
        }
    }

    /// Hashes a file and returns the status it had, when it did not change while being read
    /// (only then may the digest be remembered in the state index).
    package func hashFileStable(_ path: String) throws -> (Digest, Int64, FileStatus?) {
        let before = try FS.status(path)
        let (d, n) = try hashFile(path)
        let after = try FS.status(path)
        return (d, n, before == after && after?.size == n ? after : nil)
    }

    /// Files at least this big are copied by the kernel on a second thread while this one hashes
    /// them, so a big file costs max(copy, hash) instead of their sum.
    package static let parallelCopyThreshold: Int64 = 16 << 20

    /// Copies `source` into the open, empty file `dst` while hashing the bytes copied, so the
    /// digest always describes exactly what `dst` holds. A file past `parallelCopyThreshold` is
    /// copied by the kernel on a second thread while this one hashes it; if it changed
    /// meanwhile, the copy starts over in one pass.
    package func copyHashing(from source: String, toDescriptor dst: Int32) throws -> (Digest, Int64) {
        if let before = try FS.status(source), before.size >= Self.parallelCopyThreshold {
            if let result = try copyWhileHashing(from: source, toDescriptor: dst, before: before) { return result }
            try FS.rewind(dst, path: source)
        }
        if Self.trace { traceHashing(source) }
        let src = try FS.openFile(source, O_RDONLY)
        defer { close(src) }
        let total = try stream(src, path: source) { chunk in
            hasher.update(chunk)
            try FS.writeAll(dst, chunk, path: "(new file)")
        }
        return (Digest(bytes: hasher.finalizeBytes()), total)
    }

    /// Copies an object of known size (a manifest's) into the open, empty file `dst` while
    /// hashing exactly the bytes copied: no status call and, for a small file, one read.
    package func copyHashing(from source: String, toDescriptor dst: Int32, expectedSize: Int64) throws -> (Digest, Int64) {
        guard expectedSize < Self.parallelCopyThreshold else { return try copyHashing(from: source, toDescriptor: dst) }
        if Self.trace { traceHashing(source) }
        let src = try FS.openFile(source, O_RDONLY)
        defer { close(src) }
        let total = try stream(src, path: source, expected: expectedSize) { chunk in
            hasher.update(chunk)
            try FS.writeAll(dst, chunk, path: "(new file)")
        }
        return (Digest(bytes: hasher.finalizeBytes()), total)
    }

    /// The same into the new file `destination`, also giving its status.
    package func copyHashing(from source: String, to destination: String, mode: mode_t) throws -> (Digest, Int64, FileStatus) {
        let dst = try FS.openFile(destination, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var ok = false
        defer {
            close(dst)
            if !ok { unlink(destination) }
        }
        let (digest, total) = try copyHashing(from: source, toDescriptor: dst)
        var st = stat()
        fstat(dst, &st)
        ok = true
        return (digest, total, FileStatus(st))
    }

    /// Kernel copy (reflink or sendfile) on a second thread while this one hashes `source`;
    /// nil when `source` changed meanwhile (the copy may then not match the digest).
    private func copyWhileHashing(from source: String, toDescriptor dst: Int32, before: FileStatus) throws -> (Digest, Int64)? {
        var copyError: Error?
        let done = DispatchSemaphore(value: 0)
        PosixThread.detach {
            do {
                let src = try FS.openFile(source, O_RDONLY)
                defer { close(src) }
                try FS.copy(descriptor: src, to: dst, from: source, to: "(new file)")
            } catch { copyError = error }
            done.signal()
        }
        let hashed = Result { try hashFile(source) }
        done.wait()
        if let copyError { throw copyError }
        let (digest, n) = try hashed.get()
        guard let after = try FS.status(source), before == after, after.size == n else { return nil }
        return (digest, n)
    }
}
