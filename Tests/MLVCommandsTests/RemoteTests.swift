import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Shared checks for the remote suites.
enum RemoteCheck {
    /// One `mlv: error:` line (+ hint), exit 2, no secret printed, and nothing on disk changed.
    static func refused(_ ws: TestWorkspace, _ args: [String], env: [String: String] = [:], message: String, hint: String? = nil,
                        secrets: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try ws.snapshot()
        let r = try ws.mlv(args, env: env)
        #expect(r.status == 2, "\(r)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first.map(String.init) == "mlv: error: \(message)", "\(r)", sourceLocation: sourceLocation)
        if let hint { #expect(lines.dropFirst().first.map(String.init) == "hint: \(hint)", "\(r)", sourceLocation: sourceLocation) }
        for s in secrets { #expect(!r.stderr.contains(s) && !r.stdout.contains(s), "a secret was printed", sourceLocation: sourceLocation) }
        let after = try ws.snapshot()
        #expect(after == before, "changed: \(before.difference(after))", sourceLocation: sourceLocation)
    }

    /// A workspace with a file, a 0-byte file and a directory of small files, all added.
    static func workspaceWithData() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        var files: [String: String] = ["model.bin": String(repeating: "w", count: 5000), "empty.txt": ""]
        for i in 0..<30 { files["data/part\(i % 3)/f\(i).txt"] = "file \(i) " + String(repeating: "x", count: i * 37) }
        files["data/zero"] = ""
        try ws.gen(files)
        let r = try ws.mlv(["add", "model.bin", "empty.txt", "data"])
        guard r.status == 0 else { throw MessageError("add failed: \(r)") }
        return ws
    }

    /// Deletes the cache and the tracked data (as a fresh clone would have them).
    static func forgetData(_ ws: TestWorkspace) throws {
        for p in [".mlv/cache", "data", "model.bin", "empty.txt"] where ws.exists(p) {
            try FS.removeTree(ws.path(p))
        }
    }

    static func trackedTree(_ ws: TestWorkspace) throws -> [String: String] {
        var out: [String: String] = [:]
        for p in ["model.bin", "empty.txt"] { out[p] = try ws.read(p) }
        for e in try DirectoryWalker.walk(ws.path("data")) { out["data/" + e.path] = try ws.read("data/" + e.path) }
        return out
    }

    /// A directory manifest whose only entry is `path`, and its `.dir` name.
    static func hostileManifest(path: String) -> (bytes: [UInt8], name: String) {
        let bytes = Array("mlv-manifest 1\n\(String(repeating: "a", count: 64))\t5\t\(path)\n".utf8)
        return (bytes, SHA256Hasher.hex(bytes) + ".dir")
    }

    static func pointer(_ path: String, hash: String, size: Int, files: Int? = nil) -> String {
        "outs:\n- path: \(path)\n  hash: sha256\n  sha256: \(hash)\n  size: \(size)\n" + (files.map { "  nfiles: \($0)\n" } ?? "")
    }
}

@Suite struct RemoteConfigTests {
    @Test func addListModifyDefaultRemove() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "store", "s3://my-bucket/data/sets"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "backup", "../backup"]).status == 0)
        #expect(try ws.mlv(["remote", "list"]).stdout == "  backup\t../backup\n* store\ts3://my-bucket/data/sets\n")
        #expect(try ws.mlv(["remote", "modify", "store", "endpoint_url", "http://127.0.0.1:9000"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "store", "addressing", "virtual"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "store", "multipart_chunk", "32MiB"]).status == 0)
        let config = try ws.read(".mlv/config.yaml")
        #expect(config.contains("endpoint_url: http://127.0.0.1:9000") && config.contains("addressing: virtual") && config.contains("remote: store"), "\(config)")
        #expect(try ws.mlv(["remote", "default"]).stdout == "store\n")
        #expect(try ws.mlv(["remote", "default", "backup"]).status == 0)
        #expect(try ws.mlv(["remote", "default"]).stdout == "backup\n")
        #expect(try ws.mlv(["remote", "remove", "backup"]).status == 0)
        #expect(try ws.mlv(["remote", "list"]).stdout == "  store\ts3://my-bucket/data/sets\n")
        #expect(!(try ws.read(".mlv/config.yaml")).contains("backup"))
        try RemoteCheck.refused(ws, ["remote", "add", "store", "s3://other"], message: "a remote named 'store' already exists",
                                hint: "change it with `mlv remote modify store url URL`, or remove it first")
    }

    @Test func secretsOnlyInTheLocalFile() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "s", "s3://bucket"]).status == 0)
        try RemoteCheck.refused(ws, ["remote", "modify", "s", "secret_access_key", "hunter2hunter2"],
                                message: "'secret_access_key' is a secret and may only be stored with --local (in the git-ignored .mlv/config.local.yaml)",
                                secrets: ["hunter2hunter2"])
        let r = try ws.mlv(["remote", "modify", "--local", "s", "secret_access_key", "hunter2hunter2"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.read(".mlv/config.local.yaml").contains("hunter2hunter2"))
        #expect(!(try ws.read(".mlv/config.yaml")).contains("hunter2"))
        #expect(try FS.status(ws.path(".mlv/config.local.yaml"))!.mode & 0o777 == 0o600)
        #expect(!(try ws.git(["status", "--porcelain", "--ignored=no"])).stdout.contains("config.local"))
    }

    @Test func badValuesAreRefused() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "s", "s3://bucket"]).status == 0)
        try RemoteCheck.refused(ws, ["remote", "modify", "s", "addressing", "sideways"],
                                message: "invalid value 'sideways' for 'remote.<name>.addressing': expected path or virtual")
        try RemoteCheck.refused(ws, ["remote", "modify", "s", "jobs", "0"],
                                message: "invalid value '0' for 'remote.<name>.jobs': expected a whole number from 1 to 1024")
        try RemoteCheck.refused(ws, ["remote", "modify", "s", "endpont_url", "http://x"],
                                message: "unknown config key 'remote.s.endpont_url'", hint: "did you mean 'endpoint_url'?")
        try RemoteCheck.refused(ws, ["remote", "add", "f", "ftp://host/x"],
                                message: "invalid remote URL 'ftp://host/x': only s3:// URLs and local directories are supported",
                                hint: "use s3://bucket/prefix or a directory path")
        try RemoteCheck.refused(ws, ["remote", "add", "b", "s3://B_/x"],
                                message: "invalid remote URL 's3://B_/x': 'B_' is not a valid bucket name", hint: "use s3://bucket/prefix or a directory path")
        try RemoteCheck.refused(ws, ["remote", "remove", "nope"], message: "no remote named 'nope'", hint: "known remotes: s")
    }

    @Test func pushWithoutARemote() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "f")
        #expect(try ws.mlv(["add", "f"]).status == 0)
        try RemoteCheck.refused(ws, ["push"], message: "no remote given and no default remote is set",
                                hint: "add one with `mlv remote add -d NAME s3://bucket/prefix`")
        try RemoteCheck.refused(ws, ["push", "-r", "elsewhere"], message: "no remote named 'elsewhere'", hint: "add one with `mlv remote add NAME URL`")
    }
}

