import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// A three-stage pipeline of shell commands: prepare → features (a folder) → train, with params.
/// Every command also appends its stage's name to `runs.log` (not an out), so tests can see
/// which commands really ran.
func pipelineWorkspace() throws -> TestWorkspace {
    let ws = try TestWorkspace()
    try ws.gen([
        "raw.txt": "a\nb\nc\nd\ne\nf\n",
        "params.yaml": "prepare:\n  n: 4\ntrain:\n  lr: 0.20\n  epochs: 3\n",
        ".gitignore": "/runs.log\n",
        "pipeline.yaml": """
        stages:
          prepare:
            cmd: echo prepare >> runs.log && head -n ${prepare.n} raw.txt > prepared.txt
            deps: [raw.txt]
            params: [prepare.n]
            outs: [prepared.txt]
          features:
            cmd:
            - echo features >> runs.log
            - mkdir -p feats && cp prepared.txt feats/lines && wc -l < prepared.txt > feats/count
            deps: [prepared.txt]
            outs: [feats]
          train:
            cmd: echo train >> runs.log && cat feats/count > model.txt && echo "lr=${train.lr}" >> model.txt
            deps: [feats]
            params: [train.lr]
            outs: [model.txt]

        """,
    ])
    return ws
}

extension TestWorkspace {
    /// The stage names in runs.log, then empties it.
    func takeRuns() throws -> [String] {
        guard exists("runs.log") else { return [] }
        let runs = try read("runs.log").split(separator: "\n").map(String.init)
        try FS.remove(path("runs.log"))
        return runs
    }
}

@Suite struct ReproTests {
    @Test func runsStagesInOrderThenSkipsThem() throws {
        let ws = try pipelineWorkspace()
        let r = try ws.mlv(["repro"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("Running stage 'prepare':\n> echo prepare >> runs.log && head -n 4 raw.txt > prepared.txt\nRunning stage 'features':\n"), "\(r)")
        #expect(try ws.takeRuns() == ["prepare", "features", "train"])
        #expect(try ws.read("model.txt") == "4\nlr=0.2\n")
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("  train:\n    cmd: echo train >> runs.log && cat feats/count > model.txt && echo \"lr=0.2\" >> model.txt\n"))
        #expect(lock.contains("    params:\n      params.yaml:\n        train.lr: 0.2\n"))
        #expect(lock.contains("    - path: feats\n      hash: sha256\n      sha256: ") && lock.contains(".dir\n      size: 10\n      nfiles: 2\n"))
        // Outs are in the cache, git-ignored, and lock + .gitignore are staged.
        #expect(try ws.read(".gitignore") == "/runs.log\n/prepared.txt\n/feats\n/model.txt\n")
        #expect(try ws.git(["diff", "--cached", "--name-only"]).stdout == ".gitattributes\n.gitignore\n.mlv/.gitignore\n.mlv/config.yaml\npipeline.lock\n")
        #expect(try ws.cacheObjects().count == 4)  // prepared.txt = feats/lines, feats/count, the .dir manifest, model.txt

        let again = try ws.mlv(["repro"])
        #expect(again.status == 0)
        #expect(again.stdout == "Stage 'prepare' didn't change, skipping\nStage 'features' didn't change, skipping\nStage 'train' didn't change, skipping\nData and pipelines are up to date.\n")
        #expect(try ws.takeRuns() == [])
        #expect(try ws.read("pipeline.lock") == lock)
    }

