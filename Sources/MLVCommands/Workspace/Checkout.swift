import MLVSupport
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
        let r = try ws.checkout(paths, force: force, progress: ProgressBar.renderer())
        ProgressBar.finish()
        if paths.isEmpty || r.pointerOutputs > 0 {
            let early = min(writtenEarly.files, r.unchanged)
            let bytes = early > 0 ? [r.bytes, writtenEarly.bytes].saturatingSum() : r.bytes
            print("\(Format.plural(r.restored + early, "file")) restored (\(ByteCount.text(bytes))), \(r.removed) removed, \(r.unchanged - early) unchanged in \(Format.seconds(r.seconds))")
        }
        for path in r.restoredOutputs { print("restored pipeline output \(path)") }
    }
}