@Suite struct LocalRemoteTests {
    @Test func pushPullRoundTrip() throws {
        let ws = try RemoteCheck.workspaceWithData()
        let expected = try RemoteCheck.trackedTree(ws)
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        let push = try ws.mlv(["push"])
        // 30 files, model.bin, the manifest, and one object for the two empty files.
        #expect(push.stdout == "33 files pushed, 23.3 KiB, 0 failed\n", "\(push)")
        #expect(try ws.mlv(["push"]).stdout == "0 files pushed, 0 B, 0 failed (33 already there)\n")
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 'here' are in sync.\n")
        try RemoteCheck.forgetData(ws)
        let status = try ws.mlv(["status", "-c", "--check"])
        #expect(status.status == 1 && status.stdout.contains("data: 1 object not in the cache (fetch)"), "\(status)")
        let pull = try ws.mlv(["pull"], env: ["MLV_TRACE_HASHING": "1"])
        #expect(pull.status == 0 && pull.stdout.hasPrefix("33 files fetched, 23.3 KiB, 0 failed\n"), "\(pull)")
        // The absent paths were written as their objects arrived (one object, the empty file, for
        // two of them); the checkout after the fetch found them all in place.
        #expect(pull.stdout.contains("\n33 files restored (20.8 KiB), 0 removed, 0 unchanged in "), "\(pull)")
        // Without hashing anything again: the objects were verified as they arrived, and the
        // checkout knew the files it found from the state index the early writes filled.
        // (The trace names every file hashed: the remote's objects as they were read, nothing in the workspace.)
        let rehashed = pull.stderr.split(separator: "\n").filter { $0.contains("trace: hashing \(ws.path(""))") && !$0.contains("/.mlv/") }
        #expect(rehashed.isEmpty, "\(pull)")
        #expect(try RemoteCheck.trackedTree(ws) == expected)
        #expect(try ws.mlv(["status", "--check"]).status == 0)
        #expect(try ws.mlv(["checkout"]).stdout.hasPrefix("0 files restored (0 B), 0 removed, 33 unchanged in "))
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 'here' are in sync.\n")
        // A folder that is partly there is the checkout's alone: it writes only what is missing.
        try FS.removeTree(ws.path(".mlv/cache"))
        try FS.removeTree(ws.path("data/part1"))
        let partial = try ws.mlv(["pull"])
        #expect(partial.status == 0 && partial.stdout.contains("\n10 files restored ("), "\(partial)")
        #expect(try RemoteCheck.trackedTree(ws) == expected)
    }

