import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// The data registry: `get`, `import`, `update` and `ls` between real git repositories, with a
/// local-folder remote and, end to end, SeaweedFS buckets for the registry and the consumer.
@Suite struct RegistryTests {
    /// A registry: `data/images` (3 files) and `data/labels.csv`, pushed to `remoteURL`,
    /// committed and tagged v1.
    func registry(remote remoteURL: String = "../registry-remote", env: [String: String] = [:], endpoint: String? = nil) throws -> TestWorkspace {
        let reg = try TestWorkspace()
        reg.env.merge(env) { _, b in b }
        try reg.gen(["data/images/1.png": "one", "data/images/2.png": "two", "data/images/sub/3.png": "three", "data/labels.csv": "a,b\n"])
        #expect(try reg.mlv(["add", "data/images", "data/labels.csv"]).status == 0)
        #expect(try reg.mlv(["remote", "add", "-d", "store", remoteURL]).status == 0)
        if let endpoint { #expect(try reg.mlv(["remote", "modify", "store", "endpoint_url", endpoint]).status == 0) }
        #expect(try reg.mlv(["push"]).status == 0)
        #expect(try reg.git(["add", "-A"]).status == 0)
        #expect(try reg.git(["commit", "-qm", "v1"]).status == 0)
        #expect(try reg.git(["tag", "v1"]).status == 0)
        return reg
    }

    /// The registry moves on: a fourth image, pushed and committed.
    func moveOn(_ reg: TestWorkspace) throws {
        try reg.gen(["data/images/4.png": "four"])
        #expect(try reg.mlv(["commit"]).status == 0)
        #expect(try reg.mlv(["push"]).status == 0)
        #expect(try reg.git(["commit", "-qam", "v2"]).status == 0)
    }

    /// The registry's cache emptied: its data can only come from its remote.
    func emptyCache(_ reg: TestWorkspace) throws {
        try FS.removeTree(reg.path(".mlv/cache/sha256"))
        try FS.makeDirectories(reg.path(".mlv/cache/sha256"))
    }

    @Test func getWritesDataWithoutAWorkspace() throws {
        let reg = try registry()
        let here = try TemporaryDirectory(prefix: "mlv-get")
        let r = try runMLV(["get", reg.root, "data/images"], cwd: here.path, env: reg.env)
        #expect(r.status == 0 && r.stdout.hasPrefix("got data/images (3 files, 11 B) at "), "\(r)")
        #expect(try FS.readText(here.path + "/images/sub/3.png") == "three")
        // Only the data: no scratch cache left behind.
        #expect(try FS.list(here.path).map(\.name).sorted() == ["images"])
        // A file and a folder inside a tracked folder, and a pinned revision.
        try moveOn(reg)
        #expect(try runMLV(["get", reg.root, "data/images/sub/3.png", "-o", "three.png"], cwd: here.path, env: reg.env).status == 0)
        #expect(try FS.readText(here.path + "/three.png") == "three")
        #expect(try runMLV(["get", reg.root, "data/images/sub", "-o", "s"], cwd: here.path, env: reg.env).status == 0)
        #expect(try FS.list(here.path + "/s").map(\.name) == ["3.png"])
        #expect(try runMLV(["get", reg.root, "data/images", "--rev", "v1", "-o", "v1"], cwd: here.path, env: reg.env).status == 0)
        #expect(try FS.list(here.path + "/v1").map(\.name).sorted() == ["1.png", "2.png", "sub"])
        #expect(try runMLV(["get", reg.root, "data/images", "-o", "v2"], cwd: here.path, env: reg.env).status == 0)
        #expect(try FS.readText(here.path + "/v2/4.png") == "four")

        // Without the registry's cache, the data comes from its remote, every object verified.
        try emptyCache(reg)
        #expect(try runMLV(["get", "file://" + reg.root, "data/labels.csv", "-o", "l.csv"], cwd: here.path, env: reg.env).status == 0)
        #expect(try FS.readText(here.path + "/l.csv") == "a,b\n")
    }

    @Test func badSourcesAndPathsAreRefusedWithNothingWritten() throws {
        let reg = try registry()
        let here = try TemporaryDirectory(prefix: "mlv-get")
        func refused(_ args: [String], _ message: String, hint: String? = nil) throws {
            let before = try FS.list(here.path).map(\.name)
            let r = try runMLV(args, cwd: here.path, env: reg.env)
            #expect(r.status == 2 && r.stderr.hasPrefix("mlv: error: \(message)\n"), "\(r)")
            if let hint { #expect(r.stderr.contains("\nhint: \(hint)\n"), "\(r)") }
            #expect(try FS.list(here.path).map(\.name) == before)
        }
        let head = String(try reg.git(["rev-parse", "HEAD"]).stdout.prefix(12))
        try refused(["get", reg.root, "data/imagez"], "'data/imagez' is not tracked by mlv in '\(reg.root)' at \(head)", hint: "did you mean 'data/images'?")
        try refused(["get", reg.root, "data/images/9.png"], "'data/images/9.png' is not tracked by mlv in '\(reg.root)' at \(head)")
        try refused(["get", reg.root, "data/images", "--rev", "nope"], "unknown revision 'nope'")
        try refused(["get", here.path + "/nothing-here", "x"], "'\(here.path)/nothing-here' is not a git repository")
        let plain = try TestWorkspace(initialize: false)
        try plain.gen(["f": "x"])
        #expect(try plain.git(["add", "-A"]).status == 0 && plain.git(["commit", "-qm", "x"]).status == 0)
        try refused(["get", plain.root, "f"], "'\(plain.root)' has no mlv workspace at \(String(try plain.git(["rev-parse", "HEAD"]).stdout.prefix(12))) (no .mlv/config.yaml)")
        try FS.writeFile(here.path + "/images", Array("mine".utf8))
        try refused(["get", reg.root, "data/images"], "'images' already exists", hint: "remove it first, or give another place with -o")
        try FS.remove(here.path + "/images")

        // An object the source's remote lacks (and its cache too) is named; nothing is written.
        try emptyCache(reg)
        let labels = try #require(try reg.read("data/labels.csv.mlv").split(separator: "\n").first { $0.contains("sha256: ") }?.split(separator: " ").last)
        try FS.remove(reg.dir.path + "/registry-remote/sha256/" + labels.prefix(2) + "/" + labels.dropFirst(2))
        try refused(["get", reg.root, "data/labels.csv"], "1 object is missing on remote 'store': 'data/labels.csv'")

        // A pointer in the source leading out of it is refused like one of ours.
        try reg.write("evil.mlv", "outs:\n- path: ../../etc/passwd\n  hash: sha256\n  sha256: \(String(repeating: "a", count: 64))\n  size: 1\n")
        #expect(try reg.git(["add", "evil.mlv"]).status == 0 && reg.git(["commit", "-qm", "evil"]).status == 0)
        let evil = String(try reg.git(["rev-parse", "HEAD"]).stdout.prefix(12))
        try refused(["get", reg.root, "data/images"], "\(evil):evil.mlv:2:9: path '../../etc/passwd' escapes the workspace")
    }

    @Test func lsListsGitFilesAndTrackedData() throws {
        let reg = try registry()
        let top = try runMLV(["ls", reg.root], cwd: reg.dir.path, env: reg.env)
        #expect(top.stdout == ".gitattributes\n.mlv/\ndata/\n", "\(top)")
        #expect(try runMLV(["ls", reg.root, "data"], cwd: reg.dir.path, env: reg.env).stdout
                == ".gitignore\nimages/\nimages.mlv\nlabels.csv\nlabels.csv.mlv\n")
        #expect(try runMLV(["ls", reg.root, "data", "-R"], cwd: reg.dir.path, env: reg.env).stdout
                == ".gitignore\nimages.mlv\nimages/1.png\nimages/2.png\nimages/sub/3.png\nlabels.csv\nlabels.csv.mlv\n")
        #expect(try runMLV(["ls", reg.root, "data/images"], cwd: reg.dir.path, env: reg.env).stdout == "1.png\n2.png\nsub/\n")
        let j = try runMLV(["ls", reg.root, "data/images/sub", "--json"], cwd: reg.dir.path, env: reg.env)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["path"] as? String == "3.png" && rows[0]["isout"] as? Bool == true && rows[0]["size"] as? Int == 5)
        try moveOn(reg)
        #expect(try runMLV(["ls", reg.root, "data/images", "--rev", "v1"], cwd: reg.dir.path, env: reg.env).stdout == "1.png\n2.png\nsub/\n")
        #expect(try runMLV(["ls", reg.root, "data/images"], cwd: reg.dir.path, env: reg.env).stdout == "1.png\n2.png\n4.png\nsub/\n")
        let missing = try runMLV(["ls", reg.root, "nope"], cwd: reg.dir.path, env: reg.env)
        #expect(missing.status == 2 && missing.stderr.hasPrefix("mlv: error: 'nope' is not tracked by mlv in '\(reg.root)'"), "\(missing)")
    }

    @Test func importsAreTrackedWithTheirSourceAndGuarded() throws {
        let reg = try registry()
        let ws = try TestWorkspace()
        let r = try ws.mlv(["import", reg.root, "data/images", "--rev", "v1", "-o", "imgs"])
        #expect(r.status == 0 && r.stdout.hasPrefix("imported data/images from \(reg.root) at v1 ("), "\(r)")
        let pointer = try ws.read("imgs.mlv")
        #expect(pointer.contains("source:\n  repo: \(reg.root)\n  path: data/images\n  rev: v1\n  rev_lock: "), "\(pointer)")
        #expect(try ws.read("imgs/sub/3.png") == "three" && ws.read(".gitignore") == "/imgs\n")
        #expect(try ws.git(["status", "--porcelain"]).stdout.contains("A  imgs.mlv\n"))

        // Pinned to a tag: the registry moving on changes nothing.
        try moveOn(reg)
        #expect(try ws.mlv(["update"]).stdout.hasPrefix("imgs is up to date ("))
        #expect(try ws.mlv(["status", "--check-source"]).stdout == "Data is up to date.\n")
        // Another revision: the new version, and the pointer says so.
        let u = try ws.mlv(["update", "imgs", "--rev", "main"])
        #expect(u.status == 0 && u.stdout.hasPrefix("updated imgs to main ("), "\(u)")
        #expect(try ws.read("imgs/4.png") == "four" && ws.read("imgs.mlv").contains("  rev: main\n"))
        try reg.gen(["data/images/5.png": "five"])
        #expect(try reg.mlv(["commit"]).status == 0 && reg.git(["commit", "-qam", "v3"]).status == 0)
        let head = String(try reg.git(["rev-parse", "HEAD"]).stdout.prefix(12))
        #expect(try ws.mlv(["status", "--check-source"]).stdout == "imgs: source changed (main is \(head)); `mlv update imgs` brings it\n")
        #expect(try ws.mlv(["status", "--check"]).status == 0)
        // A stage reads an import like any tracked data; an update makes it stale.
        try ws.write("pipeline.yaml", "stages:\n  count:\n    cmd: ls imgs | wc -l > count.txt\n    deps: [imgs]\n    outs: [count.txt]\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.read("count.txt").trimmingCharacters(in: .whitespacesAndNewlines) == "4")
        #expect(try ws.mlv(["repro", "--check"]).status == 0)

        // The import's data is the source's: a change here is not recorded by add or commit.
        try ws.write("imgs/1.png", "changed here")
        let c = try ws.mlv(["commit"])
        #expect(c.status == 2 && c.stderr.hasPrefix("mlv: error: 'imgs' is imported from \(reg.root) (data/images), and its data was changed here\n"), "\(c)")
        #expect(try ws.read("imgs.mlv").contains("  rev: main\n"))
        #expect(try ws.mlv(["checkout", "--force", "imgs"]).status == 0)
        // A move keeps the source.
        #expect(try ws.mlv(["move", "imgs", "images"]).status == 0)
        #expect(try ws.read("images.mlv").contains("source:\n  repo: \(reg.root)\n"))

        let bad = BadInputTests()
        try ws.gen(["mine.txt": "x"])
        #expect(try ws.mlv(["add", "mine.txt"]).status == 0)
        try bad.expectRefused(ws, ["update", "mine.txt"], message: "'mine.txt' is not an import", hint: "only paths made with `mlv import` can be updated")
        try bad.expectRefused(ws, ["import", reg.root, "data/labels.csv", "-o", "mine.txt"], message: "'mine.txt' already exists",
                              hint: "remove it first, or give another place with -o")
        try bad.expectRefused(ws, ["import", reg.root, "data/labels.csv", "-o", "images/x.csv"], message: "'images/x.csv' is already tracked as part of 'images'")
    }

    /// The issue's end-to-end run: a registry and a consumer, each with its own SeaweedFS bucket
    /// prefix; import at a branch, the registry moves, update; a clone of the consumer pulls the
    /// import from the consumer's remote with the registry and its remote gone.
    @Test func aConsumerCloneNeedsOnlyItsOwnRemote() throws {
        let server = try S3TestServer.get(.seaweedfs)
        let regPrefix = server.uniquePrefix("registry"), consumerPrefix = server.uniquePrefix("consumer")
        let reg = try registry(remote: "s3://\(server.bucket)/\(regPrefix)", env: server.credentials, endpoint: server.endpoint)
        // The source is read through a clone, and its data only from its remote.
        try emptyCache(reg)
        let ws = try TestWorkspace()
        ws.env.merge(server.credentials) { _, b in b }
        #expect(try ws.mlv(["remote", "add", "-d", "own", "s3://\(server.bucket)/\(consumerPrefix)"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "own", "endpoint_url", server.endpoint]).status == 0)
        let url = "file://" + reg.root
        #expect(try ws.mlv(["import", url, "data/images", "--rev", "main"]).status == 0)
        try moveOn(reg)
        try emptyCache(reg)
        let u = try ws.mlv(["update"])
        #expect(u.status == 0 && u.stdout.hasPrefix("updated images to main ("), "\(u)")
        #expect(try ws.read("images/4.png") == "four")
        #expect(try ws.mlv(["push"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "import images"]).status == 0)

        // The registry and everything on its remote go.
        for key in try server.keys(prefix: regPrefix + "/") { #expect(try server.curl("DELETE", key: key) == 204) }
        try FS.removeTree(reg.root)
        let clone = ws.dir.path + "/clone"
        #expect(try runProcess("/usr/bin/git", ["clone", "-q", ws.root, clone], cwd: ws.dir.path, env: ws.env).status == 0)
        let pull = try runMLV(["pull"], cwd: clone, env: ws.env)
        #expect(pull.status == 0, "\(pull)")
        #expect(try FS.readText(clone + "/images/4.png") == "four" && FS.readText(clone + "/images/sub/3.png") == "three")
        // Only update needs the registry, and says so.
        let gone = try runMLV(["update"], cwd: clone, env: ws.env)
        #expect(gone.status == 2 && gone.stderr.hasPrefix("mlv: error: cannot read the git repository at '\(url)'"), "\(gone)")
    }
}
