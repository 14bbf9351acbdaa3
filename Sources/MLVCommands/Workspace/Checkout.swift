import MLVSupport
import ArgumentParser
import MLVKit

struct Checkout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout",
        abstract: "Make the workspace match the pointer files and pipeline.lock.",
        discussion: "Refuses to overwrite changes that are not in the cache unless --force is given.")

    @Argument(help: "Tracked paths or pipeline outputs (default: all).", completion: .file())
    var paths: [String] = []

    @Flag(name: .shortAndLong, help: "Overwrite or remove changes that are not in the cache.")
    var force = false

    func run() throws {
        try Checkout.restore(try WorkspaceCommand.open(), paths, force: force)
    }

    /// Restores pointer data and pipeline outs.
    static func restore(_ ws: Workspace, _ paths: [String], force: Bool) throws {
        let r = try ws.checkout(paths, force: force, progress: ProgressBar.renderer())
        ProgressBar.finish()
        report(r, allPaths: paths.isEmpty)
    }

    /// What `checkout` (and `pull` after fetching) wrote.
    static func report(_ r: CheckoutResult, allPaths: Bool) {
        if allPaths || r.pointerOutputs > 0 {
            print("\(Format.plural(r.restored, "file")) restored (\(ByteCount.text(r.bytes))), \(r.removed) removed, \(r.unchanged) unchanged in \(Format.seconds(r.seconds))")
        }
        for path in r.restoredOutputs { print("restored pipeline output \(path)") }
    }
}
