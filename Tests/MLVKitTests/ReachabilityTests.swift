@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One selection, one reachability, one checkout plan: what `OutputSelection` resolves to at
/// the workspace and at git revisions, which objects `ReachableObjects` finds (and refuses to
/// guess), what gc keeps, and what `CheckoutPlan` decides before a file is touched. Library
/// calls on a real workspace and real git, no mlv process for the parts under test.
@Suite struct ReachabilityTests {
    /// A committed workspace: `model.bin` and a folder `data` of 3 files, then `model.bin`
    /// changed and committed again (two commits, two versions of the model).
    func history() throws -> (TestWorkspace, Workspace, old: ContentHash, new: ContentHash) {
        let ws = try TestWorkspace()
        try ws.gen(["model.bin": "weights v1", "data/a": "a", "data/b": "b", "data/c/d": "d"])
        #expect(try ws.mlv(["add", "model.bin", "data"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "v1"]).status == 0)
        let w = try Workspace.open(from: ws.root)
        let old = try w.loadPointer("model.bin.mlv").hash
        try ws.gen(["model.bin": "weights v2"])
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.git(["commit", "-qam", "v2"]).status == 0)
        let new = try w.loadPointer("model.bin.mlv").hash
        #expect(old != new)
        return (ws, w, old, new)
    }

    @Test func aSelectionResolvesTheWorkspaceOrCommittedRecords() throws {
        let (ws, w, old, new) = try history()
        defer { withExtendedLifetime(ws) {} }
        let here = try OutputSelection.workspace(at: w.root).outputs(in: w)
        #expect(here.map(\.path).sorted() == ["data", "model.bin"])
        #expect(here.first { $0.path == "model.bin" }?.hash == new)

        let before = try OutputSelection(revisions: .revisions(["HEAD~1"]), cwd: w.root).outputs(in: w)
        #expect(before.first { $0.path == "model.bin" }?.hash == old)
        #expect(before.first { $0.path == "model.bin" }?.record == .pointer(file: "model.bin.mlv"))

        // Every commit and the workspace: each record once, both models.
        let all = try OutputSelection(revisions: .allCommits, cwd: w.root).outputs(in: w)
        #expect(Set(all.filter { $0.path == "model.bin" }.map(\.hash)) == [old, new])
        #expect(Set(all.filter { $0.path == "data" }.map(\.hash)).count == 1)

        // Paths narrow it, at revisions as in the workspace.
        let narrowed = try OutputSelection(["data"], revisions: .revisions(["HEAD", "HEAD~1"]), cwd: w.root).outputs(in: w)
        #expect(narrowed.map(\.path) == ["data"])
    }

    @Test func reachableObjectsListAFoldersFilesAndNameAManifestTheCacheLacks() throws {
        let (ws, w, _, new) = try history()
        let outputs = try OutputSelection.workspace(at: w.root).outputs(in: w)
        let set = try ReachableObjects(outputs, cache: w.cache)
        let folder = try #require(outputs.first { $0.path == "data" }?.hash)
        #expect(set.files.count == 4 && set.manifests.keys.sorted { $0.digest < $1.digest } == [folder])
        let reader = try #require(try w.cache.manifestReader(folder))
        var members: [ContentHash] = []
        while try reader.next() { members.append(ContentHash(reader.digest)) }
        #expect(members.count == 3 && set.unknownManifests.isEmpty)
        // A file inside the folder is named by its path there (for messages), a stranger by its hash.
        let inside = members[0]
        #expect(set.shown(inside).hasPrefix("data/"))
        #expect(set.shown(folder) == "data")
        let stranger = ContentHash(Digest(bytes: SHA256Hasher.hexBytes(Array("nobody".utf8))))
        #expect(set.shown(stranger) == stranger.short)
        #expect(set.files[new] == 10)

        // Spooled (gc, push, status -c): the same objects, in order, each once, tagged by output.
        let spooled = try SpooledObjects(outputs + outputs.filter { $0.path == "data" }, cache: w.cache)
        var seen: [(ContentHash, [UInt32])] = []
        try spooled.forEachObject { seen.append(($0, $1)) }
        let expected = (Array(set.files.keys) + [folder]).sorted { SpoolRecord($0) < SpoolRecord($1) }
        #expect(seen.map(\.0) == expected)
        let dataTag = try #require(outputs.firstIndex { $0.path == "data" })
        #expect(seen.first { $0.0 == folder }?.1 == [UInt32(dataTag)])
        #expect(spooled.tagOf == Array(outputs.indices) + [dataTag])   // the second "data" counts as the first
        #expect(spooled.folders.files.count == 0 && spooled.folders.shown(inside).hasPrefix("data/"))

        // Without the manifest the folder's files are unknown: a fetch gets it first, gc refuses.
        try FS.remove(w.cache.path(folder))
        let partial = try ReachableObjects(outputs, cache: w.cache)
        #expect(partial.unknownManifests == [folder] && partial.unknownPaths == ["data"] && partial.files.count == 1)
        #expect(throws: WorkspaceError.unreadableManifests(paths: ["data"], reason: "'data': manifest \(folder.short)… is not in the cache")) {
            _ = try ReachableObjects(outputs, cache: w.cache, complete: true)
        }
        let before = try ws.cacheObjects()
        #expect(throws: WorkspaceError.self) { _ = try w.gc(.workspace(at: w.root), force: true) }
        #expect(try ws.cacheObjects() == before)
    }

    @Test func gcKeepsWhatTheChosenRevisionsReach() throws {
        let (ws, w, old, new) = try history()
        defer { withExtendedLifetime(ws) {} }
        // The workspace alone: the first model goes.
        let dry = try w.gc(.workspace(at: w.root), force: false)
        #expect(dry.removed == 1 && dry.kept == 5 && dry.dryRun)
        // Every commit: nothing goes.
        let keepAll = try w.gc(OutputSelection(revisions: .allCommits, cwd: w.root), force: true)
        #expect(keepAll.removed == 0 && w.cache.contains(old))
        _ = try w.gc(OutputSelection(revisions: .revisions(["HEAD"]), cwd: w.root), force: true)
        #expect(!w.cache.contains(old) && w.cache.contains(new))

        // The command line says the same.
        try ws.gen(["model.bin": "weights v3"])
        #expect(try ws.mlv(["commit"]).status == 0)
        let cli = try ws.mlv(["gc", "--all-commits", "-f"])
        #expect(cli.status == 0 && cli.stdout.hasPrefix("removed 0 objects"), "\(cli)")
        #expect(w.cache.contains(new))
        let refused = try ws.mlv(["gc"])
        #expect(refused.status != 0 && refused.stderr.contains("choose what to keep"), "\(refused)")
    }

    @Test func aCheckoutPlanIsDecidedBeforeAnyFileIsTouched() throws {
        let (ws, w, _, new) = try history()
        let outputs = try OutputSelection.workspace(at: w.root).outputs(in: w)
        // Everything matches: nothing to do.
        let clean = try CheckoutPlan(outputs, in: w, force: false)
        #expect(clean.actions.isEmpty && clean.unchanged == 4 && clean.missing.isEmpty && clean.unsaved.isEmpty)

        // An absent folder is every file of it, each in its folder; a change the cache lacks is
        // unsaved (and with force, planned over).
        try FS.removeTree(ws.path("data"))
        try ws.gen(["model.bin": "not in the cache"])
        let plan = try CheckoutPlan(outputs, in: w, force: false)
        #expect(plan.unsaved == ["model.bin"])
        let writes = plan.actions.map(\.action).filter { $0.digest != nil }.map { "\($0.folder)|\($0.name)" }.sorted()
        #expect(writes == ["data/c|d", "data|a", "data|b", ".|model.bin"].sorted())
        #expect(try CheckoutPlan(outputs, in: w, force: true).unsaved.isEmpty)

        // Objects the cache lacks are missing, unless they are arriving (pull's early writes).
        try FS.remove(ws.path("model.bin"))
        try FS.remove(w.cache.path(new))
        #expect(try CheckoutPlan(outputs, in: w, force: false).missing.map(\.0) == ["model.bin"])
        let arriving = try CheckoutPlan(outputs, in: w, force: false, arriving: true)
        #expect(arriving.missing.isEmpty && arriving.actions.count == 4)
        #expect(arriving.places.values.map { "\($0.folder)|\($0.name)" }.sorted() == [".|data", ".|model.bin"])
    }

    @Test func workspacePathsAreValidatedOnceByTheirBytes() throws {
        #expect(try WorkspacePath(validating: "a/b c.txt").name == "b c.txt")
        #expect(try WorkspacePath(validating: "a/b c.txt").parent == "a")
        #expect(try WorkspacePath(validating: "top").parent == ".")
        #expect(throws: WorkspacePath.Invalid.lineBreak) { _ = try WorkspacePath(validating: "e\r\nf") }
        #expect(throws: WorkspacePath.Invalid.lineBreak) { _ = try WorkspacePath(validating: "d/e\nf") }
        #expect(try WorkspacePath(validating: "d/e\r\nf", allowingLineBreaks: true).name == "e\r\nf")
        for bad in ["", "/abs", "a//b", "a/./b", "../x", "a/..", "a/", "x\u{0}y"] {
            #expect(throws: WorkspacePath.Invalid.unsafe, "\(bad.debugDescription)") { _ = try WorkspacePath(validating: bad) }
        }
        #expect(throws: WorkspacePath.Invalid.protected(component: ".Git.")) { _ = try WorkspacePath(validating: "x/.Git./hooks") }
        // The .gitignore line comes from a validated path: one line, git's pattern characters escaped.
        #expect(try WorkspacePath(validating: "d/#a[1]*.bin ").gitignoreLine == "/\\#a\\[1\\]\\*.bin\\ ")
        #expect(try WorkspacePath(validating: "!x").gitignoreLine == "/\\!x")
    }

    @Test func theDefaultWorkerCountReadsTheEnvironmentItIsGiven() {
        #expect(Parallel.workers(environment: { $0 == "MLV_JOBS" ? "3" : nil }) == 3)
        #expect(Parallel.workers(environment: { _ in "0" }) == Parallel.availableCPUs)
        #expect(Parallel.workers(environment: { _ in nil }) == Parallel.availableCPUs)
    }

    /// `.mlvignore` lines become rules relative to the workspace root (matched by libgit2).
    @Test func rulesAreRewrittenRelativeToTheRoot() {
        #expect(IgnoreFiles.rooted("*.tmp", in: ".") == "*.tmp")
        #expect(IgnoreFiles.rooted("*.tmp", in: "a/b") == "/a/b/**/*.tmp")
        #expect(IgnoreFiles.rooted("/build/", in: "a") == "/a/build/")
        #expect(IgnoreFiles.rooted("x/y", in: "a") == "/a/x/y")
        #expect(IgnoreFiles.rooted("cache/", in: "a") == "/a/**/cache/")
        #expect(IgnoreFiles.rooted("!keep.tmp", in: "a") == "!/a/**/keep.tmp")
        #expect(IgnoreFiles.rooted("# note", in: "a") == nil && IgnoreFiles.rooted("   ", in: "a") == nil)
        #expect(IgnoreFiles.rooted("trailing\\ ", in: ".") == "trailing\\ ")
    }
}

