import ArgumentParser
import MLVKit

struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record the current content of tracked paths in the cache and their pointers.")

    @Argument(help: "Tracked paths (default: all).", completion: .file())
    var paths: [String] = []

    @Option(name: .shortAndLong, help: "Also make a git commit of the changed pointers with this message.")
    var message: String?

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.commit(paths, options: TrackOptions(message: message, progress: ProgressBar.renderer()))
        ProgressBar.finish()
        TrackSummary.print(r, verb: "committed")
    }
}
