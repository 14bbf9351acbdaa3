import MLVSupport
import MLVTestSupport
import Testing

@Suite struct PipelineCommandsTests {
    /// The CI story: a fresh clone with the cache at hand restores the outs with `mlv checkout`,
    /// and `mlv repro --check` finds everything up to date.
    @Test func freshCloneCheckoutThenCheckIsUpToDate() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.git(["add", "pipeline.yaml", "params.yaml", "raw.txt", ".gitignore"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "raw data"]).status == 0)
        let r = try ws.mlv(["repro", "-m", "pipeline"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.git(["status", "--porcelain"]).stdout == "")

        let clone = ws.dir.path + "/clone"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone], cwd: ws.dir.path, env: ws.env).status == 0)
        #expect(!FS.exists(clone + "/model.txt") && !FS.exists(clone + "/feats"))
        let check = try runMLV(["repro", "--check"], cwd: clone, env: ws.env)
        #expect(check.status == 1)
        #expect(check.stdout == "prepare: deleted outs: prepared.txt\nfeatures: changed deps: prepared.txt; deleted outs: feats\ntrain: changed deps: feats; deleted outs: model.txt\n")
        // What `mlv pull` will do: bring the objects into the clone's cache.
        #expect(try runProcess("/bin/cp", ["-a", ws.path(".mlv/cache"), clone + "/.mlv/cache"], cwd: clone).status == 0)
        let co = try runMLV(["checkout"], cwd: clone, env: ws.env)
        #expect(co.status == 0, "\(co)")
        #expect(co.stdout.hasSuffix("restored pipeline output prepared.txt\nrestored pipeline output feats\nrestored pipeline output model.txt\n"))
        #expect(try FS.readText(clone + "/model.txt") == "4\nlr=0.2\n")
        #expect(try FS.readText(clone + "/feats/count") == "4\n")
        let after = try runMLV(["repro", "--check"], cwd: clone, env: ws.env)
        #expect(after.status == 0 && after.stdout == "Pipelines are up to date.\n", "\(after)")
        #expect(try runMLV(["status"], cwd: clone, env: ws.env).stdout == "Data is up to date.\n")
    }

    @Test func checkoutRefusesToLoseUncachedChanges() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.write("model.txt", "hand-edited\n")
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: checkout would overwrite changes that are not in the cache: 'model.txt'\n"))
        #expect(try ws.read("model.txt") == "hand-edited\n")
        #expect(try ws.mlv(["checkout", "--force"]).status == 0)
        #expect(try ws.read("model.txt") == "4\nlr=0.2\n")
    }

    @Test func checkoutOfNamedOutputs() throws {
        let ws = try pipelineWorkspace()
        try ws.write("data.txt", "tracked\n")
        #expect(try ws.mlv(["add", "data.txt"]).status == 0)
        #expect(try ws.mlv(["repro"]).status == 0)
        try FS.removeTree(ws.path("feats"))
        try FS.remove(ws.path("model.txt"))
        try FS.remove(ws.path("data.txt"))
        let r = try ws.mlv(["checkout", "feats/count", "data.txt"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasSuffix("restored pipeline output feats\n"))
        #expect(try ws.read("feats/count") == "4\n" && ws.read("data.txt") == "tracked\n")
        #expect(!ws.exists("model.txt"), "only what was named")
    }

    /// A dep tracked with `mlv add` gets the same hash in the lock as in its pointer: one
    /// record of one folder, in two files.
    @Test func lockAndPointerAgreeOnAFolder() throws {
        let ws = try TestWorkspace()
        try ws.gen(["images/a.png": "a", "images/sub/b.png": "b", "pipeline.yaml": "stages:\n  count: {cmd: ls -R images > n.txt, deps: [images], outs: [n.txt]}\n"])
        #expect(try ws.mlv(["add", "images"]).status == 0)
        #expect(try ws.mlv(["repro"]).status == 0)
        let pointer = try ws.read("images.mlv")
        let hash = pointer.split(separator: "\n").first { $0.hasPrefix("  sha256: ") }!.dropFirst("  sha256: ".count)
        #expect(try ws.read("pipeline.lock").contains("    - path: images\n      hash: sha256\n      sha256: \(hash)\n      size: 2\n      nfiles: 2\n"))
    }

    @Test func commitRecordsAStageWithoutRunningIt() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        _ = try ws.takeRuns()
        try ws.write("model.txt", "tuned by hand\n")
        #expect(try ws.mlv(["repro", "--check"]).stdout == "train: changed outs: model.txt\n")
        let r = try ws.mlv(["commit", "train"])
        #expect(r.status == 0 && r.stdout == "recorded stage train in pipeline.lock\n", "\(r)")
        #expect(try ws.takeRuns() == [])
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
        try FS.remove(ws.path("model.txt"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("model.txt") == "tuned by hand\n")
    }

    @Test func gcKeepsPipelineOutputs() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        let objects = try ws.cacheObjects()
        try ws.write("stray", "not referenced")
        #expect(try ws.mlv(["add", "stray"]).status == 0)
        try FS.remove(ws.path("stray.mlv"))
        #expect(try ws.cacheObjects().count == objects.count + 1)
        let gc = try ws.mlv(["gc", "-w", "-f"])
        #expect(gc.status == 0, "\(gc)")
        #expect(try ws.cacheObjects() == objects, "only the stray object went")
        try FS.removeTree(ws.path("feats"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("feats/lines") == "a\nb\nc\nd\n")
    }

    @Test func dagAndStageList() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["dag"]).stdout == "prepare\nfeatures <- prepare\ntrain <- features\n")
        #expect(try ws.mlv(["dag", "features"]).stdout == "prepare\nfeatures <- prepare\n")
        #expect(try ws.mlv(["dag", "--dot"]).stdout == "strict digraph {\n\t\"prepare\";\n\t\"features\";\n\t\"train\";\n\t\"prepare\" -> \"features\";\n\t\"features\" -> \"train\";\n}\n")
        #expect(try ws.mlv(["dag", "--mermaid"]).stdout == "flowchart TD\n\tnode1[\"prepare\"]\n\tnode2[\"features\"]\n\tnode3[\"train\"]\n\tnode1-->node2\n\tnode2-->node3\n")
        #expect(try ws.mlv(["stage", "list"]).stdout == "prepare   Outputs prepared.txt\nfeatures  Outputs feats\ntrain     Outputs model.txt\n")
    }

    @Test func foreachAndMatrixStagesRun() throws {
        let ws = try TestWorkspace()
        try ws.write("pipeline.yaml", """
        stages:
          make:
            foreach: [small, large]
            do:
              cmd: echo ${item} > ${item}.txt
              outs: ['${item}.txt']
          train:
            matrix: {size: [small, large], opt: [adam]}
            cmd: cat ${item.size}.txt > m-${item.size}-${item.opt}.txt
            deps: ['${item.size}.txt']
            outs: ['m-${item.size}-${item.opt}.txt']

        """)
        let r = try ws.mlv(["repro", "train@large-adam"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout == "Running stage 'make@large':\n> echo large > large.txt\nRunning stage 'train@large-adam':\n> cat large.txt > m-large-adam.txt\n")
        #expect(try ws.mlv(["repro", "make"]).stdout == "Running stage 'make@small':\n> echo small > small.txt\nStage 'make@large' didn't change, skipping\n")
        #expect(try ws.mlv(["repro", "--check"]).stdout == "train@small-adam: never run\n")
    }

    @Test func artifactsList() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["artifacts", "list"]).stdout == "No artifacts in pipeline.yaml.\n")
        try ws.write("pipeline.yaml", "artifacts:\n  cnn: {path: models/cnn.safetensors, type: model, desc: the classifier, labels: [cv]}\n  data: {path: data/train}\n")
        #expect(try ws.mlv(["artifacts", "list"]).stdout == "cnn   models/cnn.safetensors  (model)  the classifier  [cv]\ndata  data/train\n")
    }

    @Test func statusJSONListsStaleStages() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.write("raw.txt", "new\n")
        let r = try ws.mlv(["status", "--json", "--check"])
        #expect(r.status == 1)
        #expect(r.stdout == "{\n  \"prepare\" : {\n    \"stale\" : [\n      \"changed deps: raw.txt\"\n    ]\n  }\n}\n")
    }
}

