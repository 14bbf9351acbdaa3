import Foundation
import MLVSupport

/// A real MLflow tracking server (`make test` installs mlflow-skinny and what its server needs into `.venv-mlflow`) on a free
/// 127.0.0.1 port, with a sqlite backend and artifact root in `dir`, telemetry off: the peer of
/// `mlv exp export --mlflow`. It runs in a process group of its own, watched: stopped by
/// `stop()` (TERM, then KILL after 5 s), by `deinit`, or when this process is gone.
package final class MLflowServer {
    package static let venv = Path.join(S3TestServer.repositoryRoot, ".venv-mlflow")
    package static let version = "3.17.2"
    package let uri: String
    package let log: String
    let process: Process
    let dir: String
    private var stopped = false

    package init(dir: String) throws {
        let mlflow = Path.join(Self.venv, "bin/mlflow")
        guard FS.exists(mlflow) else {
            throw MessageError("MLflow is not installed at .venv-mlflow: run `make test` once (it installs mlflow-skinny==\(Self.version) and its server's needs there)")
        }
        self.dir = dir
        try FS.makeDirectories(Path.join(dir, "artifacts"))
        let port = try Self.freePort()
        uri = "http://127.0.0.1:\(port)"
        log = Path.join(dir, "server.log")
        let server = [mlflow, "server", "--backend-store-uri", "sqlite:///\(dir)/mlflow.db", "--default-artifact-root", "\(dir)/artifacts",
                      "--host", "127.0.0.1", "--port", "\(port)", "--workers", "1"].map { "'\($0)'" }.joined(separator: " ")
        // The group ends when the server does, or when the test process is gone.
        let watch = "echo $$ > '\(dir)/group.pid'; \(server) & while kill -0 \(getpid()) 2>/dev/null && kill -0 $! 2>/dev/null; do sleep 1; done; kill -TERM 0"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["-w", "/bin/bash", "-c", watch]
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("MLFLOW_") { env[k] = nil }
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
        // MLflow 3 starts seven job-queue consumers by default (GenAI jobs), busy on two cores.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        env["no_proxy"] = "*"
        process.environment = env
        FileManager.default.createFile(atPath: log, contents: nil)
        let out = FileHandle(forWritingAtPath: log)
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let probe = try runProcess("/usr/bin/curl", ["-s", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", uri + "/health"], cwd: dir)
            if probe.stdout == "200" { return }
            guard process.isRunning else { break }
            usleep(300_000)
        }
        stop()
        throw MessageError("mlflow server did not start at \(uri):\n" + ((try? FS.readText(log)) ?? ""))
    }

    /// TERM to the server's process group, then KILL after 5 s.
    package func stop() {
        guard !stopped else { return }
        stopped = true
        // setsid forks (a Process child leads its own group already): the session is bash's.
        guard let text = try? FS.readText(Path.join(dir, "group.pid")), let leader = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), leader > 1 else {
            process.terminate()
            return
        }
        let group = -leader
        kill(group, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while kill(group, 0) == 0 && Date() < deadline { usleep(100_000) }
        if kill(group, 0) == 0 { kill(group, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Runs Python `code` in the venv with MLFLOW_TRACKING_URI set to this server: its stdout.
    package func python(_ code: String) throws -> String {
        let r = try runProcess(Path.join(Self.venv, "bin/python"), ["-c", code], cwd: dir,
                               env: ["MLFLOW_TRACKING_URI": uri, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "no_proxy": "*"])
        guard r.status == 0 else { throw MessageError("python exited \(r.status):\n\(r.stderr)") }
        return r.stdout
    }

    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MessageError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw MessageError("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
