import MLVHTTP
import MLVSupport

/// An S3 bucket (AWS, MinIO, SeaweedFS) used as a remote: objects at `PREFIX/sha256/ab/cdef…`.
public final class S3Remote: ObjectStore, @unchecked Sendable {
    public let remoteName: String
    let client: S3Client
    /// "" or "some/prefix" (no slashes at the ends).
    let prefix: String

    init(name: String, client: S3Client, prefix: String) {
        remoteName = name
        self.client = client
        self.prefix = prefix
    }

    var objectsPrefix: String { (prefix.isEmpty ? "" : prefix + "/") + "sha256/" }
    func key(_ hash: ContentHash) -> String { objectsPrefix + hash.objectName }

    public func check(forWriting: Bool) throws {
        // A listing of one prefix: proves the bucket, the credentials and the signature in one request.
        _ = try mapped(key: nil) { try client.listObjects(prefix: objectsPrefix + "00/") }
    }

    /// HEAD per object, or ListObjectsV2 per two-hex-digit folder, whichever costs fewer
    /// requests for this many objects: a folder's listing costs at least one request and
    /// answers for every object in it.
    public func existing(_ hashes: [ContentHash], jobs: Int) throws -> Set<ContentHash> {
        let folders = Dictionary(grouping: hashes) { String($0.digest.hex.prefix(2)) }
        let lock = Lock()
        var found = Set<ContentHash>()
        if hashes.count <= 2 * folders.count {
            try Parallel.forEach(count: hashes.count, workers: jobs, makeContext: { () }) { i, _ in
                let h = hashes[i]
                if try mapped(key: key(h), { try client.headObject(key: key(h)) }) != nil {
                    lock.lock(); found.insert(h); lock.unlock()
                }
            }
            return found
        }
        let names = folders.keys.sorted()
        try Parallel.forEach(count: names.count, workers: jobs, makeContext: { () }) { i, _ in
            let folder = objectsPrefix + names[i] + "/"
            let listed = try mapped(key: nil) { try client.listAll(prefix: folder) }
            var here = Set<ContentHash>()
            for o in listed where o.key.hasPrefix(folder) {
                // Keys are untrusted: only well-formed object names count.
                if let h = ContentHash(string: names[i] + o.key.dropFirst(folder.count)) { here.insert(h) }
            }
            let wanted = folders[names[i]]!.filter { here.contains($0) }
            lock.lock(); found.formUnion(wanted); lock.unlock()
        }
        return found
    }

    public func upload(_ hash: ContentHash, from path: String, size: Int64) throws {
        try mapped(key: key(hash)) {
            try client.putObject(key: key(hash), file: path, size: size, sha256Hex: hash.digest.hex)
        }
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
