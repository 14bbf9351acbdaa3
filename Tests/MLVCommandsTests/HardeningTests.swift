import Foundation
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Files another person wrote (pointers, manifests, configs) and unlucky file names: each is
/// refused with one clear line, exit code 2, and nothing on disk changed (`.git` and `.mlv` included).
extension BadInputTests {
    static let someHash = String(repeating: "a", count: 64)

    /// Stores `manifest` text as a `.dir` object in the cache (its true hash) and returns that hash.
    func storeManifest(_ ws: TestWorkspace, _ text: String) throws -> String {
        let h = SHA256Hasher.hex(text)
        let path = ws.path(".mlv/cache/sha256/\(h.prefix(2))/\(h.dropFirst(2)).dir")
        try FS.makeDirectories(Path.parent(path))
        try FS.writeFile(path, Array(text.utf8), mode: 0o444)
        return h
    }

    @Test func pointerPathsReachingGitOrMLVInAnySpelling() throws {
        let ws = try TestWorkspace()
        try ws.write("keep", "keep")
        #expect(try ws.mlv(["add", "keep"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "keep"]).status == 0)
        let h = SHA256Hasher.hex("keep")
        let cases = [(".mlv", ".mlv"), (".git", ".git"), (".GIT", ".GIT"), (".Mlv", ".Mlv"), (".git.", ".git."), ("GIT~1", "GIT~1"),
                     ("sub/.git", ".git"), ("sub/.git/config", ".git"), (".git/hooks/pre-commit", ".git"), ("a/.mlv./b", ".mlv.")]
        for (path, component) in cases {
            try ws.write("evil.mlv", "outs:\n- path: \(path)\n  hash: sha256\n  sha256: \(h)\n  size: 4\n")
            let message = "evil.mlv:2:9: path '\(path)' reaches '\(component)', which mlv never writes"
            try expectRefused(ws, ["checkout", "--force"], message: message, hint: "a tracked path may not be or contain a .git or .mlv folder (in any letter case)")
            try expectRefused(ws, ["status"], message: message)
            try expectRefused(ws, ["gc", "--workspace", "-f"], message: message)
            try expectRefused(ws, ["commit"], message: message)
        }
        // A pointer in a folder reaching .git through a symlink in the workspace.
        try FS.remove(ws.path("evil.mlv"))
        try FS.makeSymlink(".git", ws.path("lnk"))
        try ws.write("p.mlv", "outs:\n- path: lnk/config\n  sha256: \(h)\n  size: 4\n")
        try expectRefused(ws, ["checkout", "--force"], message: "'lnk/config' reaches '.git', which mlv never writes")
        try expectRefused(ws, ["add", "lnk/config"], message: "'lnk/config' reaches '.git', which mlv never writes")
    }

    @Test func manifestEntriesReachingGitOrOverlapping() throws {
        let ws = try TestWorkspace()
        let f = SHA256Hasher.hex("x")
        for (entries, reason) in [
            ("\(f)\t1\t.git/config\n", "line 2: unsafe path '.git/config'"),
            ("\(f)\t1\tsub/.MLV/x\n", "line 2: unsafe path 'sub/.MLV/x'"),
            ("\(f)\t1\t../../etc/passwd\n", "line 2: unsafe path '../../etc/passwd'"),
            ("\(f)\t1\ta\n\(f)\t1\ta/b\n", "'a' is both a file and a folder (holding 'a/b')"),
            ("\(f)\t1125899906842625\tbig\n", "line 2: size 1125899906842625 is larger than mlv supports (1 PiB)"),
        ] {
            let h = try storeManifest(ws, "mlv-manifest 1\n" + entries)
            try ws.write("d.mlv", "outs:\n- path: d\n  sha256: \(h).dir\n  size: 1\n  nfiles: 1\n")
            try expectRefused(ws, ["checkout", "--force"], message: "directory manifest '\(h.prefix(12))…' is invalid: \(reason)")
        }
    }

    @Test func oversizedNumbersInPointers() throws {
        let ws = try TestWorkspace()
        try ws.write("f.mlv", "outs:\n- path: f\n  sha256: \(Self.someHash)\n  size: 9223372036854775807\n")
        try expectRefused(ws, ["checkout"], message: "f.mlv:4:9: 'size' 9223372036854775807 is larger than mlv supports (1 PiB)")
        try ws.write("f.mlv", "outs:\n- path: f\n  sha256: \(Self.someHash)\n  size: 99999999999999999999999\n")
        try expectRefused(ws, ["status"], message: "f.mlv:4:9: 'size' must be an integer")
    }

