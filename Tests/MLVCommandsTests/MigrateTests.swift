import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv migrate` on projects DVC 3.67 itself made (a temporary git repository each): the
/// converted workspace is up to date for `mlv repro --check` without running anything, its data
/// is what DVC tracked, and bad input is refused or reported by name.
@Suite struct MigrateTests {
    /// A committed DVC project: `data/` (4 files) and `raw.txt` added, a two-stage `dvc.yaml`
    /// (a folder copy with a param, and a line count into an uncached metric) reproduced. DVC
    /// makes it once per test run; each test gets a copy (`commit: false`: the last commit
    /// undone, its changes left in the working tree, for a test to add to).
    static func dvcProject(commit: Bool = true) throws -> TestWorkspace {
        let ws = try TestWorkspace(initialize: false)
        let template = try Self.template.get()
        try FS.removeTree(ws.root)
        let r = try runProcess("/bin/cp", ["-a", template.root, ws.root], cwd: ws.dir.path, env: [:])
        guard r.status == 0 else { throw MessageError("cp: \(r)") }
        if !commit { try ws.git(["reset", "-q", "--soft", "HEAD~1"]) }
        return ws
    }

    static let template = Result { () throws -> TestWorkspace in
        let ws = try TestWorkspace(initialize: false)
        try ws.gen([
            "data/a.txt": "alpha\n", "data/b.txt": "beta\n", "data/sub/c.txt": "gamma\r\n", "data/.hidden": "h",
            "raw.txt": "one\ntwo\n",
            "params.yaml": "prep:\n  n: 3\n  name: x\n",
            "dvc.yaml": """
                stages:
                  prepare:
                    cmd: cp -r data prepared
                    deps: [data]
                    params: [prep.n]
                    outs: [prepared]
                  count:
                    cmd:
                    - wc -l raw.txt > count.txt
                    - echo done
                    deps: [raw.txt, prepared]
                    metrics:
                    - count.txt:
                        cache: false

                """,
        ])
        try ws.git(["commit", "-q", "--allow-empty", "-m", "start"])
        try dvc(ws, ["init", "-q"])
        try dvc(ws, ["add", "-q", "data", "raw.txt"])
        try dvc(ws, ["repro", "-q"])
        try commit(ws)
        return ws
    }

    static func dvc(_ ws: TestWorkspace, _ args: [String], cwd: String? = nil) throws {
        try DVCPeer.check(args, cwd: cwd.map { ws.root + "/" + $0 } ?? ws.root, env: ws.env)
    }

    static func commit(_ ws: TestWorkspace, _ message: String = "dvc") throws {
        try ws.git(["add", "-A"])
        let r = try ws.git(["commit", "-q", "-m", message])
        guard r.status == 0 else { throw MessageError("git commit: \(r)") }
    }

    /// Every file below `data`, `prepared` and the other outs, with its bytes.
    static func dataTree(_ ws: TestWorkspace) throws -> [String: String] {
        var out: [String: String] = [:]
        for top in ["data", "prepared"] {
            for e in try DirectoryWalker.walk(ws.path(top)) { out[top + "/" + e.path] = try ws.read(top + "/" + e.path) }
        }
        for f in ["raw.txt", "count.txt"] { out[f] = try ws.read(f) }
        return out
    }

    @Test func aDVCProjectBecomesAnUpToDateWorkspace() throws {
        let ws = try Self.dvcProject()
        let before = try Self.dataTree(ws)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("pipeline:  dvc.yaml -> pipeline.yaml, dvc.lock -> pipeline.lock (2 stages locked)"), "\(r)")
        #expect(r.stdout.contains("pointers:  2 .dvc outs -> .mlv"), "\(r)")
        // data/ (4) and prepared/ (4), raw.txt and count.txt: each read once, MD5-checked.
        #expect(r.stdout.contains("objects:   10 files verified by MD5 and stored by SHA-256 (56 B): 10 from the workspace"), "\(r)")
        #expect(r.stdout.contains("removed:   data.dvc, raw.txt.dvc, dvc.yaml, dvc.lock, .dvcignore (git history keeps them)"), "\(r)")
        #expect(!ws.exists("dvc.yaml") && !ws.exists("data.dvc") && ws.exists("data.mlv") && ws.exists("raw.txt.mlv"))
        #expect(ws.exists(".dvc/config"), "DVC's folder is left for the user")

        // Up to date without running anything, and the data is DVC's.
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 0 && check.stdout == "Pipelines are up to date.\n", "\(check)")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try Self.dataTree(ws) == before)
        let lock = try ws.read("pipeline.lock")
        #expect(lock.contains("cmd:\n    - wc -l raw.txt > count.txt\n    - echo done\n"), "\(lock)")
        #expect(lock.contains("params:\n      params.yaml:\n        prep.n: 3\n"), "\(lock)")
        #expect(try ws.read("pipeline.yaml").hasPrefix("stages:\n  prepare:\n    cmd: cp -r data prepared\n"))

        // The same records mlv itself makes: re-adding changes no pointer.
        let pointer = try ws.read("data.mlv")
        #expect(try ws.mlv(["commit", "data"]).status == 0)
        #expect(try ws.read("data.mlv") == pointer)

        // One staged change; the uncached metric is not git-ignored.
        let status = try ws.git(["status", "--porcelain"]).stdout
        #expect(status.contains("R  dvc.yaml -> pipeline.yaml") && status.contains("A  data.mlv") && status.contains("D  data.dvc"), "\(status)")
        #expect(!status.contains("??"), "\(status)")
        #expect(try ws.read(".gitignore").split(separator: "\n").sorted() == ["/data", "/prepared", "/raw.txt"])

        // Twice: nothing changes, and it says so.
        try Self.commit(ws, "migrate")
        let snapshot = try ws.snapshot()
        let again = try ws.mlv(["migrate"])
        #expect(again.status == 0 && again.stdout.hasPrefix("Nothing to migrate: "), "\(again)")
        #expect(try ws.snapshot() == snapshot)
    }

    @Test func aDryRunChangesNothing() throws {
        let ws = try Self.dvcProject()
        let before = try ws.snapshot()
        let r = try ws.mlv(["migrate", "--dry"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("Would migrate the DVC project in "), "\(r)")
        #expect(r.stdout.contains("workspace: .mlv/ would be created"), "\(r)")
        #expect(r.stdout.contains("objects:   10 files to verify by MD5: 10 from the workspace"), "\(r)")
        #expect(r.stdout.contains("would remove:   data.dvc, raw.txt.dvc, dvc.yaml, dvc.lock, .dvcignore"), "\(r)")
        let after = try ws.snapshot()
        #expect(after == before, "changed: \(before.difference(after))")
    }

    @Test func objectsComeFromDVCsCacheInBothLayouts() throws {
        let ws = try Self.dvcProject()
        let before = try Self.dataTree(ws)
        // The data leaves the workspace; DVC 2 kept its cache at .dvc/cache/ab/cdef….
        try FS.removeTree(ws.path("data"))
        try FS.remove(ws.path("raw.txt"))
        let v3 = ws.path(".dvc/cache/files/md5")
        for (i, prefix) in try FS.list(v3).sorted(by: { $0.name < $1.name }).enumerated() where i % 2 == 0 {
            try FS.rename(v3 + "/" + prefix.name, ws.path(".dvc/cache/" + prefix.name))
        }
        // A DVC 2 pointer: no `hash: md5`, and the MD5 of the text with CRLF read as LF.
        try FS.writeFile(ws.path("legacy.txt"), Array("x\r\ny\r\n".utf8))
        try ws.write("legacy.txt.dvc", "outs:\n- md5: \(MD5Hasher.hex(Array("x\ny\n".utf8)))\n  size: 6\n  path: legacy.txt\n")
        try ws.write(".gitignore", try ws.read(".gitignore") + "/legacy.txt\n")
        try Self.commit(ws, "a DVC 2 pointer")
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("11 files verified by MD5 and stored by SHA-256 (62 B): 6 from the workspace, 5 from the DVC cache"), "\(r)")
        #expect(try ws.read("legacy.txt.mlv").contains("sha256: \(SHA256Hasher.hex("x\r\ny\r\n"))\n"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try Self.dataTree(ws) == before)
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
    }

    @Test func noWorkspaceReadLeavesItThroughASymbolicLink() throws {
        let ws = try Self.dvcProject()
        // data/sub now leads out of the workspace, to a file with the recorded bytes.
        try FS.makeDirectories(ws.dir.path + "/elsewhere")
        try FS.writeFile(ws.dir.path + "/elsewhere/c.txt", Array("gamma\r\n".utf8))
        try FS.removeTree(ws.path("data/sub"))
        try FS.makeSymlink(ws.dir.path + "/elsewhere", ws.path("data/sub"))
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("10 files verified by MD5 and stored by SHA-256 (56 B): 9 from the workspace, 1 from the DVC cache"), "\(r)")
    }

    @Test func missingAndCorruptedDataIsListedAndTheRestMigrated() throws {
        let ws = try Self.dvcProject()
        let md5 = MD5Hasher.hex(Array("one\ntwo\n".utf8))   // raw.txt: gone everywhere
        let alpha = MD5Hasher.hex(Array("alpha\n".utf8))   // data/a.txt: only a corrupted copy left
        try FS.remove(ws.path("raw.txt"))
        try FS.remove(ws.path(".dvc/cache/files/md5/\(md5.prefix(2))/\(md5.dropFirst(2))"))
        try FS.remove(ws.path("data/a.txt"))
        try FS.remove(ws.path("prepared/a.txt"))
        let object = ws.path(".dvc/cache/files/md5/\(alpha.prefix(2))/\(alpha.dropFirst(2))")
        try FS.remove(object)
        try FS.writeFile(object, Array("ALPHA\n".utf8))
        let r = try ws.mlv(["migrate", "--force"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stdout.contains("Missing data:\n  data (data.dvc): its data is in neither the workspace nor the DVC cache; run `dvc pull data.dvc`, or run `mlv migrate --from-remote NAME` to fetch it from a DVC remote, then `mlv migrate` again\n"), "\(r)")
        #expect(r.stdout.contains("  raw.txt (raw.txt.dvc): its data is in neither"), "\(r)")
        #expect(r.stdout.contains("  prepared (dvc.lock, stage 'prepare'): its data is in neither the workspace nor the DVC cache; run `dvc pull prepare`,"), "\(r)")
        #expect(r.stdout.contains("  raw.txt (dvc.lock, stage 'count'): no longer what DVC recorded; the stage is stale until `mlv repro`"), "\(r)")
        #expect(r.stdout.contains("Corrupted DVC objects (never imported):\n  .dvc/cache/files/md5/\(alpha.prefix(2))/\(alpha.dropFirst(2)): MD5 \(MD5Hasher.hex(Array("ALPHA\n".utf8))), recorded \(alpha)\n"), "\(r)")
        let wrong = SHA256Hasher.hex("ALPHA\n")
        #expect(try !ws.cacheObjects().contains(wrong.prefix(2) + "/" + wrong.dropFirst(2)))
        // What could not be converted keeps its DVC files; the rest is converted.
        #expect(ws.exists("raw.txt.dvc") && ws.exists("data.dvc") && !ws.exists("raw.txt.mlv") && !ws.exists("data.mlv"))
        #expect(ws.exists("dvc.lock") && ws.exists("pipeline.lock"))
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status != 0 && check.stderr.contains("dependency 'raw.txt' of stage 'count' does not exist"), "\(check)")

        // Once the data is back (as `dvc pull` would bring it), a second run completes the migration.
        try Self.commit(ws, "partial")
        try FS.remove(object)
        try ws.gen(["raw.txt": "one\ntwo\n", "data/a.txt": "alpha\n", "prepared/a.txt": "alpha\n"])
        let again = try ws.mlv(["migrate"])
        #expect(again.status == 0, "\(again)")
        #expect(!ws.exists("raw.txt.dvc") && !ws.exists("dvc.lock") && ws.exists("raw.txt.mlv"))
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
    }

    @Test func aDepThatChangedSinceDVCRanLeavesItsStageStale() throws {
        let ws = try Self.dvcProject(commit: false)
        // As if raw.txt had been edited and committed after `dvc repro` (its MD5 in dvc.lock is another's).
        let lock = try ws.read("dvc.lock")
        let raw = MD5Hasher.hex(Array("one\ntwo\n".utf8))
        try ws.write("dvc.lock", lock.replacingOccurrences(of: "    - path: raw.txt\n      hash: md5\n      md5: \(raw)", with: "    - path: raw.txt\n      hash: md5\n      md5: \(MD5Hasher.hex(Array("older\n".utf8)))"))
        #expect(try ws.read("dvc.lock") != lock)
        // And a stage the pipeline no longer has.
        try ws.write("dvc.lock", try ws.read("dvc.lock") + "  gone:\n    cmd: echo gone\n")
        try Self.commit(ws)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("  raw.txt (dvc.lock, stage 'count'): no longer what DVC recorded; the stage is stale until `mlv repro`, as `dvc status` would say\n"), "\(r)")
        #expect(r.stdout.contains("  dvc.lock: stage 'gone' is not in dvc.yaml; left out of pipeline.lock\n"), "\(r)")
        let converted = try ws.read("pipeline.lock")
        #expect(!ws.exists("dvc.lock") && !converted.contains("gone"))
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 1 && check.stdout.contains("count: changed deps: raw.txt"), "\(check)")
        #expect(!check.stderr.contains("warning"), "\(check)")
    }

    @Test func remotesAndSettingsMoveToMLVsConfig() throws {
        let ws = try Self.dvcProject(commit: false)
        try Self.dvc(ws, ["remote", "add", "-d", "store", "s3://bucket-one/dvc/store"])
        try Self.dvc(ws, ["remote", "modify", "store", "endpointurl", "http://127.0.0.1:9"])
        try Self.dvc(ws, ["remote", "modify", "store", "region", "eu-west-1"])
        try Self.dvc(ws, ["remote", "modify", "--local", "store", "access_key_id", "AKIDLOCAL"])
        try Self.dvc(ws, ["remote", "modify", "--local", "store", "secret_access_key", "SECRETLOCAL"])
        try Self.dvc(ws, ["remote", "add", "gcs", "gs://bucket-two/x"])
        try Self.dvc(ws, ["remote", "add", "backup", "../backup"])
        try Self.dvc(ws, ["config", "cache.type", "reflink,copy"])
        try Self.commit(ws)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("remotes:   backup, store"), "\(r)")
        #expect(r.stdout.contains("Remotes not migrated (mlv reads S3 and local folders): gcs (gs://bucket-two/x)"), "\(r)")
        #expect(try ws.read(".mlv/config.yaml") == """
            # mlv workspace configuration (committed). Machine-specific settings and secrets go in config.local.yaml.
            cache:
              type: reflink,copy
            core:
              remote: store
            remote:
              backup:
                url: ../backup
              store:
                endpoint_url: http://127.0.0.1:9
                region: eu-west-1
                url: s3://bucket-one/dvc/store

            """)
        #expect(try ws.read(".mlv/config.local.yaml") == "remote:\n  store:\n    access_key_id: AKIDLOCAL\n    secret_access_key: SECRETLOCAL\n")
        #expect(try ws.git(["ls-files", ".mlv"]).stdout == ".mlv/.gitignore\n.mlv/config.yaml\n")
        #expect(try ws.mlv(["remote", "list"]).stdout.contains("* store\ts3://bucket-one/dvc/store\n"))
    }

    @Test func pipelinesInFoldersKeepTheirPlaceAndTheirLocksSpeakWorkspacePaths() throws {
        let ws = try TestWorkspace(initialize: false)
        try ws.gen([
            "raw.txt": "one\ntwo\n",
            "pipelines/prep/params.yaml": "lr: 0.5\nsizes: [1, 2]\ntrain:\n  epochs: 3\n  layers: [8, 4]\n",
            "config.yaml": "sect:\n  a: 1\n  b: two\nother: 5\n",
            "pipelines/prep/src/a.py": "print(1)\n", "pipelines/prep/src/é.py": "x\n",
            "pipelines/prep/dvc.yaml": """
                stages:
                  copy:
                    cmd: cp ../../raw.txt copy.txt
                    deps: [../../raw.txt]
                    params: [lr]
                    outs: [copy.txt]
                  rooted:
                    wdir: ../..
                    cmd: cat raw.txt raw.txt > pipelines/prep/double.txt
                    deps: [raw.txt]
                    params:
                    - pipelines/prep/params.yaml:
                      - train
                    - config.yaml:
                      - sect.b
                    outs: [pipelines/prep/double.txt]
                  lists:
                    cmd: ls src > list.txt
                    deps: [src]
                    outs: [list.txt]
                  each:
                    foreach: [a, b]
                    do:
                      cmd: echo ${item} > out-${item}.txt
                      outs:
                      - out-${item}.txt

                """,
        ])
        try Self.dvc(ws, ["init", "-q"])
        try Self.dvc(ws, ["repro", "-q"], cwd: "pipelines/prep")
        try Self.commit(ws)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("pipeline:  pipelines/prep/dvc.yaml -> pipelines/prep/pipeline.yaml, pipelines/prep/dvc.lock -> pipelines/prep/pipeline.lock (5 stages locked)"), "\(r)")
        // DVC never cached the manifest of the source folder it hashed: rebuilt from the folder, MD5-checked.
        #expect(!r.stdout.contains("Missing") && !r.stdout.contains("no longer what DVC recorded"), "\(r)")
        let lock = try ws.read("pipelines/prep/pipeline.lock")
        #expect(lock.contains("  copy:\n    cmd: cp ../../raw.txt copy.txt\n    deps:\n    - path: raw.txt\n"), "\(lock)")
        #expect(lock.contains("    params:\n      pipelines/prep/params.yaml:\n        lr: 0.5\n    outs:\n    - path: pipelines/prep/copy.txt\n"), "\(lock)")
        #expect(lock.contains("  each@a:\n    cmd: echo a > out-a.txt\n    outs:\n    - path: pipelines/prep/out-a.txt\n"), "\(lock)")
        #expect(lock.contains("    outs:\n    - path: pipelines/prep/double.txt\n"), "\(lock)")
        #expect(lock.contains("    params:\n      config.yaml:\n        sect.b: two\n      pipelines/prep/params.yaml:\n        train:\n          epochs: 3\n"), "\(lock)")
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 0 && check.stdout == "Pipelines are up to date.\n", "\(check)")
        #expect(try ws.read("pipelines/prep/.gitignore").split(separator: "\n").sorted() == ["/copy.txt", "/double.txt", "/list.txt", "/out-a.txt", "/out-b.txt"])
    }

    @Test func dvcsSymbolicLinksAreReplacedBeforeDVCsCacheCanGo() throws {
        let ws = try TestWorkspace(initialize: false)
        try ws.gen(["data/a": "a\n", "data/b": "bb\n", "raw.txt": "r\n",
                    "dvc.yaml": "stages:\n  cp:\n    cmd: cp -r data out\n    deps: [data]\n    outs: [out]\n"])
        try Self.dvc(ws, ["init", "-q"])
        try Self.dvc(ws, ["config", "cache.type", "symlink"])
        try Self.dvc(ws, ["add", "-q", "data", "raw.txt"])
        try Self.dvc(ws, ["repro", "-q"])
        try Self.commit(ws)
        #expect(try FS.status(ws.path("data/a"))?.kind == .symlink)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("relinked:  data, out, raw.txt (DVC's symbolic links into .dvc/cache replaced from mlv's cache)"), "\(r)")
        try FS.removeTree(ws.path(".dvc"))
        for f in ["data/a", "out/b", "raw.txt"] {
            #expect(try FS.readLink(ws.path(f)).contains("/.mlv/cache/sha256/"), "\(f)")
        }
        #expect(try ws.read("out/b") == "bb\n" && ws.read("raw.txt") == "r\n")
        // A folder of links into mlv's cache hashes as its files (sizes included), as `add` did.
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 0 && check.stdout == "Pipelines are up to date.\n", "\(check)")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
    }

    @Test func importsKeepTheirSource() throws {
        let source = try TestWorkspace(initialize: false)
        try source.write("model.bin", "model v1\n")
        try Self.dvc(source, ["init", "-q"])
        try Self.dvc(source, ["add", "-q", "model.bin"])
        try Self.commit(source)
        let revLock = try source.git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let ws = try Self.dvcProject(commit: false)
        let external = ws.dir.path + "/ext.txt"
        try FS.writeFile(external, Array("external\n".utf8))
        try Self.dvc(ws, ["import-url", "-q", external, "ext.txt"])
        try Self.dvc(ws, ["import", "-q", source.root, "model.bin"])
        let later = ws.dir.path + "/later.txt"
        try FS.writeFile(later, Array("later\n".utf8))
        try Self.dvc(ws, ["import-url", "-q", "--no-download", later, "later.txt"])
        try Self.commit(ws)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("pointers:  5 .dvc outs -> .mlv (3 imports, source kept)"), "\(r)")
        // Not downloaded: the source only, as `mlv import-url --no-download` writes it.
        #expect(try ws.read("later.txt.mlv") == "source:\n  url: \(later)\n  size: 6\n")
        #expect(try ws.mlv(["update", "later.txt"]).status == 0)
        #expect(try ws.read("later.txt") == "later\n")
        #expect(r.stdout.contains("model.bin.dvc: imported from DVC repositories; the source is kept"), "\(r)")
        let sha = { (s: String) in SHA256Hasher.hex(s) }
        #expect(try ws.read("ext.txt.mlv") == """
            outs:
            - path: ext.txt
              hash: sha256
              sha256: \(sha("external\n"))
              size: 9
            source:
              url: \(external)
              size: 9

            """)
        #expect(try ws.read("model.bin.mlv") == """
            outs:
            - path: model.bin
              hash: sha256
              sha256: \(sha("model v1\n"))
              size: 9
            source:
              repo: \(source.root)
              path: model.bin
              rev_lock: \(revLock)

            """)
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        // The URL import updates from its source as mlv's own do.
        try FS.writeFile(external, Array("external v2\n".utf8))
        let update = try ws.mlv(["update", "ext.txt"])
        #expect(update.status == 0, "\(update)")
        #expect(try ws.read("ext.txt") == "external v2\n")
    }

    /// Forgets the data DVC has here (workspace copies and the whole DVC cache) but `prepared/`.
    static func forgetLocalData(_ ws: TestWorkspace) throws {
        try FS.removeTree(ws.path(".dvc/cache"))
        try FS.removeTree(ws.path("data"))
        try FS.remove(ws.path("raw.txt"))
    }

    @Test func missingObjectsComeFromAnS3RemoteAndGoOnToAnMLVRemote() throws {
        let server = try S3TestServer.get(.seaweedfs)
        let ws = try Self.dvcProject(commit: false)
        let prefix = server.uniquePrefix("dvc")
        try Self.dvc(ws, ["remote", "add", "-d", "s3remote", "s3://\(server.bucket)/\(prefix)"])
        try Self.dvc(ws, ["remote", "modify", "s3remote", "endpointurl", server.endpoint])
        try Self.dvc(ws, ["remote", "modify", "--local", "s3remote", "access_key_id", server.accessKey])
        try Self.dvc(ws, ["remote", "modify", "--local", "s3remote", "secret_access_key", server.secretKey])
        try Self.commit(ws)
        try Self.dvc(ws, ["push", "-q"])
        let expected = try Self.dataTree(ws)
        try Self.forgetLocalData(ws)

        let r = try ws.mlv(["migrate", "--from-remote", "s3remote"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("10 files verified by MD5 and stored by SHA-256 (56 B): 5 from the workspace, 5 from remote 's3remote'"), "\(r)")
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try Self.dataTree(ws) == expected)
        #expect(try ws.mlv(["repro", "--check"]).status == 0)

        // mlv's own remote, then a fresh clone pulls everything back.
        let second = server.uniquePrefix("mlv")
        #expect(try ws.mlv(["remote", "add", "second", "s3://\(server.bucket)/\(second)"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "second", "endpoint_url", server.endpoint]).status == 0)
        let push = try ws.mlv(["push", "-r", "second"], env: server.credentials)
        #expect(push.status == 0 && push.stdout == "6 files pushed, 340 B, 0 failed\n", "\(push)")
        try Self.commit(ws, "migrate")
        let clone = try TestWorkspace(initialize: false)
        try FS.removeTree(clone.root)
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone.root], cwd: clone.dir.path, env: clone.env).status == 0)
        let pull = try clone.mlv(["pull", "-r", "second"], env: server.credentials)
        #expect(pull.status == 0, "\(pull)")
        #expect(try Self.dataTree(clone) == expected)
        #expect(try clone.mlv(["repro", "--check"]).status == 0)
    }

    @Test func missingObjectsComeFromALocalRemoteInDVC2sLayout() throws {
        let ws = try Self.dvcProject(commit: false)
        try Self.dvc(ws, ["remote", "add", "-d", "shelf", "../shelf"])
        try Self.commit(ws)
        try Self.dvc(ws, ["push", "-q"])
        let expected = try Self.dataTree(ws)
        let shelf = ws.dir.path + "/shelf"
        for prefix in try FS.list(shelf + "/files/md5") { try FS.rename(shelf + "/files/md5/" + prefix.name, shelf + "/" + prefix.name) }
        try Self.forgetLocalData(ws)
        let r = try ws.mlv(["migrate", "--from-remote", "shelf"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("5 from remote 'shelf'"), "\(r)")
        #expect(try ws.read(".mlv/config.yaml").contains("  shelf:\n    url: ../shelf\n"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try Self.dataTree(ws) == expected)
    }

    @Test func anExistingWorkspaceKeepsWhatItSaysUnlessForced() throws {
        let ws = try Self.dvcProject(commit: false)
        try Self.dvc(ws, ["remote", "add", "-d", "store", "s3://bucket-one/dvc"])
        #expect(try ws.mlv(["init"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "store", "s3://bucket-two/mine"]).status == 0)
        try ws.write("pipeline.yaml", "stages: {}\n")
        try Self.commit(ws)
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("  pipeline.yaml exists and differs from what dvc.yaml converts to; left as it is (--force replaces it)\n"), "\(r)")
        #expect(r.stdout.contains("  remote.store.url: mlv's config has 's3://bucket-two/mine', DVC's 's3://bucket-one/dvc'; mlv's kept (--force takes DVC's)\n"), "\(r)")
        #expect(try ws.read("pipeline.yaml") == "stages: {}\n" && ws.exists("dvc.yaml"))
        #expect(!ws.exists("data.dvc") && ws.exists("data.mlv"))
        try Self.commit(ws, "partly")
        let forced = try ws.mlv(["migrate", "--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(!ws.exists("dvc.yaml") && !ws.exists("dvc.lock"))
        #expect(try ws.read(".mlv/config.yaml").contains("url: s3://bucket-one/dvc"))
        #expect(try ws.mlv(["repro", "--check"]).status == 0)
    }

    @Test func withoutGitTheDVCFilesMoveAside() throws {
        let ws = try TestWorkspace(git: false, initialize: false)
        try ws.gen(["x.txt": "x\n"])
        try Self.dvc(ws, ["init", "-q", "--no-scm"])
        try Self.dvc(ws, ["add", "-q", "x.txt"])
        let r = try ws.mlv(["migrate"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("  moved:   x.txt.dvc, .dvcignore (to .dvc/migrated/: no git history keeps them)\n"), "\(r)")
        #expect(ws.exists(".dvc/migrated/x.txt.dvc") && !ws.exists("x.txt.dvc") && ws.exists("x.txt.mlv"))
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
    }

    // MARK: - Refusals: nothing on disk changes

    @Test func notADVCRepository() throws {
        let ws = try TestWorkspace(initialize: false)
        try ws.write("x.txt", "x")
        try BadInputTests().expectRefused(ws, ["migrate"], message: "'\(FS.realPath(ws.root)!)' is not inside a DVC repository (no .dvc folder)",
                                          hint: "run `mlv migrate` in a DVC project (where `dvc init` was run); `mlv init` starts a new workspace")
    }

    @Test func uncommittedChangesAreRefusedWithoutForce() throws {
        let ws = try Self.dvcProject()
        try ws.write("params.yaml", "prep:\n  n: 4\n  name: x\n")
        try BadInputTests().expectRefused(ws, ["migrate"], message: "the git working tree has uncommitted changes: 'params.yaml'",
                                          hint: "commit or stash them first, so the migration is one change you can review; --force migrates anyway")
        let forced = try ws.mlv(["migrate", "--force"])
        #expect(forced.status == 0, "\(forced)")
        let check = try ws.mlv(["repro", "--check"])
        #expect(check.status == 1 && check.stdout.contains("changed params: prep.n"), "\(check)")
    }

    @Test(arguments: ["../outside", "/etc/passwd", ".git/hooks/pre-commit", "sub/../../x", ".dvc/config"])
    func aDVCFileLeavingTheWorkspaceIsRefused(_ path: String) throws {
        let ws = try Self.dvcProject(commit: false)
        try ws.write("evil.dvc", "outs:\n- md5: d3b07384d113edec49eaa6238ad5ff00\n  size: 4\n  hash: md5\n  path: \(path)\n")
        try Self.commit(ws)
        try BadInputTests().expectRefused(ws, ["migrate"], message: "evil.dvc:5: path '\(path)' leaves the workspace or reaches .git, .mlv or .dvc",
                                          hint: "a DVC file's paths must be relative and stay inside the repository; fix or remove the file")
    }

    @Test func aDVCFileWritingThroughASymbolicLinkIsRefused() throws {
        let ws = try Self.dvcProject(commit: false)
        try FS.makeDirectories(ws.dir.path + "/outside")
        try FS.makeSymlink("../outside", ws.path("link"))
        try ws.write("evil.dvc", "outs:\n- md5: d3b07384d113edec49eaa6238ad5ff00\n  size: 4\n  hash: md5\n  path: link/data\n")
        try Self.commit(ws)
        try BadInputTests().expectRefused(ws, ["migrate"], message: "evil.dvc: path 'link/data' leads outside the workspace (or into .git, .mlv or .dvc) through a symbolic link",
                                          hint: "a DVC file's paths must be relative and stay inside the repository; fix or remove the file")
        #expect(try FS.list(ws.dir.path + "/outside").isEmpty)
    }

    @Test func aFolderManifestThatIsNotJSONIsRefused() throws {
        let ws = try Self.dvcProject(commit: false)
        let bytes = Array("[{\"md5\": oops".utf8)
        let md5 = MD5Hasher.hex(bytes)
        try FS.makeDirectories(ws.path(".dvc/cache/files/md5/\(md5.prefix(2))"))
        try FS.writeFile(ws.path(".dvc/cache/files/md5/\(md5.prefix(2))/\(md5.dropFirst(2)).dir"), bytes)
        try ws.write("bad.dvc", "outs:\n- md5: \(md5).dir\n  size: 4\n  nfiles: 1\n  hash: md5\n  path: bad\n")
        try Self.commit(ws)
        try BadInputTests().expectRefused(ws, ["migrate"], message: "DVC folder manifest .dvc/cache/files/md5/\(md5.prefix(2))/\(md5.dropFirst(2)).dir is invalid: it is not valid JSON",
                                          hint: "remove the object from the DVC cache (`dvc fetch` gets it again), then run `mlv migrate` again")
    }

    @Test func aHugeFolderManifestIsRefusedUnread() throws {
        let ws = try Self.dvcProject()
        let pointer = try ws.read("data.dvc")
        let md5 = String(pointer.split(separator: "md5: ")[1].prefix(32))
        let object = ws.path(".dvc/cache/files/md5/\(md5.prefix(2))/\(md5.dropFirst(2)).dir")
        try FS.remove(object)
        // Sparse: 1 GiB + 1 byte that take no disk space.
        let fd = open(object, O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(fd, off_t((1 << 30) + 1)) == 0)
        close(fd)
        try BadInputTests().expectRefused(ws, ["migrate"], message: "DVC folder manifest .dvc/cache/files/md5/\(md5.prefix(2))/\(md5.dropFirst(2)).dir is invalid: it is larger than 1024 MiB")
    }

    @Test func anUnknownRemoteIsRefused() throws {
        let ws = try Self.dvcProject(commit: false)
        try Self.dvc(ws, ["remote", "add", "gcs", "gs://bucket-two/x"])
        try Self.commit(ws)
        try BadInputTests().expectRefused(ws, ["migrate", "--from-remote", "nope"], message: "no DVC remote 'nope' (known: gcs)", hint: "`dvc remote list` shows the remotes")
        try BadInputTests().expectRefused(ws, ["migrate", "--from-remote", "gcs"], message: "DVC remote 'gcs' (gs://bucket-two/x) is not one mlv can read (S3 or a local folder)",
                                          hint: "fetch the data with `dvc fetch` first, then run `mlv migrate` without --from-remote")
    }
}
