import Foundation
import MLVSupport
import MLVTestSupport
import Testing

@Suite struct InitTests {
    @Test func initCreatesWorkspaceAndStagesItsFiles() throws {
        let ws = try TestWorkspace()
        #expect(ws.exists(".mlv/config.yaml"))
        #expect(try ws.read(".mlv/.gitignore").contains("/cache/"))
        let staged = try ws.git(["diff", "--cached", "--name-only"]).stdout
        #expect(staged == ".gitattributes\n.mlv/.gitignore\n.mlv/config.yaml\n")
        #expect(try ws.read(".gitattributes") == "pipeline.lock merge=mlv-lock\n")
        #expect(try ws.git(["config", "merge.mlv-lock.driver"]).stdout == "mlv lock merge %O %A %B\n")
    }

    @Test func initOutsideGitNeedsNoGit() throws {
        let ws = try TestWorkspace(git: false, initialize: false)
        let r = try ws.mlv(["init"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("mlv: error: '") && r.stderr.contains("is not inside a git repository"))
        #expect(r.stderr.contains("hint: run `git init` first, or `mlv init --no-git`"))
        #expect(!ws.exists(".mlv"))
        #expect(try ws.mlv(["init", "--no-git"]).status == 0)
        #expect(ws.exists(".mlv/cache"))
    }

    @Test func initTwiceIsRefused() throws {
        let ws = try TestWorkspace()
        let before = try ws.snapshot()
        let r = try ws.mlv(["init"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("is already an mlv workspace"))
        #expect(try ws.snapshot() == before)
    }
}

@Suite struct AddTests {
    @Test func addFileWritesPointerIgnoreAndStagesThem() throws {
        let ws = try TestWorkspace()
        try ws.write("data/train.csv", "a,b\n1,2\n")
        let r = try ws.mlv(["add", "data/train.csv"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("added data/train.csv"))
        let pointer = try ws.read("data/train.csv.mlv")
        let hash = SHA256Hasher.hex("a,b\n1,2\n")
        #expect(pointer == "outs:\n- path: train.csv\n  hash: sha256\n  sha256: \(hash)\n  size: 8\n")
        #expect(try ws.read("data/.gitignore") == "/train.csv\n")
        #expect(try ws.read(".mlv/cache/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))") == "a,b\n1,2\n")
        let staged = try ws.git(["diff", "--cached", "--name-only"]).stdout
        #expect(staged.contains("data/train.csv.mlv") && staged.contains("data/.gitignore"))
        #expect(try ws.read("data/train.csv") == "a,b\n1,2\n")
    }

    @Test func addDirectoryWritesSortedManifest() throws {
        let ws = try TestWorkspace()
        try ws.gen(["images/b/2.png": "two", "images/a/1.png": "one", "images/c.txt": "three"])
        let r = try ws.mlv(["add", "images"])
        #expect(r.status == 0, "\(r)")
        let pointer = try ws.read("images.mlv")
        #expect(pointer.contains("nfiles: 3") && pointer.contains("size: 11") && pointer.contains(".dir\n"))
        let dirHash = pointer.split(separator: "\n").first { $0.contains("sha256: ") }!.split(separator: " ").last!
        let manifest = try ws.read(".mlv/cache/sha256/\(dirHash.prefix(2))/\(dirHash.dropFirst(2))")
        let lines = manifest.split(separator: "\n")
        #expect(lines.first == "mlv-manifest 1")
        #expect(lines.dropFirst().map { $0.split(separator: "\t").last! } == ["a/1.png", "b/2.png", "c.txt"])
        #expect(lines[1].hasPrefix(SHA256Hasher.hex("one") + "\t3\t"))
        #expect(try ws.read(".gitignore") == "/images\n")
    }

    @Test func addManyTargetsAndQuotedGlobs() throws {
        let ws = try TestWorkspace()
        try ws.gen(["d/x.csv": "1", "d/y.csv": "2", "d/z.txt": "3", "e.bin": "4"])
        let r = try ws.mlv(["add", "d/*.csv", "e.bin"])
        #expect(r.status == 0, "\(r)")
        #expect(ws.exists("d/x.csv.mlv") && ws.exists("d/y.csv.mlv") && ws.exists("e.bin.mlv"))
        #expect(!ws.exists("d/z.txt.mlv"))
    }

    @Test func reAddingUnchangedDataTouchesNothing() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/a": "alpha", "data/b": "beta", "f": "file"])
        #expect(try ws.mlv(["add", "data", "f"]).status == 0)
        let before = try TreeSnapshot.take(ws.root, excluding: [".mlv/tmp", ".mlv/lock"])
        let r = try ws.mlv(["add", "data", "f"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("2 unchanged"))
        #expect(!r.stdout.contains("added"))
        let after = try TreeSnapshot.take(ws.root, excluding: [".mlv/tmp", ".mlv/lock"])
        #expect(after == before, "changed: \(before.difference(after))")
    }

    @Test func addWithMessageCommitsWithUserIdentity() throws {
        let ws = try TestWorkspace()
        try ws.write("model.bin", "weights")
        let r = try ws.mlv(["add", "model.bin", "-m", "Track the model"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("committed "))
        #expect(try ws.git(["log", "--format=%an <%ae> %s"]).stdout == "Test User <test@example.com> Track the model\n")
        let files = try ws.git(["show", "--name-only", "--format=", "HEAD"]).stdout
        #expect(files.contains("model.bin.mlv") && files.contains(".gitignore"))
    }

    @Test func addWithMessageWithoutIdentityFailsBeforeChangingAnything() throws {
        let ws = try TestWorkspace(identity: false)
        try ws.write("model.bin", "weights")
        let before = try ws.snapshot()
        let r = try ws.mlv(["add", "model.bin", "-m", "x"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: "))
        #expect(r.stderr.contains("git config"))
        #expect(try ws.snapshot() == before)
    }

    @Test func hardlinkModeLinksReadOnlyObjects() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["config", "cache.type", "hardlink"]).status == 0)
        try ws.gen(["data/a": "alpha", "data/b": "beta"])
        #expect(try ws.mlv(["add", "data"]).status == 0)
        let st = try FS.status(ws.path("data/a"))!
        #expect(st.linkCount == 2)
        #expect(st.mode & 0o222 == 0)
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        try FS.remove(ws.path("data/a"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try FS.status(ws.path("data/a"))!.linkCount == 2)
        #expect(try ws.read("data/a") == "alpha")
    }

    @Test func symlinkModeLinksIntoTheCache() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["config", "cache.type", "symlink"]).status == 0)
        try ws.gen(["data/a": "alpha", "big": "bytes"])
        #expect(try ws.mlv(["add", "data", "big"]).status == 0)
        #expect(try FS.status(ws.path("data/a"))!.kind == .symlink)
        #expect(try FS.status(ws.path("big"))!.kind == .symlink)
        #expect(try ws.read("data/a") == "alpha")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        try FS.remove(ws.path("big"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("big") == "bytes")
    }
}

@Suite struct StatusTests {
    @Test func statusSummarisesDirectoriesAndFiles() throws {
        let ws = try TestWorkspace()
        try ws.gen(["images/1": "1", "images/2": "2", "images/3": "3", "labels.csv": "l", "gone.bin": "g"])
        #expect(try ws.mlv(["add", "images", "labels.csv", "gone.bin"]).status == 0)
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try ws.mlv(["status", "--check"]).status == 0)
        try ws.write("images/1", "one")
        try ws.write("images/2", "two")
        try ws.write("images/4", "4")
        try FS.remove(ws.path("images/3"))
        try ws.write("labels.csv", "changed")
        try FS.remove(ws.path("gone.bin"))
        let r = try ws.mlv(["status"])
        #expect(r.status == 0)
        #expect(r.stdout == "gone.bin: deleted\nimages: 2 modified, 1 added, 1 deleted\nlabels.csv: modified\n")
        #expect(try ws.mlv(["status", "--check"]).status == 1)
        let json = try ws.mlv(["status", "--json", "images"]).stdout
        #expect(json.contains("\"added_files\" : [\n      \"4\"\n    ]"))
    }

