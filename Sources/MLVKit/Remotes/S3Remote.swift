import MLVHTTP
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// An S3 bucket (AWS, MinIO, SeaweedFS) used as a remote: objects at `PREFIX/sha256/ab/cdef…`.
package final class S3Remote: ObjectStore, @unchecked Sendable {
    package let remoteName: String
    let client: S3Client
    /// "" or "some/prefix" (no slashes at the ends).
    let prefix: String

    let multipartThreshold: Int64
    let multipartChunk: Int64
    /// Keys per ListObjectsV2 page (S3's maximum; tests make it small to reach the fallbacks).
    var listPageSize = 1000
    /// Parts per ListParts page (S3's maximum; tests make it small to page).
    var listPartsPageSize = 1000
    /// Uploads and parts signed as UNSIGNED-PAYLOAD instead of over their SHA-256 (the remote's
    /// `unsigned_payload: true`); parts then need no extra read to hash them (unless a part
    /// left by an interrupted upload must be compared by its MD5).
    var unsignedPayload = false

    init(name: String, client: S3Client, prefix: String, multipartThreshold: Int64 = 64 << 20, multipartChunk: Int64 = 16 << 20) {
        remoteName = name
        self.client = client
        self.prefix = prefix
        self.multipartThreshold = multipartThreshold
        self.multipartChunk = multipartChunk
    }

    package var largeObjectSize: Int64 { multipartThreshold }

    var objectsPrefix: String { (prefix.isEmpty ? "" : prefix + "/") + "sha256/" }
    func key(_ hash: ContentHash) -> String { objectsPrefix + hash.objectName }

    package func check(forWriting: Bool) throws {
        // A listing of one prefix: proves the bucket, the credentials and the signature in one request.
        _ = try mapped(key: nil) { try client.listObjects(prefix: objectsPrefix + "00/") }
    }

    /// What the remote holds, in as few rounds of requests as the count allows. The plans: a
    /// HEAD per object; a ListObjectsV2 per two-hex-digit folder (at least one request per
    /// folder, answering for every object in it); or a listing of each first-hex-digit part of
    /// the prefix that holds a wanted object (at most 16 chains of pages, run side by side).
    /// First one page of the whole prefix: a remote that fits in it (empty, or small) is
    /// answered in one request. Otherwise the 16-way listing, but only for as many pages a chain
    /// as the other plans need rounds (their requests run `jobs` at a time); past that the remote
    /// is large, and the per-folder or HEAD plan answers. Nothing is ever assumed present: only
    /// listed or HEADed keys count.
    package func existing(_ hashes: [ContentHash], jobs: Int) throws -> Set<ContentHash> {
        if hashes.isEmpty { return [] }
        let first = try mapped(key: nil) { try client.listObjects(prefix: objectsPrefix, maxKeys: listPageSize) }
        if first.nextToken == nil {
            let listed = Set(first.objects.compactMap { objectHash($0.key) })
            return Set(hashes.filter { listed.contains($0) })
        }
        let jobs = max(1, jobs)
        let folders = Dictionary(grouping: hashes) { String($0.digest.hex.prefix(2)) }
        let perObjectOrFolder = min(hashes.count, folders.count)
        let rounds = (perObjectOrFolder + jobs - 1) / jobs
        let lock = Lock()
        var found = Set<ContentHash>()

        let parts = Dictionary(grouping: hashes) { String($0.digest.hex.prefix(1)) }
        let names = parts.keys.sorted()
        var complete = true
        try Parallel.forEachOnThreads(count: names.count, workers: 16) { i in
            var listed = Set<ContentHash>()
            var pages = 0
            var ended = true
            try mapped(key: nil) {
                try client.forEachPage(prefix: objectsPrefix + names[i], maxKeys: listPageSize) { page in
                    for o in page.objects { if let h = objectHash(o.key) { listed.insert(h) } }
                    pages += 1
                    ended = page.nextToken == nil
                    return pages < rounds
                }
            }
            let wanted = parts[names[i]]!.filter { listed.contains($0) }
            lock.lock()
            if !ended { complete = false }
            found.formUnion(wanted)
            lock.unlock()
        }
        if complete { return found }

        found = []
        if hashes.count <= folders.count {
            try Parallel.forEachOnThreads(count: hashes.count, workers: jobs) { i in
                let h = hashes[i]
                if try mapped(key: key(h), { try client.headObject(key: key(h)) }) != nil {
                    lock.lock(); found.insert(h); lock.unlock()
                }
            }
            return found
        }
        let folderNames = folders.keys.sorted()
        try Parallel.forEachOnThreads(count: folderNames.count, workers: max(jobs, 16)) { i in
            let listed = try mapped(key: nil) { try client.listAll(prefix: objectsPrefix + folderNames[i] + "/", maxKeys: listPageSize) }
            let here = Set(listed.compactMap { objectHash($0.key) })
            let wanted = folders[folderNames[i]]!.filter { here.contains($0) }
            lock.lock(); found.formUnion(wanted); lock.unlock()
        }
        return found
    }

    package func listAll() throws -> [StoredObject] {
        let listed = try mapped(key: nil) { try client.listAll(prefix: objectsPrefix) }
        return listed.compactMap { o in objectHash(o.key).map { StoredObject(hash: $0, size: o.size, modified: o.modified) } }
    }

    /// DeleteObjects, 1,000 keys a request.
    package func delete(_ hashes: [ContentHash]) throws {
        for start in stride(from: 0, to: hashes.count, by: 1000) {
            let keys = hashes[start..<min(start + 1000, hashes.count)].map(key)
            let failed = try mapped(key: nil) { try client.deleteObjects(keys: keys) }
            if let f = failed.first {
                throw RemoteError.requestFailed(remote: remoteName, object: f.key, code: f.code, status: 200, attempts: 1)
            }
        }
    }

    /// The object a listed key names, if it is one (keys are untrusted: only well-formed names count).
    func objectHash(_ key: String) -> ContentHash? {
        guard key.hasPrefix(objectsPrefix) else { return nil }
        let name = key.dropFirst(objectsPrefix.count)
        guard name.utf8.count > 3, name.utf8[name.utf8.index(name.utf8.startIndex, offsetBy: 2)] == UInt8(ascii: "/") else { return nil }
        return ContentHash(string: String(name.prefix(2)) + String(name.dropFirst(3)))
    }

    package func upload(_ hash: ContentHash, from path: String, size: Int64, jobs: Int) throws {
        if size >= multipartThreshold { return try uploadMultipart(hash, from: path, size: size, jobs: jobs) }
        try mapped(key: key(hash)) {
            try client.putObject(key: key(hash), file: path, size: size, sha256Hex: unsignedPayload ? SigV4Signer.unsignedPayload : hash.digest.hex)
        }
    }

    /// The part layout for `size` bytes: `multipartChunk`-sized parts, grown if needed to stay
    /// within S3's 10,000 parts.
    static func parts(size: Int64, chunk: Int64) -> [(offset: Int64, length: Int64)] {
        let chunk = max(chunk, (size + 9_999) / 10_000, 1)
        return stride(from: Int64(0), to: max(size, 1), by: Int(chunk)).map { ($0, min(chunk, size - $0)) }
    }

    /// A multipart upload: the parts in parallel (each signed over its own SHA-256), then
    /// CompleteMultipartUpload.
    ///
    /// Resume: an interrupted push (killed, or a part that failed after its retries) leaves its
    /// upload open on the server. The next push finds the newest open upload for the same key
    /// (ListMultipartUploads with the key as prefix), lists its parts (ListParts, every page)
    /// and sends only the parts that are missing or whose size or ETag (the hex MD5 of the part,
    /// compared with the local bytes) differs; the key names the content, so an upload open for
    /// it can only hold pieces of this very object. A server that cannot list open uploads just
    /// starts a new one.
    ///
    /// Failures: an interruption (the network, a timeout, 5xx or SlowDown after the retries)
    /// leaves the upload open for the next push to resume. Anything else (the server refusing a
    /// part or the completion, e.g. InvalidPart or EntityTooSmall; a credential error; the local
    /// file changing) aborts the upload, so no parts are left behind.
    func uploadMultipart(_ hash: ContentHash, from path: String, size: Int64, jobs: Int) throws {
        let key = key(hash)
        let parts = Self.parts(size: size, chunk: multipartChunk)
        var uploaded: [Int: S3Client.UploadedPart] = [:]
        var id: String
        if let open = try openUpload(key) {
            id = open.uploadID
            do {
                for p in try mapped(key: key, { try client.listParts(key: key, uploadID: id, maxParts: listPartsPageSize) }) { uploaded[p.number] = p }
            } catch let e as RemoteError where Self.cannotResume(e) {
                // Completed or aborted by another push meanwhile, or parts we may not or cannot list: start afresh.
                uploaded = [:]
                id = try mapped(key: key) { try client.createMultipartUpload(key: key) }
            }
        } else {
            id = try mapped(key: key) { try client.createMultipartUpload(key: key) }
        }
        do {
            var etags = [String](repeating: "", count: parts.count)
            let lock = Lock()
            try Parallel.forEachOnThreads(count: parts.count, workers: jobs) { i in
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                let p = parts[i]
                let old = uploaded[i + 1].flatMap { $0.size == p.length ? $0 : nil }
                let sha: String
                if unsignedPayload && old == nil {
                    sha = SigV4Signer.unsignedPayload
                } else {
                    let (partSHA, md5) = try Self.hashes(of: path, offset: p.offset, length: p.length, md5: old != nil, buffer: &buffer)
                    if let old, Self.etagMD5(old.etag) == md5 {
                        lock.lock(); etags[i] = old.etag; lock.unlock()
                        return
                    }
                    sha = unsignedPayload ? SigV4Signer.unsignedPayload : partSHA
                }
                let etag = try mapped(key: key) {
                    try client.uploadPart(key: key, uploadID: id, number: i + 1, file: path, offset: p.offset, length: p.length, sha256Hex: sha)
                }
                lock.lock(); etags[i] = etag; lock.unlock()
            }
            try mapped(key: key) { try client.completeMultipartUpload(key: key, uploadID: id, etags: etags) }
        } catch RemoteError.requestFailed(_, _, "NoSuchUpload", _, _) where ((try? client.headObject(key: key)) ?? nil) == size {
            // Another push of the same object completed this upload first: the object is there.
            return
        } catch {
            if !Self.leavesUploadOpen(error) { try? client.abortMultipartUpload(key: key, uploadID: id) }
            throw error
        }
    }

    /// The multipart uploads open below the objects prefix; none when the credentials may not
    /// list them or the server cannot.
    package func unfinishedUploads() throws -> [UnfinishedUpload] {
        do {
            return try mapped(key: nil) { try client.listMultipartUploads(prefix: objectsPrefix) }.filter { objectHash($0.key) != nil }
                .map { UnfinishedUpload(key: $0.key, uploadID: $0.uploadID, initiated: $0.initiated) }
        } catch RemoteError.requestFailed(_, _, let code, let status, _) where status == 501 || code == "NotImplemented" {
            return []
        } catch RemoteError.accessDenied {
            return []
        }
    }

    package func abort(_ upload: UnfinishedUpload) throws {
        do {
            try mapped(key: upload.key) { try client.abortMultipartUpload(key: upload.key, uploadID: upload.uploadID) }
        } catch RemoteError.requestFailed(_, _, "NoSuchUpload", _, _) {
            // Completed or aborted meanwhile.
        }
    }

    /// Whether a failed multipart upload is an interruption worth resuming (kept open) rather
    /// than a refusal (aborted).
    static func leavesUploadOpen(_ error: Error) -> Bool {
        switch error {
        case RemoteError.unreachable: return true
        case RemoteError.requestFailed(_, _, _, let status, _): return status >= 500 || status == 429
        default: return false
        }
    }

    static func cannotResume(_ error: RemoteError) -> Bool {
        switch error {
        case .requestFailed(_, _, let code, _, _): return code == "NoSuchUpload" || code == "MalformedResponse"
        case .accessDenied: return true
        default: return false
        }
    }

    /// The newest upload left open for exactly `key`, if the server can say.
    func openUpload(_ key: String) throws -> S3Client.OpenUpload? {
        let open: [S3Client.OpenUpload]
        do {
            open = try mapped(key: key) { try client.listMultipartUploads(prefix: key) }
        } catch RemoteError.requestFailed(_, _, let code, let status, _) where status == 501 || code == "NotImplemented" || code == "MalformedResponse" {
            return nil
        } catch RemoteError.accessDenied {
            // Credentials that may upload but not list uploads (no s3:ListBucketMultipartUploads): no resume.
            return nil
        }
        return open.filter { $0.key == key }.max { ($0.initiated ?? -1) < ($1.initiated ?? -1) }
    }

    /// A part ETag as its hex MD5 (quotes dropped, lower-cased); nil when it is not one (a
    /// server that does not use MD5 ETags: the part is sent again).
    static func etagMD5(_ etag: String) -> String? {
        var e = Substring(etag)
        if e.hasPrefix("\""), e.hasSuffix("\""), e.count >= 2 { e = e.dropFirst().dropLast() }
        let hex = e.lowercased()
        return hex.utf8.count == 32 && hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) ? hex : nil
    }

    /// The SHA-256 (and, when asked, the MD5) of `length` bytes of the file from `offset`, read once.
    static func hashes(of path: String, offset: Int64, length: Int64, md5: Bool, buffer: inout [UInt8]) throws -> (sha256: String, md5: String?) {
        let fd = try FS.openFile(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let h = SHA256Hasher()
        let m = md5 ? MD5Hasher() : nil
        try FS.readRange(fd, path: path, offset: offset, length: length, buffer: &buffer, short: "became shorter while being sent") { bytes in
            h.update(bytes)
            m?.update(bytes)
        }
        return (h.finalizeHex(), m?.finalizeHex())
    }

    static func sha256(of path: String, offset: Int64, length: Int64, buffer: inout [UInt8]) throws -> String {
        try hashes(of: path, offset: offset, length: length, md5: false, buffer: &buffer).sha256
    }

    package func download(_ hash: ContentHash, to fd: Int32, path: String, limit: Int64) throws -> Digest? {
        do {
            let (_, sha) = try mapped(key: key(hash)) { try client.getObject(key: key(hash), to: fd, path: path, limit: limit) }
            return sha.count == 32 ? Digest(bytes: sha) : nil
        } catch RemoteError.requestFailed(_, _, let code, let status, _) where status == 404 && code == "NoSuchKey" {
            return nil
        }
    }

    /// A large object in `multipartChunk`-sized ranges, up to `jobs` at a time: the first range
    /// says the object's size; each range is a `Range:` GET written with pwrite at its offset
    /// (retried on its own); the file is hashed in order as the ranges before the hashed end
    /// complete, so the digest is ready when the last range lands. Memory: one 1 MiB buffer
    /// per worker, never the object. `copy` is written from the hashing worker's buffer.
    package func download(_ hash: ContentHash, to fd: Int32, path: String, limit: Int64, jobs: Int, copy: DownloadCopy?) throws -> Digest? {
        let key = key(hash)
        let chunk = max(multipartChunk, 1 << 20)
        let first: S3Client.RangeAnswer
        do {
            try FS.rewind(fd, path: path)
            first = try mapped(key: key) { try client.getRange(key: key, offset: 0, length: min(chunk, max(limit, 1)), to: fd, path: path, acceptWhole: true, limit: limit) }
        } catch RemoteError.requestFailed(_, _, let code, let status, _) where status == 404 && code == "NoSuchKey" {
            return nil
        } catch RemoteError.requestFailed(_, _, _, let status, _) where status == 416 {
            // An empty object has no byte range to ask for.
            return try download(hash, to: fd, path: path, limit: limit)
        }
        let hasher = OrderedRangeHasher(fd: fd, path: path, copy: copy)
        // However the download ends, the copy's writer is done before the file is closed.
        defer { copy?.stop() }
        if let size = first.objectSize, size > limit {
            // Before any other range: the server's total decides how many follow.
            throw RemoteError.largerThanRecorded(remote: remoteName, object: key, size: size, recorded: limit)
        }
        guard let size = first.objectSize else {
            // A 200: the server sent the whole object.
            try Self.truncate(fd, path, to: first.bytesWritten)
            return try hasher.hashWhole(length: first.bytesWritten)
        }
        // The first range, then the rest in ranges grown (if need be) to at most 10,000.
        guard first.bytesWritten == min(chunk, size) else {
            throw RemoteError.requestFailed(remote: remoteName, object: key, code: "MalformedResponse", status: 206, attempts: 1)
        }
        let rest = max(chunk, (size + 9_999) / 10_000)
        let ranges = [(offset: Int64(0), length: first.bytesWritten)]
            + stride(from: first.bytesWritten, to: size, by: Int(rest)).map { (offset: $0, length: min(rest, size - $0)) }
        hasher.ranges = ranges
        try hasher.finished(0)
        try Parallel.forEachOnThreads(count: ranges.count - 1, workers: max(1, jobs)) { k in
            let r = ranges[k + 1]
            _ = try mapped(key: key) { try client.getRange(key: key, offset: r.offset, length: r.length, to: fd, path: path) }
            try hasher.finished(k + 1)
        }
        try Self.truncate(fd, path, to: size)
        return try hasher.digest()
    }
    /// Cuts the file to the object's size: an earlier, failed attempt may have written past it
    /// (a server answering one attempt with a longer body than the next), and what is installed
    /// must be exactly what was hashed.
    static func truncate(_ fd: Int32, _ path: String, to size: Int64) throws {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw FileSystemError.posix("truncate", path, errno: errno) }
        }
    }

    /// Runs one client call, turning its failures into RemoteError (which names the object and
    /// S3's error code; never a credential).
    func mapped<T>(key: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as S3Error {
            let attempts = e.isRetryable ? client.retry.retries + 1 : 1
            switch e.code {
            case "SignatureDoesNotMatch": throw RemoteError.signatureRejected(remote: remoteName)
            case "InvalidAccessKeyId": throw RemoteError.unknownAccessKey(remote: remoteName)
            case "AccessDenied" where e.status == 403: throw RemoteError.accessDenied(remote: remoteName, key: key)
            case "NoSuchBucket": throw RemoteError.noSuchBucket(remote: remoteName, bucket: client.location.bucket)
            default:
                throw RemoteError.requestFailed(remote: remoteName, object: key ?? client.location.bucket, code: e.code, status: e.status, attempts: attempts)
            }
        } catch let e as TransportError {
            if !e.retryable && !e.isNetwork { throw MessageError("remote '\(remoteName)': \(key.map { "'\($0)': " } ?? "")\(e.message)") }
            throw RemoteError.unreachable(remote: remoteName, endpoint: client.location.endpoint, reason: e.message,
                                          attempts: e.retryable ? client.retry.retries + 1 : 1)
        }
    }
}

