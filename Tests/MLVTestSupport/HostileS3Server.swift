import Foundation
import MLVSupport

/// scripts/hostile-s3.py: an S3 endpoint on 127.0.0.1 that lies (endless listings, answers that
/// are not XML, objects larger than recorded, a range total of Int64.max). Stopped by `stop()`
/// or `deinit`, or by itself when this process ends.
public final class HostileS3Server {
    public let endpoint: String
    let process: Process

    public init(mode: String) throws {
        (process, endpoint) = try LoopbackScript.start("scripts/hostile-s3.py", [mode, "--owner", String(getpid())], what: "the hostile S3 server")
    }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
    }

    deinit { stop() }
}
