import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Large objects on S3: multipart uploads that resume after a failure sending only the missing
/// parts, and ranged parallel downloads through faults.
@Suite struct S3LargeObjectTests {
    /// A workspace with one random `size`-byte file added, and two remotes on the same prefix:
    /// `flaky` (pointed at a proxy later) and `direct`, both with 5 MiB parts.
    func workspace(_ server: S3TestServer, size: Int) throws -> (TestWorkspace, [UInt8], String) {
        let ws = try TestWorkspace()
        let big = [UInt8](FileHandle(forReadingAtPath: "/dev/urandom")!.readData(ofLength: size))
        try FS.writeFile(ws.path("big.bin"), big)
        #expect(try ws.mlv(["add", "big.bin"]).status == 0)
        ws.env.merge(server.credentials) { _, b in b }
        let prefix = server.uniquePrefix("large")
        for name in ["flaky", "direct"] {
            #expect(try ws.mlv(["remote", "add", "\(name)", "s3://\(server.bucket)/\(prefix)"]).status == 0)
            #expect(try ws.mlv(["remote", "modify", name, "endpoint_url", server.endpoint]).status == 0)
            #expect(try ws.mlv(["remote", "modify", name, "multipart_threshold", "5MiB"]).status == 0)
            #expect(try ws.mlv(["remote", "modify", name, "multipart_chunk", "5MiB"]).status == 0)
        }
        let hash = SHA256Hasher.hex(big)
        return (ws, big, "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))")
    }

    func through(_ ws: TestWorkspace, _ proxy: FaultProxy, retries: Int) throws {
        #expect(try ws.mlv(["remote", "modify", "flaky", "endpoint_url", proxy.endpoint]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "flaky", "retries", String(retries)]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "flaky", "read_timeout", "2"]).status == 0)
    }

    /// A push through a proxy that injects nothing and counts the requests (by kind and part).
    func pushCounting(_ ws: TestWorkspace, _ server: S3TestServer, jobs: Int) throws -> (MLVResult, [String: Int]) {
        let counting = try FaultProxy(upstream: server.endpoint, rate: 0, seed: 1)
        try through(ws, counting, retries: 1)
        let result = try ws.mlv(["push", "-r", "flaky", "-j", String(jobs)])
        return (result, counting.stop())
    }

    /// Pulls big.bin into a fresh cache from `remote` and checks its bytes.
    func pullFresh(_ ws: TestWorkspace, _ big: [UInt8], remote: String = "direct") throws {
        try FS.removeTree(ws.path(".mlv/cache"))
        try FS.remove(ws.path("big.bin"))
        let pull = try ws.mlv(["pull", "-r", remote, "-j", "4"], env: ["MLV_TRACE_HASHING": "1"])
        #expect(pull.status == 0 && pull.stdout.hasPrefix("1 file fetched,"), "\(pull)")
        #expect(try FS.readFile(ws.path("big.bin")) == big)
        // The workspace file was written by the download as it was verified, and never read again.
        #expect(!pull.stderr.contains("trace: hashing"), "\(pull)")
        #expect(try ws.mlv(["status", "--check"]).status == 0)
    }

    @Test(arguments: S3TestServer.Kind.allCases) func aFailedMultipartPushResumesSendingOnlyTheMissingParts(_ kind: S3TestServer.Kind) throws {
        let server = try S3TestServer.get(kind)
        // 21 MiB + 77 bytes in 5 MiB parts: 5 parts, the last one 1 MiB + 77.
        let (ws, big, key) = try workspace(server, size: (21 << 20) + 77)
        // Parts 2 and 4 always fail (500): the push fails after its retries, the upload stays open.
        let failing = try FaultProxy(upstream: server.endpoint, rate: 0, seed: 1, failParts: [2, 4])
        try through(ws, failing, retries: 1)
        let first = try ws.mlv(["push", "-r", "flaky", "-j", "4"])
        let failed = failing.stop()
        #expect(first.status == 2 && first.stderr.contains("InternalError (HTTP 500)"), "\(first)")
        // Parts 2 and 4 were tried twice; the first failure stops new parts from starting, so
        // part 5 may not have been sent.
        #expect(failed["part.2"] == 2 && failed["part.4"] == 2 && failed["part.1"] == 1 && failed["part.3"] == 1, "\(failed)")
        let arrived = [1, 3, 5].filter { failed["part.\($0)"] == 1 }
        #expect(try server.curl("HEAD", key: key) == 404)

        // The next push finds the open upload and sends only the parts that did not arrive.
        let (second, resumed) = try pushCounting(ws, server, jobs: 4)
        #expect(second.status == 0 && second.stdout == "1 file pushed, 21.0 MiB, 0 failed\n", "\(second)\n\(second.stderr)")
        #expect(resumed["partput"] == 5 - arrived.count && resumed["part.2"] == 1 && resumed["part.4"] == 1, "\(resumed)")
        #expect(arrived.allSatisfy { resumed["part.\($0)"] == nil }, "\(resumed)")
        #expect(try server.headers(key: key)["etag"]?.hasSuffix("-5\"") == true)
        let synced = try ws.mlv(["status", "-c", "--verify", "-r", "direct"])
        #expect(synced.stdout == "Cache and remote 'direct' are in sync.\n", "\(synced)")
        try pullFresh(ws, big)
    }

