import Foundation
import MLVSupport

/// Apache Airflow 3.3 itself (`make test` installs it into `.venv-airflow`), running the DAG files
/// `mlv dag --airflow` writes. Never an mlv dependency. One Airflow home (its SQLite metadata
/// database, migrated once) serves a whole test run; each test names its own DAG folder and DAG
/// ids. Tasks inherit the environment of the `airflow` command.
package final class AirflowPeer: Sendable {
    package static let venv = Path.join(S3TestServer.repositoryRoot, ".venv-airflow")
    package static let executable = Path.join(venv, "bin/airflow")

    /// Children of the test runner start with the signal mask of the thread that spawns them,
    /// which blocks signals Airflow relies on (SIGALRM for a task's timeout, SIGTERM to stop):
    /// `airflow` is started through this, which clears the mask, then execs it.
    static let unmasked = ["-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])", executable]
    static let python = Path.join(venv, "bin/python")

    package let home: String
    nonisolated(unsafe) static var removeAtExit: String?
    /// The variables every `airflow` command gets (besides the caller's).
    package let env: [String: String]

    /// The shared instance: the home is made and migrated on first use (~5 s).
    package static func shared() throws -> AirflowPeer { try instance.get() }

    private static let instance = Once { try AirflowPeer() }

    private init() throws {
        guard FS.exists(Self.executable) else {
            throw MessageError("Apache Airflow is not installed at .venv-airflow: run `make test` once (it installs apache-airflow==3.3.2 there)")
        }
        home = try TemporaryDirectory(prefix: "mlv-airflow-home").path
        // The home (database, task logs) lives as long as the test process.
        Self.removeAtExit = home
        atexit { if let home = AirflowPeer.removeAtExit { try? FS.removeTree(home) } }
        env = [
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            // No traffic beyond this machine: no usage data, no update checks.
            "SCARF_ANALYTICS": "false",
            "DO_NOT_TRACK": "1",
            "PATH": Path.join(Self.venv, "bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ]
        let r = try runProcess(Self.python, Self.unmasked + ["db", "migrate"], cwd: home, env: env)
        guard r.status == 0 else { throw MessageError("airflow db migrate failed: \(r)") }
    }

    /// Runs `airflow ARGS` with `dags` as the DAG folder.
    @discardableResult
    package func run(_ args: [String], dags: String, env extra: [String: String] = [:]) throws -> MLVResult {
        try runProcess(Self.python, Self.unmasked + args, cwd: dags, env: env.merging(["AIRFLOW__CORE__DAGS_FOLDER": dags]) { _, b in b }.merging(extra) { _, b in b })
    }

    /// `airflow dags test DAG_ID` (every task in this process's children, one after another), with
    /// the run's conf; returns the output and the state of each task of the run.
    package func dagsTest(_ dagID: String, dags: String, conf: String? = nil, env extra: [String: String] = [:]) throws -> (result: MLVResult, states: [String: String]) {
        let r = try run(["dags", "test", dagID] + (conf.map { ["--conf", $0] } ?? []), dags: dags, env: extra)
        return (r, try states(dagID))
    }

    /// The task states of the DAG's latest run, read from the metadata database.
    package func states(_ dagID: String) throws -> [String: String] {
        let script = """
            import json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            run = db.execute("select run_id from dag_run where dag_id = ? order by id desc limit 1", (sys.argv[2],)).fetchone()
            rows = db.execute("select task_id, state from task_instance where dag_id = ? and run_id = ?", (sys.argv[2], run[0])).fetchall() if run else []
            print(json.dumps(dict(rows)))
            """
        let r = try runProcess(Self.python, ["-c", script, Path.join(home, "airflow.db"), dagID], cwd: home)
        guard r.status == 0, let data = r.stdout.data(using: .utf8),
              let states = try JSONSerialization.jsonObject(with: data) as? [String: String?] else {
            throw MessageError("reading the task states failed: \(r)")
        }
        return states.mapValues { $0 ?? "none" }
    }
}

/// A value made once, on first use, by any thread.
package final class Once<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, Error>?
    private let make: () throws -> T
    package init(_ make: @escaping () throws -> T) { self.make = make }
    package func get() throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if value == nil { value = Result { try make() } }
        return try value!.get()
    }
}

