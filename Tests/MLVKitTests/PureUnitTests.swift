import Foundation
@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// The pure parts, without the binary: the lock filter, the run-cache's entry format, the state
/// index, the byte-level path rules and the terminal escaper.
@Suite struct PureUnitTests {
    static let h1 = ContentHash(string: String(repeating: "a", count: 64))!
    static let h2 = ContentHash(string: String(repeating: "b", count: 64) + ".dir")!

    func stage(_ name: String, outs: [String]) -> Stage {
        var s = Stage(name: name, cmd: ["true"], wdir: ".", deps: [], params: [], outs: outs.map { StageOutput(path: $0) })
        s.frozen = false
        return s
    }

    @Test func theLockKeepsOnlyWhatThePipelineDeclares() {
        let entry = { (p: String) in Lockfile.Entry(path: p, hash: Self.h1, size: 1, fileCount: nil) }
        let lock = Lockfile(stages: [
            Lockfile.StageLock(name: "prep", cmd: ["x"], deps: [], params: [], outs: [entry("out.txt"), entry(".gitattributes")]),
            Lockfile.StageLock(name: "evil", cmd: ["x"], deps: [], params: [], outs: [entry("train.py")]),
        ])
        let (kept, dropped) = lock.declared(by: [stage("prep", outs: ["out.txt"])])
        #expect(kept.stages.map(\.name) == ["prep"])
        #expect(kept.stages[0].outs.map(\.path) == ["out.txt"])
        #expect(dropped == ["out '.gitattributes' of stage 'prep' is not in pipeline.yaml", "stage 'evil' is not in pipeline.yaml"])
        #expect(lock.declared(by: []).lock.stages.isEmpty)
    }

    @Test func runCacheEntriesRoundTripAndRefuseWhatTheyMayNotName() throws {
        let dir = try TemporaryDirectory(prefix: "mlv-runs")
        defer { dir.remove() }
        let cache = RunCache(root: dir.path)
        let outs = [Lockfile.Entry(path: "model.bin", hash: Self.h1, size: 10, fileCount: nil),
                    Lockfile.Entry(path: "data", hash: Self.h2, size: 20, fileCount: 3)]
        try cache.save("k" + String(repeating: "0", count: 63), outs: outs)
        let read = cache.entries("k" + String(repeating: "0", count: 63), outs: ["data", "model.bin"])
        #expect(read.count == 1 && Set(read[0].map(\.path)) == ["data", "model.bin"])
        // Outs other than the stage's declared ones: not an entry for it.
        #expect(cache.entries("k" + String(repeating: "0", count: 63), outs: ["data"]).isEmpty)
        // Bytes that do not hash to their name are skipped.
        let folder = cache.folder("k" + String(repeating: "0", count: 63))
        let name = try #require(try FS.list(folder).first?.name)
        try FS.chmod(folder + "/" + name, 0o644)
        try FS.writeFile(folder + "/" + name, Array("mlv-run 1\n".utf8))
        #expect(cache.entries("k" + String(repeating: "0", count: 63), outs: ["data", "model.bin"]).isEmpty)
        // Parsing: unsafe paths, negative sizes and duplicates are refused.
        let line = { (p: String, size: String) in "mlv-run 1\n\(Self.h1)\t\(size)\t-\t\(p)\n" }
        #expect(RunCache.parse(Array(line("../x", "1").utf8), declared: nil) == nil)
        #expect(RunCache.parse(Array(line(".git/config", "1").utf8), declared: nil) == nil)
        #expect(RunCache.parse(Array(line("a\nb", "1").utf8), declared: nil) == nil)
        #expect(RunCache.parse(Array(line("ok", "-1").utf8), declared: nil) == nil)
        #expect(RunCache.parse(Array((line("ok", "1") + "\(Self.h1)\t1\t-\tok\n").utf8), declared: nil) == nil)
        #expect(RunCache.parse(Array(line("ok", "1").utf8), declared: nil)?.first?.path == "ok")
    }

