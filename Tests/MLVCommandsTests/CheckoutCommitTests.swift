import MLVSupport
import MLVTestSupport
import Testing

@Suite struct CheckoutTests {
    @Test func checkoutRestoresDeletedData() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/x/1": "one", "data/2": "two", "model": "m"])
        #expect(try ws.mlv(["add", "data", "model"]).status == 0)
        try FS.removeTree(ws.path("data"))
        try FS.remove(ws.path("model"))
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("3 files restored"))
        #expect(try ws.read("data/x/1") == "one" && ws.read("data/2") == "two" && ws.read("model") == "m")
        #expect(try FS.status(ws.path("model"))!.mode & 0o200 != 0, "copies are writable")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
    }

    @Test func checkoutReplacesAnEmptyFolderWhereAFileWas() throws {
        // Planned as absent (no file there), written as an unnamed file, then found in the way.
        let ws = try TestWorkspace()
        try ws.gen(["data/x": "x", "data/y/z": "z"])
        #expect(try ws.mlv(["add", "data"]).status == 0)
        try FS.remove(ws.path("data/x"))
        try FS.makeDirectories(ws.path("data/x/empty"))
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.read("data/x") == "x" && ws.read("data/y/z") == "z")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
    }

    @Test func checkoutRefusesToLoseUncommittedChanges() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/a": "a", "f": "f"])
        #expect(try ws.mlv(["add", "data", "f"]).status == 0)
        try ws.write("data/a", "edited")
        try ws.write("data/new", "new")
        try FS.remove(ws.path("f"))
        let before = try ws.snapshot()
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 2)
        #expect(r.stderr == "mlv: error: checkout would overwrite changes that are not in the cache: 'data/a', 'data/new'\nhint: record them with `mlv commit`, or discard them with `mlv checkout --force`\n")
        #expect(try ws.snapshot() == before)
        #expect(try ws.mlv(["checkout", "--force"]).status == 0)
        #expect(try ws.read("data/a") == "a" && ws.read("f") == "f")
        #expect(!ws.exists("data/new"))
    }

    @Test func checkoutOfOnePathLeavesOthers() throws {
        let ws = try TestWorkspace()
        try ws.gen(["a": "a", "b": "b"])
        #expect(try ws.mlv(["add", "a", "b"]).status == 0)
        try FS.remove(ws.path("a"))
        try FS.remove(ws.path("b"))
        #expect(try ws.mlv(["checkout", "a.mlv"]).status == 0)
        #expect(ws.exists("a") && !ws.exists("b"))
    }

    @Test func checkoutFollowsPointerFromAnotherCommit() throws {
        let ws = try TestWorkspace()
        try ws.write("data.csv", "v1")
        #expect(try ws.mlv(["add", "data.csv", "-m", "v1"]).status == 0)
        try ws.write("data.csv", "v2")
        #expect(try ws.mlv(["add", "data.csv", "-m", "v2"]).status == 0)
        #expect(try ws.git(["checkout", "-q", "HEAD~1", "--", "data.csv.mlv"]).status == 0)
        #expect(try ws.mlv(["status"]).stdout == "data.csv: modified\n")
        #expect(try ws.mlv(["checkout"]).status == 0, "v2 is in the cache, so no --force is needed")
        #expect(try ws.read("data.csv") == "v1")
    }
}

@Suite struct CommitTests {
    @Test func commitRecordsWorkspaceChanges() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/a": "a"])
        #expect(try ws.mlv(["add", "data"]).status == 0)
        let old = try ws.read("data.mlv")
        try ws.write("data/b", "b")
        let r = try ws.mlv(["commit", "-m", "more data"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("committed data"))
        #expect(try ws.read("data.mlv") != old)
        #expect(try ws.read("data.mlv").contains("nfiles: 2"))
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try ws.git(["log", "--format=%s", "-1"]).stdout == "more data\n")
        let unchanged = try ws.mlv(["commit"])
        #expect(unchanged.stdout.contains("1 unchanged"))
    }

    @Test func commitOfUntrackedPathFails() throws {
        let ws = try TestWorkspace()
        try ws.write("loose", "x")
        let before = try ws.snapshot()
        let r = try ws.mlv(["commit", "loose"])
        #expect(r.status == 2)
        #expect(r.stderr == "mlv: error: 'loose' is not tracked by mlv\nhint: track it first with `mlv add loose`\n")
        #expect(try ws.snapshot() == before)
    }
}

