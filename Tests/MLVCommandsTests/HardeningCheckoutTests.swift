import Foundation
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Checkout, add and commit under the faults the hardening issue found: a folder swapped for a
/// symlink mid-checkout, a kill -9 over an existing file, a corrupted object in hardlink mode.
@Suite struct HardeningCheckoutTests {
    @Test func folderSwappedForASymlinkDuringCheckoutWritesNothingOutside() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<1500 { files["data/sub/f\(i)"] = "file \(i)" }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        let outside = ws.dir.path + "/outside"
        try FS.makeDirectories(outside)
        for round in 0..<3 {
            try FS.removeTree(ws.path("data/sub"))
            let done = Lock()
            var finished = false
            let sub = ws.path("data/sub")
            PosixThread.detach {
                var n = 0
                while true {
                    done.lock(); let stop = finished; done.unlock()
                    if stop { return }
                    var st = stat()
                    if lstat(sub, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                        n += 1
                        if rename(sub, sub + ".moved\(round)-\(n)") == 0 { _ = symlink(outside, sub) }
                    }
                    usleep(200)
                }
            }
            let r = try ws.mlv(["checkout", "--force"])
            done.lock(); finished = true; done.unlock()
            usleep(5000)
            #expect(r.status == 0 || r.stderr.contains("was replaced by a symbolic link or a file while mlv was writing into it"), "\(r)")
            #expect(!r.stderr.contains("Fatal error"))
            #expect(try FS.list(outside).isEmpty, "round \(round): files written outside the workspace")
            if (try FS.status(sub))?.kind == .symlink { try FS.remove(sub) }
        }
    }

    @Test func killNineDuringCheckoutOverAFileLeavesNoTemporaryBesideIt() throws {
        let ws = try TestWorkspace()
        let big = [UInt8](repeating: 7, count: 48 << 20)
        try FS.makeDirectories(ws.path("big"))
        try FS.writeFile(ws.path("big/b1.bin"), big)
        #expect(try ws.mlv(["add", "big"]).status == 0)
        for round in 0..<5 {
            try FS.writeFile(ws.path("big/b1.bin"), Array("changed \(round)".utf8))
            try ws.killNine(["checkout", "--force"], afterMicroseconds: UInt32(20_000 + round * 25_000))
            #expect(try FS.list(ws.path("big")).map(\.name) == ["b1.bin"], "round \(round)")
            #expect(try FS.list(ws.root).map(\.name).sorted() == [".git", ".gitattributes", ".gitignore", ".mlv", "big", "big.mlv"])
            let st = try ws.mlv(["status"])
            #expect(!st.stdout.contains("added"), "\(st)")
        }
        // The next command cleans what the killed ones left in .mlv/tmp.
        #expect(try ws.mlv(["checkout", "--force"]).status == 0)
        #expect(try FS.list(ws.path(".mlv/tmp")).filter { $0.name.hasPrefix("co.") || $0.name.hasPrefix("obj.") }.isEmpty)
        #expect(try ws.mlv(["status", "--check"]).status == 0)
    }

    @Test func hardlinkCheckoutRefusesACorruptedObjectEvenWithItsTimesRestored() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["config", "cache.type", "hardlink"]).status == 0)
        try ws.write("f", "precious content")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try FS.remove(ws.path("f"))
        let object = ws.path(".mlv/cache/sha256/" + (try ws.cacheObjects().first!))
        var before = stat()
        #expect(stat(object, &before) == 0)
        try FS.chmod(object, 0o644)
        let fd = open(object, O_WRONLY)
        #expect(pwrite(fd, "P", 1, 0) == 1)
        close(fd)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, object, &times, 0) == 0)
        try FS.chmod(object, 0o444)
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: a corrupted cache object was not checked out: 'f'\n"), "\(r)")
        #expect(!ws.exists("f"))
        let v = try ws.mlv(["cache", "verify"])
        #expect(v.status == 1, "\(v)")
    }

    @Test func addWithMessageCommitsOnlyMLVFiles() throws {
        let ws = try TestWorkspace()
        try ws.gen(["f": "data", "other.py": "print()"])
        #expect(try ws.git(["add", "other.py"]).status == 0)
        let r = try ws.mlv(["add", "f", "-m", "Track f"])
        #expect(r.status == 0, "\(r)")
        // mlv's files only: the pointer, .gitignore, and mlv's configuration staged by `mlv init`.
        #expect(try ws.git(["show", "--name-only", "--format=", "HEAD"]).stdout == ".gitattributes\n.gitignore\n.mlv/.gitignore\n.mlv/config.yaml\nf.mlv\n")
        #expect(try ws.git(["diff", "--cached", "--name-only"]).stdout == "other.py\n")
        #expect(try ws.git(["status", "--porcelain"]).stdout == "A  other.py\n")
    }

    @Test func hardlinkAddLeavesOtherLinksOfTheFileWritable() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["config", "cache.type", "hardlink"]).status == 0)
        let outside = ws.dir.path + "/shared.bin"
        try FS.writeFile(outside, Array("shared bytes".utf8), mode: 0o644)
        try FS.hardlink(outside, ws.path("f"))
        #expect(try ws.mlv(["add", "f"]).status == 0)
        let st = try FS.status(outside)!
        #expect(st.mode & 0o777 == 0o644)
        #expect(try FS.readText(outside) == "shared bytes")
        #expect(try ws.mlv(["status", "--check"]).status == 0)
    }
}
