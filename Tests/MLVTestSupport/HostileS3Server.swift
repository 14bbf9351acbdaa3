import Foundation
import MLVSupport

/// scripts/hostile-s3.py: an S3 endpoint on 127.0.0.1 that lies (endless listings, answers that
/// are not XML, objects larger than recorded, a range total of Int64.max). Stopped by `stop()`
/// or `deinit`, or by itself when this process ends.
public final class HostileS3Server {
    public let endpoint: String
    let process: Process

    public init(mode: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Path.join(S3TestServer.repositoryRoot, "scripts/hostile-s3.py"), mode, "--owner", String(getpid())]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while !line.contains(10) && Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let text = String(data: line, encoding: .utf8)?.split(separator: "\n").first, let port = Int(text) else {
            process.terminate()
            throw MessageError("the hostile S3 server did not start")
        }
        endpoint = "http://127.0.0.1:\(port)"
    }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
    }

    deinit { stop() }
}
