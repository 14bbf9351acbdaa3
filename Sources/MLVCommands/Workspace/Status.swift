import ArgumentParser
import Foundation
import MLVKit

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show tracked paths whose workspace content differs from their pointers, and stale pipeline stages.")

    @Argument(help: "Tracked paths (default: all).", completion: .file())
    var paths: [String] = []

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Exit with status 1 when anything differs (for CI).")
    var check = false

    @Flag(name: [.customShort("c"), .customLong("cloud")], help: "Compare the cache with a remote instead of the workspace.")
    var cloud = false

    @Option(name: .shortAndLong, help: "The remote for -c (default: core.remote).")
    var remote: String?

    @Flag(help: "With -c, ask the remote about every object instead of trusting what its index records (and drop index objects that name a missing one).")
    var verify = false

    @Flag(help: "Also ask the sources of imports (`mlv import`, `mlv import-url`) whether they changed (no download).")
    var checkSource = false

    func validate() throws {
        if verify && !cloud { throw ValidationError("--verify goes with -c") }
        if checkSource && cloud { throw ValidationError("--check-source is about imports: not with -c") }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if cloud { return try CloudStatusView.show(ws, paths: paths, remote: remote, json: json, check: check, verify: verify) }
        let changed = try ws.status(paths).filter { !$0.isClean }
        let stale = paths.isEmpty ? try ws.pipelineStatus() : []
        let sources = checkSource ? try DataImports(ws).changedSources(paths) : []
        if json {
            var obj: [String: Any] = [:]
            for s in changed {
                var e: [String: Any] = ["deleted": s.deleted, "not_in_cache": s.notInCache]
                e["modified"] = s.modified
                if s.isDirectory {
                    e["modified_files"] = s.modifiedFiles
                    e["added_files"] = s.addedFiles
                    e["deleted_files"] = s.deletedFiles
                }
                obj[s.target] = e
            }
            for s in stale { obj[s.stage] = ["stale": s.reasons] }
            for s in sources { obj[s.path, default: [String: Any]()] = ((obj[s.path] as? [String: Any]) ?? [:]).merging(["source_changed": s.now]) { _, b in b } }
            try Console.json(obj)
        } else if changed.isEmpty && stale.isEmpty && sources.isEmpty {
            print("Data is up to date.")
        } else {
            for s in changed { print("\(s.target): \(Self.describe(s))") }
            for s in stale { print("\(s.stage): \(s.reasons.joined(separator: "; "))") }
            for s in sources { print("\(s.path): source changed (\(s.now)); `mlv update \(s.path)` brings it") }
        }
        // Recorded with import-url --no-download: not a difference, but worth saying.
        if !json {
            for (path, source) in ws.pendingImports.sorted(by: { $0.key < $1.key }) where paths.isEmpty {
                print("\(path): not downloaded yet from \(source.url) (`mlv update \(path)` fetches it)")
            }
        }
        if check && !(changed.isEmpty && !ReproResult.failsCheck(stale) && sources.isEmpty) { throw ExitCode(1) }
    }

    static func describe(_ s: PathStatus) -> String {
        var parts: [String] = []
        if s.deleted { parts.append("deleted") } else if s.modified { parts.append("modified") }
        if !s.modifiedFiles.isEmpty { parts.append("\(s.modifiedFiles.count) modified") }
        if !s.addedFiles.isEmpty { parts.append("\(s.addedFiles.count) added") }
        if !s.deletedFiles.isEmpty { parts.append("\(s.deletedFiles.count) deleted") }
        if s.notInCache { parts.append("not in cache") }
        return parts.joined(separator: ", ")
    }
}