@Suite struct StageAddTests {
    @Test func appendsKeepingCommentsAndOrder() throws {
        let ws = try TestWorkspace()
        let original = "# the pipeline\nstages:\n  # first\n  prepare:\n    cmd: echo p > p.txt\n    outs: [p.txt]   # trailing\n\n# plots below\nplots:\n- p.csv\n"
        try ws.write("pipeline.yaml", original)
        let r = try ws.mlv(["stage", "add", "-n", "train", "-d", "p.txt", "-p", "train.lr", "-p", "conf.yaml:a,b", "-o", "model.bin",
                            "-O", "tmp.txt", "-M", "m.json", "python", "train.py", "--lr", "0.1"])
        #expect(r.status == 0 && r.stdout == "Added stage 'train' to pipeline.yaml\n", "\(r)")
        #expect(try ws.read("pipeline.yaml") == """
        # the pipeline
        stages:
          # first
          prepare:
            cmd: echo p > p.txt
            outs: [p.txt]   # trailing
          train:
            cmd: python train.py --lr 0.1
            deps:
            - p.txt
            params:
            - train.lr
            - conf.yaml:
              - a
              - b
            outs:
            - model.bin
            - tmp.txt:
                cache: false
            metrics:
            - m.json:
                cache: false

        # plots below
        plots:
        - p.csv

        """)
        #expect(try ws.mlv(["dag"]).stdout == "prepare\ntrain <- prepare\n")
    }

    @Test func createsThePipelineAndRefusesBadStages() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["stage", "add", "-n", "a", "-o", "a.txt", "echo a > a.txt"]).status == 0)
        #expect(try ws.read("pipeline.yaml") == "stages:\n  a:\n    cmd: echo a > a.txt\n    outs:\n    - a.txt\n")
        // `--` ends mlv's options and is not part of the command.
        let other = try TestWorkspace()
        #expect(try other.mlv(["stage", "add", "-n", "t", "-o", "m", "--", "mlv", "train", "--out", "m"]).status == 0)
        #expect(try other.read("pipeline.yaml") == "stages:\n  t:\n    cmd: mlv train --out m\n    outs:\n    - m\n")
        let before = try ws.read("pipeline.yaml")
        let dup = try ws.mlv(["stage", "add", "-n", "a", "echo"])
        #expect(dup.stderr == "mlv: error: stage 'a' already exists in pipeline.yaml\nhint: choose another name, or edit pipeline.yaml\n")
        let out = try ws.mlv(["stage", "add", "-n", "b", "-o", "a.txt", "echo"])
        #expect(out.stderr.hasPrefix("mlv: error: output 'a.txt' is produced by more than one stage: 'a', 'b'\n"))
        let cycle = try ws.mlv(["stage", "add", "-n", "c", "-d", "c.txt", "-o", "c.txt", "echo"])
        #expect(cycle.stderr.hasPrefix("mlv: error: the pipeline has a cycle: c -> c\n"))
        let escape = try ws.mlv(["stage", "add", "-n", "d", "-o", "../x", "echo"])
        #expect(escape.stderr.hasPrefix("mlv: error: pipeline.yaml:"), "\(escape)")
        #expect(escape.stderr.contains("path '../x' escapes the workspace"))
        #expect(try ws.read("pipeline.yaml") == before)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.read("a.txt") == "a\n")
    }
}

/// `mlv lock merge` as git's merge driver, registered by `mlv init`, on two real branches.
@Suite struct LockMergeTests {
    func branches() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "a: 1\nb: 1\n",
            "pipeline.yaml": "stages:\n  sa: {cmd: 'echo a${a} > a.txt', params: [a], outs: [a.txt]}\n  sb: {cmd: 'echo b${b} > b.txt', params: [b], outs: [b.txt]}\n",
        ])
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "base"]).status == 0)
        return ws
    }

    func change(_ ws: TestWorkspace, branch: String, params: String) throws {
        #expect(try ws.git(["checkout", "-q", "-b", branch, "main"]).status == 0)
        try ws.write("params.yaml", params)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["commit", "-qam", branch]).status == 0)
    }

    /// git runs the driver as `mlv`: the built binary's folder goes first on PATH.
    var path: [String: String] { ["PATH": Path.parent(mlvBinary) + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")] }

    @Test func differentStagesMergeCleanly() throws {
        let ws = try branches()
        try change(ws, branch: "left", params: "a: 2\nb: 1\n")
        try change(ws, branch: "right", params: "a: 1\nb: 3\n")
        // params.yaml itself conflicts (one line each side) unless merged; settle it first.
        #expect(try ws.git(["checkout", "-q", "left"]).status == 0)
        let merge = try runProcess("/usr/bin/git", ["merge", "-q", "--no-edit", "right", "-X", "theirs"], cwd: ws.root, env: ws.env.merging(path) { _, b in b })
        #expect(merge.status == 0, "\(merge)")
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("cmd: echo a2 > a.txt") && lock.contains("cmd: echo b3 > b.txt"), "\(lock)")
        #expect(!lock.contains("<<<<<<<"))
    }

    @Test func sameStageConflicts() throws {
        let ws = try branches()
        try change(ws, branch: "left", params: "a: 2\nb: 1\n")
        try change(ws, branch: "right", params: "a: 3\nb: 1\n")
        #expect(try ws.git(["checkout", "-q", "left"]).status == 0)
        let merge = try runProcess("/usr/bin/git", ["merge", "-q", "--no-edit", "right"], cwd: ws.root, env: ws.env.merging(path) { _, b in b })
        #expect(merge.status != 0)
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("<<<<<<< ours\n  sa:\n    cmd: echo a2 > a.txt\n"), "\(lock)")
        #expect(lock.contains("=======\n  sa:\n    cmd: echo a3 > a.txt\n"))
        #expect(lock.contains("  sb:\n    cmd: echo b1 > b.txt\n"))
    }
}

import Foundation

@Suite struct CommitAllTests {
    /// `mlv commit` without names records every complete stage and leaves the others alone
    /// (a stage whose dep does not exist yet is no error here).
    @Test func commitWithoutNamesSkipsIncompleteStages() throws {
        let ws = try TestWorkspace()
        try ws.gen([
            "pipeline.yaml": "stages:\n  a: {cmd: echo a > a.txt, outs: [a.txt]}\n  b: {cmd: cp later.txt b.txt, deps: [later.txt], outs: [b.txt]}\n",
            "a.txt": "made by hand\n",
            "data.txt": "tracked\n",
        ])
        #expect(try ws.mlv(["add", "data.txt"]).status == 0)
        let r = try ws.mlv(["commit"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasSuffix("recorded stage a in pipeline.lock\n"))
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("  a:\n") && !lock.contains("  b:\n"))
        #expect(try ws.mlv(["repro", "a", "--check"]).status == 0)
        let named = try ws.mlv(["commit", "b"])
        #expect(named.stderr.hasPrefix("mlv: error: dependency 'later.txt' of stage 'b' does not exist and no stage produces it\n"))
    }
}
