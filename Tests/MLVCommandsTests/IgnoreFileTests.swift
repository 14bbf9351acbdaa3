import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `.mlvignore`: gitignore rules (matched by libgit2) in any folder, for add, folder hashes,
/// status, checkout and pointer discovery; `mlv check-ignore` names the deciding rule.
@Suite struct IgnoreFileTests {
    func workspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen(["data/a.txt": "a", "data/b.tmp": "t", "data/sub/c.tmp": "t", "data/keep/k.tmp": "k",
                    "data/build/out.bin": "o", "data/sub/build/x": "x",
                    ".mlvignore": "# scratch files\n*.tmp\n/data/build/\n", "data/keep/.mlvignore": "!k.tmp\n"])
        return ws
    }

    @Test func ignoredFilesAreNotPartOfAFolder() throws {
        let ws = try workspace()
        #expect(try ws.mlv(["add", "data"]).status == 0)
        // a.txt, keep/.mlvignore, keep/k.tmp (un-ignored there) and sub/build/x (/data/build/ is anchored).
        #expect(try ws.read("data.mlv").contains("  nfiles: 4\n"))
        // New or changed ignored files change nothing.
        try ws.gen(["data/new.tmp": "n", "data/b.tmp": "changed", "data/build/more": "m"])
        #expect(try ws.mlv(["status", "--check"]).status == 0)
        // A checkout leaves them alone; what is tracked comes back.
        try FS.remove(ws.path("data/a.txt"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("data/a.txt") == "a" && ws.read("data/new.tmp") == "n" && ws.read("data/b.tmp") == "changed")
        // A tracked file that becomes ignored leaves the folder's content.
        try ws.write("data/.mlvignore", "a.txt\n")
        #expect(try ws.mlv(["status"]).stdout == "data: 1 added, 1 deleted\n")   // the new .mlvignore is data; a.txt left
    }

    @Test func ignoredPathsAreNotAddedAndIgnoredPointersNotFound() throws {
        let ws = try workspace()
        try BadInputTests().expectRefused(ws, ["add", "data/b.tmp"], message: "'data/b.tmp' is ignored by .mlvignore",
                                          hint: "`mlv check-ignore -d data/b.tmp` shows the rule; change it to track this path")
        try ws.gen(["models/m.bin": "m"])
        #expect(try ws.mlv(["add", "models/m.bin"]).status == 0)
        #expect(try ws.mlv(["status", "--json"]).stdout == "{\n\n}\n")
        // Ignore the folder: its pointer is not found any more (DVC's .dvcignore does the same).
        try ws.write(".mlvignore", "models/\n")
        #expect(try ws.mlv(["status", "models/m.bin"]).stderr.hasPrefix("mlv: error: 'models/m.bin' is not tracked by mlv"))
    }

    @Test func checkIgnoreNamesTheDecidingRule() throws {
        let ws = try workspace()
        let r = try ws.mlv(["check-ignore", "-d", "data/b.tmp", "data/sub/c.tmp", "data/keep/k.tmp", "data/a.txt", "data/build"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout == """
            .mlvignore:2:*.tmp\tdata/b.tmp
            .mlvignore:2:*.tmp\tdata/sub/c.tmp
            data/keep/.mlvignore:1:!k.tmp\tdata/keep/k.tmp
            .mlvignore:3:/data/build/\tdata/build

            """, "\(r.stdout)")
        #expect(try ws.mlv(["check-ignore", "data/b.tmp", "data/a.txt"]).stdout == "data/b.tmp\n")
        let none = try ws.mlv(["check-ignore", "data/a.txt"])
        #expect(none.status == 1 && none.stdout == "")
    }
}