    @Test func lockIsByteIdenticalAcrossRuns() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        let first = try ws.read("pipeline.lock")
        try FS.remove(ws.path("pipeline.lock"))
        try FS.removeTree(ws.path("feats"))
        #expect(try ws.mlv(["repro", "--no-run-cache"]).status == 0)
        #expect(try ws.takeRuns() == ["prepare", "features", "train", "prepare", "features", "train"])
        #expect(try ws.read("pipeline.lock") == first)
        #expect(try ws.mlv(["repro", "--force"]).status == 0)
        #expect(try ws.read("pipeline.lock") == first)
    }

    @Test func depAndParamChangesRerunOnlyWhatDependsOnThem() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        _ = try ws.takeRuns()
        try ws.write("params.yaml", "prepare:\n  n: 4\ntrain:\n  lr: 0.5\n  epochs: 9\n")
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 1)
        #expect(check.stdout == "train: changed command; changed params: train.lr\n")
        #expect(try ws.mlv(["status"]).stdout == "train: changed command; changed params: train.lr\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.takeRuns() == ["train"])

        try ws.write("raw.txt", "a\nb\nc\nX\ne\n")
        #expect(try ws.mlv(["repro", "--check"]).stdout == "prepare: changed deps: raw.txt\n")
        #expect(try ws.mlv(["repro", "--dry"]).stdout == "Would run stage 'prepare': changed deps: raw.txt\nWould run stage 'features': after upstream stage 'prepare'\nWould run stage 'train': after upstream stage 'features'\n")
        #expect(try ws.takeRuns() == [])
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.takeRuns() == ["prepare", "features", "train"])
        #expect(try ws.mlv(["repro", "--check"]).stdout == "Pipelines are up to date.\n")

        // A deleted out makes its stage stale; a modified one too.
        try FS.remove(ws.path("model.txt"))
        #expect(try ws.mlv(["repro", "--check"]).stdout == "train: deleted outs: model.txt\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.write("prepared.txt", "edited\n")
        #expect(try ws.mlv(["repro", "--check"]).stdout == "prepare: changed outs: prepared.txt\nfeatures: changed deps: prepared.txt\n")
    }

    @Test func runCacheRestoresInsteadOfRunning() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        let lockA = try ws.read("pipeline.lock")
        try ws.write("params.yaml", "prepare:\n  n: 4\ntrain:\n  lr: 0.7\n  epochs: 3\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        let lockB = try ws.read("pipeline.lock")
        #expect(try ws.takeRuns() == ["prepare", "features", "train", "train"])
        // Back and forth: nothing runs, the outs come from the cache.
        for (lr, lock, model) in [("0.20", lockA, "4\nlr=0.2\n"), ("0.7", lockB, "4\nlr=0.7\n"), ("0.2", lockA, "4\nlr=0.2\n")] {
            try ws.write("params.yaml", "prepare:\n  n: 4\ntrain:\n  lr: \(lr)\n  epochs: 3\n")
            let r = try ws.mlv(["repro"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Stage 'train' is cached: outputs restored from the run-cache, command not run\n"), "\(r)")
            #expect(try ws.takeRuns() == [])
            #expect(try ws.read("model.txt") == model)
            #expect(try ws.read("pipeline.lock") == lock)
        }
        try ws.write("params.yaml", "prepare:\n  n: 4\ntrain:\n  lr: 0.7\n  epochs: 3\n")
        #expect(try ws.mlv(["repro", "--no-run-cache"]).status == 0)
        #expect(try ws.takeRuns() == ["train"])
        // Entries are small content-addressed files.
        let runs = try FS.list(ws.path(".mlv/cache/runs")).count
        #expect(runs >= 1)
    }

    /// A run-cache entry names objects; sizes and file counts are read from the objects, never
    /// from the entry. An entry naming an unsafe manifest is skipped with a warning and the stage runs.
    @Test func runCacheEntriesAreCheckedAgainstTheirObjects() throws {
        let ws = try TestWorkspace()
        try ws.gen(["in.txt": "v1"])
        try ws.write("pipeline.yaml", "stages:\n  s:\n    cmd: mkdir -p out && cp in.txt out/a && echo ran >> runs.log\n    deps: [in.txt]\n    outs: [out]\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        let lockV1 = try ws.read("pipeline.lock")
        // The only entry so far: the one for in.txt = v1.
        let runs = ws.path(".mlv/cache/runs")
        let top = try FS.list(runs).map(\.name)
        #expect(top.count == 1)
        let keyFolder = runs + "/" + top[0] + "/" + (try FS.list(runs + "/" + top[0]).map(\.name)[0])
        let entryName = try FS.list(keyFolder).map(\.name)[0]
        let entry = try FS.readText(keyFolder + "/" + entryName)
        try ws.write("in.txt", "v2")
        #expect(try ws.mlv(["repro"]).status == 0)
        try FS.remove(ws.path("runs.log"))

        // An entry that lies about the size and file count of the real objects.
        let lying = entry.replacingOccurrences(of: "\t2\t1\tout", with: "\t123456789\t42\tout")
        #expect(lying != entry, "\(entry)")
        try FS.remove(keyFolder + "/" + entryName)
        try FS.writeFile(keyFolder + "/" + SHA256Hasher.hex(lying), Array(lying.utf8))
        try ws.write("in.txt", "v1")
        var r = try ws.mlv(["repro"])
        #expect(r.status == 0 && r.stdout.contains("restored from the run-cache"), "\(r)")
        #expect(try ws.read("pipeline.lock") == lockV1)
        #expect(!ws.exists("runs.log"))

        // An entry naming a manifest whose path leaves the folder.
        let bad = "mlv-manifest 1\n" + SHA256Hasher.hex("x") + "\t1\t../escape\n"
        let badHash = SHA256Hasher.hex(bad)
        try FS.makeDirectories(ws.path(".mlv/cache/sha256/" + badHash.prefix(2)))
        try FS.writeFile(ws.path(".mlv/cache/sha256/" + badHash.prefix(2) + "/" + badHash.dropFirst(2) + ".dir"), Array(bad.utf8))
        let pointing = "mlv-run 1\n\(badHash).dir\t1\t1\tout\n"
        for name in try FS.list(keyFolder).map(\.name) { try FS.remove(keyFolder + "/" + name) }
        try FS.writeFile(keyFolder + "/" + SHA256Hasher.hex(pointing), Array(pointing.utf8))
        try ws.write("in.txt", "v2")
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.write("in.txt", "v1")
        r = try ws.mlv(["repro"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("mlv: warning: a run-cache entry of stage 's' names objects mlv cannot use ("), "\(r)")
        #expect(try ws.read("runs.log") == "ran\n")
        #expect(try ws.read("out/a") == "v1")
        #expect(!ws.exists("escape"))
    }

    /// Metrics kept in git (cache: false) are restored by the run-cache too; a changed key
    /// inside a whole params section is named.
    @Test func runCacheRestoresUncachedMetrics() throws {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "train:\n  lr: 1\n  epochs: 2\n",
            "pipeline.yaml": "stages:\n  t:\n    cmd: >-\n      echo t >> runs.log && echo ${train.lr} > m.bin && echo '{\"lr\": ${train.lr}}' > score.json\n    params: [train]\n    outs: [m.bin]\n    metrics: [{score.json: {cache: false}}]\n",
        ])
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.write("params.yaml", "train:\n  lr: 2\n  epochs: 2\n")
        #expect(try ws.mlv(["repro", "--check"]).stdout == "t: changed command; changed params: train.lr\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.write("params.yaml", "train:\n  lr: 1\n  epochs: 2\n")
        let r = try ws.mlv(["repro"])
        #expect(r.stdout == "Stage 't' is cached: outputs restored from the run-cache, command not run\n", "\(r)")
        #expect(try ws.read("score.json") == "{\"lr\": 1}\n" && ws.read("m.bin") == "1\n")
        #expect(try ws.takeRuns() == ["t", "t"])
        #expect(try ws.read(".gitignore") == "/m.bin\n", "the uncached metrics stay out of .gitignore")
        #expect(try FS.status(ws.path("score.json"))!.mode & 0o200 != 0, "a writable copy")
    }

    @Test func alwaysChangedPersistAndFrozen() throws {
        let ws = try TestWorkspace()
        try ws.gen([
            ".gitignore": "/runs.log\n",
            "pipeline.yaml": """
            stages:
              clock:
                cmd: echo clock >> runs.log && echo tick >> ticks && cp ticks clock.txt
                outs: [clock.txt]
                always_changed: true
              grow:
                cmd: echo grow >> runs.log && echo line >> grown.txt
                outs: [{grown.txt: {persist: true}}]
              frozen:
                cmd: echo frozen >> runs.log && cp clock.txt frozen.txt
                deps: [clock.txt]
                outs: [frozen.txt]
                frozen: true

            """,
        ])
        let first = try ws.mlv(["repro"])
        #expect(first.status == 0 && first.stdout.contains("Stage 'frozen' is frozen, skipping\n"), "\(first)")
        #expect(try ws.takeRuns() == ["clock", "grow"])
        // always_changed runs every time; the unchanged stage does not; the frozen one never.
        #expect(try ws.mlv(["repro", "--check"]).stdout == "clock: always changed\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.takeRuns() == ["clock"])
        // A forced run keeps a persist out (the command appends to it) and runs the frozen stage too.
        #expect(try ws.mlv(["repro", "-f"]).status == 0)
        #expect(try ws.takeRuns() == ["clock", "grow", "frozen"])
        #expect(try ws.read("grown.txt") == "line\nline\n")
        #expect(try ws.read("frozen.txt") == "tick\ntick\ntick\n")
    }

    @Test func parallelFanOut() throws {
        let ws = try TestWorkspace()
        var yaml = "stages:\n  source:\n    cmd: echo go > src.txt\n    outs: [src.txt]\n"
        for n in ["a", "b", "c"] {
            yaml += "  \(n):\n    cmd: sleep 1 && echo hello from \(n) && cp src.txt \(n).txt\n    deps: [src.txt]\n    outs: [\(n).txt]\n"
        }
        yaml += "  join:\n    cmd: cat a.txt b.txt c.txt > all.txt\n    deps: [a.txt, b.txt, c.txt]\n    outs: [all.txt]\n"
        try ws.write("pipeline.yaml", yaml)
        let start = MonotonicClock.monotonicSeconds()
        let r = try ws.mlv(["repro", "-j", "3"])
        let wall = MonotonicClock.monotonicSeconds() - start
        #expect(r.status == 0, "\(r)")
        #expect(wall < 2.9, "three 1-second stages at once took \(wall) s (one after the other: over 3 s)")
        for n in ["a", "b", "c"] { #expect(r.stdout.contains("[\(n)] hello from \(n)\n")) }
        #expect(try ws.read("all.txt") == "go\ngo\ngo\n")
        let lock = try ws.read("pipeline.lock")
        let order = ["  source:", "  a:", "  b:", "  c:", "  join:"].map { lock.range(of: "\n" + $0 + "\n")!.lowerBound }
        #expect(order == order.sorted(), "stages in pipeline order")
        // The same lock as a sequential run.
        try FS.remove(ws.path("pipeline.lock"))
        #expect(try ws.mlv(["repro", "--no-run-cache"]).status == 0)
        #expect(try ws.read("pipeline.lock") == lock)
    }

    /// `-j 4` means four commands at once even on one core (stages used to start on Dispatch's
    /// pool, as wide as the machine has cores): four 1-second stages take about 1 s, not 4.
    @Test func jobsAreHonouredOnOneCore() throws {
        let ws = try TestWorkspace()
        var yaml = "stages:\n"
        for n in ["a", "b", "c", "d"] { yaml += "  \(n):\n    cmd: sleep 1 && echo \(n) > \(n).txt\n    outs: [\(n).txt]\n" }
        try ws.write("pipeline.yaml", yaml)
        let start = MonotonicClock.monotonicSeconds()
        let r = try runProcess("/usr/bin/taskset", ["-c", "0", mlvBinary, "repro", "-j", "4", "--no-run-cache"], cwd: ws.root, env: ws.env)
        let wall = MonotonicClock.monotonicSeconds() - start
        #expect(r.status == 0, "\(r)")
        #expect(wall < 1.8, "four 1-second stages with -j 4 on one core took \(wall) s")
        for n in ["a", "b", "c", "d"] { #expect(try ws.read("\(n).txt") == "\(n)\n") }
    }

    /// kill -9 of mlv takes the stage's whole process group with it: nothing the command started
    /// writes an out after mlv is gone. A `wait` in the command still works (the watcher that
    /// does this is not the command shell's child).
    @Test func aStageDiesWithMLV() throws {
        let ws = try TestWorkspace()
        try ws.write("pipeline.yaml", "stages:\n  s:\n    cmd: (sleep 2; echo late > late.txt) & sleep 2; echo done > out.txt\n    outs: [out.txt]\n")
        try ws.killNine(["repro"], afterMicroseconds: 700_000)
        usleep(3_000_000)
        #expect(!ws.exists("late.txt") && !ws.exists("out.txt"), "a stage command outlived mlv")
        try ws.write("pipeline.yaml", "stages:\n  s:\n    cmd: (sleep 0.2; echo a > a.txt) & (sleep 0.3; echo b > b.txt) & wait; cat a.txt b.txt > out.txt\n    outs: [out.txt]\n")
        let r = try ws.mlv(["repro"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.read("out.txt") == "a\nb\n")
    }

    @Test func targetsSingleItemAndDownstream() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro", "features"]).status == 0)
        #expect(try ws.takeRuns() == ["prepare", "features"])
        try ws.write("raw.txt", "z\ny\nx\nw\n")
        #expect(try ws.mlv(["repro", "-s", "features"]).status == 0)
        #expect(try ws.takeRuns() == [])
        #expect(try ws.mlv(["repro", "--downstream", "prepare"]).status == 0)
        #expect(try ws.takeRuns() == ["prepare", "features", "train"])
        #expect(try ws.mlv(["repro", "-f", "-s", "train"]).status == 0)
        #expect(try ws.takeRuns() == ["train"])
        let r = try ws.mlv(["repro", "trian"])
        #expect(r.stderr == "mlv: error: no stage named 'trian' in pipeline.yaml\nhint: did you mean 'train'?\n")
    }

    @Test func commitWithMessageAndEnvironment() throws {
        let ws = try TestWorkspace()
        try ws.write("pipeline.yaml", "stages:\n  env:\n    cmd: echo \"$MLV_ROOT $DVC_ROOT $(pwd)\" > ../where.txt\n    wdir: sub\n    outs: [../where.txt]\n")
        try FS.makeDirectories(ws.path("sub"))
        let r = try ws.mlv(["repro", "-m", "run the pipeline"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("committed "))
        let root = FS.realPath(ws.root)!
        #expect(try ws.read("where.txt") == "\(root) \(root) \(root)/sub\n")
        #expect(try ws.git(["log", "--format=%s"]).stdout == "run the pipeline\n")
        #expect(try ws.git(["show", "--name-only", "--format="]).stdout.contains("pipeline.lock"))
    }
}
