import ArgumentParser
import MLVKit

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show tracked files added, deleted, modified and renamed between two commits, or a commit and the workspace.",
        discussion: """
        A_REV defaults to HEAD, B_REV to the workspace as it is on disk. Tracked folders are compared \
        file by file through their manifests; a folder whose manifest is not in the cache is compared \
        as a whole and listed under "Not in cache". Folders end in "/".
        """)

    @Argument(help: "The old revision (default: HEAD).")
    var aRev: String?

    @Argument(help: "The new revision (default: the workspace).")
    var bRev: String?

    @Option(name: .customLong("targets"), parsing: .upToNextOption, help: "Only these tracked paths (and what lies inside them).")
    var targets: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print a Markdown table.")
    var md = false

    @Flag(help: "Show each entry's hash (12 hex digits; old..new for a modification).")
    var showHash = false

    func validate() throws {
        if json && md { throw ValidationError("choose one of --json and --md") }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let d = try DataDiff.between(aRev, bRev, in: ws, targets: targets)
        let groups: [(name: String, entries: [(path: String, hash: String?)])] = [
            ("added", d.added.map { ($0.path, $0.new.map(\.short)) }),
            ("deleted", d.deleted.map { ($0.path, $0.old.map(\.short)) }),
            ("renamed", d.renamed.map { ("\($0.old) -> \($0.new)", $0.hash.short) }),
            ("modified", d.modified.map { ($0.path, "\($0.old?.short ?? "")..\($0.new?.short ?? "")") }),
            ("not in cache", d.notInCache.map { ($0.path, nil) }),
        ]
        if json { return try Console.json(Self.json(d, showHash: showHash)) }
        if d.isEmpty { return }
        if md {
            print("| Status | \(showHash ? "Hash | " : "")Path |")
            print("|--------|\(showHash ? "------|" : "")------|")
            for g in groups { for e in g.entries { print("| \(g.name) | \(showHash ? "\(e.hash ?? "") | " : "")\(e.path) |") } }
            return
        }
        for g in groups where !g.entries.isEmpty {
            print(g.name.prefix(1).uppercased() + g.name.dropFirst() + ":")
            for e in g.entries { print("    " + (showHash ? (e.hash.map { $0 + "  " } ?? "") : "") + e.path) }
            print("")
        }
        // Counted as DVC counts them: files, not folders.
        let counts = groups.dropLast().map { g in (g.name, g.entries.filter { !$0.path.hasSuffix("/") }.count) }.filter { $0.1 > 0 }
        if !counts.isEmpty { print("files summary: " + counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")) }
    }

    /// DVC's JSON shape: each group a list of `{"path": …}` (renames `{"path": {"old", "new"}}`).
    static func json(_ d: DataDiff, showHash: Bool) -> [String: Any] {
        func entry(_ path: Any, _ hash: Any?) -> [String: Any] {
            var e: [String: Any] = ["path": path]
            if showHash, let hash { e["hash"] = hash }
            return e
        }
        var out: [String: Any] = [:]
        if d.isEmpty { return out }
        out["added"] = d.added.map { entry($0.path, $0.new?.description) }
        out["deleted"] = d.deleted.map { entry($0.path, $0.old?.description) }
        out["modified"] = d.modified.map { entry($0.path, ["old": $0.old?.description ?? "", "new": $0.new?.description ?? ""]) }
        out["renamed"] = d.renamed.map { entry(["old": $0.old, "new": $0.new], $0.hash.description) }
        out["not in cache"] = d.notInCache.map { entry($0.path, nil) }
        return out
    }
}
