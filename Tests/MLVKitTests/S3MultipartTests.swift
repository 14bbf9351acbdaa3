import Foundation
import MLVHTTP
@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// S3Remote's multipart resume and ranged download, on both test servers (SeaweedFS and moto):
/// the open upload is found among others, ListParts is read page by page, a part whose bytes
/// differ is sent again, and a refusal (here: the local file shorter than it should be) aborts.
@Suite struct S3MultipartTests {
    /// A store on `endpoint` with 5 MiB parts and 2-part ListParts pages, and a random file.
    func setUp(_ server: S3TestServer, endpoint: String? = nil, size: Int) throws -> (S3Remote, TemporaryDirectory, [UInt8], ContentHash) {
        let tmp = try TemporaryDirectory(prefix: "mlv-mpu")
        let location = S3Location(endpoint: endpoint ?? server.endpoint, bucket: server.bucket, region: "us-east-1", addressing: .path)
        let client = S3Client(location: location, credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey),
                              retry: RetryPolicy(retries: 1))
        let store = S3Remote(name: "t", client: client, prefix: server.uniquePrefix("mpu"), multipartThreshold: 5 << 20, multipartChunk: 5 << 20)
        store.listPartsPageSize = 2
        let bytes = [UInt8](FileHandle(forReadingAtPath: "/dev/urandom")!.readData(ofLength: size))
        try FS.writeFile(tmp.path + "/big", bytes)
        return (store, tmp, bytes, ContentHash(Digest(bytes: SHA256Hasher.hexBytes(bytes))))
    }

    func downloaded(_ store: S3Remote, _ hash: ContentHash, in tmp: TemporaryDirectory, jobs: Int, limit: Int64 = .max) throws -> (Digest?, [UInt8]) {
        let path = tmp.path + "/got-\(jobs)"
        let fd = try FS.openFile(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o600)
        defer { close(fd) }
        guard jobs > 1 else { return (try store.download(hash, to: fd, path: path, limit: limit), try FS.readFile(path)) }
        // A ranged download also fills the copy it is given with exactly the bytes it hashed.
        let copyPath = path + ".copy"
        let cfd = try FS.openFile(copyPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o600)
        defer { close(cfd) }
        let copy = DownloadCopy(fd: cfd)
        let digest = try store.download(hash, to: fd, path: path, limit: limit, jobs: jobs, copy: copy)
        let got = try FS.readFile(path)
        // (An empty object has no range: it comes whole, and the copy is left to the caller.)
        if digest != nil && !got.isEmpty {
            let copied = try FS.readFile(copyPath)
            #expect(copy.filled && copied == got)
        }
        return (digest, got)
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aResumeSendsAgainOnlyMissingAndDifferingParts(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        // 5 parts: 4 × 5 MiB + 1,000 bytes.
        let size = (20 << 20) + 1000
        let proxy = try FaultProxy(upstream: server.endpoint, rate: 0, seed: 1)
        let (store, tmp, bytes, hash) = try setUp(server, endpoint: proxy.endpoint, size: size)
        defer { tmp.remove() }
        let key = store.key(hash)
        let client = store.client
        // An older upload of the same object, and one of another key that has this key as its prefix.
        let other = try client.createMultipartUpload(key: key + ".dir")
        _ = try client.createMultipartUpload(key: key)
        // What an interrupted push left: parts 1 and 3 right, part 2 the right size but other bytes.
        usleep(1_100_000)  // a later Initiated second, where the server keeps real times
        let id = try client.createMultipartUpload(key: key)
        try FS.writeFile(tmp.path + "/wrong", [UInt8](repeating: 7, count: 5 << 20))
        for (n, file, offset) in [(1, tmp.path + "/big", Int64(0)), (2, tmp.path + "/wrong", Int64(0)), (3, tmp.path + "/big", Int64(10 << 20))] {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            let sha = try S3Remote.sha256(of: file, offset: offset, length: 5 << 20, buffer: &buffer)
            _ = try client.uploadPart(key: key, uploadID: id, number: n, file: file, offset: offset, length: 5 << 20, sha256Hex: sha)
        }
        // Three pages of two parts at most: the listing reads them all.
        #expect(try client.listParts(key: key, uploadID: id, maxParts: 2).map(\.number) == [1, 2, 3])
        _ = proxy.stop()

        let counting = try FaultProxy(upstream: server.endpoint, rate: 0, seed: 1)
        let store2 = S3Remote(name: "t", client: S3Client(location: S3Location(endpoint: counting.endpoint, bucket: server.bucket, region: "us-east-1", addressing: .path),
                                                          credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey)),
                              prefix: store.prefix, multipartThreshold: 5 << 20, multipartChunk: 5 << 20)
        store2.listPartsPageSize = 2
        try store2.upload(hash, from: tmp.path + "/big", size: Int64(size), jobs: 3)
        let stats = counting.stop()
        // Part 2 (other bytes) and the missing 4 and 5 are sent; 1 and 3 are kept. (moto gives
        // every upload the same Initiated time, so there the older, empty upload may be the one
        // resumed, and then every part is sent: still once each.)
        let resent = (1...5).filter { stats["part.\($0)"] != nil }
        #expect(stats["partput"] == resent.count && resent.allSatisfy { stats["part.\($0)"] == 1 }, "\(stats)")
        #expect(resent == [2, 4, 5] || (kind == .moto && resent == [1, 2, 3, 4, 5]), "\(stats)")
        let directStore = S3Remote(name: "t", client: S3Client(location: S3Location(endpoint: server.endpoint, bucket: server.bucket, region: "us-east-1", addressing: .path),
                                                               credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey)),
                                   prefix: store.prefix, multipartThreshold: 5 << 20, multipartChunk: 5 << 20)
        let (digest, got) = try downloaded(directStore, hash, in: tmp, jobs: 4)
        #expect(digest == hash.digest && got == bytes)
        // The upload of the other key is untouched.
        let direct = directStore.client
        #expect(try direct.listMultipartUploads(prefix: key + ".dir").map(\.uploadID) == [other])
        for u in try direct.listMultipartUploads(prefix: key) { try direct.abortMultipartUpload(key: u.key, uploadID: u.uploadID) }
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aRefusedUploadIsAbortedAndAnEmptyObjectDownloads(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (store, tmp, bytes, hash) = try setUp(server, size: (6 << 20) + 3)
        defer { tmp.remove() }
        // The file is shorter than the size given: a local failure, not an interruption.
        #expect(throws: FileSystemError.self) {
            try store.upload(hash, from: tmp.path + "/big", size: Int64(bytes.count + (10 << 20)), jobs: 2)
        }
        #expect(try store.client.listMultipartUploads(prefix: store.key(hash)).isEmpty)
        // Whole, then in ranges of 5 MiB (two), then in one range.
        try store.upload(hash, from: tmp.path + "/big", size: Int64(bytes.count), jobs: 2)
        for jobs in [1, 2, 4] {
            let (digest, got) = try downloaded(store, hash, in: tmp, jobs: jobs)
            #expect(digest == hash.digest && got == bytes)
        }
        // Into a file that holds more (and other) bytes: exactly the object is left, and hashed.
        let stale = tmp.path + "/stale"
        try FS.writeFile(stale, [UInt8](repeating: 0xee, count: bytes.count + (3 << 20)))
        let sfd = try FS.openFile(stale, O_RDWR | O_CLOEXEC)
        let sd = try store.download(hash, to: sfd, path: stale, limit: .max, jobs: 3, copy: nil)
        close(sfd)
        let staleBytes = try FS.readFile(stale)
        #expect(sd == hash.digest && staleBytes == bytes)
        // An empty object has no range to ask for; a missing one is nil.
        let empty = ContentHash(Digest(bytes: SHA256Hasher.hexBytes([])))
        try FS.writeFile(tmp.path + "/empty", [])
        try store.upload(empty, from: tmp.path + "/empty", size: 0, jobs: 1)
        let (d, got) = try downloaded(store, empty, in: tmp, jobs: 4)
        #expect(d == empty.digest && got.isEmpty)
        let absent = ContentHash(Digest(bytes: SHA256Hasher.hexBytes(Array("absent".utf8))))
        #expect(try downloaded(store, absent, in: tmp, jobs: 4).0 == nil)
    }
}
