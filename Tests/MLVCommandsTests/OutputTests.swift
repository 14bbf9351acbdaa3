import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Pointer data and pipeline outs are two records of one thing (an output): checkout, status
/// and gc treat them alike.
@Suite struct OutputTests {
    func mixedWorkspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen([
            "work/data/a.txt": "tracked a\n",
            "work/data/b.txt": "tracked b\n",
            "pipeline.yaml": "stages:\n  make:\n    cmd: mkdir -p work/out && cp work/data/a.txt work/out/copy.txt && echo done > work/flag\n    deps: [work/data]\n    outs: [work/out, work/flag]\n",
        ])
        #expect(try ws.mlv(["add", "work/data"]).status == 0)
        #expect(try ws.mlv(["repro"]).status == 0)
        return ws
    }

    /// One path that holds both kinds: both are restored, by one checkout.
    @Test func checkoutOfAFolderRestoresPointerDataAndPipelineOutsTogether() throws {
        let ws = try mixedWorkspace()
        for p in ["work/data", "work/out", "work/flag"] { try FS.removeTree(ws.path(p)) }
        let r = try ws.mlv(["checkout", "work"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("4 files restored"), "\(r)")
        #expect(r.stdout.hasSuffix("restored pipeline output work/flag\nrestored pipeline output work/out\n"), "\(r)")
        #expect(try ws.read("work/data/b.txt") == "tracked b\n")
        #expect(try ws.read("work/out/copy.txt") == "tracked a\n")
        #expect(try ws.read("work/flag") == "done\n")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
        // Nothing to do the second time, for either kind.
        let again = try ws.mlv(["checkout", "work"])
        #expect(again.status == 0 && again.stdout.hasPrefix("0 files restored") && !again.stdout.contains("pipeline output"), "\(again)")
    }

    /// A changed file inside a pipeline out is named like one inside pointer data, and nothing
    /// of either kind is written.
    @Test func checkoutRefusesUncachedChangesInBothKindsAtOnce() throws {
        let ws = try mixedWorkspace()
        try ws.write("work/data/a.txt", "edited a\n")
        try ws.write("work/out/copy.txt", "edited copy\n")
        try FS.remove(ws.path("work/flag"))
        let before = try ws.snapshot()
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: checkout would overwrite changes that are not in the cache: 'work/data/a.txt', 'work/out/copy.txt'\n"), "\(r)")
        #expect(try ws.snapshot() == before)
        #expect(try ws.mlv(["checkout", "--force"]).status == 0)
        #expect(try ws.read("work/out/copy.txt") == "tracked a\n" && ws.read("work/data/a.txt") == "tracked a\n" && ws.read("work/flag") == "done\n")
    }

    /// gc's keep-set comes from pointers and the lock alike: a locked folder whose manifest is
    /// gone makes gc refuse, deleting nothing.
    @Test func gcRefusesWhenALockedFolderManifestIsMissing() throws {
        let ws = try mixedWorkspace()
        let lock = try ws.read("pipeline.lock")
        let outHash = lock.components(separatedBy: "- path: work/out\n").last!.split(separator: "\n")[1]
            .replacingOccurrences(of: "sha256: ", with: "").trimmingCharacters(in: .whitespaces)
        let object = ws.path(".mlv/cache/sha256/" + outHash.prefix(2) + "/" + outHash.dropFirst(2))
        #expect(FS.exists(object))
        try FS.remove(object)
        try FS.writeFile(ws.path("stray.txt"), Array("stray\n".utf8))
        #expect(try ws.mlv(["add", "stray.txt"]).status == 0)
        try FS.remove(ws.path("stray.txt.mlv"))
        let before = try ws.snapshot()
        let r = try ws.mlv(["gc", "--workspace", "-f"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: gc deleted nothing: the manifest of 'work/out' cannot be read ('work/out': manifest \(outHash.prefix(12))… is not in the cache)\n"), "\(r)")
        #expect(try ws.snapshot() == before)
    }

    /// Caching an out costs what `mlv add` of it costs: a stage the lock does not know yet is
    /// stale whatever its outs hold, so a folder a `persist` stage finds in place is read once
    /// (while it goes into the cache), not first hashed to compare with nothing.
    @Test func outsOfANewStageAreReadOnceWhenCached() throws {
        let ws = try TestWorkspace()
        try ws.gen([
            "keep/a": "a", "keep/b": "b", "keep/sub/c": "c",
            "pipeline.yaml": "stages:\n  grow:\n    cmd: 'true'\n    outs:\n    - keep:\n        persist: true\n",
        ])
        let r = try ws.mlv(["repro"], env: ["MLV_TRACE_HASHING": "1"])
        #expect(r.status == 0, "\(r)")
        let reads = r.stderr.split(separator: "\n").filter { $0.hasPrefix("mlv: trace: hashing ") }.map { String($0.split(separator: "/").last!) }
        #expect(reads.sorted() == ["a", "b", "c"], "\(r)")
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
    }
}