@Suite struct GCAndVerifyTests {
    @Test func gcKeepsOnlyWhatPointersReference() throws {
        let ws = try TestWorkspace()
        try ws.gen(["d/a": "a1", "f": "f1"])
        #expect(try ws.mlv(["add", "d", "f"]).status == 0)
        try ws.gen(["d/a": "a2", "f": "f2"])
        #expect(try ws.mlv(["commit"]).status == 0)
        #expect(try ws.cacheObjects().count == 6)
        let dry = try ws.mlv(["gc", "--workspace"])
        #expect(dry.stdout.hasPrefix("would remove 3 objects (") && dry.stdout.contains(" B), keep 3; run again with -f to remove them"), "\(dry)")
        #expect(try ws.cacheObjects().count == 6)
        let real = try ws.mlv(["gc", "--workspace", "-f"])
        #expect(real.stdout.hasPrefix("removed 3 objects"))
        #expect(try ws.cacheObjects().count == 3)
        try FS.removeTree(ws.path("d"))
        try FS.remove(ws.path("f"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("d/a") == "a2" && ws.read("f") == "f2")
    }

    @Test func gcNeedsAScope() throws {
        let ws = try TestWorkspace()
        let r = try ws.mlv(["gc"])
        #expect(r.status != 0 && r.stderr.contains("--workspace"))
    }

    @Test func verifyQuarantinesCorruptedObjectsAndCheckoutRefusesThem() throws {
        let ws = try TestWorkspace()
        try ws.gen(["data/good": "good", "data/bad": "bad content"])
        #expect(try ws.mlv(["add", "data"]).status == 0)
        #expect(try ws.mlv(["cache", "verify"]).stdout.contains("3 objects verified"))
        let bad = SHA256Hasher.hex("bad content")
        let object = ws.path(".mlv/cache/sha256/\(bad.prefix(2))/\(bad.dropFirst(2))")
        try FS.chmod(object, 0o644)
        try AtomicFile.write("evil bytes!", to: object)
        try FS.removeTree(ws.path("data"))
        let co = try ws.mlv(["checkout"])
        #expect(co.status == 2)
        #expect(co.stderr.contains("mlv: error: a corrupted cache object was not checked out: 'data/bad'"))
        #expect(!ws.exists("data/bad"), "a corrupted object never reaches the workspace")
        #expect(try ws.read("data/good") == "good")
        let v = try ws.mlv(["cache", "verify"])
        #expect(v.status == 1)
        #expect(v.stdout.contains("corrupted: \(bad) (moved to .mlv/cache/quarantine/)"))
        #expect(ws.exists(".mlv/cache/quarantine/\(bad)"))
        #expect(!FS.exists(object))
        #expect(try ws.mlv(["cache", "verify"]).status == 0)
        #expect(try ws.mlv(["status"]).stdout == "data: 1 deleted, not in cache\n")
    }
}

@Suite struct ConfigTests {
    @Test func setGetAndLocal() throws {
        let ws = try TestWorkspace()
        #expect(try ws.mlv(["config", "cache.type", "hardlink"]).status == 0)
        #expect(try ws.mlv(["config", "cache.type"]).stdout == "hardlink\n")
        #expect(try ws.read(".mlv/config.yaml") == "cache:\n  type: hardlink\n")
        #expect(try ws.mlv(["config", "--local", "remote.s3.secret_access_key", "s3cr3t"]).status == 0)
        #expect(try ws.read(".mlv/config.local.yaml").contains("secret_access_key: s3cr3t"))
        #expect(try !ws.read(".mlv/config.yaml").contains("s3cr3t"))
        #expect(try ws.mlv(["config", "--unset", "cache.type"]).status == 0)
        #expect(try ws.mlv(["config", "cache.type"]).status == 2)
    }

