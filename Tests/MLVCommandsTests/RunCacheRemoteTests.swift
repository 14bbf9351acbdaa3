import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `push/fetch/pull --run-cache` and `repro --pull`: stage results recorded in one workspace are
/// restored in a fresh clone instead of recomputed (the stages append to runs.log when they run).
@Suite struct RunCacheRemoteTests {
    /// A pipeline run twice (lr 0.20, then 0.5, each committed) and pushed (with its run-cache)
    /// to the remote `url` (default: a directory beside the workspace); returns the workspace.
    func ranTwice(url: String = "../remote", endpoint: String? = nil, env: [String: String] = [:], runCache: Bool = true) throws -> TestWorkspace {
        let ws = try pipelineWorkspace()
        ws.env.merge(env) { _, b in b }
        #expect(try ws.mlv(["remote", "add", "-d", "r", url]).status == 0)
        if let endpoint { #expect(try ws.mlv(["remote", "modify", "r", "endpoint_url", endpoint]).status == 0) }
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "pipeline"]).status == 0)
        #expect(try ws.mlv(["repro", "-m", "lr 0.20"]).status == 0)
        try ws.write("params.yaml", try ws.read("params.yaml").replacingOccurrences(of: "lr: 0.20", with: "lr: 0.5"))
        #expect(try ws.mlv(["repro", "-m", "lr 0.5"]).status == 0)
        #expect(try ws.read("model.txt") == "4\nlr=0.5\n")
        let push = try ws.mlv(runCache ? ["push", "--run-cache"] : ["push"])
        #expect(push.status == 0, "\(push)")
        if runCache { #expect(push.stdout.hasSuffix(", 4 run-cache entries pushed\n"), "\(push)") }
        return ws
    }

    func clone(_ ws: TestWorkspace) throws -> String {
        let clone = ws.dir.path + "/clone"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone], cwd: ws.dir.path, env: ws.env).status == 0)
        return clone
    }

    @Test func aChangedBackParamIsRestoredFromTheRemoteRunCache() throws {
        let ws = try ranTwice()
        let clone = try clone(ws)
        // The lock says lr 0.5; this clone goes back to 0.20, which only the run-cache knows.
        try FS.writeFile(clone + "/params.yaml", Array(try FS.readText(clone + "/params.yaml").replacingOccurrences(of: "lr: 0.5", with: "lr: 0.20").utf8))
        let r = try runMLV(["repro", "--pull"], cwd: clone, env: ws.env)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("fetched 4 run-cache entries\n"), "\(r)")
        #expect(r.stdout.contains("Stage 'train' is cached: outputs restored from the run-cache, command not run"), "\(r)")
        #expect(!r.stdout.contains("Running stage"), "nothing should run: \(r)")
        #expect(!FS.exists(clone + "/runs.log"))
        #expect(try FS.readText(clone + "/model.txt") == "4\nlr=0.2\n")
        #expect(try runMLV(["repro", "--check"], cwd: clone, env: ws.env).status == 0)
    }

    @Test func aCloneWithoutALockRunsNothing() throws {
        let ws = try ranTwice()
        let clone = try clone(ws)
        try FS.remove(clone + "/pipeline.lock")
        let r = try runMLV(["repro", "--pull"], cwd: clone, env: ws.env)
        #expect(r.status == 0, "\(r)")
        for stage in ["prepare", "features", "train"] {
            #expect(r.stdout.contains("Stage '\(stage)' is cached: outputs restored from the run-cache, command not run"), "\(r)")
        }
        #expect(!FS.exists(clone + "/runs.log"), "a stage ran: \(r)")
        #expect(try FS.readText(clone + "/model.txt") == "4\nlr=0.5\n")
        #expect(try FS.readText(clone + "/feats/count").trimmingCharacters(in: .whitespaces) == "4\n")
    }

    @Test func withoutThePushedRunCacheTheStageRuns() throws {
        let ws = try ranTwice(runCache: false)
        let clone = try clone(ws)
        try FS.writeFile(clone + "/params.yaml", Array(try FS.readText(clone + "/params.yaml").replacingOccurrences(of: "lr: 0.5", with: "lr: 0.20").utf8))
        let r = try runMLV(["repro", "--pull"], cwd: clone, env: ws.env)
        #expect(r.status == 0 && r.stdout.contains("Running stage 'train'"), "\(r)")
        #expect(try FS.readText(clone + "/runs.log") == "train\n")
    }

    @Test func overS3FetchAndPullBringEntriesAndObjectsAndRefuseHostileOnes() throws {
        let server = try S3TestServer.get()
        let prefix = server.uniquePrefix("runs")
        let ws = try ranTwice(url: "s3://\(server.bucket)/\(prefix)", endpoint: server.endpoint, env: server.credentials)
        #expect(try ws.mlv(["push", "--run-cache"]).stdout == "0 files pushed, 0 B, 0 failed (5 already there)\n")
        let keys = try server.keys(prefix: prefix + "/runs/")
        #expect(keys.count == 4, "\(keys)")
        // Planted: an entry writing outside the workspace (hashing to its name), one whose bytes
        // do not hash to its name, one into .git, and a key of the wrong shape.
        let key = String(repeating: "ab", count: 32)
        func entry(_ path: String) -> [UInt8] { Array("mlv-run 1\n\(String(repeating: "c", count: 64))\t5\t-\t\(path)\n".utf8) }
        let hostile: [(String, [UInt8])] = [
            ("\(key.prefix(2))/\(key.dropFirst(2))/\(SHA256Hasher.hex(entry("../../etc/passwd")))", entry("../../etc/passwd")),
            ("\(key.prefix(2))/\(key.dropFirst(2))/\(String(repeating: "0", count: 64))", entry("model.txt")),
            ("\(key.prefix(2))/\(key.dropFirst(2))/\(SHA256Hasher.hex(entry(".git/config")))", entry(".git/config")),
            ("zz/not-a-key", entry("model.txt")),
        ]
        for (k, body) in hostile { #expect(try server.curl("PUT", key: "\(prefix)/runs/\(k)", body: body) == 200) }
        let clone = try clone(ws)
        let env = ws.env
        let pull = try runMLV(["pull", "--run-cache"], cwd: clone, env: env)
        #expect(pull.status == 0, "\(pull)")
        // 5 distinct objects (prepared.txt is also feats/lines; two model.txt): the lock's 4 were among them.
        #expect(pull.stdout.hasPrefix("5 files fetched, 189 B, 0 failed (4 already there), 4 run-cache entries fetched\n"), "\(pull)")
        #expect(pull.stderr == "mlv: warning: 4 run-cache entries from remote 'r' refused (not an entry mlv writes, or a path leaving the workspace)\n", "\(pull)")
        let local = try DirectoryWalker.walk(clone + "/.mlv/cache/runs").map(\.path)
        #expect(local.count == 4 && !local.contains { $0.hasPrefix("ab/") }, "\(local)")
        // Everything the entries need is local now: a changed-back param restores without --pull.
        try FS.writeFile(clone + "/params.yaml", Array(try FS.readText(clone + "/params.yaml").replacingOccurrences(of: "lr: 0.5", with: "lr: 0.20").utf8))
        let r = try runMLV(["repro"], cwd: clone, env: env)
        #expect(r.status == 0 && r.stdout.contains("Stage 'train' is cached"), "\(r)")
        #expect(!FS.exists(clone + "/runs.log"))
        #expect(try FS.readText(clone + "/model.txt") == "4\nlr=0.2\n")
    }
}

