import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Where DVC users rely on DVC's behaviour, mlv behaves the same (issue 19's list, the parts
/// that landed): `always_changed` stages alone fail no check, stages run the same mlv, DVC
/// commands mlv lacks say so by name, no `.gitignore` inside a folder git ignores.
@Suite struct DVCBehaviourTests {
    @Test func stagesRunTheMLVThatRunsRepro() throws {
        let ws = try TestWorkspace()
        let fake = ws.dir.path + "/fake-bin"
        try FS.makeDirectories(fake)
        try AtomicFile.write("#!/bin/sh\necho fake mlv\n", to: fake + "/mlv", mode: 0o755)
        try ws.write("pipeline.yaml", "stages:\n  v:\n    cmd: mlv version > v.txt\n    outs: [v.txt]\n")
        // Another mlv first on PATH, and repro started by its full path.
        let r = try ws.mlv(["repro"], env: ["PATH": fake + ":/usr/bin:/bin"])
        #expect(r.status == 0, "\(r)")
        let version = try ws.read("v.txt")
        #expect(version.hasPrefix("mlv "), "\(version)")
        let without = try ws.mlv(["repro", "-f"], env: ["PATH": "/usr/bin:/bin"])
        #expect(try without.status == 0 && ws.read("v.txt").hasPrefix("mlv "), "\(without)")
    }

