import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Every bad pipeline input: one `mlv: error:` line (plus a hint), exit code 2, and the
/// workspace, lock and cache as they were.
@Suite struct PipelineBadInputTests {
    func expectRefused(_ ws: TestWorkspace, _ args: [String] = ["repro"], message: String, hint: String? = nil,
                       status: Int32 = 2, sameTree: Bool = true) throws {
        let before = try ws.snapshot()
        let lock = ws.exists("pipeline.lock") ? try ws.read("pipeline.lock") : nil
        let cache = try ws.cacheObjects()
        let r = try ws.mlv(args)
        #expect(r.status == status, "\(r)")
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first.map(String.init) == "mlv: error: \(message)", "\(r)")
        if let hint { #expect(lines.dropFirst().first.map(String.init) == "hint: \(hint)", "\(r)") }
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"))
        if sameTree {
            let after = try ws.snapshot()
            #expect(after == before, "changed: \(before.difference(after))")
        }
        #expect((ws.exists("pipeline.lock") ? try ws.read("pipeline.lock") : nil) == lock)
        #expect(try ws.cacheObjects() == cache)
    }

    func workspace(_ pipeline: String, _ files: [String: String] = [:]) throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen(files.merging(["pipeline.yaml": pipeline]) { a, _ in a })
        return ws
    }

    /// A path in pipeline.yaml becomes a line of pipeline.lock and .gitignore: CR, LF (and the
    /// single Character CR LF) are refused in outs, deps and wdir.
    @Test func lineBreaksInPipelinePaths() throws {
        let hint = "a path in pipeline.yaml becomes a line of pipeline.lock and .gitignore: rename the file"
        for (field, raw, column) in [("outs", "\"e\\r\\nf\"", 12), ("outs", "\"a\\nb\"", 12), ("deps", "\"c\\rd\"", 12)] {
            let ws = try workspace("stages:\n  s:\n    cmd: echo hi\n    \(field): [\(raw)]\n")
            try expectRefused(ws, message: "pipeline.yaml:4:\(column): path \(raw) has a line break or NUL byte", hint: hint)
            try expectRefused(ws, ["status"], message: "pipeline.yaml:4:\(column): path \(raw) has a line break or NUL byte", hint: hint)
        }
        let ws = try workspace("stages:\n  s:\n    cmd: echo hi\n    wdir: \"w\\r\\nx\"\n")
        try expectRefused(ws, message: "pipeline.yaml:4:11: path \"w\\r\\nx\" has a line break or NUL byte", hint: hint)
    }

    /// git's merge driver gets three files; a missing side (or one that is not a file) fails
    /// instead of merging an empty lock over OURS.
    @Test func lockMergeWithAMissingSideFails() throws {
        let ws = try workspace("stages:\n  s:\n    cmd: 'true'\n")
        try ws.gen(["ours.lock": "schema: '1'\nstages: {}\n", "theirs.lock": "schema: '1'\nstages: {}\n", "base.lock": ""])
        let hint = "git runs `mlv lock merge %O %A %B` with three files; run `mlv lock install-merge-driver` to set it up"
        try expectRefused(ws, ["lock", "merge", "base.lock", "ours.lock", "gone.lock"],
                          message: "'gone.lock' (pipeline.lock (theirs)) does not exist", hint: hint)
        try expectRefused(ws, ["lock", "merge", "nothing", "ours.lock", "theirs.lock"],
                          message: "'nothing' (pipeline.lock (base)) does not exist", hint: hint)
        try FS.makeDirectories(ws.path("adir"))
        try expectRefused(ws, ["lock", "merge", "base.lock", "ours.lock", "adir"], message: "'adir' is not a regular file")
        // An empty base (a lock added on both sides) is an empty lock, as before.
        #expect(try ws.mlv(["lock", "merge", "base.lock", "ours.lock", "theirs.lock"]).status == 0)
    }

    /// Stage names reach the terminal, DOT, Mermaid and lock keys: only letters, digits, '_',
    /// '-' and '.', and foreach/matrix suffixes of the same.
    @Test func stageNamesAreLettersDigitsAndUnderscoreDashDot() throws {
        let hint = "use letters, digits, '_', '-' and '.'"
        for (name, shown) in [("\"a\\e[2Jb\"", "a\\u001B[2Jb"), ("'x\"y'", "x\"y"), ("'p|q'", "p|q"), ("\"r\\u202Es\"", "r\\u202Es")] {
            let ws = try workspace("stages:\n  \(name):\n    cmd: 'true'\n")
            try expectRefused(ws, message: "pipeline.yaml:2:3: invalid stage name '\(shown)'", hint: hint)
            try expectRefused(ws, ["dag", "--dot"], message: "pipeline.yaml:2:3: invalid stage name '\(shown)'", hint: hint)
        }
        let ws = try workspace("stages:\n  s:\n    foreach: ['a b', 'c']\n    do:\n      cmd: echo ${item}\n")
        try expectRefused(ws, message: "pipeline.yaml:3:5: generated stage name 's@a b' is invalid",
                          hint: "foreach items and matrix values name the stages: use letters, digits, '_', '-' and '.' in them, or a list of mappings (named by index)")
        let ok = try workspace("stages:\n  train_v2.1:\n    foreach: [0.1, -3, ab_c]\n    do:\n      cmd: 'true'\n  ünïcode-1:\n    cmd: 'true'\n")
        let r = try ok.mlv(["dag", "--dot"])
        #expect(r.status == 0 && r.stdout.contains("\t\"train_v2.1@-3\";") && r.stdout.contains("\t\"ünïcode-1\";"), "\(r)")
    }

    /// A small pipeline.yaml cannot describe millions of stages or gigabytes of commands: the
    /// expansion has a budget (10,000 stages, 64 MiB of interpolated values), and the error names
    /// the stage that crossed it, quickly.
    @Test func expansionHasABudget() throws {
        let values = (0..<100).map(String.init).joined(separator: ", ")
        var yaml = "stages:\n  m0:\n    matrix: {a: &l [\(values)], b: *l}\n    cmd: echo ${item.a} ${item.b}\n"
        for i in 1..<30 { yaml += "  m\(i):\n    matrix: {a: *l, b: *l}\n    cmd: echo ${item.a}\n" }
        #expect(yaml.utf8.count < 4096)
        let ws = try workspace(yaml)
        let start = MonotonicClock.monotonicSeconds()
        try expectRefused(ws, ["status"], message: "pipeline.yaml:5:3: stage 'm1' takes the pipeline past 10000 stages after foreach and matrix",
                          hint: "split the pipeline, or loop inside a stage's command")
        #expect(MonotonicClock.monotonicSeconds() - start < 10)

        let big = (0..<10_000).map { _ in "  - " + String(repeating: "x", count: 100) }.joined(separator: "\n")
        let items = (1...100).map(String.init).joined(separator: ", ")
        let ws2 = try workspace("stages:\n  s:\n    foreach: [\(items)]\n    do:\n      cmd: echo ${big}\n", ["params.yaml": "big:\n" + big + "\n"])
        try expectRefused(ws2, ["dag"], message: "pipeline.yaml:5:12: stage 's' takes the pipeline's interpolated values past 64 MiB",
                          hint: "pass large values to the command in a file (a dep), not through ${…}")
    }

    /// Params, vars, metrics and plots files are read like deps: a symlink leading out of the
    /// workspace, or into .git, is refused; so is a wdir that is a symlink into .git or .mlv.
    @Test func filesReadThroughSymlinksMustStayInside() throws {
        let hint = "mlv reads params, vars, metrics and plots files only inside the workspace: copy the file in"
        let ws = try workspace("stages:\n  s:\n    cmd: 'true'\n    params: [{conf.yaml: [a]}]\n")
        try FS.writeFile(ws.dir.path + "/secret.yaml", Array("a: 1\n".utf8))
        try FS.makeSymlink(ws.dir.path + "/secret.yaml", ws.path("conf.yaml"))
        try expectRefused(ws, message: "'conf.yaml' leads outside the workspace (or into .git or .mlv) through a symbolic link", hint: hint)

        let vars = try workspace("vars: [v.yaml]\nstages:\n  s:\n    cmd: echo ${a}\n")
        try FS.makeSymlink(".git/config", vars.path("v.yaml"))
        try expectRefused(vars, ["status"], message: "'v.yaml' leads outside the workspace (or into .git or .mlv) through a symbolic link", hint: hint)

        let metrics = try workspace("stages:\n  s:\n    cmd: 'true'\n    metrics: [{m.json: {cache: false}}]\n")
        try FS.writeFile(metrics.dir.path + "/m.json", Array("{\"acc\": 1}".utf8))
        try FS.makeSymlink(metrics.dir.path + "/m.json", metrics.path("m.json"))
        try expectRefused(metrics, ["metrics", "show"], message: "'m.json' leads outside the workspace (or into .git or .mlv) through a symbolic link", hint: hint)

        let wdir = try workspace("stages:\n  s:\n    cmd: echo x > y\n    wdir: w\n")
        try FS.makeSymlink(".git", wdir.path("w"))
        try expectRefused(wdir, message: "'w' reaches '.git', which mlv never writes",
                          hint: "a tracked path may not be or contain a .git or .mlv folder (in any letter case)")
        #expect(!wdir.exists(".git/y"))
    }

    @Test func malformedYAML() throws {
        let ws = try workspace("stages:\n  a:\n    cmd: [echo\n")
        try expectRefused(ws, message: "pipeline.yaml:4:1: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
        try expectRefused(ws, ["repro", "--check"], message: "pipeline.yaml:4:1: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
        try expectRefused(ws, ["status"], message: "pipeline.yaml:4:1: invalid YAML: while parsing a flow sequence did not find expected ',' or ']'")
    }

    @Test func unknownKeySuggestsTheRightOne() throws {
        let ws = try workspace("stages:\n  a:\n    cmd: echo\n    outz: [x]\n")
        try expectRefused(ws, message: "pipeline.yaml:4:5: unknown key 'outz' in stage 'a'", hint: "did you mean 'outs'?")
        let opts = try workspace("stages:\n  a:\n    cmd: echo\n    outs: [{x: {cahce: false}}]\n")
        try expectRefused(opts, message: "pipeline.yaml:4:17: unknown key 'cahce' in the options of 'x'", hint: "did you mean 'cache'?")
    }

    @Test func cycleIsNamed() throws {
        let ws = try workspace("""
        stages:
          a: {cmd: cp c.txt a.txt, deps: [c.txt], outs: [a.txt]}
          b: {cmd: cp a.txt b.txt, deps: [a.txt], outs: [b.txt]}
          c: {cmd: cp b.txt c.txt, deps: [b.txt], outs: [c.txt]}
        """)
        try expectRefused(ws, message: "the pipeline has a cycle: a -> b -> c -> a",
                          hint: "a stage cannot depend, directly or through others, on its own output")
    }

    @Test func duplicateAndOverlappingOuts() throws {
        let dup = try workspace("stages:\n  a: {cmd: echo, outs: [m.bin]}\n  b: {cmd: echo, outs: [m.bin]}\n")
        try expectRefused(dup, message: "output 'm.bin' is produced by more than one stage: 'a', 'b'", hint: "give each output to one stage only")
        let twice = try workspace("stages:\n  a: {cmd: echo, outs: [m.json], metrics: [m.json]}\n")
        try expectRefused(twice, message: "output 'm.json' is declared twice in stage 'a' (an out is listed once, under outs, metrics or plots)",
                          hint: "give each output to one stage only")
        let nested = try workspace("stages:\n  a: {cmd: echo, outs: [data]}\n  b: {cmd: echo, outs: [data/x]}\n")
        try expectRefused(nested, message: "output 'data/x' of stage 'b' overlaps output 'data' of stage 'a'")
        let tracked = try workspace("stages:\n  a: {cmd: echo, outs: [data/new]}\n", ["data/raw": "r"])
        #expect(try tracked.mlv(["add", "data"]).status == 0)
        try expectRefused(tracked, message: "output 'data/new' of stage 'a' overlaps data tracked by 'data.mlv'")
    }

    @Test func pathsEscapingTheWorkspace() throws {
        let up = try workspace("stages:\n  a: {cmd: echo, deps: [../secret]}\n")
        try expectRefused(up, message: "pipeline.yaml:2:25: path '../secret' escapes the workspace",
                          hint: "paths in pipeline.yaml are relative to the stage's wdir and stay inside the workspace")
        let wdir = try workspace("stages:\n  a: {cmd: echo, wdir: sub, outs: [../../x]}\n")
        try expectRefused(wdir, message: "pipeline.yaml:2:36: path '../../x' escapes the workspace")
        let git = try workspace("stages:\n  a: {cmd: echo, outs: [.git/hooks/pre-commit]}\n")
        try expectRefused(git, message: "pipeline.yaml:2:25: path '.git/hooks/pre-commit' is inside .git or .mlv, which are not data")
    }

    @Test func pathsLeavingThroughSymlinks() throws {
        let outside = try TemporaryDirectory(prefix: "mlv-outside")
        defer { outside.remove() }
        try outside.gen(["keep/precious.txt": "do not delete"])
        let ws = try workspace("stages:\n  a: {cmd: echo x > link/precious.txt, outs: [link/precious.txt]}\n")
        #expect(symlink(outside.path + "/keep", ws.path("link")) == 0)
        try expectRefused(ws, message: "path 'link/precious.txt' of stage 'a' leads outside the workspace through a symbolic link",
                          hint: "mlv reads and writes only inside the workspace")
        #expect(try outside.read("keep/precious.txt") == "do not delete")
        let wdir = try workspace("stages:\n  a: {cmd: touch x, wdir: link}\n")
        #expect(symlink(outside.path + "/keep", wdir.path("link")) == 0)
        try expectRefused(wdir, message: "path 'link' of stage 'a' leads outside the workspace through a symbolic link")
    }

    @Test func unknownVariable() throws {
        let ws = try workspace("stages:\n  a:\n    cmd: python train.py --lr ${train.lrr}\n", ["params.yaml": "train:\n  lr: 1\n"])
        try expectRefused(ws, message: "pipeline.yaml:3:10: unknown variable 'train.lrr' in '${train.lrr}'", hint: "did you mean 'train.lr'?")
    }

    @Test func missingDependencyAndParam() throws {
        let dep = try workspace("stages:\n  a: {cmd: echo, deps: [data.csv]}\n")
        try expectRefused(dep, message: "dependency 'data.csv' of stage 'a' does not exist and no stage produces it",
                          hint: "create it, track it with `mlv add`, or add a stage that outputs it")
        let param = try workspace("stages:\n  a: {cmd: echo, params: [train.epoch]}\n", ["params.yaml": "train:\n  epochs: 3\n"])
        try expectRefused(param, message: "stage 'a': param 'train.epoch' is not in params.yaml", hint: "did you mean 'train.epochs'?")
        let file = try workspace("stages:\n  a: {cmd: echo, params: [{conf.yaml: [x]}]}\n")
        try expectRefused(file, message: "params file 'conf.yaml' does not exist")
    }

    @Test func aliasBombIsRefused() throws {
        // 10^9 values once the aliases are expanded, in a few hundred bytes.
        var yaml = "vars:\n- a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...8 { yaml += "- a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        yaml += "stages:\n  s:\n    cmd: echo\n    deps: *a8\n"
        let ws = try workspace(yaml)
        let start = MonotonicClock.monotonicSeconds()
        try expectRefused(ws, message: "pipeline.yaml:1:1: the document expands to more than 1000000 values (through aliases?)")
        #expect(MonotonicClock.monotonicSeconds() - start < 5)
    }

    @Test func hostileLock() throws {
        let ws = try workspace("stages:\n  a: {cmd: echo a > a.txt, outs: [a.txt]}\n")
        try ws.write("pipeline.lock", "schema: '1'\nstages:\n  a:\n    cmd: x\n    outs:\n    - path: ../../etc/passwd\n      sha256: \(SHA256Hasher.hex("x"))\n      size: 1\n")
        try expectRefused(ws, message: "pipeline.lock:6:13: path '../../etc/passwd' escapes the workspace")
    }

    @Test func failingCommandKeepsEarlierStagesRecorded() throws {
        let ws = try workspace("""
        stages:
          a: {cmd: echo a > a.txt, outs: [a.txt]}
          b: {cmd: echo partial > b.txt && exit 3, deps: [a.txt], outs: [b.txt]}
          c: {cmd: cp b.txt c.txt, deps: [b.txt], outs: [c.txt]}
        """)
        let r = try ws.mlv(["repro"])
        #expect(r.status == 2)
        #expect(r.stderr == "mlv: error: stage 'b' failed: its command exited with code 3\nhint: earlier stages are recorded in pipeline.lock; fix the command and run `mlv repro` again\n")
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("  a:\n") && !lock.contains("  b:\n"))
        #expect(try ws.cacheObjects().count == 1, "only a.txt; the partial b.txt is not cached")
        #expect(!ws.exists("c.txt"))
        // Again: a is skipped, b fails the same way, nothing else changes.
        try expectRefused(ws, message: "stage 'b' failed: its command exited with code 3", sameTree: false)
        // -k goes on with what does not depend on b.
        try ws.write("pipeline.yaml", """
        stages:
          b: {cmd: exit 4, outs: [b.txt]}
          d: {cmd: echo d > d.txt, outs: [d.txt]}
          e: {cmd: cp b.txt e.txt, deps: [b.txt], outs: [e.txt]}
        """)
        let k = try ws.mlv(["repro", "-k"])
        #expect(k.status == 2)
        #expect(k.stdout.contains("Stage 'b' failed: stage 'b' failed: its command exited with code 4\n"))
        #expect(k.stdout.contains("Stage 'e' not run: it depends on failed stage 'b'\n"))
        #expect(try ws.read("d.txt") == "d\n")
    }

    @Test func missingWorkingDirectory() throws {
        let ws = try workspace("stages:\n  a: {cmd: touch x, wdir: nowhere}\n")
        try expectRefused(ws, message: "the wdir 'nowhere' of stage 'a' is not a folder")
    }

    @Test func missingDeclaredOutput() throws {
        let ws = try workspace("stages:\n  a: {cmd: echo hi, outs: [result.txt]}\n")
        try expectRefused(ws, message: "stage 'a' did not create its output 'result.txt'", hint: "the command must write every path listed in its outs")
    }

    @Test func secondReproWaitsForTheFirst() throws {
        let ws = try workspace("stages:\n  slow: {cmd: echo run >> runs.log && sleep 2 && echo done > out.txt, outs: [out.txt]}\n")
        let first = Background { try? ws.mlv(["repro"]) }
        usleep(700_000)
        // One that will not wait long enough fails clearly; one that waits finds the work done.
        let waiting = Background { try? ws.mlv(["repro"], env: ["MLV_LOCK_TIMEOUT": "30"]) }
        let second = try ws.mlv(["repro"], env: ["MLV_LOCK_TIMEOUT": "0.3"])
        #expect(second.status == 2)
        #expect(second.stderr.contains("mlv: error: another mlv process is working in this workspace"), "\(second)")
        let r = first.wait()
        #expect(r?.status == 0)
        let w = waiting.wait()
        #expect(w?.status == 0 && w?.stdout == "Stage 'slow' didn't change, skipping\nData and pipelines are up to date.\n", "\(String(describing: w))")
        #expect(try ws.read("runs.log") == "run\n", "the command ran once")
        #expect(try ws.read("out.txt") == "done\n")
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
    }
}

