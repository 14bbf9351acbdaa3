import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// How workspace files relate to cache objects.
package enum LinkType: String, Sendable, CaseIterable {
    case reflink, copy, hardlink, symlink
}

/// The content-addressed object store: `.mlv/cache/sha256/ab/cdef…`. Objects are written to
/// `.mlv/tmp`, checked, then renamed into place, so an interrupted run never leaves a partial
/// object under a final name; writing an object that exists is a no-op in effect (git's rule).
package struct ObjectCache: Sendable {
    package let root: String        // .mlv/cache
    package let tmp: String         // .mlv/tmp
    package var objectsRoot: String { Path.join(root, "sha256") }
    /// The largest directory manifest mlv reads or downloads (1 GiB: some 10 million entries).
    package static let manifestLimit: Int64 = 1 << 30
    package var quarantine: String { Path.join(root, "quarantine") }

    package init(root: String, tmp: String) {
        self.root = root
        self.tmp = tmp
    }

    package func path(_ hash: ContentHash) -> String { objectsRoot + "/" + hash.objectName }

    package func contains(_ hash: ContentHash) -> Bool {
        var st = stat()
        return lstat(path(hash), &st) == 0
    }

    /// A unique temporary path inside `.mlv/tmp`.
    package func temporaryPath(_ tag: String) -> String {
        Path.join(tmp, "\(tag).\(getpid()).\(UInt64.random(in: 0...UInt64.max))")
    }

    /// Moves a fully written temporary file to its object path (read-only).
    package func install(temporary: String, as hash: ContentHash) throws {
        _ = Glibc.chmod(temporary, 0o444)
        let dest = path(hash)
        if Glibc.rename(temporary, dest) == 0 { return }
        if errno == ENOENT {
            try FS.makeDirectories(Path.parent(dest))
            try FS.rename(temporary, dest)
            return
        }
        let e = errno
        unlink(temporary)
        throw FileSystemError.posix("store object", dest, errno: e)
    }

    /// Names an unnamed, fully written file (see `FS.openTemporary`) as the object `hash`.
    /// False when the object was already there.
    package func install(descriptor fd: Int32, as hash: ContentHash) throws -> Bool {
        let dest = path(hash)
        do {
            return try FS.linkTemporary(fd, to: dest)
        } catch let e as FileSystemError where e.errno == ENOENT {
            try FS.makeDirectories(Path.parent(dest))
            return try FS.linkTemporary(fd, to: dest)
        }
    }

    /// Stores small bytes (a manifest) as an object and returns its hash.
    package func store(bytes: [UInt8], isDirectory: Bool) throws -> ContentHash {
        let hash = ContentHash(Digest(bytes: SHA256Hasher.hexBytes(bytes)), isDirectory: isDirectory)
        if contains(hash) { return hash }
        let t = temporaryPath("obj")
        try AtomicFile.write(bytes, to: t, mode: 0o444)
        try install(temporary: t, as: hash)
        return hash
    }

    /// Starts a manifest written to a temporary object line by line (see `ManifestWriter`).
    func manifestWriter() throws -> ManifestWriter { try ManifestWriter(cache: self) }

    package func read(_ hash: ContentHash) throws -> [UInt8]? {
        guard contains(hash) else { return nil }
        return try UntrustedFile.read(path(hash), shownAs: ".mlv/cache/sha256/\(hash.objectName)", what: "a cache object read whole (a manifest)", limit: Int(Self.manifestLimit))
    }

    /// Reads a `.dir` object whole (its entries; its bytes are read in chunks, never held all
    /// at once) and checks that they still hash to its name.
    package func manifest(_ hash: ContentHash) throws -> DirectoryManifest? {
        try manifestReader(hash).map { try DirectoryManifest(reading: $0) }
    }

    /// A `.dir` object read entry by entry (memory: one buffer), its hash checked at the end.
    package func manifestReader(_ hash: ContentHash) throws -> ManifestReader? {
        guard contains(hash) else { return nil }
        return try ManifestReader(object: path(hash), hash: hash, shownAs: ".mlv/cache/sha256/\(hash.objectName)")
    }

    /// Every object in the cache (not following anything odd; skips stray files).
    package func allObjects() throws -> [ContentHash] {
        var out: [ContentHash] = []
        try forEachObject { out.append($0) }
        return out
    }

    /// The same, one at a time, in order (digest, then a file before a manifest: the order of
    /// `SortedSpool` and of index objects): memory holds one prefix folder's names, not the cache's.
    package func forEachObject(_ body: (ContentHash) throws -> Void) throws {
        guard FS.isDirectory(objectsRoot) else { return }
        for prefix in try FS.list(objectsRoot).map(\.name).filter({ $0.utf8.count == 2 }).sorted() {
            let dir = Path.join(objectsRoot, prefix)
            guard FS.isDirectory(dir) else { continue }
            let objects = try FS.list(dir).compactMap { ContentHash(string: prefix + $0.name) }
            for h in objects.sorted(by: { SpoolRecord($0) < SpoolRecord($1) }) { try body(h) }
        }
    }
}

extension SHA256Hasher {
    static func hexBytes(_ bytes: [UInt8]) -> [UInt8] {
        let h = SHA256Hasher()
        h.update(bytes)
        return h.finalizeBytes()
    }
}

/// A folder's manifest written as its entries come, in path order: a buffer at a time, hashed
/// as it goes, so it is never whole in memory; `finish` names it as its object. An entry out of
/// order is refused (the reader would refuse the object). Dropped unfinished, nothing is left.
final class ManifestWriter {
    private let cache: ObjectCache
    private let temporary: String
    private var fd: Int32
    private let hasher = SHA256Hasher()
    private var buffer: [UInt8]
    private var previous: [UInt8] = [], current: [UInt8] = []

    fileprivate init(cache: ObjectCache) throws {
        self.cache = cache
        temporary = cache.temporaryPath("obj")
        fd = try FS.openFile(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o444)
        buffer = Array(DirectoryManifest.header.utf8)
        buffer.reserveCapacity(1 << 20 + 8192)
    }

    deinit {
        if fd >= 0 { close(fd) }
        unlink(temporary)  // nothing left to remove once installed
    }

    func append(path: String, digest: Digest, size: Int64) throws {
        current.removeAll(keepingCapacity: true)
        current.append(contentsOf: path.utf8)
        // A path is never empty: an empty `previous` is the first entry.
        guard previous.isEmpty || ManifestReader.order(previous, current) < 0 else {
            throw MessageError("internal error: manifest entry '\(path)' is out of path order", hint: "please report this; nothing was recorded")
        }
        swap(&previous, &current)
        DirectoryManifest.appendLine(&buffer, path: path, digest: digest, size: size)
        if buffer.count >= 1 << 20 { try drain() }
    }

    private func drain() throws {
        try buffer.withUnsafeBytes { b in
            hasher.update(b)
            try FS.writeAll(fd, b, path: temporary)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is left, syncs it and names it as its object (unless already there).
    func finish() throws -> ContentHash {
        try drain()
        try FS.fsync(fd, path: temporary)
        close(fd)
        fd = -1
        let hash = ContentHash(Digest(bytes: hasher.finalizeBytes()), isDirectory: true)
        if !cache.contains(hash) { try cache.install(temporary: temporary, as: hash) }
        return hash
    }
}
