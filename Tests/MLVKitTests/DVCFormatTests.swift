@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// DVC's files as `mlv migrate` reads them: `.dvc/config` INI, `.dir` manifests (byte-exact
/// with Python's json.dumps, so their MD5 can be checked), `.dvc` files and their paths.
@Suite struct DVCFormatTests {
    @Test func configobjINIAsDVCWritesIt() throws {
        let text = """
            [core]
                remote = store
                autostage = true
            ['remote "store"']
                url = s3://bucket/prefix
                endpointurl = "http://127.0.0.1:9000"   
            # a comment
            ; another
            [cache]
                type = reflink,copy # inline comment

            """
        let config = try DVCConfig.parse(text, file: ".dvc/config")
        #expect(config.remotes == ["store": ["url": "s3://bucket/prefix", "endpointurl": "http://127.0.0.1:9000"]])
        #expect(config.value("core", "remote") == "store")
        #expect(config.value("cache", "type") == "reflink,copy")
        #expect(throws: MigrationError.invalidConfig(".dvc/config", line: 1)) { try DVCConfig.parse("url = x\n", file: ".dvc/config") }
        #expect(throws: MigrationError.invalidConfig(".dvc/config", line: 2)) { try DVCConfig.parse("[core]\nnonsense\n", file: ".dvc/config") }
    }