import Foundation

/// Runs `body` on another thread; `wait()` returns its result.
final class Background<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: T?

    init(_ body: @escaping () -> T) {
        DispatchQueue.global().async { self.value = body(); self.done.signal() }
    }

    func wait() -> T { done.wait(); return value! }
}

@Suite struct ReproInterruptTests {
    /// Ctrl-C while a stage runs: the stage's whole process group ends, mlv exits 130, and the
    /// lock keeps the stages that finished.
    @Test func interruptEndsTheStagesProcessGroup() throws {
        let ws = try TestWorkspace()
        try ws.write("pipeline.yaml", """
        stages:
          first: {cmd: echo 1 > first.txt, outs: [first.txt]}
          slow: {cmd: sleep 60 & echo $! > sleeper.pid; wait, deps: [first.txt], outs: [never.txt]}

        """)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = ["repro"]
        p.currentDirectoryURL = URL(fileURLWithPath: ws.root)
        p.environment = ProcessInfo.processInfo.environment.merging(ws.env) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        var waited = 0
        while !ws.exists("sleeper.pid") && waited < 100 { usleep(50_000); waited += 1 }
        usleep(100_000)
        let sleeper = Int32(try ws.read("sleeper.pid").split(separator: "\n")[0])!
        #expect(isRunning(sleeper), "the stage's child runs")
        let start = MonotonicClock.monotonicSeconds()
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(MonotonicClock.monotonicSeconds() - start < 5)
        #expect(p.terminationStatus == 130)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.hasPrefix("mlv: error: interrupted while running stage 'slow'\n"), "\(stderr)")
        usleep(100_000)
        #expect(!isRunning(sleeper), "the sleeper was ended with its group")
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("  first:\n") && !lock.contains("  slow:\n"))
    }
}

