import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// A server that lies cannot hold a command or make it die from a signal: listings that never
/// end, answers that are not S3's, objects larger than the pointer records, a range total of
/// Int64.max. Each is an `mlv: error:` naming the remote, exit 2, in bounded time, with nothing
/// written into the workspace or the cache.
@Suite struct HostileServerTests {
    /// A workspace with `file` (100 bytes) and `big` (`bigSize` bytes, 0: none) added and
    /// pushed nowhere, its cache emptied, and the remote `h` pointing at `server`.
    func workspace(_ server: HostileS3Server, bigSize: Int = 0, fileSize: Int = 100) throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.write("file", String(repeating: "f", count: fileSize))
        #expect(try ws.mlv(["add", "file"]).status == 0)
        if bigSize > 0 {
            try FS.writeFile(ws.path("big"), [UInt8](repeating: 7, count: bigSize))
            #expect(try ws.mlv(["add", "big"]).status == 0)
        }
        ws.env.merge(["AWS_ACCESS_KEY_ID": "AKIDHOSTILE", "AWS_SECRET_ACCESS_KEY": "hostile-secret"]) { _, b in b }
        #expect(try ws.mlv(["remote", "add", "-d", "h", "s3://bucket/prefix"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "h", "endpoint_url", server.endpoint]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "h", "retries", "0"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "h", "multipart_threshold", "5MiB"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "data"]).status == 0)
        try FS.removeTree(ws.path(".mlv/cache"))
        for p in ["file", "big"] where ws.exists(p) { try FS.remove(ws.path(p)) }
        return ws
    }

    /// Runs mlv under a 60-second bound; the result, and the seconds it took.
    func bounded(_ ws: TestWorkspace, _ args: [String]) throws -> (MLVResult, Double) {
        let start = MonotonicClock.monotonicSeconds()
        let r = try runProcess("/usr/bin/timeout", ["-s", "KILL", "60", mlvBinary] + args, cwd: ws.root, env: ws.env)
        return (r, MonotonicClock.monotonicSeconds() - start)
    }

    func expectRefused(_ ws: TestWorkspace, _ args: [String], message: String, hint: String? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try ws.snapshot()
        let (r, seconds) = try bounded(ws, args)
        #expect(r.status == 2, "\(args): \(r)", sourceLocation: sourceLocation)
        #expect(seconds < 30, "\(args) took \(seconds) s", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let errorLine = lines.first { $0.hasPrefix("mlv: error: ") } ?? ""
        #expect(errorLine.contains(message), "\(args): \(r)", sourceLocation: sourceLocation)
        if let hint { #expect(lines.contains("hint: \(hint)"), "\(args): \(r)", sourceLocation: sourceLocation) }
        #expect(!r.stderr.contains("hostile-secret"), sourceLocation: sourceLocation)
        let after = try ws.snapshot()
        #expect(after == before, "changed: \(before.difference(after))", sourceLocation: sourceLocation)
    }

    static let protocolHint = "check that the remote's URL and endpoint name an S3 server (`mlv remote list`); running it again will not help"

    @Test(arguments: ["same-token", "repeat-keys", "empty-pages"])
    func listingsThatNeverEndAreAnError(_ mode: String) throws {
        let server = try HostileS3Server(mode: mode)
        let ws = try workspace(server)
        let message = "remote 'h' answered badly for 'bucket' (EndlessListing): the server does not follow the S3 protocol"
        try expectRefused(ws, ["status", "-c"], message: message, hint: Self.protocolHint)
        try expectRefused(ws, ["pull", "--run-cache"], message: message, hint: Self.protocolHint)
        try expectRefused(ws, ["gc", "--workspace", "--cloud", "-f", "--grace", "0"], message: message, hint: Self.protocolHint)
    }

    /// Not XML at all, or XML whose element names are not UTF-8 (Foundation's parser trapped on
    /// those: SIGILL).
    @Test(arguments: ["not-xml", "not-utf8"])
    func aListingThatIsNotXMLSaysTheServerAnsweredBadly(_ mode: String) throws {
        let server = try HostileS3Server(mode: mode)
        let ws = try workspace(server)
        try expectRefused(ws, ["status", "-c"], message: "remote 'h' answered badly for 'bucket' (MalformedListing): the server does not follow the S3 protocol",
                          hint: Self.protocolHint)
    }

    @Test func anObjectLargerThanRecordedIsRefusedAtTheRecordedSize() throws {
        let server = try HostileS3Server(mode: "oversize")
        let ws = try workspace(server, bigSize: 6 << 20)
        try expectRefused(ws, ["pull", "file"], message: "holds more than the 100 bytes recorded for it")
        try expectRefused(ws, ["pull", "big"], message: "remote 'h': object 'prefix/sha256/")
        try expectRefused(ws, ["pull", "big"], message: "is 1073741824 bytes there, but 6291456 were recorded for it; nothing past that was written")
    }

    /// 2 bytes a second used to pass the read timeout forever; now a request must average 512
    /// bytes a second over `read_timeout` seconds.
    @Test func aTricklingServerCannotHoldAPull() throws {
        let server = try HostileS3Server(mode: "trickle")
        let ws = try workspace(server, fileSize: 1000)
        #expect(try ws.mlv(["remote", "modify", "h", "read_timeout", "2"]).status == 0)
        try expectRefused(ws, ["pull"], message: "remote 'h'")
    }

    @Test func aRangeTotalOfInt64MaxIsAnErrorNotACrash() throws {
        let server = try HostileS3Server(mode: "huge-total")
        let ws = try workspace(server, bigSize: 6 << 20)
        try expectRefused(ws, ["pull", "big"], message: "is 9223372036854775807 bytes there, but 6291456 were recorded for it")
    }
}
