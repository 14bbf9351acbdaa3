import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Pipeline files in any folder, as DVC keeps `dvc.yaml` files: each with its lock beside it,
/// paths and `wdir` relative to its folder, stages addressed `FILE:STAGE` or by a unique name,
/// one DAG across files. Checked side by side with DVC 3.67 on the same project.
@Suite struct PipelineFoldersTests {
    /// Three pipeline files: a stage climbing to the root with `wdir: ../..` and stage `vars`, a
    /// `foreach` over top-level `vars` of another file, params in two files, a stage in its own
    /// folder reading `../../`. `name` is the pipeline file's name (dvc.yaml or pipeline.yaml).
    static func project(_ ws: TestWorkspace, name: String) throws {
        try ws.gen([
            "data/raw.txt": "a\nb\nc\nd\ne\n",
            "params.yaml": "lines: 3\n",
            "conf/train.yaml": "train:\n  epochs: 2\n  seeds: [1, 2]\n",
            "pipelines/prep/params.yaml": "prefix: P\n",
            "pipelines/prep/\(name)": """
                stages:
                  prep:
                    wdir: ../..
                    vars: [params.yaml]
                    cmd: head -n ${lines} data/raw.txt | sed 's/^/${prefix}/' > prep.txt
                    deps: [data/raw.txt]
                    params: [lines]
                    outs: [prep.txt]

                """,
            "pipelines/train/\(name)": """
                vars: [../../conf/train.yaml]
                stages:
                  train:
                    foreach: ${train.seeds}
                    do:
                      wdir: ../..
                      cmd: (cat prep.txt; echo seed ${item} epochs ${train.epochs}) > model-${item}.txt
                      deps: [prep.txt]
                      params: [{conf/train.yaml: [train.epochs]}]
                      outs: ["model-${item}.txt"]
                  local:
                    cmd: wc -l ../../prep.txt | cut -d' ' -f1 > count.txt
                    deps: [../../prep.txt]
                    outs: [count.txt]

                """,
        ])
    }

