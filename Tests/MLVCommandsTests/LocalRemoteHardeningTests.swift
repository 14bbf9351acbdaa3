import Foundation
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A local-folder remote is shared with other people: a folder in it swapped for a symlink, or a
/// FIFO where an object should be, must not lead push, pull or `gc --cloud -f` outside it.
@Suite struct LocalRemoteHardeningTests {
    /// A workspace with `data.txt` added and the local remote `store` (../store), the remote's
    /// folder for the object's first two hex digits, and the object's name in it.
    func workspace(_ content: String = "some data\n") throws -> (TestWorkspace, folder: String, name: String) {
        let ws = try TestWorkspace()
        try ws.write("data.txt", content)
        #expect(try ws.mlv(["add", "data.txt"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "store", "../store"]).status == 0)
        let hex = SHA256Hasher.hex(content)
        try FS.makeDirectories(ws.dir.path + "/store/sha256")
        try FS.makeDirectories(ws.dir.path + "/outside")
        return (ws, "sha256/" + hex.prefix(2), String(hex.dropFirst(2)))
    }

    @Test func aSymlinkedObjectFolderStopsPushAndNothingIsWrittenOutside() throws {
        let (ws, folder, _) = try workspace()
        try FS.makeSymlink(ws.dir.path + "/outside", ws.dir.path + "/store/" + folder)
        try BadInputTests().expectRefused(ws, ["push"],
            message: "remote 'store': '\(folder)' is a symbolic link or a file, not a folder; nothing was read or written through it",
            hint: "someone put it into the remote's folder: remove it (the remote's folders hold only folders and objects)")
        #expect(try FS.list(ws.dir.path + "/outside").isEmpty)
    }

    @Test func gcCloudNeverDeletesThroughASymlinkedFolder() throws {
        let (ws, _, _) = try workspace()
        #expect(try ws.mlv(["push"]).status == 0)
        // An "object" outside, reached through a planted folder link, referenced by nothing.
        let other = SHA256Hasher.hex("not referenced")
        try FS.writeFile(ws.dir.path + "/outside/" + other.dropFirst(2), Array("precious".utf8))
        try? FS.remove(ws.dir.path + "/store/sha256/" + other.prefix(2))
        try FS.makeSymlink(ws.dir.path + "/outside", ws.dir.path + "/store/sha256/" + other.prefix(2))
        let r = try ws.mlv(["gc", "--workspace", "--cloud", "-f", "--grace", "0"])
        #expect(r.status == 0, "\(r)")
        #expect(try FS.readText(ws.dir.path + "/outside/" + other.dropFirst(2)) == "precious")
    }

    @Test func aFIFOWhereAnObjectShouldBeIsNamedAsSuch() throws {
        let (ws, folder, name) = try workspace()
        #expect(try ws.mlv(["push"]).status == 0)
        let object = ws.dir.path + "/store/" + folder + "/" + name
        try FS.remove(object)
        #expect(mkfifo(object, 0o644) == 0)
        try FS.removeTree(ws.path(".mlv/cache"))
        try FS.remove(ws.path("data.txt"))
        let before = try ws.snapshot()
        let r = try ws.mlv(["pull"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.hasPrefix("mlv: error: remote 'store': '\(folder)/\(name)' is a FIFO, not a regular file\n"), "\(r)")
        #expect(try ws.snapshot() == before)
    }
}
