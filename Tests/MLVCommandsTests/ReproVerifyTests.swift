import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `mlv repro --verify`: every stage rerun in a scratch copy, outputs compared with the lock,
/// the workspace untouched.
@Suite struct ReproVerifyTests {
    @Test func identicalStagesPassAndAClockDependentStageIsNamed() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        let before = try ws.snapshot()
        let ok = try ws.mlv(["repro", "--verify"])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.stdout.hasSuffix("""
            prepare: identical (prepared.txt)
            features: identical (feats)
            train: identical (model.txt)
            Every output of 3 stages came out byte-identical.

            """), "\(ok)")
        #expect(try ws.snapshot() == before, "verify must not touch the workspace")

        // A stage whose output depends on the clock cannot reproduce.
        try ws.write("pipeline.yaml", try ws.read("pipeline.yaml") + """
              stamp:
                cmd: date +%s%N > stamp.txt
                deps: [model.txt]
                outs: [stamp.txt]

            """)
        #expect(try ws.mlv(["repro"]).status == 0)
        let snapshot = try ws.snapshot()
        let bad = try ws.mlv(["repro", "--verify"])
        #expect(bad.status == 1, "\(bad)")
        #expect(bad.stdout.contains("train: identical (model.txt)\nstamp: DIFFERS stamp.txt: lock "), "\(bad)")
        #expect(bad.stderr.hasPrefix("mlv: error: 1 of 4 stages did not reproduce: stamp\n"), "\(bad)")
        #expect(try ws.snapshot() == snapshot)
    }

    @Test func aDependencyThatIsAFIFOIsRefusedNotCopied() throws {
        let ws = try TestWorkspace()
        #expect(mkfifo(ws.path("pipe"), 0o644) == 0)
        try ws.write("pipeline.yaml", "stages:\n  a:\n    cmd: echo hi > out.txt\n    deps: [pipe]\n    outs: [out.txt]\n")
        let r = try ws.mlv(["repro", "--verify"])
        #expect(r.status == 2 && r.stderr.hasPrefix("mlv: error: 'pipe' is not a regular file\n"), "\(r)")
    }
}

/// `mlv repro --pull`: a fresh clone restores the outputs the remote holds instead of running.
@Suite struct ReproPullTests {
    @Test func aFreshCloneRestoresInsteadOfRunning() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", ws.dir.path + "/remote"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "pipeline"]).status == 0)
        #expect(try ws.mlv(["repro", "-m", "lock"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        let clone = ws.dir.path + "/clone"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone], cwd: ws.dir.path, env: ws.env).status == 0)
        let r = try runMLV(["repro", "--pull"], cwd: clone, env: ws.env)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("restored pipeline output model.txt"), "\(r)")
        #expect(!r.stdout.contains("Running stage"), "nothing should run: \(r)")
        #expect(!FS.exists(clone + "/runs.log"))
        #expect(try FS.readText(clone + "/model.txt") == "4\nlr=0.2\n")
        #expect(try runMLV(["repro", "--check"], cwd: clone, env: ws.env).status == 0)
    }
}