    @Test func statusReportsObjectsMissingFromCache() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "content")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try FS.removeTree(ws.path(".mlv/cache/sha256"))
        #expect(try ws.mlv(["status"]).stdout == "f: not in cache\n")
    }

    @Test func statusOutsideWorkspaceFails() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try runMLV(["status"], cwd: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("mlv: error: '") && r.stderr.contains("is not inside an mlv workspace\nhint: run `mlv init`"))
        #expect(r.stdout.isEmpty)
    }

    @Test func unchangedFilesAreNotRehashed() throws {
        let ws = try TestWorkspace()
        try ws.write("data/a", String(repeating: "x", count: 1000))
        // Older than the state index's cutoff (a file written within 20 ms of a command's start is
        // not remembered, and mlv now starts in about 10 ms).
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10)], ofItemAtPath: ws.path("data/a"))
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try ws.write("data/b", "new file")
        try ws.write("data/c", "another")
        let trace = ["MLV_TRACE_HASHING": "1"]
        // The first status hashes the two new files; the second hashes nothing.
        let first = try ws.mlv(["status"], env: trace)
        #expect(first.stdout == "data: 2 added\n")
        #expect(!first.stderr.contains("data/a"))
        let second = try ws.mlv(["status"], env: trace)
        let hashed = second.stderr.split(separator: "\n").filter { $0.contains("trace: hashing") }
        // Files written within the timestamp granularity of the first run may be rehashed once.
        #expect(hashed.allSatisfy { !$0.hasSuffix("data/a") }, "\(second)")
        try FS.remove(ws.path("data/b"))
        try FS.remove(ws.path("data/c"))
        // Losing the state index costs time, never correctness.
        try FS.removeTree(ws.path(".mlv/tmp"))
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        try AtomicFile.write("garbage, not sqlite", to: ws.path(".mlv/tmp/state.db"))
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        try ws.write("data/a", String(repeating: "y", count: 1000))
        #expect(try ws.mlv(["status"]).stdout == "data: 1 modified\n")
    }
}

