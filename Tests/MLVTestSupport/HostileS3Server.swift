import Foundation
import MLVSupport

/// scripts/hostile-s3.py: an S3 endpoint on 127.0.0.1 that lies (endless listings, answers that
/// are not XML, objects larger than recorded, a range total of Int64.max). Stopped by `stop()`
/// or `deinit`, or by itself when this process ends.
package final class HostileS3Server {
    package let endpoint: String
    let process: Process

    package init(mode: String) throws {
        (process, endpoint) = try LoopbackScript.start("scripts/hostile-s3.py", [mode, "--owner", String(getpid())], what: "the hostile S3 server")
    }

    package func stop() {
        kill(process.processIdentifier, SIGKILL)
    }

    deinit { stop() }
}