    @Test func anInterruptedPushFinishesOnTheNextRun() throws {
        let ws = try RemoteCheck.workspaceWithData()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        // As if a push had died after sending model.bin: the next one sends only the rest.
        #expect(try ws.mlv(["push", "model.bin"]).stdout == "1 file pushed, 4.9 KiB, 0 failed\n")
        #expect(try ws.mlv(["push"]).stdout == "32 files pushed, 18.4 KiB, 0 failed (1 already there)\n")
        let s = try ws.mlv(["status", "-c", "--check"])
        #expect(s.status == 0, "\(s)")
    }

    @Test func aCorruptedRemoteObjectIsRefused() throws {
        let ws = try RemoteCheck.workspaceWithData()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        let hash = SHA256Hasher.hex(String(repeating: "w", count: 5000))
        let object = ws.dir.path + "/remote/sha256/" + hash.prefix(2) + "/" + hash.dropFirst(2)
        try FS.chmod(object, 0o644)
        try FS.writeFile(object, Array(String(repeating: "v", count: 5000).utf8))
        try RemoteCheck.forgetData(ws)
        try RemoteCheck.refused(ws, ["pull", "model.bin"],
                                message: "an object from remote 'here' did not match its hash and was discarded: 'model.bin'",
                                hint: "the remote's copies are damaged; push them again from a workspace that has them")
        #expect(try ws.cacheObjects().isEmpty)
        #expect(!ws.exists("model.bin"))
    }