    @Test func unknownKeyAndBadValue() throws {
        let ws = try TestWorkspace()
        let before = try ws.snapshot()
        let r = try ws.mlv(["config", "cache.tpye", "copy"])
        #expect(r.stderr == "mlv: error: unknown config key 'cache.tpye'\nhint: did you mean 'cache.type'?\n")
        #expect(r.status == 2)
        let v = try ws.mlv(["config", "cache.type", "teleport"])
        #expect(v.status == 2)
        #expect(v.stderr.contains("invalid value 'teleport' for 'cache.type'"))
        #expect(try ws.snapshot() == before)
    }

    @Test func handEditedConfigErrorsPointAtTheLine() throws {
        let ws = try TestWorkspace()
        try ws.write(".mlv/config.yaml", "cache:\n  typ: copy\n")
        let r = try ws.mlv(["status"])
        #expect(r.status == 2)
        #expect(r.stderr == "mlv: error: .mlv/config.yaml:2:3: unknown config key 'cache.typ'\nhint: did you mean 'cache.type'?\n")
    }
}

@Suite struct BigFileTests {
    /// Files past the parallel-copy threshold (16 MiB) take the copy-while-hashing path.
    /// With and without O_TMPFILE (named temporaries are the fallback path).
    @Test(arguments: [false, true])
    func bigFileRoundTripsAndCorruptionIsCaught(namedTemporaries: Bool) throws {
        let ws = try TestWorkspace()
        if namedTemporaries { ws.env["MLV_NAMED_TEMPORARIES"] = "1" }
        var bytes = [UInt8](repeating: 0, count: 20 << 20)
        var x: UInt64 = 0x9E3779B97F4A7C15
        for i in bytes.indices { x ^= x << 13; x ^= x >> 7; x ^= x << 17; bytes[i] = UInt8(truncatingIfNeeded: x) }
        try AtomicFile.write(bytes, to: ws.path("big.bin"))
        let hash = SHA256Hasher.hex(bytes)
        #expect(try ws.mlv(["add", "big.bin"]).status == 0)
        #expect(try ws.read("big.bin.mlv").contains("sha256: \(hash)\n  size: 20971520"))
        let object = ws.path(".mlv/cache/sha256/\(hash.prefix(2))/\(hash.dropFirst(2))")
        #expect(try SHA256Hasher.hex(FS.readFile(object)) == hash)
        try FS.remove(ws.path("big.bin"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try SHA256Hasher.hex(FS.readFile(ws.path("big.bin"))) == hash)
        try FS.chmod(object, 0o644)
        bytes[12345] ^= 1
        try AtomicFile.write(bytes, to: object)
        try FS.remove(ws.path("big.bin"))
        let r = try ws.mlv(["checkout"])
        #expect(r.status == 2 && r.stderr.contains("corrupted cache object"))
        #expect(!ws.exists("big.bin"))
        #expect(try FS.list(ws.root).allSatisfy { !$0.name.contains(".mlv-") })
    }
}

@Suite struct NamedTemporariesTests {
    /// The path for file systems without O_TMPFILE: temporary names, then rename.
    @Test func addAndCheckoutWithNamedTemporaries() throws {
        let ws = try TestWorkspace()
        ws.env["MLV_NAMED_TEMPORARIES"] = "1"
        try ws.gen(["data/a": "alpha", "data/sub/b": "beta", "f": "file"])
        #expect(try ws.mlv(["add", "data", "f"]).status == 0)
        #expect(try ws.mlv(["cache", "verify"]).stdout.contains("4 objects verified"))
        try FS.removeTree(ws.path("data"))
        try ws.write("f", "changed")
        #expect(try ws.mlv(["checkout", "--force"]).status == 0)
        #expect(try ws.read("data/sub/b") == "beta" && ws.read("f") == "file")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try FS.list(ws.path(".mlv/tmp")).allSatisfy { !$0.name.hasPrefix("obj.") })
    }
}
