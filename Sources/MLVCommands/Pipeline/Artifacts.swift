import ArgumentParser
import MLVKit

struct Artifacts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifacts",
        abstract: "Show the artifacts declared in pipeline.yaml.",
        subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the artifacts: name, path, type and description.")

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let all = try PipelineView(ws).artifacts()
            if all.isEmpty { print("No artifacts in pipeline.yaml."); return }
            let width = all.map(\.name.count).max() ?? 0
            for a in all {
                var line = a.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + a.path
                if let t = a.type { line += "  (\(t))" }
                if let d = a.desc { line += "  \(d)" }
                if !a.labels.isEmpty { line += "  [\(a.labels.joined(separator: ", "))]" }
                print(line)
            }
        }
    }
}
