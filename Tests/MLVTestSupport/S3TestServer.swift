import Foundation
import MLVSupport

/// One SeaweedFS S3 server for the whole test process (scripts/s3-test-server), on 127.0.0.1,
/// with a random key pair, so signatures are really checked. Started on first use; stopped at
/// exit, and by the script's watcher if this process dies first. A failed start fails the tests
/// that need it, with the server's log, rather than skipping them. `get(.moto)` is the second
/// implementation (moto's server, with an IAM user so signatures are checked there too), for
/// the tests that run against both.
package final class S3TestServer: @unchecked Sendable {
    package enum Kind: String, CaseIterable, Sendable, CustomStringConvertible {
        case seaweedfs, moto
        package var description: String { rawValue }
    }

    package let kind: Kind
    package let endpoint: String
    package let accessKey: String
    package let secretKey: String
    package let bucket = "mlv-test"
    let dir: TemporaryDirectory

    package static let repositoryRoot = Path.parent(Path.parent(Path.parent(#filePath)))
    static let script = Path.join(repositoryRoot, "scripts/s3-test-server")

    /// The shared servers, or the reason they could not start.
    package static let shared: Result<S3TestServer, MessageError> = start(.seaweedfs)
    package static let moto: Result<S3TestServer, MessageError> = start(.moto)

    static func start(_ kind: Kind) -> Result<S3TestServer, MessageError> {
        do {
            let s = try S3TestServer(kind)
            stopLock.lock()
            if stopAtExit.isEmpty {
                atexit {
                    S3TestServer.stopLock.lock()
                    let dirs = S3TestServer.stopAtExit
                    S3TestServer.stopLock.unlock()
                    for d in dirs {
                        _ = try? runProcess("/bin/bash", [S3TestServer.script, "stop", d], cwd: "/")
                        try? FS.removeTree(d)
                    }
                }
            }
            stopAtExit.append(s.dir.path)
            stopLock.unlock()
            return .success(s)
        } catch let e as MessageError {
            return .failure(e)
        } catch {
            return .failure(MessageError("\(error)"))
        }
    }

    nonisolated(unsafe) static var stopAtExit: [String] = []
    static let stopLock = Lock()

    package static func get(_ kind: Kind = .seaweedfs) throws -> S3TestServer { try (kind == .moto ? moto : shared).get() }

    init(_ kind: Kind) throws {
        self.kind = kind
        dir = try TemporaryDirectory(prefix: "mlv-s3")
        let r = try runProcess("/bin/bash", [Self.script, "start", dir.path, "--owner", String(getpid())] + (kind == .moto ? ["--moto"] : []) + [bucket],
                               cwd: Self.repositoryRoot)
        guard r.status == 0 else { throw MessageError("\(kind == .moto ? "moto" : "SeaweedFS") did not start:\n\(r.stderr)") }
        var env: [String: String] = [:]
        for line in try FS.readText(dir.path + "/env").split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { env[String(kv[0])] = String(kv[1]) }
        }
        guard let e = env["S3_ENDPOINT"], let a = env["AWS_ACCESS_KEY_ID"], let s = env["AWS_SECRET_ACCESS_KEY"] else {
            throw MessageError("s3-test-server wrote no endpoint")
        }
        endpoint = e
        accessKey = a
        secretKey = s
        if let a = env["LIMITED_ACCESS_KEY_ID"], let s = env["LIMITED_SECRET_ACCESS_KEY"] { limited = (a, s) } else { limited = nil }
        if let a = env["NOABORT_ACCESS_KEY_ID"], let s = env["NOABORT_SECRET_ACCESS_KEY"] { noAbort = (a, s) } else { noAbort = nil }
    }

    /// moto only: a user denied s3:ListBucketMultipartUploads (and allowed the rest).
    package let limited: (accessKey: String, secretKey: String)?
    /// moto only: a user denied s3:AbortMultipartUpload (and allowed the rest).
    package let noAbort: (accessKey: String, secretKey: String)?

    /// The environment an mlv process needs to reach the server.
    package var credentials: [String: String] { ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey] }

    /// A fresh prefix, so tests running in parallel never see each other's objects.
    package func uniquePrefix(_ tag: String) -> String { "\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    /// The response headers of a HEAD of `key` (names lower-cased).
    package func headers(key: String) throws -> [String: String] {
        let r = try runProcess("/usr/bin/curl", ["-s", "-I", "--max-time", "30", "--aws-sigv4", "aws:amz:us-east-1:s3",
                                                 "--user", "\(accessKey):\(secretKey)", "-H", "x-amz-content-sha256: " + SHA256Hasher.hex([UInt8]()),
                                                 url(key)], cwd: "/")
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    func url(_ key: String) -> String {
        endpoint + "/" + bucket + "/" + key.split(separator: "/", omittingEmptySubsequences: false).map {
            $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? String($0)
        }.joined(separator: "/")
    }

    /// The keys below `prefix` (one ListObjectsV2 page, through curl's own SigV4).
    package func keys(prefix: String) throws -> [String] {
        let q = prefix.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? prefix
        let r = try runProcess("/usr/bin/curl", ["-s", "--max-time", "30", "--aws-sigv4", "aws:amz:us-east-1:s3",
                                                 "--user", "\(accessKey):\(secretKey)", "\(endpoint)/\(bucket)?list-type=2&prefix=\(q)"], cwd: "/")
        return r.stdout.components(separatedBy: "<Key>").dropFirst().compactMap { $0.components(separatedBy: "</Key>").first }.sorted()
    }

    /// Starts a multipart upload of `key` and leaves it open, as a push killed half-way does
    /// (curl's own SigV4); the HTTP status.
    @discardableResult
    package func startUpload(key: String) throws -> Int {
        let r = try runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3",
                                                 "--user", "\(accessKey):\(secretKey)", "--max-time", "30", "-X", "POST",
                                                 "-H", "x-amz-content-sha256: " + SHA256Hasher.hex([UInt8]()), url(key) + "?uploads="], cwd: "/")
        return Int(r.stdout) ?? 0
    }

    /// The keys of the multipart uploads open below `prefix` (one ListMultipartUploads page of
    /// the bucket, filtered here: curl's SigV4 mis-signs an encoded `prefix` parameter).
    package func openUploads(prefix: String) throws -> [String] {
        let r = try runProcess("/usr/bin/curl", ["-s", "--max-time", "30", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "\(accessKey):\(secretKey)",
                                                 "-H", "x-amz-content-sha256: " + SHA256Hasher.hex([UInt8]()),
                                                 "\(endpoint)/\(bucket)?uploads="], cwd: "/")
        return r.stdout.components(separatedBy: "<Key>").dropFirst().compactMap { $0.components(separatedBy: "</Key>").first }
            .filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// A signed request made with curl's own SigV4 (independent of mlv's signer): to plant
    /// corrupted or hostile objects on the server.
    @discardableResult
    package func curl(_ method: String, key: String, body: [UInt8]? = nil) throws -> Int {
        let tmp = try TemporaryDirectory(prefix: "mlv-curl")
        defer { tmp.remove() }
        var args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3",
                    "--user", "\(accessKey):\(secretKey)", "--max-time", "30"] + (method == "HEAD" ? ["-I"] : ["-X", method])
        // curl signs the payload but does not send its hash, which S3 requires.
        args += ["-H", "x-amz-content-sha256: " + SHA256Hasher.hex(body ?? [])]
        if let body {
            try FS.writeFile(tmp.path + "/body", body)
            args += ["--data-binary", "@" + tmp.path + "/body", "-H", "Content-Type: application/octet-stream"]
        }
        let r = try runProcess("/usr/bin/curl", args + [url(key)], cwd: "/")
        return Int(r.stdout) ?? 0
    }
}