    @Test func pointerFilesThatAreNotPlainFiles() throws {
        let ws = try TestWorkspace()
        try FS.makeSymlink("/dev/zero", ws.path("zero.mlv"))
        try expectRefused(ws, ["status"], message: "'zero.mlv' is a symbolic link, not a regular file; a pointer file must be a plain file", hint: "remove or replace 'zero.mlv'")
        try FS.remove(ws.path("zero.mlv"))
        #expect(mkfifo(ws.path("fifo.mlv"), 0o644) == 0)
        try expectRefused(ws, ["checkout"], message: "'fifo.mlv' is a FIFO, not a regular file; a pointer file must be a plain file")
        try FS.remove(ws.path("fifo.mlv"))
        try FS.writeFile(ws.path("huge.mlv"), [UInt8](repeating: 32, count: 5 << 20))
        try expectRefused(ws, ["gc", "--workspace"], message: "'huge.mlv' is larger than 4 MiB, too large for a pointer file")
    }

    @Test func pipelineFilesThatAreNotPlainFilesNeverHang() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        try FS.remove(ws.path("params.yaml"))
        #expect(mkfifo(ws.path("params.yaml"), 0o644) == 0)
        try expectRefused(ws, ["repro", "--check"], message: "'params.yaml' is not a regular file")
        try expectRefused(ws, ["params", "diff"], message: "'params.yaml' is not a regular file")
        try FS.remove(ws.path("params.yaml"))
        try FS.makeSymlink("/dev/zero", ws.path("params.yaml"))
        try expectRefused(ws, ["repro", "--check"], message: "'params.yaml' is not a regular file")
        try FS.remove(ws.path("params.yaml"))
        try ws.write("params.yaml", "prepare:\n  n: 4\ntrain:\n  lr: 0.20\n  epochs: 3\n")
        try FS.remove(ws.path("pipeline.lock"))
        #expect(mkfifo(ws.path("pipeline.lock"), 0o644) == 0)
        try expectRefused(ws, ["status"], message: "'pipeline.lock' is not a regular file")
        try expectRefused(ws, ["gc", "--workspace", "-f"], message: "'pipeline.lock' is not a regular file")
    }

    @Test func oversizedNumbersInTheLock() throws {
        let ws = try pipelineWorkspace()
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        var lines = try ws.read("pipeline.lock").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let i = try #require(lines.firstIndex { $0.contains("size: ") })
        let indent = lines[i].prefix { $0 == " " }.count
        lines[i] = String(repeating: " ", count: indent) + "size: 9223372036854775807"
        try ws.write("pipeline.lock", lines.joined(separator: "\n"))
        let message = "pipeline.lock:\(i + 1):\(indent + 7): 'size' 9223372036854775807 is larger than mlv supports (1 PiB)"
        for command in [["status"], ["push"], ["gc", "--workspace", "-f"], ["repro", "--check"]] {
            try expectRefused(ws, command, message: message)
        }
    }

    @Test func configValuesAreChecked() throws {
        let ws = try TestWorkspace()
        try expectRefused(ws, ["config", "core.lock_timeout", "--", "-1"], message: "invalid value '-1' for 'core.lock_timeout': expected a number of seconds from 0 to 86400")
        try expectRefused(ws, ["config", "core.lock_timeout", "abc"], message: "invalid value 'abc' for 'core.lock_timeout': expected a number of seconds from 0 to 86400")
        try expectRefused(ws, ["config", "remote.s3.secret_access_key", "hunter2"],
                          message: "'secret_access_key' is a secret and may only be stored with --local (in the git-ignored .mlv/config.local.yaml)")
        #expect(try ws.mlv(["config", "--local", "remote.s3.secret_access_key", "hunter2"]).status == 0)
        #expect(try !ws.read(".mlv/config.yaml").contains("hunter2"))
        try ws.write(".mlv/config.yaml", "core:\n  lock_timeout: abc\n")
        try expectRefused(ws, ["status"], message: ".mlv/config.yaml:2:17: invalid value 'abc' for 'core.lock_timeout': expected a number of seconds from 0 to 86400")
    }

    /// An untracked folder nested deeper than PATH_MAX (60 levels of 100-byte names: 6 KB) does
    /// not make status, repro, gc or checkout fail.
    @Test func aFolderDeeperThanPathMaxIsNoProblem() throws {
        let ws = try TestWorkspace()
        try ws.gen(["a.txt": "a", "pipeline.yaml": "stages:\n  s:\n    cmd: echo hi > o.txt\n    outs: [o.txt]\n"])
        #expect(try ws.mlv(["add", "a.txt"]).status == 0)
        var fd = open(ws.root, O_RDONLY | O_DIRECTORY)
        let name = String(repeating: "d", count: 100)
        for _ in 0..<60 {
            #expect(mkdirat(fd, name, 0o755) == 0)
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        close(openat(fd, "deep.txt", O_WRONLY | O_CREAT, 0o644))
        close(fd)
        for args in [["status"], ["repro"], ["status"], ["gc", "-w", "-f"], ["checkout"]] {
            let r = try ws.mlv(args)
            #expect(r.status == 0, "\(args): \(r.stderr.prefix(300))")
        }
        // Remove it from the bottom up (rm -r would need paths past PATH_MAX too).
        _ = try runProcess("/bin/sh", ["-c", "cd \(name) && find . -depth -delete"], cwd: ws.root)
    }

    @Test func namesMLVCannotRecordAreRefusedByName() throws {
        let ws = try TestWorkspace()
        try ws.write("d/good", "g")
        // A file whose name is not valid UTF-8 (Latin-1 "é").
        let bad: [UInt8] = Array(ws.path("d/caf").utf8) + [0xE9, 0x2E, 0x62, 0x69, 0x6E, 0]
        let fd = bad.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o644) }
        #expect(fd >= 0)
        close(fd)
        try expectRefused(ws, ["add", "d"], message: "'d/caf\\xE9.bin' has a name that is not valid UTF-8, which mlv cannot record", hint: "rename it, then run the command again")
        try ws.write("a\nb", "x")
        try expectRefused(ws, ["add", "a\nb"], message: "'a\\nb' has a name mlv cannot track (not valid UTF-8, or a line break)")
        // "\r\n" is one Character: a check over Characters let it through, and .gitignore got
        // "/e\r" and "f" as two lines (ignoring every file named f).
        try ws.write("e\r\nf", "x")
        try expectRefused(ws, ["add", "e\r\nf"], message: "'e\\r\\nf' has a name mlv cannot track (not valid UTF-8, or a line break)")
        try ws.write("g\rh", "x")
        try expectRefused(ws, ["add", "g\rh"], message: "'g\\rh' has a name mlv cannot track (not valid UTF-8, or a line break)")
    }

    @Test func addsWhosePointerWouldBeInvisibleAreRefused() throws {
        let ws = try TestWorkspace()
        try ws.gen([".hidden/data": "h", "node_modules/pkg/data": "n", "ok/.cache/x": "c"])
        let hint = "status, checkout and gc would not see its pointer: move it to a folder whose name does not start with '.' (nor node_modules, __pycache__)"
        try expectRefused(ws, ["add", ".hidden/data"], message: "'.hidden/data' is inside '.hidden', a folder mlv does not search for pointer files", hint: hint)
        try expectRefused(ws, ["add", "node_modules/pkg/data"], message: "'node_modules/pkg/data' is inside 'node_modules', a folder mlv does not search for pointer files")
        try expectRefused(ws, ["add", "ok/.cache/x"], message: "'ok/.cache/x' is inside 'ok/.cache', a folder mlv does not search for pointer files")
        // A hidden folder as a whole is fine: its pointer lies in a searched folder.
        #expect(try ws.mlv(["add", ".hidden"]).status == 0)
        #expect(try ws.mlv(["status", "--check"]).status == 0)
    }

    @Test func gcDeletesNothingWhenAManifestCannotBeRead() throws {
        let ws = try TestWorkspace()
        try ws.gen(["d/a": "a", "d/b": "b", "old": "old"])
        #expect(try ws.mlv(["add", "d", "old"]).status == 0)
        try FS.remove(ws.path("old.mlv"))
        let dirObject = try ws.cacheObjects().first { $0.hasSuffix(".dir") }!
        let path = ws.path(".mlv/cache/sha256/" + dirObject)
        try FS.chmod(path, 0o644)
        try FS.writeFile(path, Array("mlv-manifest 1\ngarbage\n".utf8))
        try expectRefused(ws, ["gc", "--workspace", "-f"],
                          message: "gc deleted nothing: the manifest of 'd' cannot be read (cache object \(dirObject.replacingOccurrences(of: "/", with: "").prefix(12))… for '\(path)' is corrupted (its content no longer matches its hash))",
                          hint: "restore the manifests with `mlv pull` (or re-add the folders), then run gc again")
        try FS.remove(path)
        try expectRefused(ws, ["gc", "--workspace", "-f"], message: "gc deleted nothing: the manifest of 'd' cannot be read ('d': manifest \(dirObject.replacingOccurrences(of: "/", with: "").prefix(12))… is not in the cache)")
    }

    @Test func symlinkLoopIsCalledALoop() throws {
        let ws = try TestWorkspace()
        try FS.makeSymlink("loop2", ws.path("loop1"))
        try FS.makeSymlink("loop1", ws.path("loop2"))
        try expectRefused(ws, ["add", "loop1/x"], message: "'loop1/x' is a loop of symbolic links", hint: "remove the loop, then run the command again")
    }
}
