import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// push/fetch/pull/status -c against a real S3 server: SeaweedFS on 127.0.0.1 with SigV4 checked
/// (scripts/s3-test-server, started once for the test process). The tests that take a server
/// kind also run against moto's server, a second implementation (its own XML, error codes,
/// multipart and signature checks).
@Suite struct S3RemoteTests {
    /// A workspace with data and a default remote on the test server (credentials in the environment).
    func workspace(_ server: S3TestServer, prefix: String? = nil) throws -> (TestWorkspace, String) {
        let ws = try RemoteCheck.workspaceWithData()
        let prefix = prefix ?? server.uniquePrefix("t")
        ws.env.merge(server.credentials) { _, b in b }
        #expect(try ws.mlv(["remote", "add", "-d", "s3", "s3://\(server.bucket)/\(prefix)"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", server.endpoint]).status == 0)
        return (ws, prefix)
    }

    @Test(arguments: S3TestServer.Kind.allCases) func pushPullRoundTrip(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        // Spaces and unicode in the prefix: signed and addressed exactly.
        let (ws, prefix) = try workspace(server, prefix: server.uniquePrefix("round trip ü/ñ"))
        let expected = try RemoteCheck.trackedTree(ws)
        let push = try ws.mlv(["push", "-j", "8"])
        #expect(push.stdout == "33 files pushed, 23.3 KiB, 0 failed\n", "\(push)")
        // The layout mirrors the cache, below the prefix.
        let hash = SHA256Hasher.hex(String(repeating: "w", count: 5000))
        #expect(try server.curl("HEAD", key: "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))") == 200)
        #expect(try ws.mlv(["push"]).stdout == "0 files pushed, 0 B, 0 failed (33 already there)\n")
        // The push wrote an index object; status -c says what it took from it.
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 's3' are in sync (33 objects known from its index; --verify asks the remote).\n")
        #expect(try ws.mlv(["status", "-c", "--verify"]).stdout == "Cache and remote 's3' are in sync.\n")
        try RemoteCheck.forgetData(ws)
        let pull = try ws.mlv(["pull"])
        #expect(pull.status == 0 && pull.stdout.hasPrefix("33 files fetched, 23.3 KiB, 0 failed\n"), "\(pull)")
        #expect(try RemoteCheck.trackedTree(ws) == expected)
        #expect(ws.exists("data/zero"))
        #expect(try ws.read("empty.txt") == "")
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aLargeFileGoesInParallelParts(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, prefix) = try workspace(server)
        // 11 MiB + 123 bytes in 5 MiB parts: 5 + 5 + the odd rest.
        var rng = SystemRandomNumberGenerator()
        let big = (0..<(11 << 20) + 123).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try FS.writeFile(ws.path("big.bin"), big)
        #expect(try ws.mlv(["add", "big.bin"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "multipart_threshold", "5MiB"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "multipart_chunk", "5MiB"]).status == 0)
        #expect(try ws.mlv(["push", "big.bin"]).stdout == "1 file pushed, 11.0 MiB, 0 failed\n")
        let hash = SHA256Hasher.hex(big)
        let headers = try server.headers(key: "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))")
        #expect(headers["content-length"] == String(big.count))
        #expect(headers["etag"]?.hasSuffix("-3\"") == true, "not a 3-part upload: \(headers)")
        try FS.removeTree(ws.path(".mlv/cache"))
        try FS.remove(ws.path("big.bin"))
        #expect(try ws.mlv(["pull", "big.bin"]).status == 0)
        #expect(try FS.readFile(ws.path("big.bin")) == big)
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aMissingObjectOnTheRemoteIsReportedNeverCalledPresent(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        let hash = SHA256Hasher.hex(String(repeating: "w", count: 5000))
        #expect(try server.curl("DELETE", key: "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))") == 204)
        // Deleted behind mlv's back: the index still records it, and status -c says it trusts the index.
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 's3' are in sync (33 objects known from its index; --verify asks the remote).\n")
        let s = try ws.mlv(["status", "-c", "--verify", "--check"])
        #expect(s.status == 1 && s.stdout == "model.bin: 1 object not on the remote (push)\n", "\(s)")
        // --verify dropped the index object that named it: plain status -c and push ask the remote now.
        let again = try ws.mlv(["status", "-c", "--check"])
        #expect(again.status == 1 && again.stdout == "model.bin: 1 object not on the remote (push)\n", "\(again)")
        #expect(try ws.mlv(["push"]).stdout == "1 file pushed, 4.9 KiB, 0 failed (32 already there)\n")
        try RemoteCheck.forgetData(ws)
        #expect(try server.curl("DELETE", key: "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))") == 204)
        try RemoteCheck.refused(ws, ["fetch", "model.bin"], message: "1 object is missing on remote 's3': 'model.bin'",
                                hint: "push them from a workspace that has them (`mlv push`)")
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aWrongSecretSaysTheSignatureWasRejected(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, _) = try workspace(server)
        let wrong = "Wr0ngSecretKeyThatMustNeverBePrinted"
        try RemoteCheck.refused(ws, ["push"], env: ["AWS_SECRET_ACCESS_KEY": wrong],
                                message: "remote 's3' rejected the request signature (SignatureDoesNotMatch): the secret access key is wrong",
                                hint: "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the profile, or .mlv/config.local.yaml",
                                secrets: [wrong, server.secretKey])
        try RemoteCheck.refused(ws, ["status", "-c"], env: ["AWS_SECRET_ACCESS_KEY": wrong],
                                message: "remote 's3' rejected the request signature (SignatureDoesNotMatch): the secret access key is wrong",
                                secrets: [wrong, server.secretKey])
    }

    @Test(arguments: S3TestServer.Kind.allCases) func anUnknownAccessKey(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, _) = try workspace(server)
        try RemoteCheck.refused(ws, ["push"], env: ["AWS_ACCESS_KEY_ID": "AKIDNOBODY"],
                                message: "remote 's3' does not know the access key id (InvalidAccessKeyId)", secrets: [server.secretKey])
    }