extension ReproInterruptTests {
    /// A command that ignores Ctrl-C keeps running after the first; the second ends mlv.
    @Test func secondInterruptEndsMLV() throws {
        let ws = try TestWorkspace()
        try ws.write("pipeline.yaml", "stages:\n  stubborn: {cmd: \"trap '' INT; echo $$ > pid; sleep 30\", outs: [never.txt]}\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = ["repro"]
        p.currentDirectoryURL = URL(fileURLWithPath: ws.root)
        p.environment = ProcessInfo.processInfo.environment.merging(ws.env) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var waited = 0
        while !ws.exists("pid") && waited < 100 { usleep(50_000); waited += 1 }
        usleep(100_000)
        let shell = Int32(try ws.read("pid").split(separator: "\n")[0])!
        defer { kill(-shell, SIGKILL) }
        kill(p.processIdentifier, SIGINT)
        usleep(300_000)
        #expect(p.isRunning, "the stage ignores the first Ctrl-C, so mlv waits for it")
        kill(p.processIdentifier, SIGINT)
        let start = MonotonicClock.monotonicSeconds()
        p.waitUntilExit()
        #expect(MonotonicClock.monotonicSeconds() - start < 5)
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGINT)
        #expect(!ws.exists("pipeline.lock"))
    }
}

/// Alive and not a zombie waiting for a parent that does not reap (PID 1 in some containers).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? FS.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
    return !stat[close...].hasPrefix(") Z")
}
