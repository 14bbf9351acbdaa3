import ArgumentParser
import MLVKit
import MLVSupport

/// What `get` and `import` read: a repository, a tracked path in it, a revision, and where the data goes.
struct SourceOptions: ParsableArguments {
    @Argument(help: "The repository (git URL or local path).") var url: String
    @Argument(help: "The tracked path in it.") var path: String
    @Option(name: .shortAndLong, help: "Where to put it (default: its name, here).") var out: String?
    @Option(help: "The git revision to read (default: its HEAD; `import` follows a tag or branch on `mlv update`).") var rev: String?
    @Option(name: .shortAndLong, help: "Parallel downloads.") var jobs: Int?
}

/// `mlv get URL PATH`: another repository's data, without a workspace.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download data another mlv repository tracks (no workspace needed), hash-verified.",
        discussion: "URL is a git URL or a local path; PATH a tracked file or folder there, or a path inside a tracked folder. The data comes from that repository's default remote (or its cache, when it is local).")

    @OptionGroup var source: SourceOptions

    func run() throws {
        let s = source
        let r = try DataRegistry.get(url: s.url, path: s.path, out: s.out, rev: s.rev, jobs: s.jobs)
        print("got \(s.path) (\(Format.plural(r.files, "file")), \(ByteCount.text(r.bytes))) at \(r.commit.prefix(12)) -> \(s.out ?? Path.base(Path.normalize(s.path)))")
    }
}

/// `mlv import URL PATH`: another repository's data, tracked here with its source.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Track data from another mlv repository here: download it, and record its source for `mlv update`.",
        discussion: "The objects enter this workspace's cache and go to its own remote on push, so a clone never needs the source's remote.")

    @OptionGroup var source: SourceOptions

    func run() throws {
        let r = try DataImports(try WorkspaceCommand.open()).importData(url: source.url, path: source.path, out: source.out, rev: source.rev, jobs: source.jobs)
        guard case .repo(let s) = r.origin else { return }
        print("imported \(s.path) from \(s.repo) at \(s.rev.map { "\($0) (\(s.revLock.prefix(12)))" } ?? String(s.revLock.prefix(12))) -> \(r.path)")
        print("\(Format.plural(r.files, "file")), \(ByteCount.text(r.bytes))")
    }
}

/// `mlv update [TARGET…]`: imports moved to their source's newest commit.
struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Move imports to the newest commit of their revision (or to --rev), fetching what changed.")

    @Argument(help: "Imported paths (default: every import).", completion: .file()) var targets: [String] = []
    @Option(help: "Move to this revision instead (recorded for later updates).") var rev: String?
    @Option(name: .shortAndLong, help: "Parallel downloads.") var jobs: Int?

    func run() throws {
        let r = try DataImports(try WorkspaceCommand.open()).update(targets, rev: rev, jobs: jobs)
        if r.isEmpty { print("no imports to update") }
        for i in r {
            switch i.origin {
            case .repo(let s):
                let at = s.revLock.prefix(12)
                print(i.changed ? "updated \(i.path) to \(s.rev.map { "\($0) (\(at))" } ?? String(at))" : "\(i.path) is up to date (\(at))")
            case .url(let s):
                print(i.changed ? "updated \(i.path) from \(s.url) (\(ByteCount.text(s.size)))" : "\(i.path) is up to date with \(s.url)")
            }
        }
    }
}

/// `mlv ls URL [PATH]`: what a repository holds.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the git files and mlv-tracked data of a repository at a revision.",
        aliases: ["list"])

    @Argument(help: "The repository (git URL or local path).") var url: String
    @Argument(help: "A folder in it (default: its root).") var path: String?
    @Option(help: "The git revision (default: its HEAD).") var rev: String?
    @Flag(name: [.customShort("R"), .long], help: "Every file below the folder, tracked folders expanded.") var recursive = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let entries = try DataRegistry.list(url: url, path: path, rev: rev, recursive: recursive)
        if json {
            return try Console.json(entries.map { e -> [String: Any] in
                var o: [String: Any] = ["path": e.path, "isdir": e.isDirectory, "isout": e.isOutput, "isexec": e.isExecutable]
                if let s = e.size { o["size"] = s }
                return o
            })
        }
        for e in entries { print(e.path + (e.isDirectory && !recursive ? "/" : "")) }
    }
}

/// `mlv import-url URL [OUT]`: one object from outside any repository, tracked with its source.
struct ImportURL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-url",
        abstract: "Track a file from a URL (s3://, http(s)://, or a local path), recording its ETag/Last-Modified for `mlv update`.",
        discussion: "s3:// URLs use mlv's S3 client with the settings of a remote on the same bucket (else the environment's AWS_* variables).")

    @Argument(help: "The object's URL, or a local file.") var url: String
    @Argument(help: "Where to put it (default: the URL's last name, here).", completion: .file()) var out: String?
    @Flag(help: "Only record the source's version (ETag, size); `mlv update` downloads it later.") var noDownload = false

    func run() throws {
        let r = try DataImports(try WorkspaceCommand.open()).importURL(url, out: out, noDownload: noDownload)
        guard case .url(let s) = r.origin else { return }
        print("\(noDownload ? "recorded" : "imported") \(s.url) -> \(r.path) (\(ByteCount.text(s.size))\(s.etag.map { ", ETag \($0)" } ?? ""))"
              + (noDownload ? "; `mlv update \(r.path)` downloads it" : ""))
    }
}
