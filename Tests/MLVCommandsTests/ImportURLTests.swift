import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv import-url` and `mlv update` of URL imports: a loopback HTTP server (scripts/file-server.py),
/// SeaweedFS for s3:// URLs, and local files.
@Suite struct ImportURLTests {
    func server(_ dir: String, changing: Bool = false) throws -> (Process, String) {
        try LoopbackScript.start("scripts/file-server.py", [dir] + (changing ? ["--changing"] : []), what: "the file server")
    }

    @Test func anHTTPObjectIsTrackedAndUpdatedOnlyWhenItChanges() throws {
        let ws = try TestWorkspace()
        let files = try TemporaryDirectory(prefix: "mlv-files")
        try FS.writeFile(files.path + "/train.csv", Array("a,b\n1,2\n".utf8))
        let (process, base) = try server(files.path)
        defer { process.terminate() }
        let r = try ws.mlv(["import-url", base + "/train.csv"])
        #expect(r.status == 0 && r.stdout.hasPrefix("imported \(base)/train.csv -> train.csv (8 B, ETag \""), "\(r)")
        #expect(try ws.read("train.csv") == "a,b\n1,2\n")
        let pointer = try ws.read("train.csv.mlv")
        #expect(pointer.contains("source:\n  url: \(base)/train.csv\n  etag: '\""), "\(pointer)")
        #expect(try ws.read(".gitignore") == "/train.csv\n" && ws.git(["status", "--porcelain"]).stdout.contains("A  train.csv.mlv\n"))
        #expect(try ws.mlv(["update"]).stdout == "train.csv is up to date with \(base)/train.csv\n")
        #expect(try ws.read("train.csv.mlv") == pointer)
        #expect(try ws.mlv(["status", "--check", "--check-source"]).status == 0)
        try FS.writeFile(files.path + "/train.csv", Array("a,b\n1,2\n3,4\n".utf8))
        // status says so without downloading; --check fails on it.
        let s = try ws.mlv(["status", "--check-source", "--check"])
        #expect(s.status == 1 && s.stdout.hasPrefix("train.csv: source changed (ETag \"") && s.stdout.hasSuffix("`mlv update train.csv` brings it\n"), "\(s)")
        let u = try ws.mlv(["update", "train.csv"])
        #expect(u.stdout == "updated train.csv from \(base)/train.csv (12 B)\n", "\(u)")
        #expect(try ws.read("train.csv") == "a,b\n1,2\n3,4\n" && ws.mlv(["status", "--check"]).status == 0)
        // A changed copy here is not recorded as the import's.
        try ws.write("train.csv", "mine")
        #expect(try ws.mlv(["commit"]).stderr.hasPrefix("mlv: error: 'train.csv' is imported from \(base)/train.csv, and its data was changed here"))
    }

    @Test func noDownloadRecordsTheVersionAndUpdateFetchesIt() throws {
        let ws = try TestWorkspace()
        let files = try TemporaryDirectory(prefix: "mlv-files")
        try FS.writeFile(files.path + "/model.bin", Array("weights".utf8))
        let (process, base) = try server(files.path)
        defer { process.terminate() }
        let r = try ws.mlv(["import-url", "--no-download", base + "/model.bin"])
        #expect(r.status == 0 && r.stdout.hasPrefix("recorded \(base)/model.bin -> model.bin (7 B, ETag ") && r.stdout.hasSuffix("; `mlv update model.bin` downloads it\n"), "\(r)")
        #expect(try !ws.exists("model.bin") && ws.cacheObjects().isEmpty)
        #expect(try ws.read("model.bin.mlv").hasPrefix("source:\n  url: \(base)/model.bin\n"))
        let s = try ws.mlv(["status", "--check"])
        #expect(s.status == 0 && s.stdout == "Data is up to date.\nmodel.bin: not downloaded yet from \(base)/model.bin (`mlv update model.bin` fetches it)\n", "\(s)")
        #expect(try ws.mlv(["checkout"]).status == 0)
        let u = try ws.mlv(["update", "model.bin"])
        #expect(u.stdout == "updated model.bin from \(base)/model.bin (7 B)\n", "\(u)")
        #expect(try ws.read("model.bin") == "weights" && ws.read("model.bin.mlv").hasPrefix("outs:\n- path: model.bin\n"))
        #expect(try ws.mlv(["update"]).stdout == "model.bin is up to date with \(base)/model.bin\n")
    }

    @Test func aSourceThatChangesDuringTheDownloadIsRefused() throws {
        let ws = try TestWorkspace()
        let files = try TemporaryDirectory(prefix: "mlv-files")
        try FS.writeFile(files.path + "/moving.bin", Array("x".utf8))
        let (process, base) = try server(files.path, changing: true)
        defer { process.terminate() }
        try BadInputTests().expectRefused(ws, ["import-url", base + "/moving.bin"], message: "'\(base)/moving.bin' changed while it was being downloaded, twice",
                                          hint: "run the command again once the source has stopped changing")
        #expect(try ws.cacheObjects().isEmpty)
        let (plain, plainBase) = try server(files.path)
        defer { plain.terminate() }
        try BadInputTests().expectRefused(ws, ["import-url", plainBase + "/nope.bin"], message: "'\(plainBase)/nope.bin' answered HTTP 404", hint: "check the URL")
        try BadInputTests().expectRefused(ws, ["import-url", "ftp://example.com/x"], message: "'ftp://example.com/x': mlv imports from s3://, http:// and https:// URLs, and local files")
        try BadInputTests().expectRefused(ws, ["import-url", "s3://bucket-only"], message: "'s3://bucket-only' names no object", hint: "give s3://BUCKET/KEY")
        try ws.gen(["taken.bin": "mine"])
        try BadInputTests().expectRefused(ws, ["import-url", plainBase + "/moving.bin", "taken.bin"], message: "'taken.bin' already exists",
                                          hint: "remove it first, or give another place with -o")
    }

    @Test func anS3ObjectUsesTheSettingsOfARemoteOnItsBucket() throws {
        let server = try S3TestServer.get(.seaweedfs)
        let prefix = server.uniquePrefix("import-url")
        #expect(try server.curl("PUT", key: "\(prefix)/raw/data.csv", body: Array("s3 data\n".utf8)) == 200)
        let ws = try TestWorkspace()
        ws.env.merge(server.credentials) { _, b in b }
        #expect(try ws.mlv(["remote", "add", "-d", "r", "s3://\(server.bucket)/\(prefix)/mlv"]).status == 0)
        #expect(try ws.mlv(["remote", "modify", "r", "endpoint_url", server.endpoint]).status == 0)
        let r = try ws.mlv(["import-url", "s3://\(server.bucket)/\(prefix)/raw/data.csv", "data.csv"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.read("data.csv") == "s3 data\n" && ws.read("data.csv.mlv").contains("  etag: "))
        #expect(try ws.mlv(["update"]).stdout == "data.csv is up to date with s3://\(server.bucket)/\(prefix)/raw/data.csv\n")
        #expect(try server.curl("PUT", key: "\(prefix)/raw/data.csv", body: Array("s3 data, v2\n".utf8)) == 200)
        #expect(try ws.mlv(["update"]).stdout.hasPrefix("updated data.csv from s3://"))
        #expect(try ws.read("data.csv") == "s3 data, v2\n")
        // Pushed to our own remote like any data.
        #expect(try ws.mlv(["push"]).stdout.hasPrefix("1 file pushed"))
        let missing = try ws.mlv(["import-url", "s3://\(server.bucket)/\(prefix)/raw/none.csv"])
        #expect(missing.status == 2 && missing.stderr.hasPrefix("mlv: error: 's3://\(server.bucket)/\(prefix)/raw/none.csv' does not exist"), "\(missing)")
    }

    @Test func aLocalFileIsImportedAndFoldersAreNot() throws {
        let ws = try TestWorkspace()
        let files = try TemporaryDirectory(prefix: "mlv-files")
        try FS.writeFile(files.path + "/big.bin", Array(repeating: 7, count: 100_000))
        #expect(try ws.mlv(["import-url", files.path + "/big.bin", "data/big.bin"]).status == 0)
        #expect(try FS.readFile(ws.path("data/big.bin")).count == 100_000)
        try BadInputTests().expectRefused(ws, ["import-url", files.path, "f"], message: "'\(files.path)' is not a file",
                                          hint: "import-url takes one file; copy a folder into the workspace and `mlv add` it")
    }
}