/// Hashes a file that ranges are being written into, in order: whenever the ranges from the
/// hashed end onwards have landed, the worker that completed one reads them back (from the page
/// cache) into the running SHA-256. One worker hashes at a time, and the others never wait for
/// it: they mark their range landed and go on downloading (the hashing worker picks it up).
/// `copy` gets the bytes hashed, in order, from the same buffer.
final class OrderedRangeHasher: @unchecked Sendable {
    let fd: Int32
    let path: String
    let copy: DownloadCopy?
    var ranges: [(offset: Int64, length: Int64)] = []
    private let state = Lock()
    /// Guarded by `state`: the ranges landed, the first one not hashed yet, whether a worker is hashing.
    private var done: Set<Int> = []
    private var next = 0
    private var hashing = false
    private let sha = SHA256Hasher()
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    init(fd: Int32, path: String, copy: DownloadCopy? = nil) {
        self.fd = fd
        self.path = path
        self.copy = copy
    }

    /// Range `i` has landed: unless another worker is hashing, hash every landed range from the hashed end.
    func finished(_ i: Int) throws {
        state.lock()
        done.insert(i)
        if hashing { state.unlock(); return }
        hashing = true
        state.unlock()
        try hashReady()
    }

    /// Hashes landed ranges in order until the next one has not landed; only the worker that set
    /// `hashing` runs this, and it clears it under the same lock that `finished` checks it under.
    private func hashReady() throws {
        while true {
            state.lock()
            guard next < ranges.count, done.contains(next) else { hashing = false; state.unlock(); return }
            let r = ranges[next]
            state.unlock()
            do { try read(r.offset, r.length) } catch { state.lock(); hashing = false; state.unlock(); throw error }
            state.lock(); done.remove(next); next += 1; state.unlock()
        }
    }

