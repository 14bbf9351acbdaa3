import Foundation
import MLVSupport

/// A temporary git repository with an mlv workspace, driven through the real `mlv` binary.
/// HOME points into the test folder, so git identity and config are the test's own.
package final class TestWorkspace {
    package let dir: TemporaryDirectory
    package var root: String { dir.path + "/repo" }
    package var home: String { dir.path + "/home" }
    package var env: [String: String]

    package init(git: Bool = true, identity: Bool = true, initialize: Bool = true, in parent: String? = nil) throws {
        dir = try TemporaryDirectory(prefix: "mlv-ws", in: parent)
        try FS.makeDirectories(dir.path + "/repo")
        try FS.makeDirectories(dir.path + "/home")
        env = ["HOME": dir.path + "/home", "XDG_CONFIG_HOME": dir.path + "/home/.config", "GIT_CONFIG_NOSYSTEM": "1"]
        if identity {
            try AtomicFile.write("[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n", to: home + "/.gitconfig")
        }
        if git { try self.git(["init", "-q", "."]) }
        if initialize {
            let r = try mlv(git ? ["init"] : ["init", "--no-git"])
            guard r.status == 0 else { throw MessageError("mlv init failed: \(r)") }
        }
    }

    deinit { dir.remove() }

    @discardableResult
    package func mlv(_ args: [String], cwd: String? = nil, env extra: [String: String] = [:]) throws -> MLVResult {
        try runMLV(args, cwd: cwd.map { root + "/" + $0 } ?? root, env: env.merging(extra) { _, b in b })
    }

    /// Runs DVC 3.67 (see `DVCPeer`) in the workspace, with the test's HOME; fails when it fails.
    @discardableResult
    package func dvc(_ args: [String], cwd: String? = nil) throws -> MLVResult {
        try DVCPeer.check(args, cwd: cwd.map { root + "/" + $0 } ?? root, env: env)
    }

    /// Starts `mlv` in the workspace without waiting (output discarded), to kill it mid-run.
    package func killNine(_ args: [String], afterMicroseconds delay: UInt32) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(delay)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    @discardableResult
    package func git(_ args: [String]) throws -> MLVResult {
        try runProcess("/usr/bin/git", args, cwd: root, env: env)
    }

    package func path(_ rel: String) -> String { root + "/" + rel }

    package func write(_ rel: String, _ text: String) throws {
        try FS.makeDirectories(Path.parent(path(rel)))
        // A new inode each time, as an editor or a tool writing a new version would make.
        if FS.exists(path(rel)) { try FS.remove(path(rel)) }
        try FS.writeFile(path(rel), Array(text.utf8))
    }

    package func read(_ rel: String) throws -> String { try FS.readText(path(rel)) }

    package func exists(_ rel: String) -> Bool { ((try? FS.status(path(rel))) ?? nil) != nil }

    package func gen(_ files: [String: String]) throws {
        for (k, v) in files { try write(k, v) }
    }

    package func snapshot() throws -> TreeSnapshot { try TreeSnapshot.take(root) }

    /// Paths of every object in the cache (relative to `.mlv/cache/sha256`).
    package func cacheObjects() throws -> [String] {
        let base = path(".mlv/cache/sha256")
        guard FS.isDirectory(base) else { return [] }
        var out: [String] = []
        for p in try FS.list(base) { for o in try FS.list(base + "/" + p.name) { out.append(p.name + "/" + o.name) } }
        return out.sorted()
    }
}
