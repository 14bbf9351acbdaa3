import Foundation
import MLVSupport

/// The result of running the built `mlv` binary.
package struct MLVResult: CustomStringConvertible {
    package var status: Int32
    package var stdout: String
    package var stderr: String
    package var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// The `mlv` executable built next to the test bundle (or `MLV_BINARY`).
package let mlvBinary: String = {
    if let p = ProcessInfo.processInfo.environment["MLV_BINARY"] { return p }
    let exe = Path.absolute(CommandLine.arguments[0])
    var dir = Path.parent(exe)
    // The test runner lives in .build/<config>/ (or inside an .xctest bundle there).
    for _ in 0..<4 {
        let candidate = Path.join(dir, "mlv")
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = Path.parent(dir)
    }
    return Path.join(Path.parent(exe), "mlv")
}()

/// Runs `mlv args…` in `cwd` with a clean, deterministic environment (no terminal, fixed git identity).
@discardableResult
package func runMLV(_ args: [String], cwd: String, env: [String: String] = [:], stdin: String? = nil) throws -> MLVResult {
    try runProcess(mlvBinary, args, cwd: cwd, env: env, stdin: stdin)
}

package func runProcess(_ executable: String, _ args: [String], cwd: String, env: [String: String] = [:], stdin: String? = nil) throws -> MLVResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    var environment = ProcessInfo.processInfo.environment
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment["MLV_LOCK_TIMEOUT"] = environment["MLV_LOCK_TIMEOUT"] ?? "2"
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin.data(using: .utf8)!) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks.
    var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return MLVResult(status: p.terminationStatus,
                     stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}
