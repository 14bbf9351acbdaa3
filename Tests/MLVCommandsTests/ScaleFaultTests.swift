import Foundation
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The faults that matter most when a folder holds many files: a checkout killed or starved of
/// disk space half-way, and a manifest that claims more than can be held.
@Suite struct ScaleFaultTests {
    /// A folder checked out whole (no file there) is written as unnamed files named only when
    /// complete: whenever the checkout is killed, every file present holds its whole content,
    /// and the next checkout completes the rest.
    @Test func killNineDuringCheckoutOfAWholeFolderLeavesOnlyWholeFiles() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<4000 { files["data/d\(i % 40)/f\(i)"] = String(repeating: "\(i)-", count: 100 + (i * 37) % 600) }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        var rng = SystemRandomNumberGenerator()
        for round in 0..<4 {
            try FS.removeTree(ws.path("data"))
            try ws.killNine(["checkout"], afterMicroseconds: UInt32.random(in: 20_000...(60_000 + 40_000 * UInt32(round)), using: &rng))
            var present = 0
            if FS.isDirectory(ws.path("data")) {
                for d in try FS.list(ws.path("data")) {
                    for f in try FS.list(ws.path("data/" + d.name)) {
                        let rel = "data/\(d.name)/\(f.name)"
                        #expect(try ws.read(rel) == files[rel], "round \(round): \(rel) is not whole")
                        present += 1
                    }
                }
            }
            #expect(present < files.count || round > 0, "round \(round): the checkout finished before it could be killed")
            let r = try ws.mlv(["checkout"])
            #expect(r.status == 0, "round \(round): \(r)")
            #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        }
        #expect(try ws.read("data/d7/f1207") == files["data/d7/f1207"])
        #expect(try ws.mlv(["cache", "verify"]).status == 0)
    }

    /// A checkout that runs out of space stops with the disk-full message; once there is space
    /// again, running it again completes it.
    @Test(.enabled(if: FullDiskTests.canMountTmpfs, "mounting a tmpfs needs root and mount rights"))
    func checkoutOnAFullDiskFailsCleanlyAndARerunCompletes() throws { try FullDiskTests.onTmpfs(size: "8m") { ws, mountPoint in
        var files: [String: String] = [:]
        for i in 0..<3 { files["data/f\(i)"] = String(repeating: Character(UnicodeScalar(65 + i)!), count: 1 << 20) }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try FS.removeTree(ws.path("data"))
        // Leave room for about one of the three files.
        var st = statvfs()
        #expect(statvfs(mountPoint, &st) == 0)
        let free = Int(st.f_bavail) * Int(st.f_frsize)
        try AtomicFile.write(String(repeating: "z", count: max(0, free - (1 << 20) - (1 << 19))), to: ws.path("filler"))
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("No space left on device"), "\(r)")
        #expect(r.stderr.contains("hint: the disk is full; free some space and run the command again (nothing was lost)"), "\(r)")
        // Whatever was written is whole; nothing is half a file.
        for f in (try? FS.list(ws.path("data"))) ?? [] { #expect(try ws.read("data/" + f.name) == files["data/" + f.name]) }
        try FS.remove(ws.path("filler"))
        let again = try ws.mlv(["checkout"])
        #expect(again.status == 0, "\(again)")
        #expect(try ws.read("data/f2") == files["data/f2"])
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
    } }

    /// One file of the folder cannot be read: `add` names it and records nothing (no pointer,
    /// no object). As root (who reads anything) mlv runs as `nobody` for this.
    @Test func aFolderWithOneUnreadableFileIsRefusedByName() throws {
        let ws = try TestWorkspace(git: false)
        var files: [String: String] = [:]
        for i in 0..<300 { files["data/d\(i % 3)/f\(i)"] = "content \(i)" }
        try ws.gen(files)
        var command = [mlvBinary, "add", "data"]
        if getuid() == 0 {
            let chown = try runProcess("/bin/chown", ["-R", "65534:65534", Path.parent(ws.root)], cwd: "/")
            try #require(chown.status == 0, "\(chown)")
            command = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command
        }
        _ = chmod(ws.path("data/d1/f151"), 0)
        let before = try ws.snapshot()
        let r = try runProcess(command[0], Array(command.dropFirst()), cwd: ws.root, env: ws.env)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("data/d1/f151") && r.stderr.contains("Permission denied"), "\(r)")
        #expect(!ws.exists("data.mlv"))
        #expect(try ws.cacheObjects().isEmpty)
        let after = try ws.snapshot()
        #expect(after == before, "changed: \(before.difference(after))")
    }

    /// A folder's manifest that claims ~10^9 entries (a sparse object past the 1 GiB a manifest
    /// may have) is refused by its size before anything is read or allocated; nothing changes.
    @Test func aManifestClaimingABillionEntriesIsRefusedBeforeAllocation() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/a": "a"])
        #expect(try ws.mlv(["add", "data"]).status == 0)
        let pointer = try ws.read("data.mlv")
        let hash = String(pointer.split(separator: "\n").first { $0.contains("sha256: ") }!.split(separator: " ").last!)
        let object = ws.path(".mlv/cache/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))")
        _ = chmod(object, 0o644)
        let fd = open(object, O_WRONLY | O_TRUNC)
        try #require(fd >= 0)
        #expect(ftruncate(fd, off_t((1 << 30) + 100)) == 0)  // 10^9 lines of a manifest would be ~100 GB: this is the cap
        close(fd)
        try FS.removeTree(ws.path("data"))
        let before = try ws.snapshot()
        for args in [["checkout"], ["gc", "--workspace", "-f"]] {
            let r = try ws.mlv(args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.stderr.contains("is larger than 1024 MiB, too large for a cache object read whole (a manifest)"), "\(args): \(r)")
            #expect(try ws.snapshot() == before, "\(args) changed the workspace")
        }
    }
}
