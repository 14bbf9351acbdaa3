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

    @OptionGroup var cloud: CloudGCOptions

    func validate() throws {
        guard workspace || cloud.cloud || cloud.revisions.selection != .workspace else {
            throw ValidationError("choose what to keep: --workspace, --rev, --all-commits, --all-branches or --all-tags (with --cloud: on the remote)")
        }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if cloud.cloud { return try cloud.run(ws, force: force) }
        // The cache always keeps what the workspace records; --rev and the like keep more.
        let r = try ws.gc(OutputSelection(revisions: cloud.revisions.selection), force: force)
        if r.dryRun {
            print("would remove \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes))), keep \(r.kept); run again with -f to remove them")
        } else {
            print("removed \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes))), kept \(r.kept)")
        }
    }
}
