import ArgumentParser
import MLVKit

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download into the cache the objects of tracked paths that it lacks (every one hash-verified).")

    @OptionGroup var options: TransferOptions
    @OptionGroup var revisions: RevisionOptions

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.fetch(options.selection(revisions), remote: options.remote, jobs: options.jobs, progress: ProgressBar.renderer())
        ProgressBar.finish()
        print(TransferOptions.summary(r, verb: "fetched"))
        if let w = TransferOptions.refusedRunEntries(r) { Terminal.writeError(w + "\n") }
    }
}