    @Test func theStateIndexAnswersOnlyForAnUnchangedFile() throws {
        let dir = try TemporaryDirectory(prefix: "mlv-state")
        defer { dir.remove() }
        try FS.writeFile(dir.path + "/f", Array("one".utf8))
        let st = try #require(try FS.status(dir.path + "/f"))
        let digest = Digest(bytes: SHA256Hasher.hexBytes(Array("one".utf8)))
        let index = StateIndex(path: dir.path + "/state.db")
        #expect(index.lookup(st) == nil)
        // Written within the timestamp granularity of now: it could change again without its
        // mtime changing, so it is not remembered, unless mlv wrote those bytes itself.
        index.record(st, digest)
        #expect(index.lookup(st) == nil)
        index.record(st, digest, written: true)
        #expect(index.lookup(st) == digest)
        index.flush()
        // A second process (a new index on the same file) sees what the first flushed.
        #expect(StateIndex(path: dir.path + "/state.db").lookup(st) == digest)
        // The same inode with another size or mtime is not the same file.
        var changed = st
        changed.size += 1
        #expect(index.lookup(changed) == nil)
        changed = st
        changed.mtimeNs += 1
        #expect(index.lookup(changed) == nil)
        index.markComplete("x.dir")
        index.flush()
        #expect(index.isComplete("x.dir"))
        index.forgetComplete()
        #expect(!index.isComplete("x.dir"))
    }

    /// The recency rule with a fixed clock: a file written 10 ms before "now" is not remembered,
    /// one written 30 ms before is.
    @Test func theStateIndexCutoffFollowsItsClock() throws {
        let dir = try TemporaryDirectory(prefix: "mlv-state-clock")
        defer { dir.remove() }
        try FS.writeFile(dir.path + "/f", Array("x".utf8))
        let st = try #require(try FS.status(dir.path + "/f"))
        let digest = Digest(bytes: SHA256Hasher.hexBytes(Array("x".utf8)))
        // As a command uses it: a lookup misses, the file is hashed, the digest recorded.
        let soon = StateIndex(path: dir.path + "/a.db", now: { st.mtimeNs + 10_000_000 })
        #expect(soon.lookup(st) == nil)
        soon.record(st, digest)
        #expect(soon.lookup(st) == nil)
        let later = StateIndex(path: dir.path + "/b.db", now: { st.mtimeNs + 30_000_000 })
        #expect(later.lookup(st) == nil)
        later.record(st, digest)
        #expect(later.lookup(st) == digest)
    }

    /// A folder's record is written as it is made, its row last: until `finish` there is none
    /// (a command killed halfway leaves nothing to trust), the old record goes at the start, a
    /// folder too recent to trust or that did not match keeps no parts.
    @Test func aFolderRecordHasNoRowUntilAllItsPartsAreWritten() throws {
        let dir = try TemporaryDirectory(prefix: "mlv-state-folders")
        defer { dir.remove() }
        let index = StateIndex(path: dir.path + "/state.db", now: { 1_000_000_000_000 })
        func part(_ n: Int) -> StateIndex.FolderPart {
            StateIndex.FolderPart(folder: "f\(n)", fingerprint: [UInt8(n)], files: [UInt8](repeating: UInt8(n), count: 1 << 20))
        }
        let old = index.recordDirectory("data")
        old.add(part(1))
        old.finish(hash: "old.dir", fingerprint: [1], newestMtimeNs: 0, written: false)
        #expect(index.directory("data")?.hash == "old.dir" && index.directoryParts("data").count == 1)
        let new = index.recordDirectory("data")
        #expect(index.directory("data") == nil && index.directoryParts("data").isEmpty)
        for n in 2..<8 { new.add(part(n)) }   // 6 MiB: one batch written before the end
        #expect(index.directory("data") == nil && index.directoryParts("data").count == 4)
        new.finish(hash: "new.dir", fingerprint: [2], newestMtimeNs: 0, written: false)
        #expect(index.directory("data")?.hash == "new.dir" && index.directoryParts("data").count == 6)
        #expect(index.directoryPart("data", folder: "f7") == part(7).files)
        let recent = index.recordDirectory("data")
        recent.add(part(9))
        recent.finish(hash: "recent.dir", fingerprint: [3], newestMtimeNs: 1_000_000_000_000 - 1, written: false)
        #expect(index.directory("data") == nil && index.directoryParts("data").isEmpty)
        let unmatched = index.recordDirectory("data")
        unmatched.add(part(1))
        unmatched.discard()
        #expect(index.directory("data") == nil && index.directoryParts("data").isEmpty)
    }

