import ArgumentParser
import MLVKit

struct Params: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params",
        abstract: "Compare the params the pipeline uses across git revisions.",
        subcommands: [Diff.self])

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Show params that differ between two revisions (default: HEAD and the workspace).")

        @Argument(help: "Revisions: none (HEAD vs workspace), one (it vs workspace), or two.")
        var revisions: [String] = []

        @Flag(help: "Also show params that did not change.")
        var all = false

        @OptionGroup var format: TableFormatOptions

        func validate() throws {
            guard revisions.count <= 2 else { throw ValidationError("give at most two revisions") }
        }

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let revs: [String?] = revisions.isEmpty ? ["HEAD", nil] : revisions.count == 1 ? [revisions[0], nil] : revisions.map { $0 }
            let table = try PipelineView(ws).paramsTable(revs, all: all)
            try ValueTableOutput.print(table, keyTitle: "Param", format: format, empty: "No params changed.")
        }
    }
}