@Suite struct ObjectSizesTests {
    func digest(_ s: String) -> Digest { Digest(bytes: SHA256Hasher.hexBytes(Array(s.utf8))) }

    @Test func findsEachObjectOnceWithTheFirstSizeGiven() {
        var sizes = ObjectSizes()
        for (name, size) in [("c", 3), ("a", 1), ("b", 2), ("a", 99), ("c", 98)] { sizes.insert(digest(name), size: Int64(size)) }
        sizes.seal()
        #expect(sizes.count == 3)
        #expect(sizes[ContentHash(digest("a"))] == 1 && sizes[ContentHash(digest("c"))] == 3 && sizes[ContentHash(digest("z"))] == nil)
        #expect(sizes[ContentHash(digest("a"), isDirectory: true)] == nil)
        #expect(Array(sizes.keys.map(\.digest)) == ["a", "b", "c"].map(digest).sorted())
    }
}

/// The external sort under gc, push and `status -c`: records come back in order, each once, from
/// many runs on disk as from the buffer alone.
@Suite struct SortedSpoolTests {
    func record(_ i: Int, dir: Bool = false, tag: UInt32 = 0) -> SpoolRecord {
        SpoolRecord(ContentHash(Digest(bytes: SHA256Hasher.hexBytes(Array("\(i)".utf8))), isDirectory: dir), tag: tag)
    }

