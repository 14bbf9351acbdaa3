import Foundation
import MLVSupport

/// A Python test server of the repository's `scripts/` that listens on a free 127.0.0.1 port and
/// prints it on its first line (the fault proxy, the hostile S3 server).
package enum LoopbackScript {
    /// Starts `python3 script args…` and waits (up to 20 s) for its port: the process and its endpoint.
    package static func start(_ script: String, _ args: [String], what: String) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Path.join(S3TestServer.repositoryRoot, script)] + args
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
            throw MessageError("\(what) did not start")
        }
        return (process, "http://127.0.0.1:\(port)")
    }
}
