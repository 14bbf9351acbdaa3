import ArgumentParser
import MLVKit

struct Checkout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the workspace match the pointer files and pipeline.lock.",
        discussion: "Refuses to overwrite changes that are not in the cache unless --force is given.")

    @Argument(help: "Tracked paths or pipeline outputs (default: all).", completion: .file())
    var paths: [String] = []

    @Flag(name: .shortAndLong, help: "Overwrite or remove changes that are not in the cache.")
    var force = false

    func run() throws {
        try Checkout.restore(try WorkspaceCommand.open(), paths, force: force)
    }

    /// Restores pointer data and pipeline outs (`mlv checkout`, and `mlv pull` after fetching).
    static func restore(_ ws: Workspace, _ paths: [String], force: Bool) throws {
        // Paths that are pipeline outs come from pipeline.lock; the rest from their pointers.
        let (outs, others) = try ws.pipelineOutputPaths(paths)
        if paths.isEmpty || !others.isEmpty {
            let r = try ws.checkout(others, force: force, progress: ProgressBar.renderer())
            ProgressBar.finish()
            print("\(Format.plural(r.restored, "file")) restored (\(Format.bytes(r.bytes))), \(r.removed) removed, \(r.unchanged) unchanged in \(Format.seconds(r.seconds))")
        }
        if paths.isEmpty || !outs.isEmpty {
            for path in try ws.checkoutPipeline(force: force, only: paths.isEmpty ? nil : outs).restored { print("restored pipeline output \(path)") }
        }
    }
}