    /// After every range has landed (and every worker has returned): the digest of the whole file.
    func digest() throws -> Digest? {
        state.lock(); hashing = true; state.unlock()
        try hashReady()
        guard next == ranges.count else { throw FileSystemError("'\(path)': \(ranges.count - next) ranges were never written") }
        copy?.stop(complete: true)
        return Digest(bytes: sha.finalizeBytes())
    }

    func hashWhole(length: Int64) throws -> Digest? {
        try read(0, length)
        copy?.stop(complete: true)
        return Digest(bytes: sha.finalizeBytes())
    }

    private func read(_ offset: Int64, _ length: Int64) throws {
        guard let copy else {
            return try FS.readRange(fd, path: path, offset: offset, length: length, buffer: &buffer, short: "is shorter than the ranges written into it") { sha.update($0) }
        }
        // Read into the copy's buffers: hashed here, appended to the copy by its own thread.
        var done: Int64 = 0
        while done < length {
            let want = Int(min(Int64(DownloadCopy.pieceSize), length - done))
            let at = offset + done
            try copy.piece { buf in
                let piece = UnsafeMutableRawBufferPointer(rebasing: buf[0..<want])
                try FS.readFully(fd, into: piece, offset: at, path: path, short: "is shorter than the ranges written into it")
                sha.update(UnsafeRawBufferPointer(piece))
                return want
            }
            done += Int64(want)
        }
    }
}
