import Foundation
import MLVSupport

/// scripts/hostile-mlflow.py: an MLflow tracking server on 127.0.0.1 that refuses credentials,
/// fails, answers what is not JSON, or fails on the second run. Stopped by `stop()` or
/// `deinit`, or by itself when this process ends.
package final class HostileMLflowServer {
    package let uri: String
    let process: Process

    /// `expect`: with mode "auth", the Authorization header every request must carry.
    package init(mode: String, expect: String? = nil) throws {
        (process, uri) = try LoopbackScript.start("scripts/hostile-mlflow.py", [mode, "--owner", String(getpid())] + (expect.map { ["--expect", $0] } ?? []),
                                                  what: "the hostile MLflow server")
    }

    package func stop() { kill(process.processIdentifier, SIGKILL) }

    deinit { stop() }
}
