import MLVSupport
import ArgumentParser
import MLVKit

/// `mlv gc --cloud -r REMOTE [--workspace | --rev REV… | --all-commits] [--grace S] [-f]`.
struct CloudGCOptions: ParsableArguments {
    @Flag(name: .customLong("cloud"), help: "Remove objects from a remote instead of the cache.")
    var cloud = false

    @Option(name: .shortAndLong, help: "The remote for --cloud (default: core.remote).")
    var remote: String?

    @OptionGroup var revisions: RevisionOptions

    @Option(help: "With --cloud, keep unreferenced objects younger than this many seconds (a push may be running).")
    var grace: Double = 3600

    func validate() throws {
        if grace < 0 { throw ValidationError("--grace must be 0 or more seconds") }
    }

    func run(_ ws: Workspace, force: Bool) throws {
        let r = try ws.cloudGC(OutputSelection(revisions: revisions.selection), remote: remote, force: force, grace: grace)
        let age = grace >= 3600 && grace.truncatingRemainder(dividingBy: 3600) == 0 ? "\(Int(grace / 3600)) h"
            : grace >= 60 && grace.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(grace / 60)) min" : Format.seconds(grace)
        let young = r.tooYoung > 0 ? ", \(r.tooYoung) younger than \(age) kept" : ""
        let entries = r.runEntries > 0 ? " and \(TransferOptions.runEntries(r.runEntries)) naming \(r.removed == 1 ? "it" : "them")" : ""
        let uploads = Format.plural(r.unfinishedUploads, "unfinished upload")
        if r.dryRun {
            let abort = r.unfinishedUploads > 0 ? ", abort \(uploads) older than \(age)" : ""
            print("remote '\(r.remote)': would remove \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes)))\(entries)\(abort), keep \(r.kept)\(young); run with -f to remove them")
        } else {
            let abort = r.unfinishedUploads > 0 ? ", aborted \(uploads) older than \(age)" : ""
            print("remote '\(r.remote)': removed \(Format.plural(r.removed, "object")) (\(ByteCount.text(r.removedBytes)))\(entries)\(abort), kept \(r.kept)\(young)")
        }
    }
}