@Suite struct ProgressTests {
    /// On a terminal, long operations draw a progress bar on stderr; through a pipe, only the summary.
    @Test func progressBarOnlyOnATerminal() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<300 { files["data/\(i % 30)/\(i)"] = String(repeating: "x", count: 2000 + i) }
        try ws.gen(files)
        let piped = try ws.mlv(["add", "data"])
        #expect(piped.status == 0)
        #expect(piped.stderr.isEmpty && piped.stdout.hasPrefix("added data\n300 files, "))
        try FS.removeTree(ws.path("data"))
        // `script` gives mlv a pseudo-terminal.
        let tty = try runProcess("/usr/bin/script", ["-q", "-e", "-c", "\(mlvBinary) checkout", "/dev/null"], cwd: ws.root, env: ws.env)
        #expect(tty.status == 0, "\(tty)")
        #expect(tty.stdout.contains("checkout ["), "\(tty)")
        #expect(tty.stdout.contains("files") && tty.stdout.contains("/s"))
        #expect(tty.stdout.contains("300 files restored"))
    }
}

@Suite struct FolderSnapshotTests {
    /// After a folder matched its pointer, a status with a few changed files reads only those
    /// files and needs neither the state of the others nor the manifest.
    @Test func statusAfterAFewChangesReadsOnlyThem() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<40 { files["data/d\(i % 4)/f\(i)"] = "content \(i)" }
        try ws.gen(files)
        usleep(60_000)  // older than the 20 ms the state index distrusts
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try ws.write("data/d1/f5", "changed 5")
        try ws.write("data/d2/f6", "content 6")      // rewritten with the same bytes: not a change
        try ws.write("data/d3/f7", "changed seven")
        let trace = try ws.mlv(["status"], env: ["MLV_TRACE_HASHING": "1"])
        #expect(trace.stdout == "data: 2 modified\n", "\(trace)")
        let hashed = trace.stderr.split(separator: "\n").filter { $0.contains("trace: hashing") }.map { String($0.split(separator: "/").suffix(2).joined(separator: "/")) }
        #expect(hashed.sorted() == ["d1/f5", "d2/f6", "d3/f7"], "\(trace)")
        // Without the manifest the per-file answer still comes from the folder's snapshot.
        let pointer = try ws.read("data.mlv")
        let dirHash = String(pointer.split(separator: "\n").first { $0.contains("sha256: ") }!.split(separator: " ").last!)
        try FS.remove(ws.path(".mlv/cache/sha256/\(dirHash.prefix(2))/\(dirHash.dropFirst(2))"))
        let noManifest = try ws.mlv(["status"])
        #expect(noManifest.stdout == "data: 2 modified, not in cache\n", "\(noManifest)")
    }

    /// A checkout into an empty folder leaves it remembered, per inner folder, and its objects
    /// known to be complete: the next status walks it once and reads neither the manifest nor
    /// any file, and a change in one folder reads that folder's snapshot only.
    @Test func checkoutLeavesTheFolderRememberedPerInnerFolder() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<40 { files["data/d\(i % 4)/f\(i)"] = "content \(i)" }
        files["data/top"] = "top"
        try ws.gen(files)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try FS.removeTree(ws.path("data"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        let db = try SQLiteDatabase(path: ws.path(".mlv/tmp/state.db"))
        var parts: [String] = []
        try db.prepare("SELECT folder FROM folder_parts WHERE path = 'data' ORDER BY folder").query { parts.append($0.text(0) ?? "?") }
        #expect(parts == ["", "d0", "d1", "d2", "d3"])
        var complete = 0
        try db.prepare("SELECT count(*) FROM complete").query { complete = Int($0.int(0)) }
        #expect(complete == 1)
        let clean = try ws.mlv(["status"], env: ["MLV_TRACE_HASHING": "1"])
        #expect(clean.stdout == "Data is up to date.\n" && !clean.stderr.contains("hashing"), "\(clean)")
        try ws.write("data/d2/f6", "changed 6")
        let one = try ws.mlv(["status"], env: ["MLV_TRACE_HASHING": "1"])
        #expect(one.stdout == "data: 1 modified\n", "\(one)")
        #expect(one.stderr.split(separator: "\n").filter { $0.contains("trace: hashing") }.count == 1, "\(one)")
    }

    @Test func aNewOrDeletedFileFallsBackToTheManifest() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/a": "a", "data/b": "b", "data/c": "c"])
        usleep(60_000)
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try ws.write("data/d", "new")
        try FS.remove(ws.path("data/a"))
        try ws.write("data/b", "bb")
        #expect(try ws.mlv(["status"]).stdout == "data: 1 modified, 1 added, 1 deleted\n")
        try ws.write("data/a", "a")
        try FS.remove(ws.path("data/d"))
        try ws.write("data/b", "b")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
    }
}