    @Test func credentialsFromTheLocalConfigAndFromAProfile() throws {
        let server = try S3TestServer.get()
        let (ws, _) = try workspace(server)
        ws.env["AWS_ACCESS_KEY_ID"] = nil
        ws.env["AWS_SECRET_ACCESS_KEY"] = nil
        #expect(try ws.mlv(["remote", "modify", "--local", "s3", "access_key_id", server.accessKey]).status == 0)
        // "--" ends the options: a random secret may start with "-" (as a user's may).
        let modified = try ws.mlv(["remote", "modify", "--local", "--", "s3", "secret_access_key", server.secretKey])
        #expect(modified.status == 0, "\(modified)")
        let pushed = try ws.mlv(["push", "model.bin"])
        #expect(pushed.stdout == "1 file pushed, 4.9 KiB, 0 failed\n", "\(pushed)")
        #expect(try ws.mlv(["remote", "modify", "--local", "--unset", "s3", "secret_access_key"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "--local", "--unset", "s3", "access_key_id"]).status == 0)
        try RemoteCheck.refused(ws, ["push"], env: ["AWS_PROFILE": "ci"],
                                message: "no AWS credentials for remote 's3' (looked in the environment, .mlv/config.local.yaml and profile 'ci')")
        try FS.makeDirectories(ws.home + "/.aws")
        try FS.writeFile(ws.home + "/.aws/credentials", Array("[default]\naws_access_key_id = x\n\n[ci]\naws_access_key_id = \(server.accessKey)\naws_secret_access_key = \(server.secretKey)\n".utf8))
        let r = try ws.mlv(["push"], env: ["AWS_PROFILE": "ci"])
        #expect(r.stdout == "32 files pushed, 18.4 KiB, 0 failed (1 already there)\n", "\(r)")
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aMissingBucket(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, _) = try workspace(server)
        #expect(try ws.mlv(["remote", "modify", "s3", "url", "s3://no-such-bucket-here/x"]).status == 0)
        try RemoteCheck.refused(ws, ["push"], message: "remote 's3': bucket 'no-such-bucket-here' does not exist (NoSuchBucket)",
                                hint: "create the bucket 'no-such-bucket-here' first, or fix the remote's URL")
    }