    @Test func aRemoteManifestLeavingTheWorkspaceIsRefused() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        let (bytes, name) = RemoteCheck.hostileManifest(path: "../../etc/passwd")
        let object = ws.dir.path + "/remote/sha256/" + name.prefix(2) + "/" + name.dropFirst(2)
        try FS.makeDirectories(Path.parent(object))
        try FS.writeFile(object, bytes)
        try ws.write("data.mlv", RemoteCheck.pointer("data", hash: name, size: 5, files: 1))
        try RemoteCheck.refused(ws, ["pull"],
                                message: "directory manifest '\(name.prefix(12))….dir' from remote 'here' was refused: line 2: unsafe path '../../etc/passwd'",
                                hint: "the remote holds a manifest that mlv would not have written; nothing was checked out")
        #expect(try ws.cacheObjects().isEmpty)
    }

    @Test func revisionsAndAllCommits() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        try ws.write("f.txt", "version one")
        #expect(try ws.mlv(["add", "f.txt", "-m", "v1"]).status == 0)
        try ws.write("f.txt", "version two!")
        #expect(try ws.mlv(["add", "f.txt", "-m", "v2"]).status == 0)
        try ws.write("f.txt", "version three, not committed")
        #expect(try ws.mlv(["add", "f.txt"]).status == 0)
        // The first commit's data only.
        #expect(try ws.mlv(["push", "--rev", "HEAD~1"]).stdout == "1 file pushed, 11 B, 0 failed\n")
        // Every commit and the workspace: the rest.
        #expect(try ws.mlv(["push", "--all-commits"]).stdout == "2 files pushed, 40 B, 0 failed (1 already there)\n")
        try FS.removeTree(ws.path(".mlv/cache"))
        #expect(try ws.mlv(["fetch", "--rev", "HEAD"]).stdout == "1 file fetched, 12 B, 0 failed\n")
        #expect(try ws.git(["checkout", "-q", "HEAD", "--", "f.txt.mlv"]).status == 0)
        #expect(try ws.mlv(["checkout", "--force", "f.txt"]).status == 0)
        #expect(try ws.read("f.txt") == "version two!")
        try RemoteCheck.refused(ws, ["fetch", "--rev", "nope"], message: "unknown revision 'nope'")
    }

    @Test func allBranchesAndAllTagsTakeTheTips() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        try ws.write("f.txt", "one")
        #expect(try ws.mlv(["add", "f.txt", "-m", "v1"]).status == 0)
        #expect(try ws.git(["tag", "v1"]).status == 0)
        try ws.write("f.txt", "two!")
        #expect(try ws.mlv(["add", "f.txt", "-m", "v2"]).status == 0)
        try ws.write("f.txt", "three, in the workspace")
        #expect(try ws.mlv(["add", "f.txt"]).status == 0)
        // The branch tip (v2) and the workspace; not the tagged v1, which no branch tip holds.
        #expect(try ws.mlv(["push", "--all-branches"]).stdout == "2 files pushed, 27 B, 0 failed\n")
        // The tagged commit adds v1's data.
        #expect(try ws.mlv(["push", "--all-tags"]).stdout == "1 file pushed, 3 B, 0 failed (1 already there)\n")
        let both = try ws.mlv(["push", "--all-branches", "--rev", "HEAD"])
        #expect(both.status == 64 && both.stderr.contains("choose one of --rev, --all-commits, or --all-branches/--all-tags"), "\(both)")
    }

    @Test func aCommittedPointerLeavingTheWorkspaceIsRefused() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        try ws.write("evil.mlv", RemoteCheck.pointer("../../etc/passwd", hash: String(repeating: "b", count: 64), size: 1))
        #expect(try ws.git(["add", "evil.mlv"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "evil"]).status == 0)
        try FS.remove(ws.path("evil.mlv"))
        let head = try ws.git(["rev-parse", "HEAD"]).stdout.prefix(8)
        try RemoteCheck.refused(ws, ["fetch", "--all-commits"], message: "\(head):evil.mlv:2:9: path '../../etc/passwd' escapes the workspace",
                                hint: "a pointer's path must be relative to its folder, without '..'")
    }

    @Test func gcCloudRemovesWhatNoChosenRevisionNeeds() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        try ws.write("f.txt", "version one")
        #expect(try ws.mlv(["add", "f.txt", "-m", "v1"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        try ws.write("f.txt", "version two!")
        #expect(try ws.mlv(["add", "f.txt", "-m", "v2"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        // Within the grace period nothing goes.
        #expect(try ws.mlv(["gc", "--cloud", "--workspace", "-f"]).stdout == "remote 'here': removed 0 objects (0 B), kept 1, 1 younger than 1 h kept\n")
        // Every commit still needs version one.
        #expect(try ws.mlv(["gc", "--cloud", "--all-commits", "--grace", "0", "-f"]).stdout == "remote 'here': removed 0 objects (0 B), kept 2\n")
        #expect(try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0"]).stdout
                == "remote 'here': would remove 1 object (11 B), keep 1; run with -f to remove them\n")
        #expect(try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"]).stdout == "remote 'here': removed 1 object (11 B), kept 1\n")
        let one = SHA256Hasher.hex("version one")
        #expect(!FS.exists(ws.dir.path + "/remote/sha256/" + one.prefix(2) + "/" + one.dropFirst(2)))
        #expect(try ws.mlv(["status", "-c"]).stdout == "Cache and remote 'here' are in sync.\n")
    }

    @Test func gcCloudRefusesWithoutTheManifestsItMustKeep() throws {
        let ws = try RemoteCheck.workspaceWithData()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        try FS.removeTree(ws.path(".mlv/cache"))
        let before = try TreeSnapshot.take(ws.dir.path + "/remote")
        try RemoteCheck.refused(ws, ["gc", "--cloud", "--grace", "0", "-f"],
                                message: "gc --cloud must know which files these directories hold, and their manifests are not in the cache: 'data'",
                                hint: "run `mlv fetch` first, with the same --rev or --all-commits (nothing was removed)")
        #expect(try TreeSnapshot.take(ws.dir.path + "/remote") == before)
    }

    @Test func pipelineOutsAtARevision() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        try ws.gen([
            "params.yaml": "v: 1\n",
            "pipeline.yaml": """
            stages:
              make:
                cmd: echo "out ${v}" > out.txt && echo "scratch ${v}" > scratch.txt
                params: [v]
                outs: [out.txt, {scratch.txt: {push: false}}]

            """,
        ])
        #expect(try ws.mlv(["repro", "-m", "v1"]).status == 0)
        try ws.write("params.yaml", "v: 2\n")
        #expect(try ws.mlv(["repro", "-m", "v2"]).status == 0)
        // The first commit's lock names out.txt's first version; scratch.txt stays local.
        #expect(try ws.mlv(["push", "--rev", "HEAD~1"]).stdout == "1 file pushed, 6 B, 0 failed\n")
        #expect(try ws.mlv(["push"]).stdout == "1 file pushed, 6 B, 0 failed\n")
        let one = SHA256Hasher.hex("out 1\n"), two = SHA256Hasher.hex("out 2\n")
        for h in [one, two] { #expect(FS.exists(ws.dir.path + "/remote/sha256/" + h.prefix(2) + "/" + h.dropFirst(2))) }
        #expect(try FS.list(ws.dir.path + "/remote/sha256").count == 2)
    }
}