extension AirflowPeer {
    /// A real Airflow on this machine: the api-server (on 127.0.0.1, a free port; tasks report to
    /// its execution API), the dag-processor and the scheduler with LocalExecutor (without its log
    /// server, which would listen on every interface), each in a process group of its own (as
    /// Foundation starts them); `stop()` ends them with their children.
    package final class Services {
        let processes: [Process]
        init(_ processes: [Process]) { self.processes = processes }

        /// SIGTERM to each group, then SIGKILL to what is left after 3 s (the services hold nothing
        /// a test needs, and they may have inherited a blocked SIGTERM from the test runner).
        package func stop() {
            for p in processes where p.isRunning { kill(-p.processIdentifier, SIGTERM) }
            var waited = 0
            while processes.contains(where: \.isRunning) && waited < 30 { usleep(100_000); waited += 1 }
            for p in processes {
                kill(-p.processIdentifier, SIGKILL)
                if p.isRunning { p.waitUntilExit() }
            }
        }

        deinit { stop() }
    }

    /// Starts the services with `parallelism` task slots; `logs`: where their output goes.
    package func startServices(dags: String, logs: String, parallelism: Int, env extra: [String: String] = [:]) throws -> Services {
        let port = try Self.freePort()
        let environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }.merging([
            "AIRFLOW__CORE__DAGS_FOLDER": dags,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": String(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://127.0.0.1:\(port)/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": String(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "1",
        ]) { _, b in b }.merging(extra) { _, b in b }
        var started: [Process] = []
        for (name, args) in [("api-server", ["api-server", "--host", "127.0.0.1", "--port", String(port)]), ("dag-processor", ["dag-processor"]), ("scheduler", ["scheduler", "--skip-serve-logs"])] {
            // Tasks report to the api-server from their first moment: it listens before the rest start.
            if name == "dag-processor" && !Self.waitForPort(port, timeout: 90) {
                Services(started).stop()
                throw MessageError("the Airflow api-server did not listen on 127.0.0.1:\(port) within 90 s; see \(logs)/api-server.log")
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.python)
            p.arguments = Self.unmasked + args
            p.environment = environment
            p.currentDirectoryURL = URL(fileURLWithPath: dags)
            FileManager.default.createFile(atPath: "\(logs)/\(name).log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(logs)/\(name).log"))
            p.standardOutput = log
            p.standardError = log
            p.standardInput = FileHandle.nullDevice
            try p.run()
            started.append(p)
        }
        return Services(started)
    }

    /// Waits until the DAG has `runs` runs and all of them have ended; their states (success or
    /// failed), oldest first, or nil after `timeout` seconds.
    package func waitForRuns(_ dagID: String, runs: Int = 1, timeout: Double) throws -> [String]? {
        let deadline = Date().addingTimeInterval(timeout)
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            try:
                rows = db.execute("select state from dag_run where dag_id = ? order by id", (sys.argv[2],)).fetchall()
            except sqlite3.OperationalError:
                rows = []
            print(" ".join(r[0] for r in rows))
            """
        while Date() < deadline {
            let r = try runProcess(Self.python, ["-c", script, Path.join(home, "airflow.db"), dagID], cwd: home)
            let states = r.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if states.count >= runs && states.allSatisfy({ $0 == "success" || $0 == "failed" }) { return states }
            usleep(500_000)
        }
        return nil
    }

    /// True once something accepts connections on 127.0.0.1:`port`.
    static func waitForPort(_ port: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if ok { return true }
            usleep(250_000)
        }
        return false
    }

    /// A port no one listens on, on 127.0.0.1 (the same helper the MLflow server uses).
    static func freePort() throws -> Int { try MLflowServer.freePort() }
}