    @Test func anUnreachableEndpointFailsInBoundedTime() throws {
        let server = try S3TestServer.get()
        let (ws, _) = try workspace(server)
        // A port nobody listens on: bind one, note it, close it.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", "http://127.0.0.1:\(port)"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "retries", "3"]).status == 0)
        let start = Date()
        let r = try ws.mlv(["push"])
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: cannot reach remote 's3' at http://127.0.0.1:\(port) after 4 attempts: "), "\(r)")
        #expect(r.stderr.contains("hint: check the remote's endpoint_url and your network; nothing was lost, run the command again"))
        #expect(seconds < 10, "took \(seconds) s")
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aCorruptedObjectOnTheRemoteIsRefused(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        let hash = SHA256Hasher.hex(String(repeating: "w", count: 5000))
        #expect(try server.curl("PUT", key: "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))", body: Array(String(repeating: "v", count: 5000).utf8)) == 200)
        try RemoteCheck.forgetData(ws)
        try RemoteCheck.refused(ws, ["pull", "model.bin"], message: "an object from remote 's3' did not match its hash and was discarded: 'model.bin'")
        #expect(try ws.cacheObjects().isEmpty)
        #expect(!ws.exists("model.bin"))
        // The other objects are good: a whole pull keeps them, refuses the bad one, checks out nothing.
        let r = try ws.mlv(["pull"])
        #expect(r.status == 2 && r.stderr.hasPrefix("mlv: error: an object from remote 's3' did not match its hash and was discarded: 'model.bin'\n"), "\(r)")
        #expect(try ws.cacheObjects().count == 32 && !ws.exists("model.bin") && !ws.exists("data"))
    }

    @Test func aRemoteManifestLeavingTheWorkspaceIsRefused() throws {
        let server = try S3TestServer.get()
        let ws = try TestWorkspace()
        ws.env.merge(server.credentials) { _, b in b }
        let prefix = server.uniquePrefix("hostile")
        #expect(try ws.mlv(["remote", "add", "-d", "s3", "s3://\(server.bucket)/\(prefix)"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", server.endpoint]).status == 0)
        for path in ["../../etc/passwd", ".git/config", "/etc/passwd"] {
            let (bytes, name) = RemoteCheck.hostileManifest(path: path)
            #expect(try server.curl("PUT", key: "\(prefix)/sha256/\(name.prefix(2))/\(name.dropFirst(2))", body: bytes) == 200)
            try ws.write("data.mlv", RemoteCheck.pointer("data", hash: name, size: 5, files: 1))
            try RemoteCheck.refused(ws, ["pull"],
                                    message: "directory manifest '\(name.prefix(12))….dir' from remote 's3' was refused: line 2: unsafe path '\(path)'")
            #expect(try ws.cacheObjects().isEmpty)
        }
    }

    @Test(arguments: S3TestServer.Kind.allCases) func gcCloudDeletesInBatches(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        try FS.removeTree(ws.path("data"))
        try FS.remove(ws.path("data.mlv"))
        // The directory's 31 objects (30 files and its manifest; the empty file is still needed) are unreferenced now.
        let r = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"])
        #expect(r.stdout == "remote 's3': removed 31 objects (18.4 KiB), kept 2\n", "\(r)")
        let hash = SHA256Hasher.hex(String(repeating: "w", count: 5000))
        #expect(try server.curl("HEAD", key: "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))") == 200)
        #expect(try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0"]).stdout.hasPrefix("remote 's3': would remove 0 objects"))
        #expect(try ws.mlv(["status", "-c", "--verify"]).stdout == "Cache and remote 's3' are in sync.\n")
    }

    /// Uploads a killed push left open hold parts that take space: gc aborts those older than
    /// the grace period (a younger one may belong to a push that is running), and nothing else.
    /// (SeaweedFS only: moto dates every upload 2010-11-10, so all of them look old there.)
    @Test func gcCloudAbortsUnfinishedUploads() throws {
        let server = try S3TestServer.get(.seaweedfs)
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        let object = "\(prefix)/sha256/ab/" + String(repeating: "c", count: 62)
        #expect(try server.startUpload(key: object) == 200)
        #expect(try server.startUpload(key: "\(prefix)-other/sha256/ab/" + String(repeating: "c", count: 62)) == 200)
        #expect(try server.openUploads(prefix: prefix + "/") == [object])
        let young = try ws.mlv(["gc", "--cloud", "--workspace", "-f"])
        #expect(young.stdout == "remote 's3': removed 0 objects (0 B), kept 33\n", "\(young)")
        let dry = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0"])
        #expect(dry.stdout == "remote 's3': would remove 0 objects (0 B), abort 1 unfinished upload older than 0 ms, keep 33; run with -f to remove them\n", "\(dry)")
        #expect(try server.openUploads(prefix: prefix + "/") == [object])
        let r = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"])
        #expect(r.stdout == "remote 's3': removed 0 objects (0 B), aborted 1 unfinished upload older than 0 ms, kept 33\n", "\(r)")
        #expect(try server.openUploads(prefix: prefix + "/").isEmpty)
        // Another prefix's upload is not this remote's business.
        #expect(try server.openUploads(prefix: prefix + "-other/").count == 1)
        #expect(try ws.mlv(["status", "-c", "--verify"]).stdout == "Cache and remote 's3' are in sync.\n")
    }
}

extension S3RemoteTests {
    /// Credentials that may list open uploads but not abort them: gc --cloud -f still removes
    /// the unreferenced objects, tries every stale upload, and then fails naming the refusal
    /// (moto only: its IAM policies deny the one action).
    @Test func gcCloudWhenTheServerRefusesToAbortAnUpload() throws {
        let server = try S3TestServer.get(.moto)
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        let object = "\(prefix)/sha256/ab/" + String(repeating: "c", count: 62)
        #expect(try server.startUpload(key: object) == 200)
        try FS.remove(ws.path("model.bin.mlv"))
        let noAbort = try #require(server.noAbort)
        ws.env["AWS_ACCESS_KEY_ID"] = noAbort.accessKey
        ws.env["AWS_SECRET_ACCESS_KEY"] = noAbort.secretKey
        let r = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.hasPrefix("mlv: error: remote 's3': 1 unfinished upload could not be aborted ('\(object)': remote 's3' denied access"), "\(r)")
        #expect(r.stderr.contains("the 1 unreferenced object was removed\nhint: aborting needs s3:AbortMultipartUpload"), "\(r)")
        #expect(!r.stderr.contains(noAbort.secretKey))
        #expect(try server.openUploads(prefix: prefix + "/") == [object])
        // The object is gone; with the full credentials the upload is aborted too.
        ws.env.merge(server.credentials) { _, b in b }
        let again = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"])
        #expect(again.stdout.hasPrefix("remote 's3': removed 0 objects (0 B), aborted 1 unfinished upload"), "\(again)")
        #expect(try server.openUploads(prefix: prefix + "/").isEmpty)
    }

