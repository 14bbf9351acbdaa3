import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv exp export --mlflow`: each experiment an MLflow run, logged through MLflow's REST API
/// (read back with MLflow's own Python client from a real `mlflow server`, sqlite backend, on
/// 127.0.0.1), exported again without duplicates; servers that refuse, fail or babble are
/// named, and a partial export lists what went.
@Suite struct MLflowTests {
    /// ExperimentTests' pipeline with a per-step history plot, a 1,500-row table without a
    /// step column (the row number is the step; more than one log-batch holds) and a model
    /// artifact; two params whose names meet once made MLflow-safe; two experiments (lr 0.2
    /// and 0.4).
    static func project() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "train:\n  lr: 0.1\n  batch_size: 16\n\"x<y\": 1\n\"x>y\": 2\n",
            "pipeline.yaml": """
                stages:
                  train:
                    cmd: ./train.sh ${train.lr} ${train.batch_size}
                    deps: [train.sh]
                    params: [train]
                    outs: [model.txt]
                    metrics: [metrics.json: {cache: false}]
                    plots:
                    - history.csv: {x: step, y: [val_loss], cache: false}
                    - schedule.tsv: {cache: false}
                artifacts:
                  net: {path: model.txt, type: model}

                """,
        ])
        try AtomicFile.write(#"""
            #!/bin/sh
            echo "model $1 $2" > model.txt
            awk -v lr=$1 -v bs=$2 'BEGIN {printf "{\"acc\": %.4f, \"loss\": %.4f}\n", lr*2+bs/100, 1/(lr*bs)}' > metrics.json
            echo step,val_loss > history.csv
            for s in 0 1 2; do awk -v lr=$1 -v s=$s 'BEGIN {printf "%d,%.4f\n", s, 1/(lr*(s+1))}' >> history.csv; done
            awk -v lr=$1 'BEGIN {print "lr_now"; for (i = 0; i < 1500; i++) printf "%.6f\n", lr / (1 + i)}' > schedule.tsv

            """#, to: ws.path("train.sh"), mode: 0o755)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "baseline"]).status == 0)
        #expect(try ws.mlv(["exp", "run", "--queue", "-S", "train.lr=0.2,0.4"]).status == 0)
        #expect(try ws.mlv(["exp", "run", "--run-all"]).status == 0)
        return ws
    }

    @Test func eachExperimentBecomesOneRunAndExportingAgainUpdatesIt() throws {
        let ws = try Self.project()
        let server = try MLflowServer(dir: ws.dir.path + "/mlflow")
        defer { server.stop() }
        let rows = try JSONSerialization.jsonObject(with: Data(try ws.mlv(["exp", "show", "--json"]).stdout.utf8)) as! [[String: Any]]
        let exps = rows.dropFirst(2).map { ($0["name"] as! String, $0["rev"] as! String, ($0["params"] as! [String: [String: Any]])["params.yaml"]!["train.lr"] as! Double) }
        #expect(exps.count == 2)
        let before = try ExperimentTests.userState(ws)
        let env = ["MLFLOW_TRACKING_URI": server.uri]
        let start = MonotonicClock.monotonicSeconds()
        let first = try ws.mlv(["exp", "export", "--mlflow", "--experiment", "mlv tests"], env: env)
        let seconds = MonotonicClock.monotonicSeconds() - start
        print("exported 2 runs to a fresh MLflow in \(String(format: "%.2f", seconds)) s")
        #expect(first.status == 0 && first.stdout.components(separatedBy: " created\n").count == 3, "\(first)")
        #expect(first.stdout.hasSuffix("2 experiments exported to MLflow experiment 'mlv tests' (id 1) at \(server.uri)\n"), "\(first)")
        let start2 = MonotonicClock.monotonicSeconds()
        let again = try ws.mlv(["exp", "export", "--mlflow", "--experiment", "mlv tests", exps[1].0, exps[0].0], env: env)
        print("exported them again in \(String(format: "%.2f", MonotonicClock.monotonicSeconds() - start2)) s")
        #expect(again.status == 0 && again.stdout.components(separatedBy: " updated\n").count == 3, "\(again)")
        #expect(try ExperimentTests.userState(ws) == before, "the export changed the workspace")

        let read = try server.python("""
            import json, mlflow
            from mlflow.tracking import MlflowClient
            c = MlflowClient()
            e = c.get_experiment_by_name("mlv tests")
            for r in mlflow.search_runs(experiment_ids=[e.experiment_id], output_format="list"):
                h = c.get_metric_history(r.info.run_id, "val_loss")
                sched = c.get_metric_history(r.info.run_id, "lr_now")
                print(json.dumps({"name": r.info.run_name, "status": r.info.status, "params": r.data.params, "metrics": r.data.metrics,
                                  "tags": r.data.tags, "history": sorted([m.step, m.value] for m in h),
                                  "schedule": sorted([m.step, m.value] for m in sched)}))
            """)
        let runs = read.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(runs.count == 2, "one run per experiment, after two exports: \(read)")
        #expect(Set(exps.map(\.2)) == [0.2, 0.4])
        for (name, commit, lr) in exps {
            let run = try #require(runs.first { $0["name"] as? String == name }, "\(name)")
            #expect(run["status"] as? String == "FINISHED")
            #expect(run["params"] as? [String: String] == ["train.lr": "\(lr)", "train.batch_size": "16", "x_y": "1"], "\(run)")
            let metrics = try #require(run["metrics"] as? [String: Double])
            #expect(abs(metrics["acc"]! - (lr * 2 + 0.16)) < 1e-9 && abs(metrics["loss"]! - 1 / (lr * 16)) < 1e-4, "\(metrics)")
            let history = try #require(run["history"] as? [[Double]])
            #expect(history.map { $0[0] } == [0, 1, 2] && zip(history, [1.0, 2, 3]).allSatisfy { abs($0[1] - 1 / (lr * $1)) < 1e-4 }, "\(history)")
            let schedule = try #require(run["schedule"] as? [[Double]])
            #expect(schedule.count == 1500 && schedule.map { $0[0] } == (0..<1500).map(Double.init), "\(schedule.count) steps")
            #expect(schedule.allSatisfy { abs($0[1] - lr / (1 + $0[0])) < 1e-6 } && metrics["lr_now"].map { abs($0 - lr / 1500) < 1e-6 } == true)
            let tags = try #require(run["tags"] as? [String: String])
            let lock = try ws.git(["show", "\(commit):pipeline.lock"]).stdout
            #expect(tags["mlv.experiment"] == name && tags["mlv.commit"] == commit && tags["mlflow.source.git.commit"] == commit)
            #expect(tags["mlv.lock"] == "sha256:" + SHA256Hasher.hex(lock))
            let model = try #require(lock.components(separatedBy: "path: model.txt\n").last?.split(separator: "\n").first { $0.contains("sha256: ") })
            #expect(tags["mlv.model"].map { model.hasSuffix(String($0.dropFirst("sha256:".count))) } == true, "\(tags) \(model)")
            #expect(tags["mlv.version"]?.isEmpty == false && tags["mlv.baseline"]?.count == 40)
        }
    }

    @Test func serversThatRefuseOrFailAreNamedAndNothingChanges() throws {
        let ws = try ExperimentTests.project()
        #expect(try ws.mlv(["exp", "run", "--name", "one", "-S", "train.lr=0.3"]).status == 0)
        #expect(try ws.mlv(["exp", "run", "--name", "two", "-S", "train.lr=0.5"]).status == 0)
        ws.env["MLFLOW_TRACKING_URI"] = ""
        ws.env["MLFLOW_TRACKING_TOKEN"] = "hostile-secret-token"
        let bad = BadInputTests()
        let export = ["exp", "export", "--mlflow", "--tracking-uri"]
        try bad.expectRefused(ws, ["exp", "export", "--mlflow"], message: "no MLflow tracking server to export to",
                              hint: "pass --tracking-uri http://HOST:PORT or set MLFLOW_TRACKING_URI")
        try bad.expectRefused(ws, export + ["file:///tmp/mlruns"], message: "'file:///tmp/mlruns' is not the http:// or https:// URL of an MLflow tracking server",
                              hint: "mlv talks to MLflow's REST API: run `mlflow server` and give its URL")
        let closed = "http://127.0.0.1:\(try MLflowServer.freePort())"
        try bad.expectRefused(ws, export + [closed], message: "cannot reach the MLflow server at \(closed): Couldn't connect to server",
                              hint: "check that `mlflow server` runs there and the URI is right")
        try bad.expectRefused(ws, export + [closed, "one", "tow"], message: "no experiment named 'tow'", hint: "did you mean 'two'?")
        let failed = "the server's log says more; exporting again updates the runs that went, never duplicates them"
        let cases: [(String, (String) -> String, String)] = [
            ("unauthorized", { "the MLflow server at \($0) rejected the credentials (HTTP 401 to experiments/get-by-name)" },
             "set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"),
            ("forbidden", { "the MLflow server at \($0) rejected the credentials (HTTP 403 to experiments/get-by-name)" },
             "set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"),
            ("error-500", { "the MLflow server at \($0) answered HTTP 500 to experiments/get-by-name" }, failed),
            ("json-error", { "the MLflow server at \($0) answered HTTP 400 to experiments/get-by-name: INVALID_PARAMETER_VALUE: <b>bad</b>\\u000Arequest" }, failed),
            ("garbage", { "the MLflow server at \($0) answered experiments/get-by-name with something that is not MLflow's JSON" },
             "check that the URI names an MLflow tracking server"),
            ("second-run-fails", { "exported 1 of 2 experiments to MLflow (one); not exported: two: the MLflow server at \($0) answered HTTP 500 to runs/create: INTERNAL_ERROR: the database is locked" },
             "export again: the runs that went are updated, not duplicated"),
        ]
        for (mode, message, hint) in cases {
            let server = try HostileMLflowServer(mode: mode)
            defer { server.stop() }
            try bad.expectRefused(ws, export + [server.uri], message: message(server.uri), hint: hint)
            let r = try ws.mlv(export + [server.uri])
            #expect(!r.stderr.contains("hostile-secret") && r.status == 2, "\(mode): \(r)")
        }
    }

    /// MLFLOW_TRACKING_TOKEN goes as a Bearer token, else MLFLOW_TRACKING_USERNAME/PASSWORD as
    /// Basic (the token wins); the URI from the environment; nothing of them printed.
    @Test func credentialsComeFromMLflowsVariables() throws {
        let ws = try ExperimentTests.project()
        #expect(try ws.mlv(["exp", "run", "--name", "one", "-S", "train.lr=0.3"]).status == 0)
        let basic = "Basic " + Data("ann:s3cret pass".utf8).base64EncodedString()
        for (expected, env) in [("Bearer t0k-en", ["MLFLOW_TRACKING_TOKEN": "t0k-en", "MLFLOW_TRACKING_USERNAME": "ann"]),
                                (basic, ["MLFLOW_TRACKING_TOKEN": "", "MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "s3cret pass"])] {
            let server = try HostileMLflowServer(mode: "auth", expect: expected)
            defer { server.stop() }
            let r = try ws.mlv(["exp", "export", "--mlflow"], env: env.merging(["MLFLOW_TRACKING_URI": server.uri + "/"]) { a, _ in a })
            #expect(r.status == 0 && r.stdout.hasSuffix("1 experiment exported to MLflow experiment 'repo' (id 7) at \(server.uri)\n"), "\(expected): \(r)")
            let refused = try ws.mlv(["exp", "export", "--mlflow", "--tracking-uri", server.uri], env: ["MLFLOW_TRACKING_TOKEN": "wrong", "MLFLOW_TRACKING_USERNAME": ""])
            #expect(refused.status == 2 && refused.stderr.contains("rejected the credentials (HTTP 401 to experiments/get-by-name)"), "\(refused)")
            #expect(!(r.stdout + r.stderr + refused.stderr).contains("t0k-en") && !(r.stdout + r.stderr).contains("s3cret"))
        }
    }
}
