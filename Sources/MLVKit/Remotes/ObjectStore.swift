import Dispatch
import MLVHTTP
import MLVSupport

/// A remote's object store, laid out like the cache: `sha256/ab/cdef…[.dir]` below its root.
/// Two implementations: a local directory (`LocalRemote`) and an S3 bucket (`S3Remote`).
/// Every method may be called from several threads at once.
package protocol ObjectStore: AnyObject, Sendable {
    var remoteName: String { get }
    /// Fails fast, before any transfer, when the store cannot be used (no bucket, bad
    /// credentials). `forWriting`: a local remote's directory is created if missing.
    func check(forWriting: Bool) throws
    /// Which of `hashes` the store holds, in as few requests as it can.
    func existing(_ hashes: [ContentHash], jobs: Int) throws -> Set<ContentHash>
    /// Uploads the file at `path` (the object's `size` bytes) as `hash`; a large object may use
    /// up to `jobs` parallel requests.
    func upload(_ hash: ContentHash, from path: String, size: Int64, jobs: Int) throws
    /// Every object the store holds, with its size and age (for `gc --cloud`).
    func listAll() throws -> [StoredObject]
    /// Deletes objects (in batches where the store has them).
    func delete(_ hashes: [ContentHash]) throws
    /// Objects of at least this size are sent one at a time, each in parallel parts.
    var largeObjectSize: Int64 { get }
    /// Writes the object into the open file `fd` and returns the SHA-256 of what was written;
    /// nil when the store has no such object. An object larger than `limit` (the size the
    /// workspace recorded) is refused before more than `limit` bytes are written.
    func download(_ hash: ContentHash, to fd: Int32, path: String, limit: Int64) throws -> Digest?
    /// The same, for an object of at least `largeObjectSize`: it may use up to `jobs` parallel
    /// requests (ranges), writing at their offsets. `copy`: a second file to write the bytes into
    /// as they are verified (see DownloadCopy); a store may leave it unfilled.
    func download(_ hash: ContentHash, to fd: Int32, path: String, limit: Int64, jobs: Int, copy: DownloadCopy?) throws -> Digest?

    /// Small objects beside the content objects (`index/…`, `runs/…`), by key relative to the
    /// store's root (see StoreSideObjects.swift). Their keys and bodies are untrusted.
    func listSide(_ folder: String, limit: Int) throws -> [String]
    func getSide(_ key: String, limit: Int) throws -> [UInt8]?
    func putSide(_ key: String, _ bytes: [UInt8]) throws
    func deleteSide(_ keys: [String]) throws
    /// Whether asking about objects costs requests, so that index objects pay (S3), or is cheap (a directory).
    var usesIndex: Bool { get }

    /// Multipart uploads of objects that were started and neither completed nor aborted (a push
    /// that was killed or failed half-way), for `gc --cloud`; none where the store has no such thing.
    func unfinishedUploads() throws -> [UnfinishedUpload]
    func abort(_ upload: UnfinishedUpload) throws
}

extension ObjectStore {
    package func unfinishedUploads() throws -> [UnfinishedUpload] { [] }
    package func abort(_ upload: UnfinishedUpload) throws {}

    package func download(_ hash: ContentHash, to fd: Int32, path: String, limit: Int64, jobs: Int, copy: DownloadCopy?) throws -> Digest? {
        try download(hash, to: fd, path: path, limit: limit)
    }
}