    @Test(arguments: [1, 7, 1000]) func recordsComeBackSortedAndOnceFromRuns(_ runRecords: Int) throws {
        let dir = try TemporaryDirectory()
        let spool = SortedSpool(in: dir.path, runRecords: runRecords, readRecords: 3)
        var appended: [SpoolRecord] = []
        for i in 0..<200 {
            let r = record(i % 150, dir: i % 7 == 0, tag: UInt32(i % 3))
            appended.append(r)
            try spool.append(r)
        }
        var out: [SpoolRecord] = []
        try spool.forEach { out.append($0) }
        let expected = appended.sorted().reduce(into: [SpoolRecord]()) { if $0.last != $1 { $0.append($1) } }
        #expect(out == expected && out.count < appended.count)
        #expect(spool.spilledRuns == (runRecords == 1000 ? 0 : 200 / runRecords))
        // Read twice, the same.
        var again: [SpoolRecord] = []
        try spool.forEach { again.append($0) }
        #expect(again == out)
    }

    /// A disk that fills while runs are written: one clear error (gc, push and `status -c` build
    /// their spool before they touch anything). A tmpfs needs root and mount rights (CI has them).
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root")) func aFullDiskIsOneClearError() throws {
        let dir = try TemporaryDirectory()
        let mount = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path], cwd: "/")
        try #require(mount.status == 0, "\(mount)")
        defer { _ = try? runProcess("/bin/umount", ["-l", dir.path], cwd: "/") }
        try FS.writeFile(dir.path + "/filler", [UInt8](repeating: 1, count: 60 << 10))
        let spool = SortedSpool(in: dir.path, runRecords: 4096)
        do {
            for i in 0..<3 * 4096 { try spool.append(record(i)) }
            Issue.record("a full disk was not reported")
        } catch let e as FileSystemError {
            #expect(e.message.hasPrefix("cannot write '\(dir.path)/(sorted runs)': No space left on device"), "\(e.message)")
            #expect(e.hint == "the disk is full; free some space and run the command again (nothing was lost)")
        }
    }

    @Test func anEmptySpoolHasNothing() throws {
        let dir = try TemporaryDirectory()
        let spool = SortedSpool(in: dir.path)
        #expect(try spool.reader().next() == nil)
    }
}
