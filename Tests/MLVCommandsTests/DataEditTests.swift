import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv move` and `mlv remove`, through the binary, on real git.
@Suite struct DataEditTests {
    func workspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen(["model.bin": "m1", "data/a": "a", "data/b/c": "c", "sub/keep.txt": "code"])
        #expect(try ws.mlv(["add", "model.bin", "data"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "v1"]).status == 0)
        return ws
    }

    @Test func moveCarriesDataPointerAndIgnoreLine() throws {
        let ws = try workspace()
        let r = try ws.mlv(["move", "model.bin", "sub"])
        #expect(r.status == 0 && r.stdout == "moved model.bin -> sub/model.bin\n", "\(r)")
        #expect(try ws.read("sub/model.bin") == "m1" && !ws.exists("model.bin") && !ws.exists("model.bin.mlv"))
        #expect(try ws.read("sub/model.bin.mlv").hasPrefix("outs:\n- path: model.bin\n"))
        #expect(try ws.read(".gitignore") == "/data\n" && ws.read("sub/.gitignore") == "/model.bin\n")
        #expect(try ws.git(["status", "--porcelain"]).stdout == "M  .gitignore\nA  sub/.gitignore\nR  model.bin.mlv -> sub/model.bin.mlv\n")
        #expect(try ws.mlv(["status", "--check"]).status == 0)

        // A folder, committed with -m; only the move's files are in the commit.
        let m = try ws.mlv(["mv", "data.mlv", "dataset", "-m", "Rename the data"])
        #expect(m.status == 0 && m.stdout.hasPrefix("moved data -> dataset\ncommitted "), "\(m)")
        let shown = try ws.git(["show", "--name-status", "--format=", "HEAD"]).stdout.split(separator: "\n")
        #expect(shown.count == 2 && shown[0] == "M\t.gitignore" && shown[1].hasPrefix("R") && shown[1].hasSuffix("\tdata.mlv\tdataset.mlv"), "\(shown)")
        #expect(try ws.read("dataset/b/c") == "c")
        try FS.removeTree(ws.path("dataset"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("dataset/b/c") == "c")
    }

    @Test func movesThatWouldLoseTrackOrCrossABoundaryAreRefused() throws {
        let ws = try workspace()
        try ws.write("pipeline.yaml", "stages:\n  make:\n    cmd: echo x > out.txt\n    outs: [out.txt]\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        try ws.gen(["taken": "someone else's"])
        let bad = BadInputTests()
        try bad.expectRefused(ws, ["move", "out.txt", "moved.txt"], message: "'out.txt' is an output of stage 'make'",
                              hint: "rename it in pipeline.yaml (the stage's outs and the command), then run `mlv repro`")
        try bad.expectRefused(ws, ["move", "model.bin", "taken"], message: "'taken' already exists", hint: "remove it first, or choose another destination")
        try bad.expectRefused(ws, ["move", "model.bin", "data/inside"], message: "'data/inside' would lie inside tracked data 'data'",
                              hint: "a move may not cross into or out of a tracked folder: choose a path outside it")
        try bad.expectRefused(ws, ["move", "data/a", "a"], message: "'data/a' is already tracked as part of 'data'")
        try bad.expectRefused(ws, ["move", "sub/keep.txt", "k"], message: "'sub/keep.txt' is not tracked by mlv")
        try bad.expectRefused(ws, ["move", "model.bin", "../out"], message: "'../out' is outside the workspace")
        try bad.expectRefused(ws, ["move", "model.bin", "a\nb"], message: "'a\\nb' has a name mlv cannot track (not valid UTF-8, or a line break)")
        try bad.expectRefused(ws, ["move", "data", "data/x"], message: "cannot move 'data' into itself")
    }

    @Test func removeDropsPointersOrStagesAndWithOutsTheData() throws {
        let ws = try workspace()
        let r = try ws.mlv(["remove", "model.bin.mlv"])
        #expect(r.status == 0 && r.stdout == "removed pointer model.bin.mlv\n", "\(r)")
        #expect(try ws.read("model.bin") == "m1" && !ws.exists("model.bin.mlv"))
        #expect(try ws.read(".gitignore") == "/data\n")
        let o = try ws.mlv(["remove", "data", "--outs"])
        #expect(o.status == 0 && o.stdout == "removed pointer data.mlv\ndeleted data\n", "\(o)")
        #expect(!ws.exists("data") && !ws.exists(".gitignore"))
        #expect(try ws.git(["status", "--porcelain"]).stdout == "D  .gitignore\nD  data.mlv\nD  model.bin.mlv\n?? model.bin\n")

        // A stage: its block goes from pipeline.yaml (comments elsewhere kept), its entry from the lock.
        let pipeline = """
            # the pipeline
            stages:
              first:
                cmd: echo 1 > one.txt
                outs: [one.txt]

              # the second stage
              second:
                cmd: cp one.txt two.txt
                deps: [one.txt]
                outs: [two.txt]
            plots:
              - two.txt

            """
        try ws.write("pipeline.yaml", pipeline)
        #expect(try ws.mlv(["repro"]).status == 0)
        let s = try ws.mlv(["remove", "second", "--outs"])
        #expect(s.status == 0 && s.stdout == "removed stage second\ndeleted two.txt\n", "\(s)")
        #expect(try ws.read("pipeline.yaml") == """
            # the pipeline
            stages:
              first:
                cmd: echo 1 > one.txt
                outs: [one.txt]

              # the second stage
            plots:
              - two.txt

            """)
        #expect(try !ws.read("pipeline.lock").contains("second") && ws.read("pipeline.lock").contains("first"))
        #expect(try ws.read(".gitignore") == "/one.txt\n")
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
        let last = try ws.mlv(["remove", "first"])
        #expect(last.status == 0, "\(last)")
        #expect(try ws.read("pipeline.yaml").hasPrefix("# the pipeline\nstages: {}\n"))
        #expect(try ws.read("one.txt") == "1\n")
    }

    @Test func removeChecksEveryTargetFirst() throws {
        let ws = try workspace()
        try ws.write("pipeline.yaml", "stages:\n  train:\n    foreach: [1, 2]\n    do:\n      cmd: echo ${item} > t${item}.txt\n      outs: [\"t${item}.txt\"]\n")
        let bad = BadInputTests()
        try bad.expectRefused(ws, ["remove", "model.bin", "nothing"], message: "'nothing' is not tracked by mlv")
        try bad.expectRefused(ws, ["remove", "train@1"], message: "'train@1' is one of the stages 'train' generates",
                              hint: "remove the whole group: `mlv remove train`")
        try bad.expectRefused(ws, ["remove", "data/a"], message: "'data/a' is already tracked as part of 'data'")
        let g = try ws.mlv(["remove", "train"])
        #expect(g.status == 0 && g.stdout == "removed stage train\n", "\(g)")
        #expect(try ws.read("pipeline.yaml") == "stages: {}\n")
    }
}