    @Test func anAlwaysChangedStageAloneFailsNoCheck() throws {
        let ws = try TestWorkspace()
        try ws.write("in.txt", "1")
        try ws.write("pipeline.yaml", """
            stages:
              stamp:
                cmd: date +%s%N > stamp.txt
                outs: [stamp.txt]
                always_changed: true
              copy:
                cmd: cp in.txt out.txt
                deps: [in.txt]
                outs: [out.txt]

            """)
        #expect(try ws.mlv(["repro"]).status == 0)
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 0 && check.stdout.contains("stamp") && check.stdout.contains("always changed"), "\(check)")
        let status = try ws.mlv(["status", "--check"])
        #expect(status.status == 0 && status.stdout == "stamp: always changed\n", "\(status)")
        // DVC 3.67 on the same pipeline: the stage named as always changed, exit 0.
        let dvc = try TestWorkspace(initialize: false)
        try dvc.write("in.txt", "1")
        try dvc.write("dvc.yaml", try ws.read("pipeline.yaml"))
        try dvc.dvc(["init", "-q"])
        try dvc.dvc(["repro", "-q"])
        let theirs = try DVCPeer.run(["status"], cwd: dvc.root, env: dvc.env)
        #expect(theirs.status == 0 && theirs.stdout == "stamp:\n\talways changed\n", "\(theirs)")
        try ws.write("in.txt", "2")
        #expect(try ws.mlv(["repro", "--check"]).status == 1)
        #expect(try ws.mlv(["status", "--check"]).status == 1)
    }

    @Test func dvcCommandsMLVLacksAreNamed() throws {
        let ws = try TestWorkspace()
        try BadInputTests().expectRefused(ws, ["queue", "start", "-j", "2"], message: "'queue' is not an mlv command yet (DVC's `dvc queue`)",
                                          hint: "queue experiments with `mlv exp run --queue -S …` and run them with `mlv exp run --run-all -j N`")
        try BadInputTests().expectRefused(ws, ["freeze", "train"], message: "'freeze' is not an mlv command yet (DVC's `dvc freeze`)",
                                          hint: "set `frozen: true` on the stage in pipeline.yaml")
    }

    @Test func noGitignoreInsideAFolderGitIgnores() throws {
        let ws = try TestWorkspace()
        try ws.write(".gitignore", "/build/\n")
        try ws.gen(["build/model.bin": "m", "data/x.bin": "x"])
        #expect(try ws.mlv(["add", "build/model.bin", "data/x.bin"]).status == 0)
        #expect(try !ws.exists("build/.gitignore") && ws.read("data/.gitignore") == "/x.bin\n")
        #expect(try ws.mlv(["status", "--check"]).status == 0)
    }

    /// `params diff` and `metrics diff` beside DVC 3.67 on the same project: the same rows
    /// (params.yaml and top-level params files whole, other files only the declared keys; `--all`
    /// adds unchanged rows) and the same numbers (`--precision N`: N digits after the point).
    @Test func paramsAndMetricsDiffShowWhatDVCShows() throws {
        let dvc = try TestWorkspace(initialize: false)
        let ws = try TestWorkspace()
        let files = [
            "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\nunused: 1\n",
            "extra.yaml": "a: 1\nb: 2\n",
            "other.yaml": "x: 1\ny: 2\n",
            "metrics.json": "{\"acc\": 0.912345678, \"loss\": 12.3456789, \"n\": 1234567}\n",
        ]
        let pipeline = "params: [extra.yaml]\nmetrics: [metrics.json]\nstages:\n  train:\n    cmd: echo\n    params: [train.lr, {other.yaml: [x]}]\n"
        try dvc.gen(files.merging(["dvc.yaml": pipeline]) { a, _ in a })
        try ws.gen(files.merging(["pipeline.yaml": pipeline]) { a, _ in a })
        try dvc.dvc(["init", "-q"])
        for w in [dvc, ws] {
            #expect(try w.git(["add", "-A"]).status == 0 && w.git(["commit", "-qm", "v1"]).status == 0)
            try w.gen(["params.yaml": "train:\n  lr: 0.2\n  epochs: 4\nunused: 1\n", "extra.yaml": "a: 1\nb: 3\n", "other.yaml": "x: 2\ny: 3\n",
                       "metrics.json": "{\"acc\": 0.5, \"loss\": 2.00001234, \"n\": 0.000012345}\n"])
        }
        /// The table's rows as sets of cells (column widths differ: DVC pads wider).
        func rows(_ text: String) -> [[String]] { text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) } }
        for args in [["params", "diff"], ["params", "diff", "--all"], ["metrics", "diff"], ["metrics", "diff", "--precision", "2"]] {
            let theirs = rows(try dvc.dvc(args).stdout), ours = rows(try ws.mlv(args).stdout)
            #expect(Set(theirs.dropFirst()) == Set(ours.dropFirst()) && theirs.first == ours.first, "\(args): DVC \(theirs) mlv \(ours)")
        }
        #expect(try ws.mlv(["metrics", "show", "--json"]).stdout.contains("2.00001234"))
        // plots -o DIR/ (or an existing folder) writes DIR/index.html; a file name stays a file.
        let dir = try ws.mlv(["plots", "show", "-o", "report/"])
        #expect(dir.status == 0 && dir.stdout == "0 plots written to report/index.html\n" && ws.exists("report/index.html"), "\(dir)")
        #expect(try ws.mlv(["plots", "show", "-o", "report"]).stdout == "0 plots written to report/index.html\n")
        #expect(try ws.mlv(["plots", "show", "-o", "p.html"]).status == 0 && ws.exists("p.html"))
        // DVC 3.67 reads -o DIR/ the same way.
        try dvc.write("p.csv", "x,y\n1,2\n")
        try dvc.write("dvc.yaml", "plots: [p.csv]\n")
        try dvc.dvc(["plots", "show", "-o", "report/"])
        #expect(dvc.exists("report/index.html"))
    }

    /// A DVC project mlv has not been pointed at is never "up to date".
    @Test func aDVCPipelineAloneIsNeverUpToDate() throws {
        let ws = try TestWorkspace()
        try ws.write("dvc.yaml", "stages:\n  train:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n")
        let status = try ws.mlv(["status", "--check"])
        #expect(status.status == 1 && status.stdout == "dvc.yaml: a DVC pipeline mlv does not read; `mlv migrate` converts it\n", "\(status)")
        for args in [["repro", "--check"], ["repro"], ["dag"]] {
            let r = try ws.mlv(args)
            #expect(r.status == 1 && r.stderr.hasPrefix("mlv: error: this workspace has DVC's dvc.yaml and no pipeline.yaml: its pipeline has not been read, let alone run\nhint: mlv reads pipeline.yaml: `git mv dvc.yaml pipeline.yaml`"), "\(args) \(r)")
        }
        #expect(!ws.exists("out.txt"))
    }

    /// `dag` shows tracked data as nodes, as DVC shows `.dvc` files.
    @Test func dagShowsTrackedDataAsNodes() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/raw/a.txt": "a"])
        #expect(try ws.mlv(["add", "data/raw"]).status == 0)
        try ws.write("pipeline.yaml", "stages:\n  prepare:\n    cmd: cp data/raw/a.txt p.txt\n    deps: [data/raw/a.txt]\n    outs: [p.txt]\n  train:\n    cmd: cp p.txt m.txt\n    deps: [p.txt]\n    outs: [m.txt]\n")
        #expect(try ws.mlv(["dag"]).stdout == "data/raw.mlv\nprepare <- data/raw.mlv\ntrain <- prepare\n")
        #expect(try ws.mlv(["dag", "--dot"]).stdout == "strict digraph {\n\t\"data/raw.mlv\";\n\t\"prepare\";\n\t\"train\";\n\t\"data/raw.mlv\" -> \"prepare\";\n\t\"prepare\" -> \"train\";\n}\n")
        #expect(try ws.mlv(["dag", "train"]).stdout == "data/raw.mlv\nprepare <- data/raw.mlv\ntrain <- prepare\n")
    }

    /// Stage-level `vars`, as DVC: inline values and params files (keys picked), for that stage only.
    @Test func stageVarsAreThatStagesOwn() throws {
        let ws = try TestWorkspace()
        try ws.write("params.yaml", "size: 1\n")
        try ws.write("conf/train.yaml", "model:\n  depth: 7\nunused: 0\n")
        try ws.write("pipeline.yaml", """
            stages:
              train:
                vars:
                  - conf/train.yaml:model
                  - tag: big
                cmd: echo ${model.depth} ${tag} ${size} > train.txt
                outs: [train.txt]
              plain:
                cmd: echo ${size} > plain.txt
                outs: [plain.txt]
              each:
                foreach: [a, b]
                do:
                  vars:
                    - suffix: x
                  cmd: echo ${item}${suffix} > each-${item}.txt
                  outs: ["each-${item}.txt"]

            """)
        let r = try ws.mlv(["repro"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.read("train.txt") == "7 big 1\n" && ws.read("plain.txt") == "1\n" && ws.read("each-b.txt") == "bx\n")
        // A stage's vars are not another's.
        try ws.write("pipeline.yaml", "stages:\n  a:\n    vars: [{v: 1}]\n    cmd: echo ${v}\n  b:\n    cmd: echo ${v}\n")
        let leak = try ws.mlv(["repro", "--dry"])
        #expect(leak.status == 2 && leak.stderr.contains("'v'"), "\(leak)")
        try ws.write("pipeline.yaml", "stages:\n  a:\n    vars: [conf/train.yaml:modle]\n    cmd: echo\n")
        let typo = try ws.mlv(["repro", "--dry"])
        #expect(typo.status == 2 && typo.stderr.contains("'modle' is not in conf/train.yaml") && typo.stderr.contains("did you mean 'model'?"), "\(typo)")
    }
}
