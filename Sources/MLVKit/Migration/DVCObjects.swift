import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Finds the bytes DVC recorded by MD5 (the workspace file, DVC's cache in its 3.x layout
/// `files/md5/ab/cdef…` or its 2.x layout `ab/cdef…`, then a DVC remote), checks them against
/// the MD5, and stores them in mlv's cache under their SHA-256. Bytes whose MD5 differs never
/// enter mlv's cache; a DVC cache or remote object that differs is reported as corrupted.
final class DVCObjects: @unchecked Sendable {
    enum Source: String, Sendable { case workspace, cache = "DVC cache", remote }

    /// What a recorded file turned out to be.
    struct Verified: Sendable {
        var digest: Digest
        var size: Int64
        var source: Source
    }

    let root: String
    let cacheDir: String
    let remote: DVCRemote?
    /// nil: a dry run (nothing is hashed or stored; only where the bytes are is looked up).
    let cache: ObjectCache?
    let state: StateIndex?
    /// Where downloads wait to be checked.
    let tmp: String
    private let lock = Lock()
    /// DVC cache or remote objects whose bytes do not match their MD5: where, and what they hold.
    private(set) var corrupted: [String] = []
    private(set) var bytesVerified: Int64 = 0

    init(root: String, cacheDir: String, remote: DVCRemote?, cache: ObjectCache?, state: StateIndex?, tmp: String) {
        self.tmp = tmp
        self.root = root
        self.cacheDir = cacheDir
        self.remote = remote
        self.cache = cache
        self.state = state
    }

    /// The two places a DVC cache may hold `hash` (3.x layout first).
    func cachePaths(_ hash: DVCHash) -> [String] {
        [Path.join(cacheDir, "files/md5/" + hash.objectName), Path.join(cacheDir, hash.objectName)]
    }

    private func noteCorrupted(_ shown: String, _ hash: DVCHash, got: String) {
        lock.lock()
        corrupted.append("\(shown): MD5 \(got), recorded \(hash.md5)")
        lock.unlock()
    }

    // MARK: - Folder manifests

    /// The manifest of the folder `path` (workspace-relative) recorded as `hash`: DVC's `.dir`
    /// object from its cache or the remote, MD5-checked; else rebuilt from the workspace folder
    /// when that still matches. nil when none is found. Invalid JSON whose MD5 matches is an error.
    func tree(_ hash: DVCHash, at path: String) throws -> DVCTree? {
        for abs in cachePaths(hash) where (try? FS.status(abs)) != nil {
            let shown = Path.relative(abs, to: root) ?? abs
            let bytes = try readManifest(abs, shown: shown)
            if MD5Hasher.hex(bytes) == hash.md5 { return try DVCTree.parse(bytes, source: shown) }
            noteCorrupted(shown, hash, got: MD5Hasher.hex(bytes))
        }
        if let remote {
            if let bytes = try downloadSmall(hash, from: remote) {
                if MD5Hasher.hex(bytes) == hash.md5 { return try DVCTree.parse(bytes, source: "'\(hash.objectName)' on remote '\(remote.name)'") }
                noteCorrupted("remote '\(remote.name)' \(hash.objectName)", hash, got: MD5Hasher.hex(bytes))
            }
        }
        return try rebuiltTree(hash, at: path)
    }

    private func readManifest(_ abs: String, shown: String) throws -> [UInt8] {
        do {
            return try UntrustedFile.bytes(abs, shownAs: shown, limit: DVCTree.sizeLimit, followSymlinks: true)
        } catch UntrustedFile.Refusal.tooLarge {
            throw MigrationError.invalidManifest(shown, "it is larger than \(DVCTree.sizeLimit >> 20) MiB")
        } catch UntrustedFile.Refusal.notRegular(let kind) {
            throw MigrationError.invalidManifest(shown, "it is \(kind), not a regular file")
        }
    }

    private func downloadSmall(_ hash: DVCHash, from remote: DVCRemote) throws -> [UInt8]? {
        let tmp = Path.join(self.tmp, "dvc.\(getpid()).\(UInt64.random(in: 0...UInt64.max))")
        let fd = try FS.openFile(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
        defer { close(fd); unlink(tmp) }
        guard try remote.download(hash, to: fd, path: tmp, limit: Int64(DVCTree.sizeLimit)) else { return nil }
        return try readManifest(tmp, shown: "'\(hash.objectName)' on remote '\(remote.name)'")
    }

    /// DVC's manifest of the workspace folder as it is now, when its MD5 is the recorded one
    /// (a folder DVC hashed but never cached, such as a dep).
    private func rebuiltTree(_ hash: DVCHash, at path: String) throws -> DVCTree? {
        let abs = Path.join(root, path)
        guard let st = try FS.status(abs), st.kind == .directory else { return nil }
        var files: [String] = []
        try DVCProject.walkAll(abs, ".") { files.append($0) }
        guard files.count <= 1_000_000 else { return nil }
        var entries = [DVCTree.Entry?](repeating: nil, count: files.count)
        let lock = Lock()
        try Parallel.forEach(count: files.count, makeContext: { MD5Hasher() }) { i, md5 in
            let h = try Self.md5(of: Path.join(abs, files[i]), hasher: md5)
            lock.lock()
            entries[i] = DVCTree.Entry(path: files[i], md5: h)
            lock.unlock()
        }
        let tree = DVCTree(entries: entries.map { $0! })
        return MD5Hasher.hex(tree.serialized()) == hash.md5 ? tree : nil
    }

    static func md5(of path: String, hasher: MD5Hasher) throws -> String {
        let fd = try FS.openFile(path, O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw FileSystemError.posix("read", path, errno: errno) }
            if n == 0 { return hasher.finalizeHex() }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    // MARK: - Files

    /// A file DVC recorded: where it lives in the workspace, its MD5, and whether the MD5 is DVC
    /// 2's (text files hashed with CRLF read as LF).
    struct Wanted: Hashable, Sendable {
        var path: String
        var md5: String
        var legacy: Bool
        /// Path and MD5, for looking a file up once it is verified.
        var key: String { path + "\u{0}" + md5 }
    }

    /// Verifies and stores every wanted file (in parallel); nil where no source had its bytes.
    func files(_ wanted: [Wanted], progress: ProgressCounter? = nil) throws -> [Verified?] {
        guard let cache else { preconditionFailure("files(_:) in a dry run") }
        var out = [Verified?](repeating: nil, count: wanted.count)
        let lock = Lock()
        try Parallel.forEach(count: wanted.count, makeContext: { Worker() }) { i, worker in
            let v = try self.find(wanted[i], cache: cache, worker)
            progress?.advance(bytes: v?.size ?? 0)
            lock.lock()
            out[i] = v
            if let v { bytesVerified += v.size }
            lock.unlock()
        }
        return out
    }

    /// For a dry run: where each wanted file would be read from (a workspace file of the
    /// recorded size, else a DVC cache object; the remote is not asked), nil when nowhere.
    func locate(_ wanted: [Wanted], sizes: [Int64?]) throws -> [Source?] {
        try wanted.indices.map { i in
            if let st = try FS.status(Path.join(root, wanted[i].path)), st.kind == .file, sizes[i] == nil || st.size == sizes[i] { return .workspace }
            for abs in cachePaths(DVCHash(wanted[i].md5)!) { if let st = try FS.status(abs), st.kind == .file { return .cache } }
            return remote == nil ? nil : .remote
        }
    }

    final class Worker {
        let md5 = MD5Hasher()
        let sha = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        /// The MD5 the last file read had (for the report of a corrupted object).
        var lastMD5 = ""
        /// Workspace folders (relative) whose real path was checked: inside the workspace, and
        /// not in `.git`, `.mlv` or `.dvc`, so no symbolic link makes a workspace read leave it.
        private var folders: [String: Bool] = [:]

        func isInside(_ folder: String, root: String) -> Bool {
            if folder == "." { return true }
            if let known = folders[folder] { return known }
            let inside = FS.realPath(Path.join(root, folder)).flatMap { Path.relative($0, to: root) }
                .map { !$0.split(separator: "/").contains { $0 == ".dvc" || WorkspacePath.isProtected($0) } } ?? false
            folders[folder] = inside
            return inside
        }
    }

    private func find(_ w: Wanted, cache: ObjectCache, _ worker: Worker) throws -> Verified? {
        let hash = DVCHash(w.md5)!
        let workspaceFile = Path.join(root, w.path)
        if let before = try FS.status(workspaceFile), before.kind == .file, worker.isInside(Path.parent(w.path), root: root) {
            if let (digest, n) = try verify(workspaceFile, hash, legacy: w.legacy, cache: cache, worker) {
                if let after = try FS.status(workspaceFile), after == before { state?.record(after, digest) }
                return Verified(digest: digest, size: n, source: .workspace)
            }
        }
        for abs in cachePaths(hash) {
            guard let st = try FS.status(abs), st.kind == .file else { continue }
            if let (digest, n) = try verify(abs, hash, legacy: w.legacy, cache: cache, worker) { return Verified(digest: digest, size: n, source: .cache) }
            noteCorrupted(Path.relative(abs, to: root) ?? abs, hash, got: worker.lastMD5)
        }
        if let remote {
            let tmp = cache.temporaryPath("obj")
            let fd = try FS.openFile(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
            defer { close(fd); unlink(tmp) }
            if try remote.download(hash, to: fd, path: tmp, limit: PointerFile.maxSize) {
                if let (digest, n) = try verify(tmp, hash, legacy: w.legacy, cache: cache, worker) { return Verified(digest: digest, size: n, source: .remote) }
                noteCorrupted("remote '\(remote.name)' \(hash.objectName)", hash, got: worker.lastMD5)
            }
        }
        return nil
    }

    /// Reads `path` once through MD5 and SHA-256 while copying it into an unnamed file in mlv's
    /// temporary folder, which becomes the object only when the MD5 is the recorded one.
    private func verify(_ path: String, _ hash: DVCHash, legacy: Bool, cache: ObjectCache, _ worker: Worker) throws -> (Digest, Int64)? {
        let src = try FS.openFile(path, O_RDONLY)
        defer { close(src) }
        var named: String?
        let dst: Int32
        if !Linker.namedTemporaries, let fd = try FS.openTemporary(in: cache.tmp, mode: 0o444) {
            dst = fd
        } else {
            named = cache.temporaryPath("obj")
            dst = try FS.openFile(named!, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o444)
        }
        var installed = false
        defer {
            close(dst)
            if let named, !installed { unlink(named) }
        }
        var total: Int64 = 0
        while true {
            let n = worker.buffer.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw FileSystemError.posix("read", path, errno: errno) }
            if n == 0 { break }
            try worker.buffer.withUnsafeBytes { b in
                let chunk = UnsafeRawBufferPointer(rebasing: b[0..<n])
                worker.md5.update(chunk)
                worker.sha.update(chunk)
                try FS.writeAll(dst, chunk, path: "(new object)")
            }
            total += Int64(n)
        }
        var md5 = worker.md5.finalizeHex()
        let digest = Digest(bytes: worker.sha.finalizeBytes())
        if md5 != hash.md5 && legacy, let converted = try Self.dos2unixMD5(path, size: total) { md5 = converted }
        worker.lastMD5 = md5
        guard md5 == hash.md5 else { return nil }
        if let named {
            try cache.install(temporary: named, as: ContentHash(digest))
            installed = true
        } else {
            _ = try cache.install(descriptor: dst, as: ContentHash(digest))
        }
        return (digest, total)
    }

    /// DVC 2's MD5 of a text file: CRLF read as LF (text: no NUL byte and at most 30% other
    /// control bytes in the first 512, as DVC 2 decided). nil for binary or large files.
    static func dos2unixMD5(_ path: String, size: Int64) throws -> String? {
        guard size <= 256 << 20 else { return nil }
        let bytes = try FS.readFile(path)
        let head = bytes.prefix(512)
        guard !head.contains(0) else { return nil }
        let nontext = head.filter { !((32..<127).contains($0) || [10, 13, 9, 12, 8].contains($0)) }
        guard head.isEmpty || Double(nontext.count) / Double(head.count) <= 0.30 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 13, i + 1 < bytes.count, bytes[i + 1] == 10 { i += 1; continue }
            out.append(bytes[i])
            i += 1
        }
        return MD5Hasher.hex(out)
    }
}