    @Test func aPushKilledMidUploadResumesWithoutSendingLandedPartsAgain() throws {
        let server = try S3TestServer.get()
        let (ws, big, key) = try workspace(server, size: (25 << 20) + 9)  // 6 parts
        // Every answer waits 1 s (after the server has it): two parts at a time, slowly.
        let slow = try FaultProxy(upstream: server.endpoint, rate: 1, seed: 1, stall: 1, kinds: ["stall"])
        try through(ws, slow, retries: 1)
        #expect(try ws.mlv(["remote", "modify", "flaky", "read_timeout", "10"]).status == 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = ["push", "-r", "flaky", "-j", "2"]
        p.currentDirectoryURL = URL(fileURLWithPath: ws.root)
        p.environment = ProcessInfo.processInfo.environment.merging(ws.env) { _, b in b }
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        // Once two parts have reached the proxy, give the server a moment to store them, then kill -9.
        let deadline = Date().addingTimeInterval(60)
        while (slow.snapshot()["partput"] ?? 0) < 2 && Date() < deadline { usleep(50_000) }
        usleep(600_000)
        let sentBeforeKill = slow.snapshot()["partput"] ?? 0
        #expect(kill(p.processIdentifier, SIGKILL) == 0, "push finished before it could be killed")
        p.waitUntilExit()
        // A part the proxy took in is still forwarded to the server after the kill: let it land.
        usleep(1_500_000)
        slow.stop()
        #expect((2...5).contains(sentBeforeKill))
        #expect(try server.curl("HEAD", key: key) == 404)

        let (again, resumed) = try pushCounting(ws, server, jobs: 2)
        #expect(again.status == 0 && again.stdout == "1 file pushed, 25.0 MiB, 0 failed\n", "\(again)")
        print("push killed after \(sentBeforeKill) of 6 parts; the next push sent \(resumed["partput"] ?? 0)")
        // The parts that reached the server before the kill are not sent again.
        #expect((resumed["partput"] ?? 0) <= 6 - sentBeforeKill, "\(resumed), \(sentBeforeKill) sent before the kill")
        try pullFresh(ws, big)
    }

    /// Credentials that may not list open uploads: a large push still works, without resume.
    @Test func aLargePushWithoutTheRightToListUploads() throws {
        let server = try S3TestServer.get(.moto)
        let (ws, big, _) = try workspace(server, size: (11 << 20) + 1)
        let limited = try #require(server.limited)
        ws.env["AWS_ACCESS_KEY_ID"] = limited.accessKey
        ws.env["AWS_SECRET_ACCESS_KEY"] = limited.secretKey
        let push = try ws.mlv(["push", "-r", "direct"])
        #expect(push.status == 0 && push.stdout == "1 file pushed, 11.0 MiB, 0 failed\n", "\(push)")
        try pullFresh(ws, big)
    }

    @Test func aRangedPullFinishesThroughFaults() throws {
        let server = try S3TestServer.get()
        // 6 ranges of 5 MiB (the last 3 MiB + 5).
        let (ws, big, _) = try workspace(server, size: (28 << 20) + 5)
        #expect(try ws.mlv(["push", "-r", "direct"]).status == 0)
        let proxy = try FaultProxy(upstream: server.endpoint, rate: 0.35, seed: 7, stall: 3)
        try through(ws, proxy, retries: 12)
        try pullFresh(ws, big, remote: "flaky")
        let stats = proxy.stop()
        print("fault proxy, ranged pull of one 28 MiB object: \(stats.sorted { $0.key < $1.key })")
        // Every range was asked for at least once, and faults forced some again.
        #expect((stats["rangeget"] ?? 0) > 6, "\(stats)")
        #expect(["slowdown", "reset", "truncate", "stall", "status500"].map { stats[$0] ?? 0 }.reduce(0, +) > 0, "\(stats)")
    }
}
