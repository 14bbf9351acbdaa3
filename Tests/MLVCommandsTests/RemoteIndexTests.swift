import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// The remote index (index objects at PREFIX/index/<sha256>) against the real S3 server: what a
/// no-op push and status -c cost, what happens when an object vanishes behind mlv's back, that
/// gc --cloud keeps the index honest, and that hostile index objects are ignored.
@Suite struct RemoteIndexTests {
    func workspace(_ server: S3TestServer) throws -> (TestWorkspace, String) {
        let ws = try RemoteCheck.workspaceWithData()
        let prefix = server.uniquePrefix("index")
        ws.env.merge(server.credentials) { _, b in b }
        #expect(try ws.mlv(["remote", "add", "-d", "s3", "s3://\(server.bucket)/\(prefix)"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", server.endpoint]).status == 0)
        return (ws, prefix)
    }

    static let modelHash = SHA256Hasher.hex(String(repeating: "w", count: 5000))

    static func key(_ prefix: String, _ hash: String) -> String { "\(prefix)/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))" }

    /// An index body (see RemoteIndex): the header, then each hash's 32 bytes and its kind byte, in the given order.
    static func indexBody(_ records: [(hex: String, kind: UInt8)]) -> [UInt8] {
        var out = Array("mlv-index 1\n".utf8)
        for r in records {
            let h = Array(r.hex.utf8)
            for i in stride(from: 0, to: 64, by: 2) { out.append(UInt8(String(decoding: h[i..<i + 2], as: UTF8.self), radix: 16)!) }
            out.append(r.kind)
        }
        return out
    }

