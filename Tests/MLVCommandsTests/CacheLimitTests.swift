import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// The bounded cache: `mlv gc --keep-size` and `cache.max_size`, against a local-folder remote.
@Suite struct CacheLimitTests {
    /// 10 files of 1 KiB, added and pushed (v1); then 7 of them changed, committed and pushed
    /// (v2): the 3 unchanged ones are reused, the 7 old ones only the remote needs.
    func history() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        var rng = SplitMix(state: 7)
        func kib() -> String { String((0..<1024).map { _ in Character(UnicodeScalar(UInt8(97 + rng.below(26)))) }) }
        var files: [String: String] = [:]
        for i in 0..<10 { files["data/f\(i)"] = kib() }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "r", "../remote"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        var changed: [String: String] = [:]
        for i in 0..<7 { changed["data/f\(i)"] = kib() }
        try ws.gen(changed)
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        return ws
    }

    func cacheFiles(_ ws: TestWorkspace) throws -> Set<String> { Set(try ws.cacheObjects()) }

    @Test func theOldestObjectsTheRemoteHoldsGoAndWhatTheWorkspaceReusesStays() throws {
        let ws = try history()
        let before = try cacheFiles(ws)
        #expect(before.count == 19)   // 17 files and 2 manifests
        let dry = try ws.mlv(["gc", "--keep-size", "11KiB"])
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.hasPrefix("the cache holds 18.5 KiB, over 11.0 KiB: "), "\(dry.stdout)")
        // The 7 old files and the old manifest; the 10 current files and their manifest stay.
        #expect(dry.stdout.contains("would evict 8 objects (7.7 KiB) that remote 'r' holds; run with -f to evict them\nkept 11 objects"), "\(dry.stdout)")
        #expect(try cacheFiles(ws) == before)
        let r = try ws.mlv(["gc", "--keep-size", "11KiB", "-f"])
        #expect(r.status == 0 && r.stdout.contains("evicted 8 objects (7.7 KiB)"), "\(r)")
        let after = try cacheFiles(ws)
        #expect(after.count == 11 && after.isSubset(of: before))
        // Every object the workspace needs is here; everything gone is on the remote.
        #expect(try ws.mlv(["status", "--check"]).status == 0)
        for gone in before.subtracting(after) { #expect(FS.exists(ws.dir.path + "/remote/sha256/" + gone), "\(gone)") }
        // Within the limit: nothing more to do.
        let again = try ws.mlv(["gc", "--keep-size", "11KiB", "-f"]).stdout
        #expect(again.hasPrefix("the cache holds 10.") && again.hasSuffix(", within 11.0 KiB: nothing to evict\n"), "\(again)")
        // What was evicted comes back with fetch when it is needed again.
        let pointer = try ws.read("data.mlv")
        try FS.removeTree(ws.path(".mlv/cache/sha256"))
        try FS.makeDirectories(ws.path(".mlv/cache/sha256"))
        #expect(try ws.mlv(["fetch"]).status == 0)
        #expect(try cacheFiles(ws) == after && ws.read("data.mlv") == pointer)
    }

    @Test func objectsOnlyHereAreNeverEvicted() throws {
        let ws = try history()
        // A third version, never pushed, then left behind by a fourth.
        try ws.gen(["data/f0": String(repeating: "x", count: 4096)])
        #expect(try ws.mlv(["commit"]).status == 0)
        try ws.gen(["data/f0": String(repeating: "y", count: 4096)])
        #expect(try ws.mlv(["commit"]).status == 0)
        let r = try ws.mlv(["gc", "--keep-size", "1KiB", "-f"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("kept 2 objects (4.7 KiB) the remote does not hold (run `mlv push` first)\n")
                && r.stdout.contains("over the limit by what cannot go"), "\(r.stdout)")
        #expect(try ws.mlv(["status", "--check"]).status == 0)
    }

    @Test func cacheMaxSizeEvictsAfterACommandThatFillsTheCache() throws {
        let ws = try history()
        #expect(try ws.mlv(["config", "cache.max_size", "11KiB"]).status == 0)
        try ws.gen(["extra.bin": "e"])
        let add = try ws.mlv(["add", "extra.bin"])
        #expect(add.status == 0, "\(add)")
        #expect(add.stderr.hasPrefix("mlv: warning: the cache was 18.5 KiB, "), "\(add)")
        #expect(add.stderr.contains("over cache.max_size 11.0 KiB: evicted 8 objects (7.7 KiB) that remote 'r' holds"), "\(add)")
        #expect(try cacheFiles(ws).count == 12)
        let bad = try ws.mlv(["config", "cache.max_size", "lots"])
        #expect(bad.status == 2 && bad.stderr.contains("a size such as 50GiB"), "\(bad)")
        let both = try ws.mlv(["gc", "--keep-size", "1GiB", "--cloud"])
        #expect(both.status != 0 && both.stderr.contains("--keep-size is about the local cache"), "\(both)")
    }

    /// Killed mid-eviction, the cache has lost nothing the remote lacks.
    @Test func aKillDuringEvictionLosesNothingTheRemoteLacks() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<3_000 { files["data/f\(i)"] = "v1 \(i)" }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "r", "../remote"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        try FS.removeTree(ws.path("data"))
        try FS.remove(ws.path("data.mlv"))
        let before = try cacheFiles(ws)
        for delay: UInt32 in [20_000, 60_000, 120_000] {
            try ws.killNine(["gc", "--keep-size", "0B", "-f"], afterMicroseconds: delay)
            for gone in before.subtracting(try cacheFiles(ws)) { #expect(FS.exists(ws.dir.path + "/remote/sha256/" + gone)) }
        }
        #expect(try ws.mlv(["gc", "--keep-size", "0B", "-f"]).status == 0)
        #expect(try cacheFiles(ws).isEmpty)
    }
}
