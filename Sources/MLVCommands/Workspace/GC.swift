import MLVSupport
import ArgumentParser
import MLVKit

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove cache objects that current pointers do not reference.",
        discussion: "Without -f, only reports what would be removed.")

    @Flag(name: .shortAndLong, help: "Keep only what the workspace's current pointers reference.")
    var workspace = false

    @Flag(name: .shortAndLong, help: "Remove the objects (default: dry run).")
    var force = false

    @OptionGroup var cloud: CloudGCOptions

    func validate() throws {
        guard workspace || cloud.cloud else { throw ValidationError("choose what to keep: --workspace, or --cloud with --workspace, --rev or --all-commits") }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if cloud.cloud { return try cloud.run(ws, force: force) }
        let r = try ws.gc(force: force)
        if r.dryRun {
            print("would remove \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes))), keep \(r.kept); run `mlv gc --workspace -f` to remove them")
        } else {
            print("removed \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes))), kept \(r.kept)")
        }
    }
}
