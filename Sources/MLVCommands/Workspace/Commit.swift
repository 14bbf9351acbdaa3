import ArgumentParser
import MLVKit

struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Record the current content of tracked paths in the cache and their pointers.")

    @Argument(help: "Tracked paths or pipeline stages (default: all).", completion: .file())
    var paths: [String] = []

    @Option(name: .shortAndLong, help: "Also make a git commit of the changed pointers with this message.")
    var message: String?

    func run() throws {
        let ws = try WorkspaceCommand.open()
        // Names of pipeline stages record those stages in pipeline.lock; other arguments are paths.
        // A stage of a pipeline file below the root is also named by its bare name or FILE:NAME.
        let addresses = try PipelineView(ws).stageNames()
        let stages = Set(addresses + addresses.map { $0.split(separator: ":").last.map(String.init) ?? $0 })
        let resolved = try StageTargets.resolve(paths, in: ws)
        func isStage(_ arg: String) -> Bool { stages.contains(arg) || stages.contains { $0.hasPrefix(arg + "@") } }
        let named = resolved.filter(isStage)
        let others = zip(paths, resolved).filter { !isStage($0.1) }.map(\.0)
        if !others.isEmpty || paths.isEmpty {
            let r = try ws.commit(others, options: TrackOptions(message: named.isEmpty && stages.isEmpty ? message : nil, progress: ProgressBar.renderer()))
            ProgressBar.finish()
            TrackSummary.print(r, verb: "committed")
        }
        if !named.isEmpty || (paths.isEmpty && !stages.isEmpty) {
            for s in try ws.commitStages(named, message: message) { print("recorded stage \(s) in pipeline.lock") }
        }
    }
}
