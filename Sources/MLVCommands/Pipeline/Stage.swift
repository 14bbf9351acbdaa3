import ArgumentParser
import MLVKit

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Inspect the stages of pipeline.yaml.",
        subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stages with their description or outputs.")

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let rows = try ws.stageSummaries()
            let width = rows.map(\.name.count).max() ?? 0
            for r in rows {
                let name = r.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print(r.summary.isEmpty ? r.name : "\(name)  \(r.summary)")
            }
        }
    }
}
