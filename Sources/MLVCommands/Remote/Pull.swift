import ArgumentParser
import MLVKit

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch, then check out: make tracked paths and pipeline outputs match their pointers and pipeline.lock with data from the remote.")

    @OptionGroup var options: TransferOptions

    @Flag(name: .shortAndLong, help: "Overwrite or remove changes that are not in the cache.")
    var force = false

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.fetch(options.targets, remote: options.remote, jobs: options.jobs, runCache: options.runCache,
                            checkoutAbsent: true, progress: ProgressBar.renderer())
        ProgressBar.finish()
        print(TransferOptions.summary(r, verb: "fetched"))
        if let w = TransferOptions.refusedRunEntries(r) { Terminal.writeError(w + "\n") }
        try Checkout.restore(ws, options.targets, force: force, writtenEarly: (r.checkedOutEarly, r.checkedOutEarlyBytes))
    }
}
