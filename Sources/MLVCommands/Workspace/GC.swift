import MLVSupport
import ArgumentParser
import MLVKit

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove cache objects that current pointers do not reference.",
        discussion: "Without -f, only reports what would be removed.")

    @Flag(name: .shortAndLong, help: "Keep what the workspace's pointers and pipeline.lock reference (always kept).")
    var workspace = false

    @Flag(name: .shortAndLong, help: "Remove the objects (default: dry run).")
    var force = false

    @Option(help: "Evict least recently used objects until the cache holds at most SIZE (e.g. 50GiB); only objects the default remote (or -r) holds and the workspace does not need.")
    var keepSize: String?

    @OptionGroup var cloud: CloudGCOptions

    func validate() throws {
        if let keepSize, RemoteSettings.parseSize(keepSize) == nil {
            throw ValidationError("--keep-size takes a size such as 50GiB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
        }
        if keepSize != nil && cloud.cloud { throw ValidationError("--keep-size is about the local cache: not with --cloud") }
        guard workspace || keepSize != nil || cloud.cloud || cloud.revisions.selection != .workspace else {
            throw ValidationError("choose what to keep: --workspace, --rev, --all-commits, --all-branches or --all-tags (with --cloud: on the remote)")
        }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if cloud.cloud { return try cloud.run(ws, force: force) }
        if let keepSize, let limit = RemoteSettings.parseSize(keepSize) { return try Self.report(CacheLimit(ws).keep(limit, remote: cloud.remote, force: force)) }
        // The cache always keeps what the workspace records; --rev and the like keep more.
        let r = try ws.gc(OutputSelection(revisions: cloud.revisions.selection), force: force)
        if r.dryRun {
            print("would remove \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes))), keep \(r.kept); run again with -f to remove them")
        } else {
            print("removed \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes))), kept \(r.kept)")
        }
    }

    static func report(_ r: CacheLimit.Report) {
        let size = ByteCount.text(r.sizeBefore), limit = ByteCount.text(r.limit)
        guard r.sizeBefore > r.limit else { return print("the cache holds \(size), within \(limit): nothing to evict") }
        let verb = r.dryRun ? "would evict" : "evicted"
        print("the cache holds \(size), over \(limit): \(verb) \(Format.plural(r.evicted, "object")) (\(ByteCount.text(r.evictedBytes))) that remote '\(r.remote)' holds"
              + (r.dryRun ? "; run with -f to evict them" : ""))
        if r.needed > 0 { print("kept \(Format.plural(r.needed, "object")) (\(ByteCount.text(r.neededBytes))) the workspace needs") }
        if r.onlyHere > 0 { print("kept \(Format.plural(r.onlyHere, "object")) (\(ByteCount.text(r.onlyHereBytes))) the remote does not hold (run `mlv push` first)") }
        if !r.withinLimit { print("the cache \(r.dryRun ? "would hold" : "holds") \(ByteCount.text(r.sizeAfter)): over the limit by what cannot go") }
    }
}