    /// Uploads are signed over their SHA-256 unless the remote says `unsigned_payload: true`;
    /// then single PUTs and multipart parts go as UNSIGNED-PAYLOAD, and everything still arrives
    /// intact (a pull hash-checks every object).
    @Test func unsignedPayloadOnlyWhenTheUserOptsIn() throws {
        let server = try S3TestServer.get()
        let (ws, _) = try workspace(server)
        var rng = SystemRandomNumberGenerator()
        let big = (0..<(6 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try FS.writeFile(ws.path("big.bin"), big)
        #expect(try ws.mlv(["add", "big.bin"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "multipart_threshold", "5MiB"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "multipart_chunk", "5MiB"]).status == 0)
        let expected = try RemoteCheck.trackedTree(ws)
        func pushThroughProxy(_ args: [String]) throws -> (MLVResult, [String: Int]) {
            let proxy = try FaultProxy(upstream: server.endpoint, rate: 0, seed: 1)
            #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", proxy.endpoint]).status == 0)
            let r = try ws.mlv(["push"] + args)
            return (r, proxy.stop())
        }
        // Default: signed. One PUT for model.bin, one for the index object.
        let (signed, s1) = try pushThroughProxy(["model.bin"])
        #expect(signed.stdout == "1 file pushed, 4.9 KiB, 0 failed\n", "\(signed)")
        #expect(s1["put_signed"] == 2 && s1["put_unsigned"] == nil, "\(s1)")
        try RemoteCheck.refused(ws, ["remote", "modify", "s3", "unsigned_payload", "yes"],
                                message: "invalid value 'yes' for 'remote.<name>.unsigned_payload': expected true or false")
        #expect(try ws.mlv(["remote", "modify", "s3", "unsigned_payload", "true"]).status == 0)
        // Opted in: 32 objects and big.bin's 2 parts unsigned; the index object is still signed.
        let (unsigned, s2) = try pushThroughProxy([])
        #expect(unsigned.stdout == "33 files pushed, 6.0 MiB, 0 failed (1 already there)\n", "\(unsigned)")
        #expect(s2["put_unsigned"] == 34 && s2["put_signed"] == 1, "\(s2)")
        #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", server.endpoint]).status == 0)
        try RemoteCheck.forgetData(ws)
        try FS.remove(ws.path("big.bin"))
        #expect(try ws.mlv(["pull"]).status == 0)
        #expect(try RemoteCheck.trackedTree(ws) == expected)
        #expect(try FS.readFile(ws.path("big.bin")) == big)
    }
}