    /// The environment is the workspace's: a bad MLV_LOCK_TIMEOUT for one workspace, no setenv.
    @Test func theWorkspaceReadsItsInjectedEnvironment() throws {
        let ws = try TestWorkspace()
        let w = try Workspace.open(from: ws.root)
        w.environment = { $0 == "MLV_LOCK_TIMEOUT" ? "soon" : nil }
        #expect(throws: WorkspaceError.invalidConfigValue(key: "MLV_LOCK_TIMEOUT", value: "soon", expected: "a number of seconds from 0 to 86400")) {
            _ = try w.checkout()
        }
        w.environment = { _ in nil }
        _ = try w.checkout()
    }

    /// A folder checked out whole is read from its manifest a batch at a time and remembered
    /// as its inner folders complete: the files are all there, and status then finds its
    /// record and reads nothing.
    @Test func aFolderCheckedOutWholeIsWrittenInBatchesAndRemembered() throws {
        let ws = try TestWorkspace(git: false)
        var files: [String: String] = [:]
        for (i, n) in ["a.txt", "a!", "a/z", "a/b.c/d", "a/b/e", "a/b0", "a-b/c", "ab", "a0/q", "top/in/deep/f", "top/in.f", "top/in/g"].enumerated() {
            files["data/" + n] = "file \(i)"
        }
        try ws.gen(files)
        let w = try Workspace.open(from: ws.root)
        _ = try w.add(["data"], cwd: ws.root)
        try FS.removeTree(ws.path("data"))
        w.checkoutBatch = 5
        let result = try w.checkout(cwd: ws.root)
        #expect(result.restored == files.count)
        for (path, text) in files { #expect(try ws.read(path) == text) }
        let pointer = try PointerFile.parse(try ws.read("data.mlv"), file: "data.mlv")
        let known = try #require(w.state.directory("data"))
        #expect(known.hash == pointer.hash.description)
        #expect(w.state.directoryParts("data").count == 9)
        #expect(try w.scanner.quickStatus("data", fingerprint: known.fingerprint, HashWorker()) == [])
    }

    @Test func pathsAreCheckedByTheirBytes() {
        #expect(WorkspacePath.isSafeRelative("a/b.txt"))
        for bad in ["", "/a", "a//b", "a/./b", "a/../b", "a\u{0}b", "e\r\nf", "a\nb", "c\rd"] {
            #expect(!WorkspacePath.isSafeRelative(bad), "\(bad.debugDescription)")
        }
        // A manifest's names keep line breaks (stored percent-encoded); never NUL.
        #expect(WorkspacePath.isSafeRelative("e\r\nf", allowingLineBreaks: true))
        #expect(!WorkspacePath.isSafeRelative("a\u{0}b", allowingLineBreaks: true))
        #expect(WorkspacePath.hasLineBreakOrNUL("e\r\nf") && !WorkspacePath.hasLineBreakOrNUL("ef"))
        #expect(WorkspacePath.escapingLineBreaks("e\r\nf\u{0}") == "e\\r\\nf\\0")
        #expect(WorkspacePath.protectedComponent(in: "x/.GIT./y") == ".GIT.")
        #expect(WorkspacePath.protectedComponent(in: "x/.githooks/y") == nil)
    }

    @Test func terminalTextEscapesControlsAndReorderings() {
        #expect(TerminalText.visible("plain\ttab") == "plain\ttab")
        #expect(TerminalText.visible("a\u{1B}[2Jb") == "a\\u001B[2Jb")
        #expect(TerminalText.visible("x\u{202E}y\u{85}") == "x\\u202Ey\\u0085")
        #expect(TerminalText.visible("l1\nl2") == "l1\\u000Al2")
        #expect(TerminalText.visible("l1\nl2", keepingLineBreaks: true) == "l1\nl2")
        #expect(TerminalText.visible("é ü 日本") == "é ü 日本")
    }

    @Test func stageNamesAndGeneratedNames() {
        for ok in ["train", "train_v2.1", "a-b", "ünïcode"] { #expect(PipelineFile.isValidName(ok), "\(ok)") }
        for bad in ["", "-x", "a b", "a/b", "a:b", "a@b", "a\u{1B}", "a\"b", "a|b"] { #expect(!PipelineFile.isValidName(bad), "\(bad)") }
        #expect(PipelineFile.isValidGeneratedName("s@0.1-8"))
        #expect(PipelineFile.isValidGeneratedName("s@-3"))
        #expect(!PipelineFile.isValidGeneratedName("s@a b"))
        #expect(!PipelineFile.isValidGeneratedName("s@"))
        #expect(!PipelineFile.isValidGeneratedName("s"))
    }
}
