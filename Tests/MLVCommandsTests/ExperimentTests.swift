import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv exp`: experiments as commits under refs/exps/, run in scratch copies that share the
/// cache and run-cache; the user's working tree, index and HEAD never change.
@Suite struct ExperimentTests {
    /// A committed one-stage pipeline whose metrics follow its params; `failOn`: a learning
    /// rate whose run fails.
    static func project(failOn: [String] = []) throws -> TestWorkspace {
        let ws = try TestWorkspace()
        let fail = failOn.map { "[ \"$1\" = \"\($0)\" ] && { echo \"lr $1 diverged\" >&2; exit 3; }\n" }.joined()
        try ws.gen([
            "data.txt": "1\n2\n3\n",
            "params.yaml": "train:\n  lr: 0.1  # learning rate\n  batch_size: 16\nseed: 1\n",
            "pipeline.yaml": """
                stages:
                  train:
                    cmd: ./train.sh ${train.lr} ${train.batch_size}
                    deps: [data.txt, train.sh]
                    params: [train]
                    outs: [model.txt]
                    metrics: [metrics.json: {cache: false}]

                """,
        ])
        try AtomicFile.write("#!/bin/sh\n\(fail)echo \"model $1 $2\" > model.txt\nawk -v lr=$1 -v bs=$2 '{s+=$1} END {printf \"{\\\"acc\\\": %.4f, \\\"loss\\\": %.4f}\\n\", s*lr/10+bs/100, 1/(lr*bs)}' data.txt > metrics.json\n",
                             to: ws.path("train.sh"), mode: 0o755)
        #expect(try ws.mlv(["add", "data.txt"]).status == 0)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "baseline"]).status == 0)
        return ws
    }

    /// The working tree and git's index, HEAD and branches: what an experiment must not touch.
    static func userState(_ ws: TestWorkspace) throws -> TreeSnapshot {
        try TreeSnapshot.take(ws.root, excluding: [".git/objects", ".git/refs/exps", ".git/refs/mlv-queue", ".git/logs", ".mlv/tmp", ".mlv/lock", ".mlv/cache"])
    }

    @Test func aGridRunsInScratchCopiesAndIsShownSortedAndFiltered() throws {
        let ws = try Self.project()
        try ws.write("params.yaml", try ws.read("params.yaml").replacingOccurrences(of: "seed: 1", with: "seed: 2"))   // uncommitted
        let before = try Self.userState(ws)
        let queued = try ws.mlv(["exp", "run", "--queue", "-S", "train.lr=0.2,0.4", "-S", "params.yaml:train.batch_size=8,32"])
        #expect(queued.status == 0 && queued.stdout.split(separator: "\n").count == 4, "\(queued)")
        let run = try ws.mlv(["exp", "run", "--run-all", "-j", "2"])
        #expect(run.status == 0 && run.stdout.hasSuffix("4 experiments done, 0 failed\n"), "\(run)")
        #expect(try Self.userState(ws) == before, "the user's files changed")

        let show = try ws.mlv(["exp", "show", "--csv", "--sort-by", "metrics.acc", "--sort-order", "desc"])
        let lines = show.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        // seed differs between the workspace and HEAD: a column too (params.yaml is shown whole, as DVC).
        #expect(lines.first == ["Experiment", "Created", "train.lr", "train.batch_size", "seed", "acc", "loss"], "\(show)")
        #expect(lines.dropFirst().map { $0[0] }.prefix(2) == ["workspace", "HEAD"])
        #expect(lines.dropFirst(3).map { "\($0[2]) \($0[3]) \($0[5])" } == ["0.4 32 0.56", "0.2 32 0.44", "0.4 8 0.32", "0.2 8 0.2"], "\(show)")
        let filtered = try ws.mlv(["exp", "show", "--json", "--filter", "metrics.acc > 0.3 and params.train.batch_size == 32"])
        let rows = try JSONSerialization.jsonObject(with: Data(filtered.stdout.utf8)) as! [[String: Any]]
        #expect(rows.count == 4 && rows.compactMap { ($0["params"] as? [String: [String: Any]])?["params.yaml"]?["train.batch_size"] as? Int } == [16, 16, 32, 32], "\(filtered)")
        // The uncommitted seed change went into every experiment, as the workspace was.
        let best = lines[3][0]
        let rev = try #require(rows.first { $0["name"] as? String == best }?["rev"] as? String)
        #expect(try ws.git(["show", "\(rev):params.yaml"]).stdout.contains("seed: 2"))

        // apply: the experiment's params, lock and metrics in the workspace, its outs checked out.
        #expect(try ws.mlv(["exp", "apply", best]).status == 2)   // uncommitted changes
        #expect(try ws.mlv(["exp", "apply", best, "--force"]).status == 0)
        #expect(try ws.read("pipeline.lock") == ws.git(["show", "\(rev):pipeline.lock"]).stdout)
        #expect(try ws.read("model.txt") == "model 0.4 32\n" && ws.read("params.yaml").contains("lr: 0.4  # learning rate"))
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
        #expect(try ws.mlv(["exp", "branch", best, "best"]).status == 0 && ws.git(["rev-parse", "best"]).stdout == rev + "\n")
        let diff = try ws.mlv(["exp", "diff", best])
        #expect(diff.stdout.contains("train.lr") && diff.stdout.contains("acc"), "\(diff)")
        // Experiments are revisions for the params, metrics and plots commands.
        let metrics = try ws.mlv(["metrics", "diff", "HEAD", lines[4][0]])
        #expect(metrics.status == 0 && metrics.stdout.contains("0.44"), "\(metrics)")
        // gc keeps the experiments' outputs only when asked to.
        #expect(try ws.mlv(["gc", "--workspace", "--all-experiments", "-f"]).status == 0)
        #expect(try ws.mlv(["exp", "apply", lines[5][0], "--force"]).status == 0 && ws.read("model.txt") == "model 0.4 8\n")
        #expect(try ws.mlv(["gc", "--workspace", "-f"]).status == 0)
        let gone = try ws.mlv(["exp", "apply", lines[6][0], "--force"])
        #expect(gone.status == 2 && gone.stderr.hasPrefix("mlv: error: the outputs of experiment '\(lines[6][0])' are not in the cache: model.txt\nhint: fetch them first: `mlv fetch --rev "), "\(gone)")
        #expect(try ws.read("model.txt") == "model 0.4 8\n")
    }

    @Test func aQueueWithFailuresRunsTheRestAndKeepsEveryLog() throws {
        let ws = try Self.project(failOn: ["0.08", "0.13", "0.19"])
        let values = (1...20).map { "0.\(String(format: "%02d", $0 + 3))" }   // 0.04 … 0.23
        let q = try ws.mlv(["exp", "run", "--queue", "-S", "train.lr=" + values.joined(separator: ",")])
        #expect(q.status == 0, "\(q)")
        let run = try ws.mlv(["exp", "run", "--run-all", "-j", "2"])
        #expect(run.status == 1 && run.stdout.contains("17 experiments done, 3 failed: "), "\(run)")
        let failed = try #require(run.stdout.split(separator: "\n").last?.components(separatedBy: "failed: ").last?.components(separatedBy: ", "))
        #expect(failed.count == 3)
        var diverged: [String] = []
        for name in failed {
            let log = try ws.mlv(["exp", "logs", name])
            #expect(log.status == 0 && log.stdout.contains("diverged"), "\(log)")
            diverged += log.stdout.split(separator: "\n").filter { $0.hasSuffix("diverged") }.map(String.init)
        }
        #expect(diverged.sorted() == ["lr 0.08 diverged", "lr 0.13 diverged", "lr 0.19 diverged"])
        #expect(try ws.mlv(["exp", "show", "--json"]).stdout.components(separatedBy: "\"name\"").count == 17 + 2 + 1)
        #expect(try ws.mlv(["exp", "run", "--run-all"]).stdout.hasPrefix("0 experiments done"))
    }

    @Test func badExperimentInputsAreRefused() throws {
        let ws = try Self.project()
        let bad = BadInputTests()
        try bad.expectRefused(ws, ["exp", "run", "-S", "train.lrr=0.2"], message: "param 'train.lrr' is not in params.yaml", hint: "did you mean 'train.lr'?")
        try bad.expectRefused(ws, ["exp", "run", "--queue", "-S", "train.lr=0.1,,0.2"], message: "cannot read -S 'train.lr=0.1,,0.2': an empty value in the grid",
                              hint: "write -S KEY=VALUE or -S FILE:KEY=VALUE; a grid is VALUE,VALUE,…")
        try bad.expectRefused(ws, ["exp", "run", "--queue", "-S", "train.lr=[0.1"], message: "cannot read -S 'train.lr=[0.1': an unclosed quote or bracket",
                              hint: "write -S KEY=VALUE or -S FILE:KEY=VALUE; a grid is VALUE,VALUE,…")
        try bad.expectRefused(ws, ["exp", "run", "-S", "train=1"], message: "param 'train' of params.yaml is not a single value -S can replace",
                              hint: "give -S a key whose value is a number, a string, a boolean or a one-line list")
        try bad.expectRefused(ws, ["exp", "run", "--name", "../x", "-S", "train.lr=1"], message: "'../x' is not a valid experiment name",
                              hint: "use letters, digits, '-', '_' and '.' (not first), at most 100 characters")
        try bad.expectRefused(ws, ["exp", "apply", "nope"], message: "no experiment named 'nope'", hint: "`mlv exp show` lists them")
        #expect(try ws.mlv(["exp", "run", "--name", "one", "-S", "train.lr=0.3"]).status == 0)
        try bad.expectRefused(ws, ["exp", "run", "--name", "one", "-S", "train.lr=0.5"], message: "an experiment named 'one' already exists",
                              hint: "choose another --name, or `mlv exp remove` the old one")
        try ws.write("train.sh", try ws.read("train.sh") + "\n")
        try bad.expectRefused(ws, ["exp", "apply", "one"], message: "applying would overwrite uncommitted changes: train.sh",
                              hint: "commit or stash them first, or pass --force")
        // Two queue runners at once: the second is refused.
        try FS.makeDirectories(ws.path(".mlv/tmp/exps"))
        let held = try FileLock(path: ws.path(".mlv/tmp/exps/runner.lock"), timeout: 1, onWait: {})
        defer { held.unlock() }
        try bad.expectRefused(ws, ["exp", "run", "--run-all"], message: "another `mlv exp run --run-all` is running the queue of this workspace",
                              hint: "wait for it; it runs what you queue too")
    }

    @Test func experimentsTravelThroughGitAndTheRemoteAndAreUntrusted() throws {
        let ws = try Self.project()
        let bare = ws.dir.path + "/shared.git"
        #expect(try runProcess("/usr/bin/git", ["init", "-q", "--bare", bare], cwd: ws.dir.path, env: ws.env).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "store", ws.dir.path + "/store"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "remote"]).status == 0)
        #expect(try ws.git(["push", "-q", bare, "HEAD:main"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        #expect(try ws.mlv(["exp", "run", "--name", "shared", "-S", "train.lr=0.3"]).status == 0)
        let push = try ws.mlv(["exp", "push", bare])
        #expect(push.status == 0 && push.stdout.hasPrefix("pushed 1 experiment, 1 file of data"), "\(push)")

        let clone = ws.dir.path + "/clone"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", bare, clone], cwd: ws.dir.path, env: ws.env).status == 0)
        let pull = try runMLV(["exp", "pull", bare], cwd: clone, env: ws.env)
        #expect(pull.status == 0 && pull.stdout.hasPrefix("pulled shared"), "\(pull)")
        #expect(try runMLV(["exp", "apply", "shared"], cwd: clone, env: ws.env).status == 0)
        #expect(try FS.readText(clone + "/model.txt") == "model 0.3 16\n")

        // A teammate's experiment whose lock claims a git-tracked file as an out: applying it
        // never writes over train.sh (the pipeline does not declare it).
        let script = try ws.read("train.sh")
        try ws.write("pipeline.lock", try ws.read("pipeline.lock").replacingOccurrences(of: "    - path: model.txt", with: "    - path: train.sh"))
        #expect(try ws.git(["commit", "-qam", "hostile"]).status == 0)
        let hostile = try ws.git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ws.git(["reset", "-q", "--hard", "HEAD~1"]).status == 0)
        let base = try ws.git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ws.git(["update-ref", "refs/exps/\(base.prefix(2))/\(base.dropFirst(2))/hostile", hostile]).status == 0)
        let apply = try ws.mlv(["exp", "apply", "hostile", "--force"])
        #expect(try ws.read("train.sh") == script, "\(apply)")
    }

    /// DVC 3.67's `exp run`/`exp show` on the same project: the same params and metrics for the
    /// same override. Where they differ: DVC runs a plain `exp run` in the workspace (params.yaml,
    /// dvc.lock and metrics left changed), mlv in a scratch copy (nothing changed here).
    @Test func dvcAndMLVExperimentsAgreeOnTheValues() throws {
        let ws = try Self.project()
        let dvc = try TestWorkspace(initialize: false)
        for f in ["data.txt", "params.yaml", "train.sh"] { try AtomicFile.write(try FS.readFile(ws.path(f)), to: dvc.path(f), mode: 0o755) }
        try dvc.write("dvc.yaml", try ws.read("pipeline.yaml"))
        try dvc.dvc(["init", "-q"])
        try dvc.dvc(["repro", "-q"])
        #expect(try dvc.git(["add", "-A"]).status == 0 && dvc.git(["commit", "-qm", "base"]).status == 0)
        try dvc.dvc(["exp", "run", "-q", "-S", "train.lr=0.3", "-n", "fast"])
        #expect(try ws.mlv(["exp", "run", "-S", "train.lr=0.3", "--name", "fast"]).status == 0)
        func row(_ csv: String, _ name: String) -> [String: String] {
            let lines = csv.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            guard let header = lines.first, let r = lines.first(where: { $0.first == name }) else { return [:] }
            return Dictionary(zip(header, r).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
        }
        let theirs = row(try dvc.dvc(["exp", "show", "--csv"]).stdout, "fast")
        let ours = row(try ws.mlv(["exp", "show", "--csv"]).stdout, "fast")
        for key in ["acc", "loss", "train.lr"] {
            #expect(theirs[key].flatMap(Double.init) != nil && theirs[key].flatMap(Double.init) == ours[key].flatMap(Double.init), "\(key): \(theirs) \(ours)")
        }
        #expect(try dvc.git(["status", "--porcelain"]).stdout.contains(" M params.yaml"))
        #expect(try ws.git(["status", "--porcelain"]).stdout == "")
    }

    @Test func ctrlCStopsTheQueueAndRunAllResumesIt() throws {
        let ws = try Self.project()
        try AtomicFile.write("#!/bin/sh\nsleep 2\n" + (try ws.read("train.sh")).dropFirst("#!/bin/sh\n".count), to: ws.path("train.sh"), mode: 0o755)
        #expect(try ws.mlv(["exp", "run", "--queue", "-S", "train.lr=0.2,0.3,0.4"]).status == 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = ["exp", "run", "--run-all"]
        p.currentDirectoryURL = URL(fileURLWithPath: ws.root)
        p.environment = ProcessInfo.processInfo.environment.merging(ws.env) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(800_000)   // the first experiment's stage is sleeping
        p.interrupt()
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        // Nothing recorded, nothing left running or half-written: all three still queued.
        #expect(try FS.list(ws.path(".mlv/tmp/exps/queue")).count == 3)
        #expect(((try? FS.list(ws.path(".mlv/tmp/exps/run"))) ?? []).isEmpty)
        #expect(try ws.git(["for-each-ref", "refs/exps"]).stdout == "")
        let resumed = try ws.mlv(["exp", "run", "--run-all", "-j", "3"])
        #expect(resumed.status == 0 && resumed.stdout.hasSuffix("3 experiments done, 0 failed\n"), "\(resumed)")
    }
}