    @Test func aNoOpPushAndStatusCostOneRequestEach() throws {
        let server = try S3TestServer.get()
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).stdout == "33 files pushed, 23.3 KiB, 0 failed\n")
        let index = try server.keys(prefix: prefix + "/index/")
        #expect(index.count == 1, "\(index)")
        // Counted through a proxy that injects nothing.
        func counted(_ args: [String]) throws -> (MLVResult, Int) {
            let proxy = try FaultProxy(upstream: server.endpoint, rate: 0, seed: 1)
            #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", proxy.endpoint]).status == 0)
            let r = try ws.mlv(args)
            return (r, proxy.stop()["requests"] ?? -1)
        }
        let (push, pushRequests) = try counted(["push"])
        #expect(push.stdout == "0 files pushed, 0 B, 0 failed (33 already there)\n")
        #expect(pushRequests == 1, "a no-op push made \(pushRequests) requests")
        let (status, statusRequests) = try counted(["status", "-c"])
        #expect(status.stdout == "Cache and remote 's3' are in sync (33 objects known from its index; --verify asks the remote).\n")
        #expect(statusRequests == 1, "status -c made \(statusRequests) requests")
        // A machine without the local copy downloads the index object once.
        try FS.removeTree(ws.path(".mlv/cache/remote-index"))
        let (again, againRequests) = try counted(["push"])
        #expect(again.stdout == "0 files pushed, 0 B, 0 failed (33 already there)\n")
        #expect(againRequests == 2, "a no-op push without the local copy made \(againRequests) requests")
        #expect(try server.keys(prefix: prefix + "/index/") == index)
        let alone = try ws.mlv(["status", "--verify"])
        #expect(alone.status == 64 && alone.stderr.contains("--verify goes with -c"), "\(alone)")
    }

    @Test func anObjectDeletedBehindMlvsBackIsResentOnceFetchFindsItMissing() throws {
        let server = try S3TestServer.get()
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        #expect(try server.curl("DELETE", key: Self.key(prefix, Self.modelHash)) == 204)
        // The index still records it: a plain push trusts that (and says nothing moved)…
        #expect(try ws.mlv(["push"]).stdout == "0 files pushed, 0 B, 0 failed (33 already there)\n")
        // …but a fetch elsewhere that finds it missing reports it, and drops the index object.
        let other = try TestWorkspace()
        other.env = ws.env
        for f in ["model.bin.mlv", ".mlv/config.yaml"] {
            try FS.makeDirectories(Path.parent(other.path(f)))
            try FS.writeFile(other.path(f), try FS.readFile(ws.path(f)))
        }
        let fetch = try other.mlv(["fetch"])
        #expect(fetch.status == 2 && fetch.stderr.hasPrefix("mlv: error: 1 object is missing on remote 's3': 'model.bin'\n"), "\(fetch)")
        #expect(!other.exists("model.bin"))
        #expect(try server.keys(prefix: prefix + "/index/").isEmpty)
        // Now the first workspace's push asks the remote, re-sends it, and writes a new index.
        #expect(try ws.mlv(["push"]).stdout == "1 file pushed, 4.9 KiB, 0 failed (32 already there)\n")
        #expect(try server.keys(prefix: prefix + "/index/").count == 1)
        #expect(try other.mlv(["pull"]).status == 0)
        #expect(try other.read("model.bin") == String(repeating: "w", count: 5000))
    }

    @Test func pushVerifyResendsWhatTheIndexWronglyRecords() throws {
        let server = try S3TestServer.get()
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        #expect(try server.curl("DELETE", key: Self.key(prefix, Self.modelHash)) == 204)
        #expect(try ws.mlv(["push", "--verify"]).stdout == "1 file pushed, 4.9 KiB, 0 failed (32 already there)\n")
        #expect(try server.curl("HEAD", key: Self.key(prefix, Self.modelHash)) == 200)
        #expect(try ws.mlv(["status", "-c", "--verify"]).stdout == "Cache and remote 's3' are in sync.\n")
        // The stale index object went; the new one records all 33.
        #expect(try server.keys(prefix: prefix + "/index/").count == 1)
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 's3' are in sync (33 objects known from its index; --verify asks the remote).\n")
    }

    @Test func gcCloudRewritesTheIndexObjectsThatNameWhatItRemoved() throws {
        let server = try S3TestServer.get()
        let (ws, prefix) = try workspace(server)
        #expect(try ws.mlv(["push"]).status == 0)
        let pointer = try FS.readFile(ws.path("data.mlv"))
        try FS.remove(ws.path("data.mlv"))
        // A stray key below index/ that is no index object goes too.
        #expect(try server.curl("PUT", key: "\(prefix)/index/\(String(repeating: "0", count: 64))", body: Array("junk".utf8)) == 200)
        #expect(try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"]).stdout == "remote 's3': removed 31 objects (18.4 KiB), kept 2\n")
        let index = try server.keys(prefix: prefix + "/index/")
        #expect(index.count == 1 && !index[0].hasSuffix(String(repeating: "0", count: 64)), "\(index)")
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 's3' are in sync (2 objects known from its index; --verify asks the remote).\n")
        // The data comes back (its objects are still in the cache): the index must not call them present.
        try FS.writeFile(ws.path("data.mlv"), pointer)
        let s = try ws.mlv(["status", "-c", "--check"])
        #expect(s.status == 1 && s.stdout == "data: 31 objects not on the remote (push)\n", "\(s)")
        #expect(try ws.mlv(["push"]).stdout == "31 files pushed, 18.4 KiB, 0 failed (2 already there)\n")
        #expect(try ws.mlv(["status", "-c", "--verify"]).stdout == "Cache and remote 's3' are in sync.\n")
    }

    @Test func hostileIndexObjectsAreIgnored() throws {
        let server = try S3TestServer.get()
        let (ws, prefix) = try workspace(server)
        // Each claims that model.bin is on the remote, which holds nothing.
        let claim = Self.indexBody([(Self.modelHash, 0)])
        let other = String(repeating: "0", count: 64)
        let planted: [(name: String, body: [UInt8])] = [
            (other, claim),                                                                  // not its hash
            (SHA256Hasher.hex(claim + [0]), claim + [0]),                                    // a torn record
            ("not-an-index", claim),                                                         // not a name
            (SHA256Hasher.hex(Self.indexBody([(Self.modelHash, 7)])), Self.indexBody([(Self.modelHash, 7)])),    // unknown kind
            (SHA256Hasher.hex(Self.indexBody([(Self.modelHash, 0), (Self.modelHash, 0)])),
             Self.indexBody([(Self.modelHash, 0), (Self.modelHash, 0)])),                    // not strictly sorted
            (SHA256Hasher.hex(Array("mlv-index 2\n".utf8)), Array("mlv-index 2\n".utf8)),   // unknown version
        ]
        for p in planted { #expect(try server.curl("PUT", key: "\(prefix)/index/\(p.name)", body: p.body) == 200) }
        let s = try ws.mlv(["status", "-c", "--check", "model.bin"])
        #expect(s.status == 1 && s.stdout == "model.bin: 1 object not on the remote (push)\n", "\(s)")
        #expect(try ws.mlv(["push"]).stdout == "33 files pushed, 23.3 KiB, 0 failed\n")
        #expect(try server.curl("HEAD", key: Self.key(prefix, Self.modelHash)) == 200)
        // Nothing hostile was kept as a local copy.
        let copies = try FS.list(ws.path(".mlv/cache/remote-index")).flatMap { try FS.list(ws.path(".mlv/cache/remote-index/" + $0.name)) }
        #expect(copies.count == 1 && !planted.contains { $0.name == copies[0].name }, "\(copies)")
    }

    @Test func manyPushesKeepFewIndexObjects() throws {
        let server = try S3TestServer.get()
        let (ws, prefix) = try workspace(server)
        for i in 0..<12 {
            try ws.write("more\(i).txt", "more \(i)\n")
            #expect(try ws.mlv(["add", "more\(i).txt"]).status == 0)
            #expect(try ws.mlv(["push"]).status == 0)
            #expect(try server.keys(prefix: prefix + "/index/").count <= 8)
        }
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 's3' are in sync (45 objects known from its index; --verify asks the remote).\n")
        try FS.removeTree(ws.path(".mlv/cache/remote-index"))
        #expect(try ws.mlv(["push"]).stdout == "0 files pushed, 0 B, 0 failed (45 already there)\n")
    }
}
