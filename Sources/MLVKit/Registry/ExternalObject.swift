import MLVHTTP
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// One object outside any repository that `mlv import-url` tracks: on S3 (mlv's own S3 client,
/// with the settings of a configured remote on the same bucket, else the environment's), over
/// HTTP(S) (libcurl), or a local file. Downloads are bounded by the size the source claims and
/// hashed as they arrive; a source whose version (ETag, else size and Last-Modified) changes
/// during a download is fetched once more, then refused.
struct ExternalObject {
    enum Location: Equatable {
        case s3(bucket: String, key: String)
        case http(String)
        case local(String)
    }

    let url: String
    let location: Location
    let ws: Workspace

    init(_ url: String, in ws: Workspace, cwd: String) throws {
        self.ws = ws
        if url.hasPrefix("s3://") {
            let rest = url.dropFirst(5)
            guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex, rest.index(after: slash) != rest.endIndex else {
                throw MessageError("'\(url)' names no object", hint: "give s3://BUCKET/KEY")
            }
            location = .s3(bucket: String(rest[..<slash]), key: String(rest[rest.index(after: slash)...]))
            self.url = url
        } else if url.hasPrefix("https://") || url.hasPrefix("http://") {
            location = .http(url)
            self.url = url
        } else if url.contains("://") {
            throw MessageError("'\(url)': mlv imports from s3://, http:// and https:// URLs, and local files", hint: nil)
        } else {
            let path = Path.absolute(url, relativeTo: cwd)
            location = .local(path)
            self.url = path
        }
    }

    /// The name `import-url` gives the data by default: the URL's last path component.
    var defaultName: String {
        var s = Substring(url)
        if let q = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = s[..<q] }
        return Path.base(String(s))
    }

    /// What the source says of the object now (no download).
    func probe() throws -> URLSource {
        switch location {
        case .s3(let bucket, let key):
            let (store, client) = try s3(bucket)
            guard let v = try store.mapped(key: key, { try client.objectVersion(key: key) }) else {
                throw MessageError("'\(url)' does not exist", hint: "check the bucket and key")
            }
            return URLSource(url: url, etag: v.etag, lastModified: v.lastModified, size: v.size)
        case .http(let u):
            let r = try http(HTTPRequest(method: "HEAD", url: u), sink: .memory(limit: 0))
            return URLSource(url: url, etag: r.header("etag"), lastModified: r.header("last-modified"),
                             size: r.header("content-length").flatMap { Int64($0) } ?? -1)
        case .local(let path):
            guard let st = try FS.statusFollowingLinks(path) else { throw WorkspaceError.missingPath(path: path) }
            guard st.kind == .file else {
                throw MessageError("'\(path)' is not a file", hint: "import-url takes one file; copy a folder into the workspace and `mlv add` it")
            }
            return URLSource(url: url, etag: nil, lastModified: String(st.mtimeNs), size: st.size)
        }
    }

    /// Downloads the object into the cache (hashed on arrival); its hash and the version fetched.
    func fetch() throws -> (hash: ContentHash, version: URLSource) {
        try FS.makeDirectories(ws.cache.tmp)
        for _ in 0..<2 {
            let before = try probe()
            let limit = before.size >= 0 ? before.size : PointerFile.maxSize
            let tmp = ws.cache.temporaryPath("obj")
            let fd = try FS.openFile(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
            var kept = false
            defer { close(fd); if !kept { unlink(tmp) } }
            var got: (bytes: Int64, digest: Digest, etag: String?)
            switch location {
            case .s3(let bucket, let key):
                let (store, client) = try s3(bucket)
                let r = try store.mapped(key: key, { try client.getObjectWithTag(key: key, to: fd, path: tmp, limit: limit) })
                got = (r.bytes, Digest(bytes: r.sha256), r.etag)
            case .http(let u):
                let r = try http(HTTPRequest(method: "GET", url: u), sink: .file(descriptor: fd, path: tmp, limit: limit))
                got = (r.bytesWritten, Digest(bytes: r.sha256 ?? []), r.header("etag"))
            case .local(let path):
                let (d, n) = try HashWorker().copyHashing(from: path, toDescriptor: fd)
                got = (n, d, nil)
            }
            let after = try probe()
            // The same version before, during and after, and all of it.
            guard after.isSameVersion(as: before), got.etag == nil || before.etag == nil || got.etag == before.etag,
                  before.size < 0 || got.bytes == before.size else { continue }
            var version = before
            version.size = got.bytes
            let hash = ContentHash(got.digest)
            try ws.cache.install(temporary: tmp, as: hash)
            kept = true
            return (hash, version)
        }
        throw MessageError("'\(url)' changed while it was being downloaded, twice", hint: "run the command again once the source has stopped changing")
    }

    /// The S3 client for `bucket`: a configured remote on that bucket lends its settings.
    private func s3(_ bucket: String) throws -> (S3Remote, S3Client) {
        var settings: RemoteSettings?
        for name in RemoteSettings.names(in: ws.config) {
            if let s = try? RemoteSettings.load(name, config: ws.config, workspaceRoot: ws.root), case .s3(let b, _) = s.url, b == bucket { settings = s; break }
        }
        let s = try settings ?? RemoteSettings.unconfigured("s3://\(bucket)", url: "s3://\(bucket)", workspaceRoot: ws.root, environment: ws.environment)
        let local = try WorkspaceConfig.load(Path.join(ws.mlvDir, "config.local.yaml"), displayName: ".mlv/config.local.yaml")
        let client = try s.s3Client(localConfig: local)
        return (S3Remote(name: s.name, client: client, prefix: "", multipartThreshold: s.multipartThreshold, multipartChunk: s.multipartChunk), client)
    }

    /// One HTTP request, retried on network failures and 5xx; any other non-2xx is an error.
    private func http(_ request: HTTPRequest, sink: ResponseSink) throws -> HTTPResponse {
        let client = HTTPClient()
        let r: HTTPResponse
        do {
            r = try RetryPolicy(retries: 3).run { _ in
                if case .file(let fd, let path, _) = sink { try FS.rewind(fd, path: path) }
                let r = try client.send(request, sink: sink)
                if r.status >= 500 { throw ServerError(message: "'\(url)' answered HTTP \(r.status)") }
                return r
            }
        } catch let e as TransportError {
            throw MessageError("cannot reach '\(url)': \(e.message)", hint: "check the URL and the network")
        }
        guard (200..<300).contains(r.status) else { throw MessageError("'\(url)' answered HTTP \(r.status)", hint: r.status == 404 ? "check the URL" : nil) }
        return r
    }
}

/// A 5xx answer: retried, then reported.
private struct ServerError: RetryableError, UserFacingError {
    var message: String
    var isRetryable: Bool { true }
}
