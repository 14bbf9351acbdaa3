import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv install`: real git runs the hooks (with the test binary's folder first on PATH).
@Suite struct GitHooksTests {
    func workspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        ws.env["PATH"] = Path.parent(mlvBinary) + ":/usr/bin:/bin"
        try ws.gen(["data.txt": "v1"])
        #expect(try ws.mlv(["add", "data.txt"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "v1"]).status == 0)
        return ws
    }

    @Test func aBranchSwitchChecksOutItsDataAndACommitWarns() throws {
        let ws = try workspace()
        let r = try ws.mlv(["install"])
        #expect(r.stdout == "installed post-checkout hook\ninstalled pre-commit hook\ninstalled pre-push hook\n", "\(r)")
        #expect(try ws.git(["checkout", "-qb", "other"]).status == 0)
        try ws.gen(["data.txt": "v2"])
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.git(["commit", "-qam", "v2"]).status == 0)
        let back = try ws.git(["checkout", "-q", "main"])
        #expect(back.status == 0, "\(back)")
        #expect(try ws.read("data.txt") == "v1")
        #expect(try ws.git(["checkout", "-q", "other"]).status == 0)
        #expect(try ws.read("data.txt") == "v2")

        // pre-commit: a change not recorded is reported; the commit goes ahead.
        try ws.gen(["data.txt": "v3, not recorded"])
        try ws.write("notes.txt", "n")
        #expect(try ws.git(["add", "notes.txt"]).status == 0)
        let commit = try ws.git(["commit", "-qm", "notes"])
        #expect(commit.status == 0 && commit.stderr.contains("mlv: warning: tracked data or pipeline stages changed since they were recorded:\ndata.txt: modified"), "\(commit)")

        // pre-push: a push that fails stops git's push.
        #expect(try ws.git(["remote", "add", "origin", ws.dir.path + "/origin.git"]).status == 0)
        #expect(try runProcess("/usr/bin/git", ["init", "-q", "--bare", ws.dir.path + "/origin.git"], cwd: ws.dir.path, env: ws.env).status == 0)
        let push = try ws.git(["push", "-q", "origin", "other"])
        #expect(push.status != 0 && push.stderr.contains("mlv: error: no remote given and no default remote is set"), "\(push)")
        #expect(try ws.mlv(["remote", "add", "-d", "store", "../store"]).status == 0)
        let pushed = try ws.git(["push", "-q", "origin", "other"])
        #expect(pushed.status == 0, "\(pushed)")
        #expect(FS.isDirectory(ws.dir.path + "/store/sha256"))
    }

    @Test func existingHooksAreChainedAndGivenBack() throws {
        let ws = try workspace()
        let hooks = ws.path(".git/hooks")
        try FS.makeDirectories(hooks)
        let mine = "#!/bin/sh\necho mine \"$@\" >> \"$(git rev-parse --show-toplevel)/../hook.log\"\n"
        try AtomicFile.write(mine, to: hooks + "/pre-commit", mode: 0o755)
        let r = try ws.mlv(["install"])
        #expect(r.stdout.contains("installed pre-commit hook (runs the earlier one first)\n"), "\(r)")
        #expect(try FS.readText(hooks + "/pre-commit.pre-mlv") == mine)
        // Installing again changes nothing of the user's.
        #expect(try ws.mlv(["install"]).status == 0)
        #expect(try FS.readText(hooks + "/pre-commit.pre-mlv") == mine)
        try ws.write("x.txt", "x")
        #expect(try ws.git(["add", "x.txt"]).status == 0 && ws.git(["commit", "-qm", "x"]).status == 0)
        #expect(try FS.readText(ws.dir.path + "/hook.log") == "mine\n")

        let u = try ws.mlv(["install", "--uninstall"])
        #expect(u.stdout == "removed post-checkout hook\nremoved pre-commit hook (the earlier one is back)\nremoved pre-push hook\n", "\(u)")
        #expect(try FS.readText(hooks + "/pre-commit") == mine && !FS.exists(hooks + "/pre-commit.pre-mlv") && !FS.exists(hooks + "/pre-push"))
        #expect(try ws.mlv(["install", "--uninstall"]).stdout == "no mlv hooks installed\n")
    }

    @Test func aHookThatIsNotAScriptIsRefused() throws {
        let ws = try workspace()
        let hooks = ws.path(".git/hooks")
        try FS.makeDirectories(hooks)
        try AtomicFile.write([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1], to: hooks + "/pre-push", mode: 0o755)
        try BadInputTests().expectRefused(ws, ["install"], message: "'.git/hooks/pre-push' is a hook mlv cannot chain (not a script starting with #!)",
                                          hint: "move it away (and call it from your own script), or add `mlv` to it by hand, then run `mlv install` again")
        #expect(!FS.exists(hooks + "/post-checkout"))
        let noGit = try TestWorkspace(git: false)
        try BadInputTests().expectRefused(noGit, ["install"], message: "mlv install writes git hooks, and this workspace is not in a git repository")
    }
}
