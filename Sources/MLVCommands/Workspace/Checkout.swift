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
    /// `writtenEarly`: files `pull` already wrote while downloading (the checkout finds them
    /// unchanged; they are reported as restored).
    static func restore(_ ws: Workspace, _ paths: [String], force: Bool, writtenEarly: (files: Int, bytes: Int64) = (0, 0)) throws {
        // Paths that are pipeline outs come from pipeline.lock; the rest from their pointers.
        let (outs, others) = try ws.pipelineOutputPaths(paths)
        if paths.isEmpty || !others.isEmpty {
            let r = try ws.checkout(others, force: force, progress: ProgressBar.renderer())
            ProgressBar.finish()
            let early = min(writtenEarly.files, r.unchanged)
            let bytes = early > 0 ? [r.bytes, writtenEarly.bytes].saturatingSum() : r.bytes
            print("\(Format.plural(r.restored + early, "file")) restored (\(Format.bytes(bytes))), \(r.removed) removed, \(r.unchanged - early) unchanged in \(Format.seconds(r.seconds))")
        }
        if paths.isEmpty || !outs.isEmpty {
            for path in try ws.checkoutPipeline(force: force, only: paths.isEmpty ? nil : outs).restored { print("restored pipeline output \(path)") }
        }
    }
}