    @Test func remotesConvertAndSecretsStayLocal() throws {
        let committed = try DVCConfig.parse("""
            [core]
            remote = s3
            ['remote "s3"']
            url = s3://bucket/dvc
            endpointurl = http://127.0.0.1:9000
            region = eu-west-1
            secret_access_key = committed-secret
            listobjects = true
            ['remote "gcs"']
            url = gs://bucket/x
            ['remote "shelf"']
            url = ../../shelf
            ['remote "bad name"']
            url = /abs/store

            """, file: ".dvc/config")
        let local = try DVCConfig.parse("['remote \"s3\"']\naccess_key_id = AKID\nsecret_access_key = local-secret\n", file: ".dvc/config.local")
        let c = ConvertedConfig(committed: committed, local: local, dvcDir: "/work/repo/.dvc", root: "/work/repo")
        #expect(c.committed == [
            "core.remote": "s3", "remote.s3.url": "s3://bucket/dvc", "remote.s3.endpoint_url": "http://127.0.0.1:9000",
            "remote.s3.region": "eu-west-1", "remote.shelf.url": "../shelf",
        ])
        #expect(c.local == ["remote.s3.access_key_id": "AKID", "remote.s3.secret_access_key": "local-secret"])
        #expect(c.unsupported.map(\.name) == ["bad name", "gcs"])
        #expect(c.notes == ["remote 's3': option 'listobjects' has no mlv equivalent; left out"])
        #expect(!c.committed.values.contains("committed-secret"))
        // A secret only in the committed file is named, never copied.
        let onlyCommitted = ConvertedConfig(committed: committed, local: DVCConfig(), dvcDir: "/work/repo/.dvc", root: "/work/repo")
        #expect(onlyCommitted.local.isEmpty)
        #expect(onlyCommitted.notes.contains { $0.hasPrefix("remote 's3': secret_access_key is in the committed .dvc/config; secrets are only taken from .dvc/config.local") })
        #expect(ConvertedConfig.relative("/a/b/c", from: "/a/x/y") == "../../b/c")
        #expect(ConvertedConfig.relative("/a/b", from: "/a/b") == ".")
    }

    @Test func manifestsAreByteExactWithPythonsJSON() throws {
        // json.dumps(sorted(entries, key=relpath), sort_keys=True) in Python 3, and its MD5.
        let python = #"[{"md5": "c157a79031e1c40f85931829bc5fc552", "relpath": "a \"q\"\t.txt"}, {"md5": "d3b07384d113edec49eaa6238ad5ff00", "relpath": "z/\u00e9.txt"}, {"md5": "258622b1688250cb619f3c9ccaefb7eb", "relpath": "\ud83d\ude00"}]"#
        let tree = try DVCTree.parse(Array(python.utf8), source: "x.dir")
        #expect(tree.entries.map(\.path) == ["a \"q\"\t.txt", "z/é.txt", "😀"])
        let shuffled = DVCTree(entries: tree.entries.reversed())
        #expect(String(decoding: shuffled.serialized(), as: UTF8.self) == python)
        #expect(MD5Hasher.hex(shuffled.serialized()) == "3c7d326ab5acb26ccbd1b03e0f51e3f3")
        #expect(DVCTree(entries: []).serialized() == Array("[]".utf8))
    }

    @Test(arguments: [
        ("{\"md5\": ", "it is not valid JSON"),
        ("{}", "it is not a JSON list"),
        ("[{\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\"}]", "an entry is not {\"md5\": …, \"relpath\": …}"),
        ("[{\"md5\": \"xyz\", \"relpath\": \"a\"}]", "'xyz' is not an MD5"),
        ("[{\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"../up\"}]", "unsafe path '../up'"),
        ("[{\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"a/.git/config\"}]", "unsafe path 'a/.git/config'"),
        ("[{\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"/etc/passwd\"}]", "unsafe path '/etc/passwd'"),
        ("[{\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"a\"}, {\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"a\"}]", "duplicate path 'a'"),
        ("[{\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"a\"}, {\"md5\": \"d3b07384d113edec49eaa6238ad5ff00\", \"relpath\": \"a/b\"}]", "'a' is both a file and a folder"),
    ])
    func hostileManifestsAreRefused(_ json: String, _ reason: String) {
        #expect(throws: MigrationError.invalidManifest("x.dir", reason)) { try DVCTree.parse(Array(json.utf8), source: "x.dir") }
    }

    @Test func deeplyNestedJSONIsRefusedNotACrash() {
        let deep = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(throws: MigrationError.self) { try DVCTree.parse(deep, source: "x.dir") }
    }

    @Test func pathsResolveInsideTheWorkspaceOnly() throws {
        #expect(try DVCPath.resolve("data", in: ".", file: "f.dvc") == "data")
        #expect(try DVCPath.resolve("./x/../y", in: "sub", file: "sub/f.dvc") == "sub/y")
        #expect(try DVCPath.resolve("../raw.txt", in: "sub", file: "sub/f.dvc") == "raw.txt")
        for bad in ["../x", "/abs", "", "a/../../x", ".git", "x/.GIT/y", ".mlv/cache", ".dvc/config", "."] {
            #expect(throws: MigrationError.unsafePath(file: "f.dvc", path: bad, line: nil)) { try DVCPath.resolve(bad, in: ".", file: "f.dvc") }
        }
        #expect(throws: MigrationError.self) { try DVCPath.resolve("x", in: "../out", file: "f.dvc") }
    }

    @Test func dvcFilesOutsAndImports() throws {
        let pointer = try DVCPointer.parse("""
            outs:
            - md5: 38d4a8069b94fd4979a5f2e61b29af66.dir
              size: 26
              nfiles: 4
              hash: md5
              path: data
            - md5: 2306b4377429730ee03a806cff76e92b
              size: 4
              path: legacy.txt

            """, file: "sub/data.dvc")
        #expect(pointer.outs == [
            DVCEntry(path: "sub/data", hash: DVCHash("38d4a8069b94fd4979a5f2e61b29af66.dir"), size: 26, fileCount: 4, legacy: false),
            DVCEntry(path: "sub/legacy.txt", hash: DVCHash("2306b4377429730ee03a806cff76e92b"), size: 4, fileCount: nil, legacy: true),
        ])
        #expect(DVCHash("38d4a8069b94fd4979a5f2e61b29af66.dir")?.objectName == "38/d4a8069b94fd4979a5f2e61b29af66.dir")
        #expect(DVCHash("38D4A8069B94FD4979A5F2E61B29AF66") == nil)
        let imported = try DVCPointer.parse("""
            frozen: true
            deps:
            - path: data/model.bin
              repo:
                url: https://example.com/registry.git
                rev: v1
                rev_lock: ae1d99bbde68c6e345ae209a574ff3f3f737e7e5
            outs:
            - md5: d3a57c4e87b1ab3ce8f89bd81b5a932d
              size: 9
              hash: md5
              path: model.bin

            """, file: "model.bin.dvc")
        #expect(imported.origin == .repo(url: "https://example.com/registry.git", path: "data/model.bin", rev: "v1", revLock: "ae1d99bbde68c6e345ae209a574ff3f3f737e7e5"))
        let url = try DVCPointer.parse("deps:\n- path: ../ext.txt\n  size: 9\nouts:\n- md5: d3a57c4e87b1ab3ce8f89bd81b5a932d\n  path: ext.txt\n", file: "sub/ext.txt.dvc")
        #expect(url.origin == .url("ext.txt", etag: nil, size: 9))
        #expect(throws: YAMLError.self) { try DVCPointer.parse("outs:\n- md5: nope\n  path: x\n", file: "x.dvc") }
    }

    @Test func dvc2sMD5ReadsCRLFAsLF() throws {
        let dir = try TemporaryDirectory(prefix: "dvc-md5")
        defer { dir.remove() }
        let text = dir.path + "/t.txt", binary = dir.path + "/b.bin"
        try FS.writeFile(text, Array("a\r\nb\r\n".utf8))
        try FS.writeFile(binary, [0, 13, 10])
        #expect(try DVCObjects.dos2unixMD5(text, size: 6) == MD5Hasher.hex(Array("a\nb\n".utf8)))
        #expect(try DVCObjects.dos2unixMD5(binary, size: 3) == nil)
    }
}
