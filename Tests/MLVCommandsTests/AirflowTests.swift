import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv dag --airflow`: the DAG file run by Apache Airflow 3.3 (`airflow dags test`, and a real
/// scheduler), each task in a clone of its own of a bare repository (`MLV_GIT_URL`), data going
/// through a SeaweedFS remote and its run-cache. Stage commands append to a log outside the
/// repository, so the tests count what ran.
@Suite(.serialized) struct AirflowTests {
    /// A workspace whose pipeline is committed and pushed to `origin.git` beside it, with the
    /// default remote on SeaweedFS; `env` is what Airflow (and so every task) runs with.
    struct Fixture {
        let ws: TestWorkspace
        var origin: String { ws.dir.path + "/origin.git" }
        var dags: String { ws.dir.path + "/dags" }
        var log: String { ws.dir.path + "/stages.log" }
        var env: [String: String]
        let server: S3TestServer
        let prefix: String

        init(_ files: [String: String]) throws {
            ws = try TestWorkspace()
            try ws.gen(files)
            server = try S3TestServer.get(.seaweedfs)
            prefix = server.uniquePrefix("airflow")
            env = ws.env.merging(server.credentials) { _, b in b }
            ws.env = env
            #expect(try ws.mlv(["remote", "add", "-d", "s3", "s3://\(server.bucket)/\(prefix)"]).status == 0)
            #expect(try ws.mlv(["remote", "modify", "s3", "endpoint_url", server.endpoint]).status == 0)
            #expect(try ws.git(["add", "-A"]).status == 0)
            #expect(try ws.git(["commit", "-qm", "pipeline"]).status == 0)
            #expect(try runProcess("/usr/bin/git", ["init", "-q", "--bare", origin], cwd: ws.dir.path, env: ws.env).status == 0)
            #expect(try ws.git(["push", "-q", origin, "HEAD:refs/heads/main"]).status == 0)
            env.merge([
                "MLV_GIT_URL": origin, "MLV_BIN": mlvBinary, "MLV_WORK_DIR": ws.dir.path + "/work", "LOGFILE": log,
            ]) { _, b in b }
        }

        /// `mlv dag --airflow -o dags/ID.py ARGS`.
        func generate(_ dagID: String, _ args: [String] = []) throws {
            let r = try ws.mlv(["dag", "--airflow", "-o", "\(dags)/\(dagID).py"] + args)
            #expect(r.status == 0, "\(r)")
        }

        func dagsTest(_ dagID: String, conf: String? = nil, env extra: [String: String] = [:]) throws -> (result: MLVResult, states: [String: String]) {
            try AirflowPeer.shared().dagsTest(dagID, dags: dags, conf: conf, env: env.merging(extra) { _, b in b })
        }

        func ran() -> [String] {
            ((try? FS.readText(log)) ?? "").split(separator: "\n").map(String.init)
        }

        /// A file of `origin.git`'s branch.
        func committed(_ path: String, branch: String = "main") throws -> String {
            let r = try runProcess("/usr/bin/git", ["--git-dir", origin, "show", "\(branch):\(path)"], cwd: ws.dir.path, env: ws.env)
            #expect(r.status == 0, "\(r)")
            return r.stdout
        }

        /// The lock files a plain local `mlv repro` writes in a clone of the first commit (its stage
        /// commands log to a file of their own).
        func locallyReproduced(_ locks: [String]) throws -> [String] {
            let clone = ws.dir.path + "/local"
            #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone], cwd: ws.dir.path, env: ws.env).status == 0)
            let r = try runMLV(["repro", "--no-run-cache"], cwd: clone, env: env.merging(["LOGFILE": ws.dir.path + "/local.log"]) { _, b in b })
            #expect(r.status == 0, "\(r)")
            return try locks.map { try FS.readText(clone + "/" + $0) }
        }
    }

    static let demo: [String: String] = [
        "params.yaml": "train:\n  lr: 0.5\n",
        "pipeline.yaml": """
            stages:
              generate:
                cmd: echo generate >> "$LOGFILE"; mkdir -p data && seq 1 20 > data/raw.txt
                outs: [data/raw.txt]
              prepare:
                cmd: echo prepare >> "$LOGFILE"; mkdir -p data/prepared && awk '{print $1 * 2}' data/raw.txt > data/prepared/lines.txt
                deps: [data/raw.txt]
                outs: [data/prepared]
              train:
                cmd: echo train >> "$LOGFILE"; echo "lr=${train.lr} sum=$(paste -sd+ data/prepared/lines.txt | bc)" > model.txt
                deps: [data/prepared]
                params: [train.lr]
                outs: [model.txt]
                orchestrate: {queue: gpu, retries: 1}
              evaluate:
                cmd: 'echo evaluate >> "$LOGFILE"; echo "{\\"bytes\\": $(wc -c < model.txt)}" > metrics.json'
                deps: [model.txt, data/prepared]
                metrics: [{metrics.json: {cache: false}}]

            """,
    ]

    @Test func demoPipelineRunsTaskByTaskAndTheCollectedLockIsALocalRepros() throws {
        let f = try Fixture(Self.demo)
        try f.generate("demo", ["--commit-branch", "main"])
        let dag = try FS.readText(f.dags + "/demo.py")
        #expect(dag.contains("\"train\": {\"stage\": \"train\", \"after\": [\"prepare\"], \"queue\": \"gpu\", \"retries\": 1},"))
        #expect(!dag.contains("mlv import") && !dag.contains("import mlv"))
        let first = try f.dagsTest("demo")
        #expect(first.result.status == 0, "\(first.result)")
        #expect(first.states == ["resolve_commit": "success", "generate": "success", "prepare": "success", "train": "success",
                                 "evaluate": "success", "collect_lock": "success"], "\(first.result)")
        #expect(f.ran() == ["generate", "prepare", "train", "evaluate"])
        // The stages' own logs are in Airflow's task log; nothing ran in the workspace itself.
        #expect(first.result.stdout.contains("Running stage 'train':"))
        #expect(!f.ws.exists("model.txt") && !f.ws.exists("data"))
        // One reviewable commit on main: pipeline.lock as a local repro writes it, byte for byte.
        let log = try runProcess("/usr/bin/git", ["--git-dir", f.origin, "log", "--format=%s", "main"], cwd: f.ws.dir.path)
        #expect(log.stdout.hasPrefix("pipeline.lock of "), "\(log)")
        #expect(log.stdout.split(separator: "\n").count == 2)
        #expect(try f.committed("pipeline.lock") == f.locallyReproduced(["pipeline.lock"])[0])
        // A second run of the same commit runs no stage command: everything is restored. Its tasks
        // take turns in one warm checkout.
        let head = try f.ws.git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let second = try f.dagsTest("demo", conf: #"{"commit": "\#(head)", "reuse_checkout": true}"#)
        #expect(second.result.status == 0, "\(second.result)")
        #expect(second.states.values.allSatisfy { $0 == "success" }, "\(second.states)")
        #expect(f.ran().count == 4, "\(f.ran())")
        #expect(!second.result.stdout.contains("Running stage"), "\(second.result)")
        #expect(second.result.stdout.contains("main is at "), "\(second.result)")
        #expect(FS.isDirectory(f.ws.dir.path + "/work/warm/demo/slot-0/.mlv/cache") && !FS.exists(f.ws.dir.path + "/work/warm/demo/slot-1"))
    }

    @Test func foreachItemsAndStagesOfPipelinesInFoldersAreTasksOfTheirOwn() throws {
        let f = try Fixture([
            "pipeline.yaml": """
                stages:
                  shard:
                    foreach: [a, b, c, d]
                    do:
                      cmd: echo shard-${item} >> "$LOGFILE"; echo ${item} > shard-${item}.txt
                      outs:
                      - shard-${item}.txt
                  join:
                    cmd: echo join >> "$LOGFILE"; cat shard-a.txt shard-b.txt shard-c.txt shard-d.txt > all.txt
                    deps: [shard-a.txt, shard-b.txt, shard-c.txt, shard-d.txt]
                    outs: [all.txt]

                """,
            "sub/pipeline.yaml": """
                stages:
                  count:
                    cmd: echo count >> "$LOGFILE"; wc -l < ../all.txt > count.txt
                    deps: [../all.txt]
                    outs: [count.txt]

                """,
        ])
        try f.generate("fan", ["--commit-branch", "results"])
        let ids = try f.ws.mlv(["dag", "--airflow"]).stdout
        #expect(ids.contains(#"    "shard_a__a8c59082": {"stage": "shard@a", "after": []},"#), "\(ids)")
        #expect(ids.contains(#"    "sub_pipeline.yaml_count__73b1ad0b": {"stage": "sub/pipeline.yaml:count", "after": ["join"]},"#), "\(ids)")
        // The workers have no git identity: the lock commit gets mlv's own.
        try FS.makeDirectories(f.ws.dir.path + "/worker-home")
        let run = try f.dagsTest("fan", env: ["HOME": f.ws.dir.path + "/worker-home", "XDG_CONFIG_HOME": f.ws.dir.path + "/worker-home"])
        #expect(run.result.status == 0, "\(run.result)")
        #expect(run.states.count == 8 && run.states.values.allSatisfy { $0 == "success" }, "\(run.states)")
        #expect(f.ran().sorted() == ["count", "join", "shard-a", "shard-b", "shard-c", "shard-d"])
        // The lock goes to a branch of its own; main is left as it was.
        #expect(try runProcess("/usr/bin/git", ["--git-dir", f.origin, "rev-list", "--count", "main"], cwd: f.ws.dir.path).stdout == "1\n")
        let local = try f.locallyReproduced(["pipeline.lock", "sub/pipeline.lock"])
        #expect(try f.committed("pipeline.lock", branch: "results") == local[0])
        #expect(try f.committed("sub/pipeline.lock", branch: "results") == local[1])
        let author = try runProcess("/usr/bin/git", ["--git-dir", f.origin, "log", "-1", "--format=%an <%ae>", "results"], cwd: f.ws.dir.path)
        #expect(author.stdout == "mlv (Airflow) <mlv-airflow@localhost>\n", "\(author)")
    }

    @Test func aFailingStageFailsItsTaskAndBlocksOnlyWhatDependsOnIt() throws {
        let f = try Fixture([
            "pipeline.yaml": """
                stages:
                  broken:
                    cmd: echo "the input is malformed" >&2; exit 3
                    outs: [a.txt]
                  after_broken:
                    cmd: cp a.txt b.txt
                    deps: [a.txt]
                    outs: [b.txt]
                  fine:
                    cmd: echo fine >> "$LOGFILE"; echo c > c.txt
                    outs: [c.txt]
                  after_fine:
                    cmd: echo after_fine >> "$LOGFILE"; cp c.txt d.txt
                    deps: [c.txt]
                    outs: [d.txt]
                  slow:
                    cmd: echo "slow $$" >> "$LOGFILE"; echo partial > e.txt; sleep 60
                    outs: [e.txt]
                    orchestrate: {timeout: 3}

                """,
        ])
        try f.generate("failing")
        let run = try f.dagsTest("failing")
        #expect(run.result.status != 0)
        #expect(run.states == ["resolve_commit": "success", "broken": "failed", "after_broken": "upstream_failed",
                               "fine": "success", "after_fine": "success", "slow": "failed", "collect_lock": "upstream_failed"], "\(run.result)")
        #expect(run.result.stdout.contains("MLVTaskError: stage 'broken' failed (exit 2): mlv: error: stage 'broken' failed: its command exited with code 3 hint: "), "\(run.result)")
        #expect(run.result.stdout.contains("AirflowTaskTimeout"), "\(run.result)")
        #expect(f.ran().filter { !$0.hasPrefix("slow ") } == ["fine", "after_fine"])
        // The stage Airflow killed at its timeout: its command is gone, nothing of it was pushed
        // (the remote's run-cache holds the two stages that succeeded).
        let pid = try #require(f.ran().first { $0.hasPrefix("slow ") }.flatMap { Int32($0.dropFirst(5)) })
        #expect(kill(pid, 0) != 0)
        #expect(try f.server.keys(prefix: f.prefix + "/runs/").count == 2)
    }

    @Test func aWorkerWithoutMlvOrWithoutCredentialsGetsOneClearTaskError() throws {
        let f = try Fixture([
            "pipeline.yaml": "stages:\n  only:\n    cmd: echo only >> \"$LOGFILE\"; echo x > x.txt\n    outs: [x.txt]\n",
        ])
        try f.generate("bare")
        let noMLV = try f.dagsTest("bare", env: ["MLV_BIN": "/opt/nowhere/mlv"])
        #expect(noMLV.states["resolve_commit"] == "failed" && noMLV.states["only"] == "upstream_failed", "\(noMLV.states)")
        #expect(noMLV.result.stdout.contains("MLVTaskError: mlv is not installed on this worker: '/opt/nowhere/mlv' is not an executable file or on PATH; install mlv, or set MLV_BIN (or the mlv_bin param) to its path"), "\(noMLV.result)")
        let noKeys = try f.dagsTest("bare", env: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"])
        #expect(noKeys.states["only"] == "failed")
        #expect(noKeys.result.stdout.contains("MLVTaskError: stage 'only' failed (exit 2): mlv: error: no AWS credentials for remote 's3' (looked in the environment, .mlv/config.local.yaml and profile 'default') hint: set AWS_ACCESS_KEY_ID"), "\(noKeys.result)")
        #expect(f.ran().isEmpty)
    }

    @Test func theLockCommitIsACompareAndSwapOnTheBranch() throws {
        // The last stage moves main (as another push would) while the run is under way.
        var files = Self.demo
        files["pipeline.yaml"]! += """
              move_main:
                cmd: echo move >> "$LOGFILE"; echo done > moved.txt; git clone -q "$MLV_GIT_URL" "$MOVE_DIR" && cd "$MOVE_DIR" && echo "$MOVE_TEXT" > "$MOVE_FILE" && git add -A && git commit -qm "moved" && git push -q origin HEAD:main
                deps: [metrics.json]
                outs: [moved.txt]

            """
        let f = try Fixture(files)
        try f.generate("cas", ["--commit-branch", "main"])
        // A commit that changes no stage: the lock is collected again on it and pushed on top.
        let run = try f.dagsTest("cas", env: ["MOVE_DIR": f.ws.dir.path + "/mover1", "MOVE_FILE": "README.md", "MOVE_TEXT": "readme"])
        #expect(run.result.status == 0, "\(run.result)")
        #expect(run.result.stdout.contains("main moved to "), "\(run.result)")
        let log = try runProcess("/usr/bin/git", ["--git-dir", f.origin, "log", "--format=%s", "main"], cwd: f.ws.dir.path).stdout.split(separator: "\n")
        #expect(log.count == 3 && log[0].hasPrefix("pipeline.lock of ") && log[1] == "moved", "\(log)")
        #expect(try f.committed("README.md") == "readme\n")
        #expect(try f.committed("pipeline.lock").contains("move_main:"))
        // Main moves to a commit that changes a param before a run of the first commit: collecting
        // on it would need train to run, so the task fails and main keeps that commit (no lock of
        // another commit's pipeline lands on it).
        let mover = f.ws.dir.path + "/mover2"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", f.origin, mover], cwd: f.ws.dir.path, env: f.ws.env).status == 0)
        try AtomicFile.write("train:\n  lr: 0.9\n", to: mover + "/params.yaml")
        for args in [["commit", "-qam", "lr 0.9"], ["push", "-q", "origin", "HEAD:main"]] {
            #expect(try runProcess("/usr/bin/git", args, cwd: mover, env: f.ws.env).status == 0)
        }
        let first = try f.ws.git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let second = try f.dagsTest("cas", conf: #"{"commit": "\#(first)"}"#, env: ["MOVE_DIR": f.ws.dir.path + "/mover3", "MOVE_FILE": "README.md", "MOVE_TEXT": "readme"])
        #expect(second.states["collect_lock"] == "failed", "\(second.result)")
        #expect(second.result.stdout.contains("stage 'train' is stale and the run-cache has no earlier run with its inputs"), "\(second.result)")
        #expect(f.ran().count == 5, "\(f.ran())")
        let after = try runProcess("/usr/bin/git", ["--git-dir", f.origin, "log", "--format=%s", "main"], cwd: f.ws.dir.path).stdout
        #expect(after.hasPrefix("lr 0.9\npipeline.lock of"), "\(after)")
    }

    @Test func theSchedulerRunsStagesAtOnceAndTwoRunsOfOneCommitSideBySide() throws {
        func stage(_ name: String) -> String {
            """
              \(name):
                cmd: echo "\(name) start $(date +%s.%N) $$" >> "$LOGFILE"; touch "$SYNC/\(name)"; for i in $(seq 600); do [ $(ls "$SYNC" | wc -l) = 2 ] && break; sleep 0.1; done; echo \(name) > \(name).txt; echo "\(name) end $(date +%s.%N) $$" >> "$LOGFILE"
                outs: [\(name).txt]

            """
        }
        // Each stage waits (up to 60 s) until both have started: they end together only if they run at once.
        var f = try Fixture(["pipeline.yaml": "stages:\n" + stage("left") + stage("right")])
        f.env["SYNC"] = f.ws.dir.path + "/sync"
        try FS.makeDirectories(f.ws.dir.path + "/sync")
        // @once: the scheduler starts the run itself as soon as the DAG is parsed.
        try f.generate("parallel", ["--schedule", "@once"])
        let airflow = try AirflowPeer.shared()
        let services = try airflow.startServices(dags: f.dags, logs: f.ws.dir.path, parallelism: 2, env: f.env)
        defer { services.stop() }
        func logs() -> String {
            ["scheduler", "dag-processor", "api-server"].map { (try? FS.readText(f.ws.dir.path + "/\($0).log").suffix(3000)) ?? "" }.joined(separator: "\n-----\n")
        }
        let state = try airflow.waitForRuns("parallel", timeout: 150)
        #expect(state == ["success"], "\(logs())")
        #expect(try airflow.states("parallel").values.allSatisfy { $0 == "success" })
        // [stage, event, time, pid]
        let events = f.ran().map { $0.split(separator: " ").map(String.init) }
        func time(_ stage: String, _ event: String) -> Double { events.first { $0[0] == stage && $0[1] == event }.flatMap { Double($0[2]) } ?? .nan }
        #expect(events.count == 4, "\(events)")
        #expect(time("left", "start") < time("right", "end") && time("right", "start") < time("left", "end"), "\(events)")
        #expect(abs(time("left", "end") - time("right", "end")) < 5, "\(events)")
        #expect(Set(events.map { $0.last! }).count == 2, "\(events)")

        // Two runs of one new commit at once, both committing the lock to main: their stages run
        // side by side (twice, or restored from the other's push), and main gets one lock commit.
        try f.ws.write("pipeline.yaml", try f.ws.read("pipeline.yaml").replacingOccurrences(of: #"touch "$SYNC/"#, with: #"echo v2 >> "$LOGFILE"; touch "$SYNC/v2-"#)
                                                                        .replacingOccurrences(of: "seq 600", with: "seq 1"))
        #expect(try f.ws.git(["commit", "-qam", "v2"]).status == 0 && f.ws.git(["push", "-q", f.origin, "HEAD:refs/heads/main"]).status == 0)
        let v2 = try f.ws.git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let conf = #"{"commit": "\#(v2)", "commit_branch": "main"}"#
        let group = DispatchGroup()
        let statuses = Statuses()
        let (dags, env) = (f.dags, f.env)
        for i in 0..<2 {
            DispatchQueue.global().async(group: group) {
                let r = try? airflow.run(["dags", "trigger", "parallel", "--conf", conf], dags: dags, env: env)
                statuses.set(i, r?.status ?? -1)
            }
        }
        group.wait()
        #expect(statuses.all == [0, 0])
        let both = try airflow.waitForRuns("parallel", runs: 3, timeout: 150)
        #expect(both == ["success", "success", "success"], "\(logs())")
        let subjects = try runProcess("/usr/bin/git", ["--git-dir", f.origin, "log", "--format=%s", "main"], cwd: f.ws.dir.path).stdout.split(separator: "\n")
        #expect(subjects.count == 3 && subjects[0].hasPrefix("pipeline.lock of \(v2.prefix(12))") && subjects[1] == "v2", "\(subjects)")
        #expect(try f.committed("pipeline.lock") == f.locallyReproduced(["pipeline.lock"])[0])
        #expect((2...4).contains(f.ran().filter { $0 == "v2" }.count), "\(f.ran())")
    }

    final class Statuses: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int: Int32] = [:]
        func set(_ i: Int, _ v: Int32) { lock.lock(); values[i] = v; lock.unlock() }
        var all: [Int32] { lock.lock(); defer { lock.unlock() }; return values.keys.sorted().map { values[$0]! } }
    }

    /// KubernetesExecutor is not run here: the file is loaded by Airflow's Python and its tasks'
    /// settings read back (the pod override built with the kubernetes client, as the executor takes it).
    @Test func imageQueueAndPoolReachTheTasks() throws {
        let f = try Fixture(Self.demo)
        try f.generate("k8s", ["--image", "registry.local/team/mlv:1.2", "--pool", "train=gpus", "--queue", "evaluate=cpu"])
        let script = """
            import importlib.util, json
            spec = importlib.util.spec_from_file_location("k8s", "k8s.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            out = {}
            for task_id, t in module.dag.task_dict.items():
                pod = (t.executor_config or {}).get("pod_override")
                out[task_id] = [t.queue, t.pool, t.retries, pod.spec.containers[0].image if pod else None, sorted(t.upstream_task_ids)]
            print(json.dumps(out, sort_keys=True))
            """
        let r = try runProcess(AirflowPeer.venv + "/bin/python", ["-c", script], cwd: f.dags, env: ["AIRFLOW_HOME": try AirflowPeer.shared().home])
        #expect(r.status == 0, "\(r)")
        let image = "registry.local/team/mlv:1.2"
        #expect(r.stdout.split(separator: "\n").last == """
            {"collect_lock": ["default", "default_pool", 0, "\(image)", ["evaluate", "generate", "prepare", "resolve_commit", "train"]], \
            "evaluate": ["cpu", "default_pool", 0, "\(image)", ["prepare", "resolve_commit", "train"]], \
            "generate": ["default", "default_pool", 0, "\(image)", ["resolve_commit"]], \
            "prepare": ["default", "default_pool", 0, "\(image)", ["generate", "resolve_commit"]], \
            "resolve_commit": ["default", "default_pool", 0, "\(image)", []], \
            "train": ["gpu", "gpus", 1, "\(image)", ["prepare", "resolve_commit"]]}
            """, "\(r)")
    }

    @Test func checkSaysWhenTheDAGFileIsStale() throws {
        let f = try Fixture(Self.demo)
        try f.generate("checked", ["--queue", "evaluate=cpu", "--schedule", "0 3 * * *"])
        let file = f.dags + "/checked.py"
        let fresh = try f.ws.mlv(["dag", "--airflow", "--check", file])
        #expect(fresh.status == 0 && fresh.stdout == "\(file) is up to date with the pipeline files\n", "\(fresh)")
        // A new commit alone does not make it stale.
        try f.ws.write("README.md", "x\n")
        #expect(try f.ws.git(["add", "-A"]).status == 0 && f.ws.git(["commit", "-qm", "readme"]).status == 0)
        #expect(try f.ws.mlv(["dag", "--check", file]).status == 0)
        try f.ws.write("pipeline.yaml", try f.ws.read("pipeline.yaml") + "  report:\n    cmd: cp metrics.json report.json\n    deps: [metrics.json]\n    outs: [report.json]\n")
        let stale = try f.ws.mlv(["dag", "--airflow", "--check", file])
        #expect(stale.status == 1)
        #expect(stale.stderr == """
            mlv: error: \(file) is stale against the pipeline files: it lacks tasks report
            hint: generate it again: mlv dag --airflow -o \(file) --dag-id checked --schedule '0 3 * * *' --queue evaluate=cpu

            """, "\(stale)")
        try f.ws.write("pipeline.yaml", try f.ws.read("pipeline.yaml").replacingOccurrences(of: "queue: gpu", with: "queue: gpu2"))
        let settings = try f.ws.mlv(["dag", "--check", file])
        #expect(settings.status == 1 && settings.stderr.contains("it lacks tasks report"), "\(settings)")
        try f.generate("checked", ["--queue", "evaluate=cpu", "--schedule", "0 3 * * *"])
        #expect(try f.ws.mlv(["dag", "--check", file]).status == 0)
        try f.ws.write("pipeline.yaml", try f.ws.read("pipeline.yaml").replacingOccurrences(of: "queue: gpu2", with: "queue: gpu3"))
        let changed = try f.ws.mlv(["dag", "--check", file])
        #expect(changed.status == 1 && changed.stderr.hasPrefix("mlv: error: \(file) is stale against the pipeline files: it differs in its tasks' dependencies or settings\n"), "\(changed)")
        // A run of a commit whose pipeline the file does not match stops before any stage runs.
        #expect(try f.ws.git(["commit", "-qam", "gpu3"]).status == 0 && f.ws.git(["push", "-q", f.origin, "HEAD:refs/heads/main"]).status == 0)
        let run = try f.dagsTest("checked")
        #expect(run.states["resolve_commit"] == "failed" && run.states["generate"] == "upstream_failed", "\(run.states)")
        #expect(run.result.stdout.contains("failed (exit 1): mlv: error: \(file) is stale against the pipeline files: it differs in its tasks' dependencies or settings hint: generate it again: mlv dag --airflow -o \(file) --dag-id checked"), "\(run.result)")
        #expect(f.ran().isEmpty)
    }

    /// What the tasks build on, without Airflow: `repro --restore-only` restores stale stages from
    /// the run-cache and runs no command; a stage with no earlier run fails the run, named.
    @Test func reproRestoreOnlyRunsNoCommand() throws {
        let ws = try TestWorkspace()
        let log = ws.dir.path + "/ran.log"
        try ws.gen(["pipeline.yaml": """
            stages:
              a:
                cmd: echo a >> "$LOG"; echo a > a.txt
                outs: [a.txt]
              b:
                cmd: echo b >> "$LOG"; cp a.txt b.txt
                deps: [a.txt]
                outs: [b.txt]
              always:
                cmd: echo always >> "$LOG"
                always_changed: true

            """])
        ws.env["LOG"] = log
        let none = try ws.mlv(["repro", "--restore-only", "b"])
        #expect(none.status == 2 && none.stderr == """
            mlv: error: stage 'a' is stale and the run-cache has no earlier run with its inputs (--restore-only runs no command)
            hint: run it where its inputs are (`mlv repro a`) and `mlv push --run-cache`, or leave out --restore-only

            """, "\(none)")
        #expect(!FS.exists(log) && !ws.exists("pipeline.lock"))
        #expect(try ws.mlv(["repro", "b"]).status == 0)
        try FS.removeTree(ws.path("pipeline.lock"))
        for out in ["a.txt", "b.txt"] { try FS.removeTree(ws.path(out)) }
        let restored = try ws.mlv(["repro", "--restore-only", "b"])
        #expect(restored.status == 0 && restored.stdout.contains("Stage 'b' is cached"), "\(restored)")
        #expect(try FS.readText(log) == "a\nb\n" && ws.read("b.txt") == "a\n")
        let always = try ws.mlv(["repro", "--restore-only"])
        #expect(always.status == 2 && always.stderr.hasPrefix("mlv: error: stage 'always' is stale and cannot be restored from the run-cache: it is always_changed, has no outs or a persist out"), "\(always)")
        #expect(try ws.mlv(["repro", "--restore-only", "--force"]).stderr.contains("--restore-only restores from the run-cache: it cannot go with --no-run-cache or --force"))
    }

    @Test func refusals() throws {
        let ws = try TestWorkspace()
        try ws.gen(["pipeline.yaml": "stages:\n  train:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item} > m-${item}\n      outs:\n      - m-${item}\n"])
        let bad = BadInputTests()
        try bad.expectRefused(ws, ["dag", "--airflow", "--queue", "train"], message: "--queue 'train' is not STAGE=NAME",
                              hint: "for example --queue train=gpu; names use letters, digits, '_', '-' and '.'")
        try bad.expectRefused(ws, ["dag", "--airflow", "--queue", "train=g p u"], message: "--queue 'train=g p u' is not STAGE=NAME",
                              hint: "for example --queue train=gpu; names use letters, digits, '_', '-' and '.'")
        try bad.expectRefused(ws, ["dag", "--airflow", "--pool", "trian=gpus"], message: "--pool trian=gpus: no stage named 'trian' in pipeline.yaml",
                              hint: "did you mean 'train'?")
        try bad.expectRefused(ws, ["dag", "--airflow", "-o", ".git/dags/x.py"], message: "'.git/dags/x.py' is inside .git or .mlv, which are not for DAG files",
                              hint: "write it into your Airflow dags folder, for example -o dags/x.py")
        try bad.expectRefused(ws, ["dag", "--airflow", "-o", ".mlv/x.py"], message: "'.mlv/x.py' is inside .git or .mlv, which are not for DAG files",
                              hint: "write it into your Airflow dags folder, for example -o dags/x.py")
        try bad.expectRefused(ws, ["dag", "--airflow", "--dag-id", "my dag"], message: "DAG id 'my dag' is not valid in Airflow",
                              hint: "use letters, digits, '_', '-' and '.' (--dag-id)")
        try bad.expectRefused(ws, ["dag", "--queue", "train=gpu"], message: "--queue is an option of --airflow", hint: "mlv dag --airflow --queue …")
        try bad.expectRefused(ws, ["dag", "--airflow", "--commit-branch", "a..b"], message: "--commit-branch 'a..b' is not a branch name",
                              hint: "a git branch name, such as main or results/airflow")
        try bad.expectRefused(ws, ["dag", "--check", "pipeline.yaml"], message: "'pipeline.yaml' is not a DAG file `mlv dag --airflow` wrote (it records no options)")
        try ws.gen(["pipeline.yaml": "stages:\n  train:\n    cmd: x\n    orchestrate: {queue: gpu, gpus: 2}\n"])
        let r = try ws.mlv(["dag", "--airflow"])
        #expect(r.status == 2 && r.stderr.contains("unknown key 'gpus'"), "\(r)")
    }
}