extension RunCacheRemoteTests {
    /// gc --cloud removes the objects no chosen revision needs, and with them the remote's
    /// run-cache entries that name one (an entry on a remote means its objects are there).
    @Test func gcCloudRemovesTheEntriesOfWhatItRemoves() throws {
        let ws = try ranTwice()
        let runs = ws.dir.path + "/remote/runs"
        #expect(try DirectoryWalker.walk(runs).count == 4)
        // Only the lr 0.20 result (model.txt "4\nlr=0.2\n", 9 bytes) is not in the workspace's lock.
        let dry = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0"])
        #expect(dry.stdout == "remote 'r': would remove 1 object (9 B) and 1 run-cache entry naming it, keep 4; run with -f to remove them\n", "\(dry)")
        #expect(try DirectoryWalker.walk(runs).count == 4)
        let r = try ws.mlv(["gc", "--cloud", "--workspace", "--grace", "0", "-f"])
        #expect(r.stdout == "remote 'r': removed 1 object (9 B) and 1 run-cache entry naming it, kept 4\n", "\(r)")
        #expect(try DirectoryWalker.walk(runs).count == 3)
        // What is left is whole: a fresh clone restores the lr 0.5 results without running.
        let clone = try clone(ws)
        try FS.remove(clone + "/pipeline.lock")
        let again = try runMLV(["repro", "--pull"], cwd: clone, env: ws.env)
        #expect(again.status == 0 && !FS.exists(clone + "/runs.log"), "\(again)")
    }
}
