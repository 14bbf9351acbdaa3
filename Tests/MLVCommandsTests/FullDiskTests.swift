import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// A full disk, made real with a small tmpfs (needs root and mount rights, as CI and the dev
/// machines have; elsewhere the test is skipped, saying why).
@Suite struct FullDiskTests {
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let dir = try? TemporaryDirectory(prefix: "mlv-mount-probe") else { return false }
        defer { dir.remove() }
        guard let r = try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.path], cwd: "/"), r.status == 0 else { return false }
        _ = try? runProcess("/bin/umount", [dir.path], cwd: "/")
        return true
    }()

    /// Runs `body` with a workspace on a tmpfs of `size` (e.g. "7m"), unmounted afterwards.
    static func onTmpfs(size: String, _ body: (TestWorkspace, String) throws -> Void) throws {
        let mountPoint = try TemporaryDirectory(prefix: "mlv-tmpfs")
        defer { mountPoint.remove() }
        let mount = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint.path], cwd: "/")
        try #require(mount.status == 0, "\(mount)")
        defer { _ = try? runProcess("/bin/umount", ["-l", mountPoint.path], cwd: "/") }
        try body(try TestWorkspace(in: mountPoint.path), mountPoint.path)
    }

    @Test(.enabled(if: canMountTmpfs, "mounting a tmpfs needs root and mount rights"))
    func addOnAFullDiskFailsCleanly() throws { try FullDiskTests.onTmpfs(size: "7m") { ws, _ in
        var files: [String: String] = [:]
        for i in 0..<4 { files["data/f\(i)"] = String(repeating: Character(UnicodeScalar(65 + i)!), count: 1 << 20) }
        try ws.gen(files)
        let before = try ws.snapshot()
        let r = try ws.mlv(["add", "data"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.hasPrefix("mlv: error: cannot "), "\(r)")
        #expect(r.stderr.contains("No space left on device"))
        #expect(r.stderr.contains("hint: the disk is full; free some space and run the command again (nothing was lost)"))
        let after = try ws.snapshot()
        #expect(after == before, "changed: \(before.difference(after))")
        #expect(try ws.cacheObjects().isEmpty)
        // With space again, the same command completes.
        try FS.remove(ws.path("data/f3"))
        #expect(try ws.mlv(["add", "data"]).status == 0)
        #expect(try ws.mlv(["cache", "verify"]).status == 0)
    } }
}
