import MLVSupport
import MLVTestSupport
import Testing

/// Every bad input: one `mlv: error:` line (plus a hint), exit code 2, nothing on disk changed.
@Suite struct BadInputTests {
    func expectRefused(_ ws: TestWorkspace, _ args: [String], cwd: String? = nil, message: String, hint: String? = nil) throws {
        let before = try ws.snapshot()
        let r = try ws.mlv(args, cwd: cwd)
        #expect(r.status == 2, "\(r)")
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first.map(String.init) == "mlv: error: \(message)", "\(r)")
        if let hint { #expect(lines.dropFirst().first.map(String.init) == "hint: \(hint)", "\(r)") }
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"))
        let after = try ws.snapshot()
        #expect(after == before, "changed: \(before.difference(after))")
    }

    @Test func pathOutsideWorkspace() throws {
        let ws = try TestWorkspace()
        try AtomicFile.write("x", to: ws.dir.path + "/outside.txt")
        try expectRefused(ws, ["add", "../outside.txt"], message: "'../outside.txt' is outside the workspace")
        try expectRefused(ws, ["add", ws.dir.path + "/outside.txt"], message: "'\(ws.dir.path)/outside.txt' is outside the workspace")
    }

    @Test func pathInsideMLVDirectory() throws {
        let ws = try TestWorkspace()
        try expectRefused(ws, ["add", ".mlv/config.yaml"], message: "'.mlv/config.yaml' is inside .mlv/, which mlv manages itself")
    }

    @Test func pathTrackedByParent() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/sub/x": "x"])
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try expectRefused(ws, ["add", "data/sub/x"], message: "'data/sub/x' is already tracked as part of 'data'",
                          hint: "run `mlv commit data` to record changes inside it")
    }

    @Test func directoryContainingTrackedData() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/inner/x": "x", "data/y": "y"])
        #expect(try ws.mlv(["add", "data/inner"]).status == 0)
        try expectRefused(ws, ["add", "data"], message: "'data' contains data tracked by 'data/inner.mlv'")
    }

    @Test func missingPath() throws {
        let ws = try TestWorkspace()
        try expectRefused(ws, ["add", "nope.csv"], message: "'nope.csv' does not exist")
        try ws.write("real", "r")
        try expectRefused(ws, ["add", "real", "nope.csv"], message: "'nope.csv' does not exist")
        try expectRefused(ws, ["add", "*.parquet"], message: "'*.parquet' does not exist")
    }

    @Test func malformedPointerYAML() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "f")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try ws.write("f.mlv", "outs:\n- path: f\n  sha256: [unclosed\n")
        try expectRefused(ws, ["status"], message: "f.mlv:4:1: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
        try expectRefused(ws, ["checkout"], message: "f.mlv:4:1: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
    }

    @Test func pointerWithBadHash() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "f")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try ws.write("f.mlv", "outs:\n- path: f\n  hash: sha256\n  sha256: 12345abc\n  size: 1\n")
        try expectRefused(ws, ["status"], message: "f.mlv:4:11: '12345abc' is not a SHA-256 hash (64 lowercase hex digits, '.dir' for a directory)")
        try ws.write("f.mlv", "outs:\n- path: f\n  sha256: \(String(repeating: "a", count: 64))\n  size: 1\n  colour: red\n")
        try expectRefused(ws, ["status"], message: "f.mlv:5:3: unknown key 'colour' in an 'outs' entry")
    }

    @Test func pointerPathsEscapingTheWorkspace() throws {
        let ws = try TestWorkspace()
        let h = String(repeating: "a", count: 64)
        try ws.write("up.mlv", "outs:\n- path: ../secret\n  sha256: \(h)\n  size: 1\n")
        try expectRefused(ws, ["checkout"], message: "up.mlv:2:9: path '../secret' escapes the workspace")
        try FS.remove(ws.path("up.mlv"))
        try ws.write("abs.mlv", "outs:\n- path: /etc/passwd\n  sha256: \(h)\n  size: 1\n")
        try expectRefused(ws, ["checkout"], message: "abs.mlv:2:9: path '/etc/passwd' escapes the workspace")
        try FS.remove(ws.path("abs.mlv"))
        try FS.makeDirectories(ws.dir.path + "/elsewhere")
        try FS.makeSymlink(ws.dir.path + "/elsewhere", ws.path("link"))
        try ws.write("link/x.mlv", "outs:\n- path: x\n  sha256: \(h)\n  size: 1\n")
        try expectRefused(ws, ["checkout", "link/x"], message: "'link/x' leads outside the workspace through a symbolic link")
    }

    @Test func addingThroughASymlinkThatLeavesTheWorkspace() throws {
        let ws = try TestWorkspace()
        try FS.makeDirectories(ws.dir.path + "/elsewhere")
        try AtomicFile.write("x", to: ws.dir.path + "/elsewhere/data")
        try FS.makeSymlink(ws.dir.path + "/elsewhere", ws.path("link"))
        try expectRefused(ws, ["add", "link/data"], message: "'link/data' leads outside the workspace through a symbolic link")
    }

    @Test func runningOutsideAWorkspace() throws {
        let ws = try TestWorkspace(initialize: false)
        try ws.write("f", "f")
        for cmd in [["add", "f"], ["status"], ["checkout"], ["commit"], ["gc", "--workspace"], ["cache", "verify"], ["config", "cache.type"]] {
            try expectRefused(ws, cmd, message: "'\(ws.root)' is not inside an mlv workspace", hint: "run `mlv init` at the root of your git repository first")
        }
    }

    @Test func checkoutWithObjectMissingFromCache() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "content")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try FS.removeTree(ws.path(".mlv/cache/sha256"))
        try FS.remove(ws.path("f"))
        let h = SHA256Hasher.hex("content")
        try expectRefused(ws, ["checkout"], message: "'f': object \(h.prefix(12))… is not in the cache",
                          hint: "fetch it from a remote with `mlv pull`, or re-create it and run `mlv commit`")
    }

    @Test func pathAlreadyTrackedByGit() throws {
        let ws = try TestWorkspace()
        try ws.gen(["src/main.py": "print()", "data/x": "x", "data/y": "y"])
        #expect(try ws.git(["add", "src/main.py", "data/y"]).status == 0)
        try expectRefused(ws, ["add", "src/main.py"], message: "'src/main.py' is already tracked by git",
                          hint: "stop tracking it in git first: `git rm -r --cached 'src/main.py'`")
        try expectRefused(ws, ["add", "data"], message: "'data' contains 'data/y', which is already tracked by git")
    }

    @Test func addingAPointerFileItself() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "f")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try expectRefused(ws, ["add", "f.mlv"], message: "'f.mlv' is an mlv pointer file", hint: "did you mean 'f'?")
    }
}