    /// The stages a run printed as running, in order, with DVC's file names made mlv's.
    static func ran(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("Running stage '"), let end = line.lastIndex(of: "'") else { return nil }
            return String(line[line.index(line.startIndex, offsetBy: 15)..<end]).replacingOccurrences(of: "dvc.yaml", with: "pipeline.yaml")
        }
    }

    /// The edges of `dag --dot`, pointer files and pipeline files named as mlv names them.
    static func edges(_ dot: String) -> Set<String> {
        Set(dot.split(separator: "\n").filter { $0.contains("->") }.map {
            $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ";", with: "")
                .replacingOccurrences(of: "dvc.yaml", with: "pipeline.yaml").replacingOccurrences(of: ".dvc\"", with: ".mlv\"")
        })
    }

    @Test func dvcAndMLVRunTheSameStagesAndWriteTheSameOutputs() throws {
        let dvc = try TestWorkspace(initialize: false)
        try Self.project(dvc, name: "dvc.yaml")
        try dvc.dvc(["init", "-q"])
        try dvc.dvc(["add", "-q", "data/raw.txt"])
        let ws = try TestWorkspace()
        try Self.project(ws, name: "pipeline.yaml")
        #expect(try ws.mlv(["add", "data/raw.txt"]).status == 0)

        let dvcRun = try dvc.dvc(["repro", "-P"])
        let run = try ws.mlv(["repro"])
        #expect(run.status == 0, "\(run)")
        let expected = ["pipelines/prep/pipeline.yaml:prep", "pipelines/train/pipeline.yaml:train@1",
                        "pipelines/train/pipeline.yaml:train@2", "pipelines/train/pipeline.yaml:local"]
        #expect(Self.ran(dvcRun.stdout) == expected, "\(dvcRun)")
        #expect(Self.ran(run.stdout) == expected, "\(run)")
        #expect(Self.edges(try dvc.dvc(["dag", "--dot"]).stdout) == Self.edges(try ws.mlv(["dag", "--dot"]).stdout))
        for out in ["prep.txt", "model-1.txt", "model-2.txt", "pipelines/train/count.txt"] {
            #expect(try ws.read(out) == dvc.read(out), "\(out)")
        }
        // Each file's lock beside it; nothing at the root, where there is no pipeline file.
        #expect(ws.exists("pipelines/prep/pipeline.lock") && ws.exists("pipelines/train/pipeline.lock") && !ws.exists("pipeline.lock"))
        #expect(try ws.read("pipelines/train/pipeline.lock").contains("\n  train@1:\n"))
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
        #expect(try ws.mlv(["status", "--check"]).stdout == "Data is up to date.\n")

        // A param of one file changes: both rerun exactly the stages that read it.
        for w in [dvc, ws] { try w.write("conf/train.yaml", "train:\n  epochs: 3\n  seeds: [1, 2]\n") }
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 1 && check.stdout.contains("pipelines/train/pipeline.yaml:train@1"), "\(check)")
        let again = ["pipelines/train/pipeline.yaml:train@1", "pipelines/train/pipeline.yaml:train@2"]
        #expect(Self.ran(try dvc.dvc(["repro", "-P"]).stdout) == again)
        #expect(Self.ran(try ws.mlv(["repro"]).stdout) == again)
        #expect(try ws.read("model-2.txt") == dvc.read("model-2.txt"))
    }

    @Test func stagesAreAddressedByFileOrUniqueName() throws {
        let ws = try TestWorkspace()
        try Self.project(ws, name: "pipeline.yaml")
        #expect(try ws.mlv(["add", "data/raw.txt"]).status == 0)
        // FILE:STAGE runs that stage and what it depends on, in another file too.
        let one = try ws.mlv(["repro", "pipelines/train/pipeline.yaml:local"])
        #expect(Self.ran(one.stdout) == ["pipelines/prep/pipeline.yaml:prep", "pipelines/train/pipeline.yaml:local"], "\(one)")
        // A bare name one file defines; a foreach group by name.
        #expect(Self.ran(try ws.mlv(["repro", "train"]).stdout) == ["pipelines/train/pipeline.yaml:train@1", "pipelines/train/pipeline.yaml:train@2"])
        // The file: all its stages. Relative to where the command runs.
        #expect(try ws.mlv(["repro", "-f", "pipeline.yaml"], cwd: "pipelines/prep").stdout.contains("Running stage 'pipelines/prep/pipeline.yaml:prep'"))
        #expect(Self.ran(try ws.mlv(["repro", "-f", "-s", "pipeline.yaml:local"], cwd: "pipelines/train").stdout) == ["pipelines/train/pipeline.yaml:local"])

        // Two files define `check`: the bare name is ambiguous at the root, and means the stage
        // of the folder's own file inside one of them.
        try ws.write("pipelines/prep/pipeline.yaml", try ws.read("pipelines/prep/pipeline.yaml") + "  check:\n    cmd: echo prep\n")
        try ws.write("pipelines/train/pipeline.yaml", try ws.read("pipelines/train/pipeline.yaml") + "  check:\n    cmd: echo train\n")
        try BadInputTests().expectRefused(ws, ["repro", "check"],
            message: "stage name 'check' is defined in more than one pipeline file: pipelines/prep/pipeline.yaml:check, pipelines/train/pipeline.yaml:check",
            hint: "name it with its file, FILE:STAGE (one of those above)")
        let here = try ws.mlv(["repro", "check"], cwd: "pipelines/train")
        #expect(Self.ran(here.stdout) == ["pipelines/train/pipeline.yaml:check"], "\(here)")
        #expect(try ws.mlv(["stage", "list"]).stdout.contains("pipelines/prep/pipeline.yaml:check"))
        // stage add writes the pipeline file of the folder it runs in, its paths relative to it.
        let added = try ws.mlv(["stage", "add", "-n", "lines", "-d", "count.txt", "-o", "lines.txt", "cp", "count.txt", "lines.txt"], cwd: "pipelines/train")
        #expect(added.stdout == "Added stage 'lines' to pipelines/train/pipeline.yaml\n", "\(added)")
        #expect(Self.ran(try ws.mlv(["repro", "pipelines/train/pipeline.yaml:lines"]).stdout).last == "pipelines/train/pipeline.yaml:lines")
        #expect(ws.exists("pipelines/train/lines.txt"))
        try BadInputTests().expectRefused(ws, ["stage", "add", "-n", "lines", "-o", "x.txt", "touch", "x.txt"], cwd: "pipelines/train",
                                          message: "stage 'lines' already exists in pipelines/train/pipeline.yaml", hint: "choose another name, or edit pipelines/train/pipeline.yaml")
    }

    @Test func outsOfEveryFileAreCommittedPushedAndPulled() throws {
        let ws = try TestWorkspace()
        try Self.project(ws, name: "pipeline.yaml")
        #expect(try ws.mlv(["add", "data/raw.txt"]).status == 0)
        #expect(try ws.mlv(["repro"]).status == 0)
        let remote = ws.dir.path + "/remote"
        #expect(try ws.mlv(["remote", "add", "-d", "store", remote]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "pipelines"]).status == 0)
        let push = try ws.mlv(["push"])
        #expect(push.stdout.hasPrefix("5 files pushed"), "\(push)")
        // gc keeps what the lock files below the root record.
        #expect(try ws.mlv(["gc", "--workspace", "-f"]).status == 0)
        let clone = ws.dir.path + "/clone"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone], cwd: ws.dir.path, env: ws.env).status == 0)
        let pull = try runMLV(["pull"], cwd: clone, env: ws.env)
        #expect(pull.status == 0, "\(pull)")
        for out in ["prep.txt", "model-1.txt", "pipelines/train/count.txt"] {
            #expect(try FS.readText(clone + "/" + out) == ws.read(out), "\(out)")
        }
        #expect(try runMLV(["repro", "--check"], cwd: clone, env: ws.env).status == 0)
        // The committed lock files are what `--all-commits` pushes, and fetches in the clone.
        #expect(try ws.mlv(["push", "--all-commits"]).stdout.contains("(5 already there)"))
        try FS.removeTree(clone + "/.mlv/cache")
        #expect(try runMLV(["fetch", "--all-commits"], cwd: clone, env: ws.env).stdout.hasPrefix("5 files fetched"))

        // Removing a stage of a file below the root edits that file and its lock.
        #expect(try ws.mlv(["remove", "local"]).status == 0)
        #expect(try !ws.read("pipelines/train/pipeline.yaml").contains("local:") && !ws.read("pipelines/train/pipeline.lock").contains("local:"))
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
    }

    @Test func badPipelineFilesAreRefused() throws {
        let ws = try TestWorkspace()
        try ws.write("in.txt", "x")
        try ws.write("a/pipeline.yaml", "stages:\n  one:\n    cmd: cp ../in.txt ../out.txt\n    deps: [../in.txt]\n    outs: [../out.txt]\n")
        try ws.write("b/pipeline.yaml", "stages:\n  two:\n    cmd: cp ../in.txt ../out.txt\n    outs: [../out.txt]\n")
        try BadInputTests().expectRefused(ws, ["repro"], message: "output 'out.txt' is produced by more than one stage: 'a/pipeline.yaml:one', 'b/pipeline.yaml:two'",
                                          hint: "give each output to one stage only")
        // A cycle across files.
        try ws.write("b/pipeline.yaml", "stages:\n  two:\n    cmd: cp ../out.txt ../in.txt\n    deps: [../out.txt]\n    outs: [../in.txt]\n")
        try FS.remove(ws.path("in.txt"))
        try BadInputTests().expectRefused(ws, ["repro"], message: "the pipeline has a cycle: a/pipeline.yaml:one -> b/pipeline.yaml:two -> a/pipeline.yaml:one")
        // wdir (and a path) that climbs out of the workspace.
        try ws.write("b/pipeline.yaml", "stages:\n  two:\n    wdir: ../..\n    cmd: ls\n")
        try BadInputTests().expectRefused(ws, ["repro"], message: "b/pipeline.yaml:3:11: path '../..' escapes the workspace",
                                          hint: "paths in pipeline.yaml are relative to the stage's wdir and stay inside the workspace")
        try FS.removeTree(ws.path("b"))
        // A pipeline file inside data: a folder `mlv add` tracks, a stage's out.
        try ws.write("data/pipeline.yaml", "stages: {}\n")
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try BadInputTests().expectRefused(ws, ["repro"], message: "'data/pipeline.yaml' is inside 'data', tracked by 'data.mlv', which is data, not part of the pipeline",
                                          hint: "move the pipeline file out of the tracked folder (a tracked folder is stored and restored whole)")
        try FS.removeTree(ws.path("data"))
        try FS.remove(ws.path("data.mlv"))
        try ws.write("a/pipeline.yaml", "stages:\n  one:\n    cmd: mkdir -p ../made\n    outs: [../made]\n")
        try ws.write("made/sub/pipeline.yaml", "stages: {}\n")
        try BadInputTests().expectRefused(ws, ["repro"], message: "'made/sub/pipeline.yaml' is inside 'made', an out of stage 'a/pipeline.yaml:one', which is data, not part of the pipeline",
                                          hint: "move the pipeline file out of the tracked folder (a tracked folder is stored and restored whole)")
    }

    @Test func aDVCPipelineInAnyFolderIsNeverUpToDate() throws {
        let ws = try TestWorkspace()
        try ws.write("pipelines/train/dvc.yaml", "stages:\n  t:\n    cmd: echo\n")
        let check = try ws.mlv(["status", "--check"])
        #expect(check.status == 1 && check.stdout.contains("pipelines/train/dvc.yaml"), "\(check)")
        let repro = try ws.mlv(["repro", "--check"])
        #expect(repro.status == 1 && repro.stderr.contains("dvc.yaml and no pipeline.yaml"), "\(repro)")
        // Beside a pipeline of mlv's, the unread DVC file is still named.
        try ws.write("pipeline.yaml", "stages:\n  s:\n    cmd: echo\n")
        let mixed = try ws.mlv(["status", "--check"])
        #expect(mixed.status == 1 && mixed.stdout.contains("pipelines/train/dvc.yaml: a DVC pipeline mlv does not read"), "\(mixed)")
    }
}
