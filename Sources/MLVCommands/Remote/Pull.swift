import ArgumentParser
import MLVKit

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch, then check out: make tracked paths match their pointers with data from the remote.")

    @OptionGroup var options: TransferOptions

    @Flag(name: .shortAndLong, help: "Overwrite or remove changes that are not in the cache.")
    var force = false

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.fetch(options.targets, remote: options.remote, jobs: options.jobs, progress: ProgressBar.renderer())
        ProgressBar.finish()
        print(TransferOptions.summary(r, verb: "fetched"))
        let c = try ws.checkout(options.targets, force: force, progress: ProgressBar.renderer())
        ProgressBar.finish()
        print("\(Format.plural(c.restored, "file")) restored (\(Format.bytes(c.bytes))), \(c.removed) removed, \(c.unchanged) unchanged")
    }
}
