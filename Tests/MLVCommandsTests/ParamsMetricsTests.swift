import MLVSupport
import MLVTestSupport
import Testing

/// params diff and metrics show|diff read old revisions from git objects (libgit2) and, for
/// cached metrics, from the cache by the hash in that revision's lock.
@Suite struct ParamsMetricsTests {
    func workspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "train:\n  lr: 0.1\n  layers: [8, 16]\n",
            "pipeline.yaml": """
            stages:
              train:
                cmd: >-
                  echo '{"acc": ${train.lr}, "loss": {"test": 1, "train": NaN}}' > metrics.json
                  && echo '{"auc": 0.5}' > cached.json
                params: [train]
                metrics: [{metrics.json: {cache: false}}, cached.json]

            """,
        ])
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "first"]).status == 0)
        return ws
    }

    @Test func paramsDiffAcrossRevisions() throws {
        let ws = try workspace()
        #expect(try ws.mlv(["params", "diff"]).stdout == "No params changed.\n")
        try ws.write("params.yaml", "train:\n  lr: 0.30\n  layers: [8, 32]\n")
        #expect(try ws.mlv(["params", "diff"]).stdout == """
        Path         Param         HEAD     workspace
        params.yaml  train.lr      0.1      0.3
        params.yaml  train.layers  [8, 16]  [8, 32]

        """)
        // repro -m commits the lock with pipeline.yaml, the params it read and uncached metrics.
        #expect(try ws.mlv(["repro", "-m", "second"]).status == 0)
        #expect(try ws.git(["show", "--name-only", "--format="]).stdout == "metrics.json\nparams.yaml\npipeline.lock\n")
        try ws.write("params.yaml", "train:\n  lr: 0.5\n  layers: [8, 32]\n")
        #expect(try ws.mlv(["params", "diff", "HEAD~1", "HEAD", "--md"]).stdout == """
        | Path | Param | HEAD~1 | HEAD |
        |---|---|---|---|
        | params.yaml | train.lr | 0.1 | 0.3 |
        | params.yaml | train.layers | [8, 16] | [8, 32] |

        """)
        #expect(try ws.mlv(["params", "diff", "HEAD~1", "--json"]).stdout.contains("\"train.lr\" : {\n      \"HEAD~1\" : 0.1,\n      \"workspace\" : 0.5\n    }"))
        let bad = try ws.mlv(["params", "diff", "nope"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("mlv: error: "))
    }

    @Test func metricsShowAndDiffAcrossThreeCommits() throws {
        let ws = try workspace()
        #expect(try ws.mlv(["metrics", "show"]).stdout == """
        Path          Metric      workspace
        metrics.json  acc         0.1
        metrics.json  loss.test   1
        metrics.json  loss.train  nan
        cached.json   auc         0.5

        """)
        // Values of different lengths: git's stat check (seconds, same size, same inode) can miss
        // a same-length rewrite within one second, under load, and commit the old metrics.json.
        for lr in ["0.25", "0.3"] {
            try ws.write("params.yaml", "train:\n  lr: \(lr)\n  layers: [8, 16]\n")
            #expect(try ws.mlv(["repro"]).status == 0)
            #expect(try ws.git(["add", "-A"]).status == 0)
            #expect(try ws.git(["commit", "-qm", lr]).status == 0)
        }
        #expect(try ws.mlv(["metrics", "diff", "HEAD~2"]).stdout == """
        Path          Metric  HEAD~2  workspace  Change
        metrics.json  acc     0.1     0.3        0.2

        """)
        // Cached metrics come from the cache, by the hash each revision's lock recorded.
        let shown = try ws.mlv(["metrics", "show", "HEAD~2", "HEAD~1", "HEAD"])
        #expect(shown.stdout == """
        Path          Metric      HEAD~2  HEAD~1  HEAD
        metrics.json  acc         0.1     0.25    0.3
        metrics.json  loss.test   1       1       1
        metrics.json  loss.train  nan     nan     nan
        cached.json   auc         0.5     0.5     0.5

        """, "\(shown)")
        let unchanged = try ws.mlv(["metrics", "diff"])
        #expect(unchanged.stdout == "No metrics changed.\n", "\(unchanged)")
        // Top-level `metrics:` files (not written by a stage) are shown too; CSV: the last row.
        try ws.write("pipeline.yaml", try ws.read("pipeline.yaml") + "metrics: [extra.csv]\n")
        try ws.write("extra.csv", "epoch,acc\n1,0.5\n2,0.75\n")
        #expect(try ws.mlv(["metrics", "show"]).stdout.hasSuffix("extra.csv     epoch       2\nextra.csv     acc         0.75\n"))
    }
}

@Suite struct TOMLParamsTests {
    @Test func tomlParamsAndVars() throws {
        let ws = try TestWorkspace()
        try ws.gen([
            "conf.toml": "[train]\nlr = 0.25\nlayers = [8, 16]\n\n[data]\nname = \"digits\"\n",
            "pipeline.yaml": """
            vars: [conf.toml]
            stages:
              train:
                cmd: echo ${data.name} ${train.lr} > out.txt
                params: [{conf.toml: [train.lr, train.layers]}]
                outs: [out.txt]

            """,
        ])
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.read("out.txt") == "digits 0.25\n")
        #expect(try ws.read("pipeline.lock").contains("    params:\n      conf.toml:\n        train.layers:\n        - 8\n        - 16\n        train.lr: 0.25\n"))
        try ws.write("conf.toml", "[train]\nlr = 0.25\nlayers = [8, 32]\n\n[data]\nname = \"digits\"\n")
        #expect(try ws.mlv(["repro", "--check"]).stdout == "train: changed params: train.layers\n")
        // params diff reads the TOML file as TOML, in the workspace and at a revision.
        #expect(try ws.git(["add", "conf.toml"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "conf"]).status == 0)
        try ws.write("conf.toml", "[train]\nlr = 0.5\nlayers = [8, 32]\n\n[data]\nname = \"digits\"\n")
        #expect(try ws.mlv(["params", "diff"]).stdout == """
        Path       Param     HEAD  workspace
        conf.toml  train.lr  0.25  0.5

        """)
        try ws.write("conf.toml", "[train]\nlr = = 1\n")
        let bad = try ws.mlv(["repro"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("mlv: error: conf.toml:2:"), "\(bad)")
        #expect(bad.stderr.contains("invalid TOML"))
    }

    /// A TOML file nested past 64 levels (a 100 KB dotted header, a dotted key, arrays, inline
    /// tables) is refused before parsing: it used to overflow the stack (SIGSEGV).
    @Test func deeplyNestedTOMLIsRefusedNotACrash() throws {
        let header = "[" + Array(repeating: "a", count: 50_000).joined(separator: ".") + "]\nx = 1\n"
        let key = "ok = 1.5\n" + Array(repeating: "k", count: 70).joined(separator: ".") + " = 1\n"
        let arrays = "x = " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        let inline = "x = {a = 1.5, " + Array(repeating: "b", count: 70).joined(separator: ".") + " = 2}\n"
        for (text, line) in [(header, 1), (key, 2), (arrays, 1), (inline, 1)] {
            let ws = try TestWorkspace()
            try ws.gen(["conf.toml": text, "pipeline.yaml": "stages:\n  s:\n    cmd: 'true'\n    params: [{conf.toml: [x]}]\n"])
            let before = try ws.snapshot()
            let r = try ws.mlv(["repro"])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.hasPrefix("mlv: error: conf.toml:\(line):1: nested deeper than 64 levels\n"), "\(r)")
            #expect(try ws.snapshot() == before)
        }
        // Deep but within the bound, and dots in values, are fine.
        let ws = try TestWorkspace()
        let fine = "[" + Array(repeating: "a", count: 30).joined(separator: ".") + "]\nv = [1.5, 2.5, 3.5]\n[t]\nx = {p = 1.5, q = 2.5}\n"
        try ws.gen(["conf.toml": fine, "pipeline.yaml": "stages:\n  s:\n    cmd: 'true'\n    params: [{conf.toml: [t.x.p]}]\n"])
        let r = try ws.mlv(["repro"])
        #expect(r.status == 0, "\(r)")
    }

    /// toml++ assumes a table header starts with a key (an assert in debug builds, undefined
    /// behaviour in release ones): `[}a]` is refused before it is parsed (found by FuzzTests).
    @Test func aTableHeaderThatDoesNotStartWithAKeyIsRefused() throws {
        for text in ["[model]\nx = 1\n[}model.opt]\nlr = 1\n", "  [[ ,a]]\n", "[\t*]\n"] {
            let ws = try TestWorkspace()
            try ws.gen(["conf.toml": text, "pipeline.yaml": "stages:\n  s:\n    cmd: 'true'\n    params: [{conf.toml: [x]}]\n"])
            let r = try ws.mlv(["repro"])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.hasPrefix("mlv: error: conf.toml:"), "\(r)")
            #expect(r.stderr.contains(": invalid TOML: a table header must start with a key\n"), "\(r)")
        }
    }

    /// Params files whose bytes are not UTF-8, or hold a NUL byte, are refused with the file named.
    @Test func paramsThatAreNotTextAreRefused() throws {
        for (bytes, why) in [(Array("lr: 0.1\nname: caf".utf8) + [0xE9, 10], "bytes that are not UTF-8"),
                             (Array("lr: 0.1\nname: a".utf8) + [0, 10], "a NUL byte at offset 15")] {
            let ws = try TestWorkspace()
            try ws.gen(["pipeline.yaml": "stages:\n  s:\n    cmd: 'true'\n    params: [lr]\n"])
            try FS.writeFile(ws.path("params.yaml"), bytes)
            let before = try ws.snapshot()
            let r = try ws.mlv(["repro"])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr == "mlv: error: 'params.yaml' is not UTF-8 text: it holds \(why)\nhint: save it as UTF-8 text\n", "\(r)")
            #expect(try ws.snapshot() == before)
        }
    }

    /// A value from a file cannot reach the terminal as a control sequence, end a Markdown
    /// cell, or start a line of its own.
    @Test func valuesFromFilesAreShownEscaped() throws {
        let ws = try TestWorkspace()
        try ws.gen(["params.yaml": "name: \"a|b\\e[2Jc\\nhint: fake\"\nlr: 1\n", "pipeline.yaml": "stages:\n  s:\n    cmd: 'true'\n    params: [name, lr]\n"])
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "p"]).status == 0)
        try ws.write("params.yaml", "name: \"x\\u202Ey\"\nlr: 2\n")
        let plain = try ws.mlv(["params", "diff"])
        #expect(plain.status == 0, "\(plain)")
        #expect(plain.stdout.contains("a|b\\u001B[2Jc\\u000Ahint: fake") && plain.stdout.contains("x\\u202Ey"), "\(plain)")
        #expect(!plain.stdout.contains("\u{1B}") && !plain.stdout.contains("\u{202E}"))
        let md = try ws.mlv(["params", "diff", "--md"])
        #expect(md.stdout.contains("| a\\|b\\u001B[2Jc\\u000Ahint: fake |"), "\(md)")
        #expect(md.stdout.split(separator: "\n").count == 4, "\(md)")
    }
}