@Suite struct ProgressBarTests {
    /// On a terminal (a pty from script(1)), push draws a bar with files, bytes, rate and ETA;
    /// without one, only the summary line.
    @Test func pushShowsFilesBytesRateAndETAOnATerminal() throws {
        let ws = try RemoteCheck.workspaceWithData()
        #expect(try ws.mlv(["remote", "add", "-d", "here", "../remote"]).status == 0)
        let r = try runProcess("/usr/bin/script", ["-qec", "'\(mlvBinary)' push", "/dev/null"], cwd: ws.root, env: ws.env)
        #expect(r.status == 0, "\(r)")
        // The files first (32: the manifest goes after them), redrawn in place.
        let bar = r.stdout.components(separatedBy: "\r\u{1B}[2K").dropFirst().first ?? ""
        #expect(bar.range(of: #"^push \[[=> ]{24}\] \d+/32 files  [0-9.]+ (B|KiB)/20\.8 KiB  [0-9.]+ (B|KiB|MiB|GiB)/s  ETA (--|\d+s|\d+:\d\d)"#,
                          options: .regularExpression) != nil, "\(r.stdout.debugDescription)")
        #expect(r.stdout.hasSuffix("33 files pushed, 23.3 KiB, 0 failed\r\n"), "\(r.stdout.debugDescription)")
        let plain = try ws.mlv(["push"])
        #expect(plain.stdout == "0 files pushed, 0 B, 0 failed (33 already there)\n" && plain.stderr.isEmpty, "\(plain)")
    }
}
