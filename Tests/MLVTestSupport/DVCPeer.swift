import MLVSupport

/// DVC 3.67 itself (`make test` installs it into `.venv-dvc`), run beside mlv by the tests that
/// check DVC's behaviour and migrate projects DVC made. Never an mlv dependency.
package enum DVCPeer {
    package static let executable = Path.join(S3TestServer.repositoryRoot, ".venv-dvc/bin/dvc")

    /// Runs `dvc ARGS` in `cwd` (no analytics, no update checks); a missing install is an error
    /// that says how to get it.
    @discardableResult
    package static func run(_ args: [String], cwd: String, env: [String: String] = [:]) throws -> MLVResult {
        guard FS.exists(executable) else {
            throw MessageError("DVC is not installed at .venv-dvc: run `make test` once (it installs dvc==3.67.1 there)")
        }
        var environment = env
        environment["DVC_NO_ANALYTICS"] = "1"
        environment["DVC_NO_UPDATE_CHECK"] = "1"
        return try runProcess(executable, args, cwd: cwd, env: environment)
    }

    /// `run`, failing with DVC's output when it exits non-zero.
    @discardableResult
    package static func check(_ args: [String], cwd: String, env: [String: String] = [:]) throws -> MLVResult {
        let r = try run(args, cwd: cwd, env: env)
        guard r.status == 0 else { throw MessageError("dvc \(args.joined(separator: " ")) exited \(r.status):\n\(r.stdout)\n\(r.stderr)") }
        return r
    }
}
