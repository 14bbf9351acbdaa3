import ArgumentParser
import MLVKit

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch, then check out: make tracked paths and pipeline outputs match their pointers and pipeline.lock with data from the remote.")

    @OptionGroup var options: TransferOptions

    @Flag(name: .shortAndLong, help: "Overwrite or remove changes that are not in the cache.")
    var force = false

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.pull(options.selection(nil), remote: options.remote, jobs: options.jobs, force: force, fetched: { r in
            ProgressBar.finish()
            print(TransferOptions.summary(r, verb: "fetched"))
            if let w = TransferOptions.refusedRunEntries(r) { Terminal.writeError(w + "\n") }
        }, progress: ProgressBar.renderer())
        ProgressBar.finish()
        Checkout.report(r, allPaths: options.targets.isEmpty)
    }
}
