import MLVHTTP
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// An S3 bucket (AWS, MinIO, SeaweedFS) used as a remote: objects at `PREFIX/sha256/ab/cdef…`.
public final class S3Remote: ObjectStore, @unchecked Sendable {
    public let remoteName: String
    let client: S3Client
    /// "" or "some/prefix" (no slashes at the ends).
    let prefix: String

    let multipartThreshold: Int64
    let multipartChunk: Int64
    /// Keys per ListObjectsV2 page (S3's maximum; tests make it small to reach the fallbacks).
    var listPageSize = 1000
    /// Uploads and parts signed as UNSIGNED-PAYLOAD instead of over their SHA-256 (the remote's
    /// `unsigned_payload: true`); parts then need no extra read to hash them.
    var unsignedPayload = false

    init(name: String, client: S3Client, prefix: String, multipartThreshold: Int64 = 64 << 20, multipartChunk: Int64 = 16 << 20) {
        remoteName = name
        self.client = client
        self.prefix = prefix
        self.multipartThreshold = multipartThreshold
        self.multipartChunk = multipartChunk
    }

    public var largeObjectSize: Int64 { multipartThreshold }

    var objectsPrefix: String { (prefix.isEmpty ? "" : prefix + "/") + "sha256/" }
    func key(_ hash: ContentHash) -> String { objectsPrefix + hash.objectName }

    public func check(forWriting: Bool) throws {
        // A listing of one prefix: proves the bucket, the credentials and the signature in one request.
        _ = try mapped(key: nil) { try client.listObjects(prefix: objectsPrefix + "00/") }
    }

    /// What the remote holds, in as few rounds of requests as the count allows. The plans: a
    /// HEAD per object; a ListObjectsV2 per two-hex-digit folder (at least one request per
    /// folder, answering for every object in it); or a listing of each first-hex-digit part of
    /// the prefix that holds a wanted object (at most 16 chains of pages, run side by side).
    /// The 16-way listing is tried first, but only for as many pages a chain as the other plans
    /// need rounds (their requests run `jobs` at a time); past that the remote is large, and the
    /// per-folder or HEAD plan answers. Nothing is ever assumed present: only listed or HEADed keys count.
    public func existing(_ hashes: [ContentHash], jobs: Int) throws -> Set<ContentHash> {
        if hashes.isEmpty { return [] }
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
            var token: String?
            var listed = Set<ContentHash>()
            var pages = 0
            repeat {
                let page = try mapped(key: nil) { try client.listObjects(prefix: objectsPrefix + names[i], continuationToken: token, maxKeys: listPageSize) }
                for o in page.objects { if let h = objectHash(o.key) { listed.insert(h) } }
                token = page.nextToken
                pages += 1
            } while token != nil && pages < rounds
            let wanted = parts[names[i]]!.filter { listed.contains($0) }
            lock.lock()
            if token != nil { complete = false }
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

    public func listAll() throws -> [StoredObject] {
        let listed = try mapped(key: nil) { try client.listAll(prefix: objectsPrefix) }
        return listed.compactMap { o in objectHash(o.key).map { StoredObject(hash: $0, size: o.size, modified: o.modified) } }
    }

    /// DeleteObjects, 1,000 keys a request.
    public func delete(_ hashes: [ContentHash]) throws {
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

    public func upload(_ hash: ContentHash, from path: String, size: Int64, jobs: Int) throws {
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

    /// CreateMultipartUpload, the parts in parallel (each signed over its own SHA-256), then
    /// CompleteMultipartUpload; any failure aborts the upload, so no parts are left behind.
    func uploadMultipart(_ hash: ContentHash, from path: String, size: Int64, jobs: Int) throws {
        let key = key(hash)
        let parts = Self.parts(size: size, chunk: multipartChunk)
        let id = try mapped(key: key) { try client.createMultipartUpload(key: key) }
        do {
            var etags = [String](repeating: "", count: parts.count)
            let lock = Lock()
            try Parallel.forEachOnThreads(count: parts.count, workers: jobs) { i in
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                let p = parts[i]
                let sha = unsignedPayload ? SigV4Signer.unsignedPayload : try Self.sha256(of: path, offset: p.offset, length: p.length, buffer: &buffer)
                let etag = try mapped(key: key) {
                    try client.uploadPart(key: key, uploadID: id, number: i + 1, file: path, offset: p.offset, length: p.length, sha256Hex: sha)
                }
                lock.lock(); etags[i] = etag; lock.unlock()
            }
            try mapped(key: key) { try client.completeMultipartUpload(key: key, uploadID: id, etags: etags) }
        } catch {
            try? client.abortMultipartUpload(key: key, uploadID: id)
            throw error
        }
    }

    static func sha256(of path: String, offset: Int64, length: Int64, buffer: inout [UInt8]) throws -> String {
        let fd = try FS.openFile(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        let h = SHA256Hasher()
        var done: Int64 = 0
        try buffer.withUnsafeMutableBytes { buf in
            while done < length {
                let n = pread(fd, buf.baseAddress!, Int(min(Int64(buf.count), length - done)), off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw n < 0 ? FileSystemError.posix("read", path, errno: errno) : FileSystemError("'\(path)' became shorter while being sent") }
                h.update(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
                done += Int64(n)
            }
        }
        return h.finalizeHex()
    }

    public func download(_ hash: ContentHash, to fd: Int32, path: String) throws -> Digest? {
        do {
            let (_, sha) = try mapped(key: key(hash)) { try client.getObject(key: key(hash), to: fd, path: path) }
            return sha.count == 32 ? Digest(bytes: sha) : nil
        } catch RemoteError.requestFailed(_, _, let code, let status, _) where status == 404 && code == "NoSuchKey" {
            return nil
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
            if !e.retryable && !CurlCodes.isNetwork(e.code) { throw MessageError("remote '\(remoteName)': \(key.map { "'\($0)': " } ?? "")\(e.message)") }
            throw RemoteError.unreachable(remote: remoteName, endpoint: client.location.endpoint, reason: e.message,
                                          attempts: e.retryable ? client.retry.retries + 1 : 1)
        }
    }
}

/// CURLcodes that mean the endpoint could not be reached (as opposed to a local failure).
enum CurlCodes {
    static func isNetwork(_ code: Int32) -> Bool { [5, 6, 7, 28, 35, 52, 55, 56].contains(code) }
}