/// A second file that a large download is copied into while it is hashed (a pull's workspace
/// file), so the object is not read back from the cache and copied after it arrived. The worker
/// that hashes reads each piece into one of this copy's buffers, hashes it and hands it over; a
/// thread of the copy's own appends the pieces in order, so hashing and writing overlap (three
/// 1 MiB buffers, never more). The copy holds the object only when `filled`. A write that fails
/// drops the copy, not the download (the caller then copies from the cache as usual).
package final class DownloadCopy: @unchecked Sendable {
    package let fd: Int32
    /// Every byte that was hashed, and nothing else, was written (set by `stop(complete: true)`).
    package private(set) var filled = false

    static let pieceSize = 1 << 20
    private let lock = Lock()
    private let free = DispatchSemaphore(value: 3)
    private let ready = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    /// Guarded by `lock`: idle buffers, pieces waiting to be written (nil: the end), state.
    private var idle: [UnsafeMutableRawBufferPointer] = []
    private var pending: [(UnsafeMutableRawBufferPointer, Int)?] = []
    private var failed = false
    private var running = false
    private var ended = false

    /// `fd`: an empty file open for writing at offset 0 (the caller closes it, after `stop`).
    package init(fd: Int32) {
        self.fd = fd
        idle = (0..<3).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceSize, alignment: 4096) }
    }

    deinit { for b in idle { b.deallocate() } }

    /// Fills a free buffer with `fill` (which returns how many bytes it put there) and queues
    /// them to be appended. Waits while all buffers are in flight. Called by one thread at a
    /// time, never after `stop`.
    func piece(_ fill: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        free.wait()
        lock.lock()
        let buffer = idle.removeLast()
        if !running && !ended {
            // No thread to be had: the bytes are still hashed, the copy is given up.
            if let tid = PosixThread.start({ [self] in writeLoop() }) { pthread_detach(tid); running = true } else { failed = true; ended = true }
        }
        let queued = running && !ended
        lock.unlock()
        func giveBack() {
            lock.lock(); idle.append(buffer); lock.unlock()
            free.signal()
        }
        let n: Int
        do { n = try fill(buffer) } catch {
            giveBack()
            throw error
        }
        guard queued else { return giveBack() }
        lock.lock(); pending.append((buffer, n)); lock.unlock()
        ready.signal()
    }

    private func writeLoop() {
        while true {
            ready.wait()
            lock.lock()
            let next = pending.removeFirst()
            let skip = failed
            lock.unlock()
            guard let (buffer, n) = next else { stopped.signal(); return }
            if !skip {
                do { try FS.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: "(the copy of a download)") } catch {
                    lock.lock(); failed = true; lock.unlock()
                }
            }
            lock.lock(); idle.append(buffer); lock.unlock()
            free.signal()
        }
    }

    /// Waits for every queued piece to be written; `complete`: the pieces are the whole object.
    /// Idempotent; must be called before the file is closed.
    func stop(complete: Bool = false) {
        lock.lock()
        let wasRunning = running && !ended
        ended = true
        if wasRunning { pending.append(nil) }
        lock.unlock()
        if wasRunning {
            ready.signal()
            stopped.wait()
        }
        lock.lock(); if complete && !failed { filled = true }; lock.unlock()
    }
}

/// An object found on a remote.
/// A multipart upload a push started and neither completed nor aborted (the store's own
/// identifiers; no HTTP-layer type crosses the ObjectStore protocol).
package struct UnfinishedUpload: Sendable, Equatable {
    package var key: String
    package var uploadID: String
    /// When it was started, as seconds since 1970 (nil when the store did not say).
    package var initiated: Double?
}

package struct StoredObject: Sendable, Equatable {
    package var hash: ContentHash
    package var size: Int64
    /// Seconds since 1970; nil when the store did not say.
    package var modified: Double?
}

extension RemoteSettings {
    /// The store this remote names (credentials are looked up only for S3).
    func openStore(localConfig: WorkspaceConfig) throws -> ObjectStore {
        switch url {
        case .local(let path):
            return LocalRemote(name: name, root: path)
        case .s3(_, let prefix):
            let store = S3Remote(name: name, client: try s3Client(localConfig: localConfig), prefix: prefix,
                                 multipartThreshold: multipartThreshold, multipartChunk: multipartChunk)
            store.unsignedPayload = unsignedPayload
            return store
        }
    }

    /// The S3 client for this remote's bucket (an S3 remote's settings; `import-url` of an
    /// `s3://` URL borrows those of a remote on the same bucket).
    func s3Client(localConfig: WorkspaceConfig) throws -> S3Client {
        guard case .s3(let bucket, _) = url else { preconditionFailure("s3Client of a local remote") }
        let credentials = try CredentialSource.resolve(remote: self, localConfig: localConfig)
        let endpoint = endpointURL ?? (region == "us-east-1" ? "https://s3.amazonaws.com" : "https://s3.\(region).amazonaws.com")
        let location = S3Location(endpoint: endpoint, bucket: bucket, region: region, addressing: addressing == "virtual" ? .virtual : .path)
        return S3Client(location: location, credentials: credentials, retry: RetryPolicy(retries: retries), readTimeout: readTimeout)
    }
}

#if canImport(Glibc)
import Glibc
#endif
