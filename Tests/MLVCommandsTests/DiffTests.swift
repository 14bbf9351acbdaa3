import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv diff`: the real binary on real git histories, compared file by file inside folders.
@Suite struct DiffTests {
    /// A committed workspace with a folder of `n` files and a model.
    func committed(files n: Int = 3) throws -> TestWorkspace {
        let ws = try TestWorkspace()
        var files = ["model.bin": "m1"]
        for i in 0..<n { files["data/f\(i)"] = "file \(i)" }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data", "model.bin"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "v1"]).status == 0)
        return ws
    }

    @Test func theWorkspaceAgainstHeadFileByFile() throws {
        let ws = try committed()
        try ws.gen(["data/f0": "changed", "data/new": "new", "model.bin": "m2"])
        try FS.rename(ws.path("data/f1"), ws.path("data/g1"))
        try FS.remove(ws.path("data/f2"))
        let r = try ws.mlv(["diff"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout == """
            Added:
                data/new

            Deleted:
                data/f2

            Renamed:
                data/f1 -> data/g1

            Modified:
                data/
                data/f0
                model.bin

            files summary: 1 added, 1 deleted, 1 renamed, 2 modified

            """, "\(r.stdout)")
        // Nothing was written: the pointers still record the commit.
        #expect(try ws.git(["status", "--porcelain"]).stdout == "")
        // Only some paths.
        #expect(try ws.mlv(["diff", "--targets", "model.bin"]).stdout == "Modified:\n    model.bin\n\nfiles summary: 1 modified\n")
        #expect(try ws.mlv(["diff", "--targets", "data/f0"]).stdout == "Modified:\n    data/f0\n\nfiles summary: 1 modified\n")
    }

    @Test func twoCommitsAsJSONAndMarkdown() throws {
        let ws = try committed()
        try ws.gen(["data/f0": "changed"])
        try FS.remove(ws.path("model.bin"))
        try FS.remove(ws.path("model.bin.mlv"))
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "v2"]).status == 0)
        // The workspace matches HEAD: nothing to say.
        let clean = try ws.mlv(["diff"])
        #expect(clean.status == 0 && clean.stdout == "", "\(clean)")
        #expect(try ws.mlv(["diff", "--json"]).stdout == "{\n\n}\n")

        let j = try ws.mlv(["diff", "HEAD~1", "HEAD", "--json", "--show-hash"])
        #expect(j.status == 0, "\(j)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        let modified = try #require(obj["modified"] as? [[String: Any]])
        #expect(modified.map { $0["path"] as? String } == ["data/", "data/f0"])
        let deleted = try #require(obj["deleted"] as? [[String: Any]])
        #expect(deleted.map { $0["path"] as? String } == ["model.bin"])
        #expect((deleted.first?["hash"] as? String)?.count == 64)
        #expect((obj["added"] as? [Any])?.isEmpty == true && (obj["renamed"] as? [Any])?.isEmpty == true)

        let md = try ws.mlv(["diff", "HEAD~1", "HEAD", "--md"])
        #expect(md.stdout == "| Status | Path |\n|--------|------|\n| deleted | model.bin |\n| modified | data/ |\n| modified | data/f0 |\n", "\(md)")
    }

    @Test func aFolderWhoseManifestIsNotCachedIsComparedWhole() throws {
        let ws = try committed()
        try ws.gen(["data/f0": "changed"])
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.git(["commit", "-qam", "v2"]).status == 0)
        // The first version's manifest is gone from the cache (a fresh clone that pulled HEAD only).
        let old = try ws.git(["show", "HEAD~1:data.mlv"]).stdout
        let hash = try #require(old.split(separator: "\n").first { $0.contains("sha256:") }?.split(separator: " ").last.map(String.init))
        try FS.remove(ws.path(".mlv/cache/sha256/" + hash.prefix(2) + "/" + hash.dropFirst(2)))
        let r = try ws.mlv(["diff", "HEAD~1", "HEAD"])
        #expect(r.stdout == "Modified:\n    data/\n\nNot in cache:\n    data/\n\n", "\(r)")
    }

    @Test func tenChangedFilesOfTwoThousandAreExactlyThoseTen() throws {
        let ws = try committed(files: 2_000)
        var changed: [String: String] = [:]
        for i in stride(from: 7, to: 2_000, by: 200) { changed["data/f\(i)"] = "changed \(i)" }
        #expect(changed.count == 10)
        try ws.gen(changed)
        let r = try ws.mlv(["diff", "--json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let paths = (obj["modified"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(paths == ["data/"] + changed.keys.sorted(), "\(paths)")
    }

    @Test func pipelineOutsAreComparedToo() throws {
        let ws = try TestWorkspace()
        try ws.write("pipeline.yaml", "stages:\n  make:\n    cmd: mkdir -p out && cp in.txt out/a && echo x > out/b\n    deps: [in.txt]\n    outs: [out]\n")
        try ws.write("in.txt", "one")
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "v1"]).status == 0)
        try ws.write("in.txt", "two")
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["commit", "-qam", "v2"]).status == 0)
        let r = try ws.mlv(["diff", "HEAD~1", "HEAD"])
        #expect(r.stdout == "Modified:\n    out/\n    out/a\n\nfiles summary: 1 modified\n", "\(r)")
    }

    @Test func badRevisionsAndPlacesAreRefused() throws {
        let ws = try committed()
        try BadInputTests().expectRefused(ws, ["diff", "nope"], message: "unknown revision 'nope'")
        try BadInputTests().expectRefused(ws, ["diff", "HEAD", "nope"], message: "unknown revision 'nope'")
        try BadInputTests().expectRefused(ws, ["diff", "--targets", "../x"], message: "'../x' is outside the workspace")
        let noGit = try TestWorkspace(git: false)
        try BadInputTests().expectRefused(noGit, ["diff"], message: "revisions are read from git, and this workspace is not in a git repository",
                                          hint: "run `git init` and commit, then compare or transfer by revision")
        // Before the first commit, everything tracked is new.
        let fresh = try TestWorkspace()
        try fresh.gen(["a.bin": "a"])
        #expect(try fresh.mlv(["add", "a.bin"]).status == 0)
        #expect(try fresh.mlv(["diff"]).stdout == "Added:\n    a.bin\n\nfiles summary: 1 added\n")
    }
}
