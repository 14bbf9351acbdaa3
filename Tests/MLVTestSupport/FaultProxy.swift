import Foundation
import MLVSupport

/// scripts/fault-proxy.py in front of the test S3 server: a seeded fraction of requests get
/// 503 SlowDown, 500, a reset connection, a truncated body or a stall. Stopped by `stop()`,
/// or by itself when this process ends.
package final class FaultProxy {
    package let endpoint: String
    let process: Process
    let statsFile: String

    package init(upstream: String, rate: Double, seed: Int, stall: Double = 2, kinds: [String]? = nil, failParts: [Int] = []) throws {
        guard let port = upstream.split(separator: ":").last else { throw MessageError("bad upstream \(upstream)") }
        statsFile = "/tmp/mlv-fault-proxy-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        var args = [String(port), "--rate", String(rate), "--seed", String(seed), "--stall", String(stall),
                    "--stats", statsFile, "--owner", String(getpid())]
        if let kinds { args += ["--kinds", kinds.joined(separator: ",")] }
        if !failParts.isEmpty { args += ["--fail-parts", failParts.map(String.init).joined(separator: ",")] }
        (process, endpoint) = try LoopbackScript.start("scripts/fault-proxy.py", args, what: "the fault proxy")
    }

    /// The counts so far, the proxy still running (it writes them on SIGUSR1).
    package func snapshot() -> [String: Int] {
        try? FS.remove(statsFile)
        kill(process.processIdentifier, SIGUSR1)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let bytes = try? FS.readFile(statsFile), bytes.last == 10,
               let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Int] { return obj }
            usleep(10_000)
        }
        return [:]
    }

    /// Stops the proxy and returns its counts: requests and faults by kind.
    @discardableResult
    package func stop() -> [String: Int] {
        // Not waitUntilExit: it can miss the exit while other Processes run in this test process.
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while !FS.exists(statsFile) && Date() < deadline { usleep(20_000) }
        if !FS.exists(statsFile) { kill(pid, SIGKILL) }
        usleep(50_000)
        defer { try? FS.remove(statsFile) }
        guard let bytes = try? FS.readFile(statsFile),
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Int] else { return [:] }
        return obj
    }
}
