import ArgumentParser
import MLVKit

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Show the pipeline's metrics, now or at git revisions.",
        subcommands: [Show.self, Diff.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the metrics of the workspace, or of each given revision.")

        @Argument(help: "Revisions (default: the workspace).")
        var revisions: [String] = []

        @OptionGroup var format: TableFormatOptions
        @OptionGroup var digits: PrecisionOption

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let table = try PipelineView(ws).metricsTable(revisions.isEmpty ? [nil] : revisions.map { $0 })
            try ValueTableOutput.print(table, keyTitle: "Metric", format: format, precision: digits.precision, empty: "No metrics found.")
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Show metrics that differ between revisions (default: HEAD and the workspace).")

        @Argument(help: "Revisions: none (HEAD vs workspace), one (it vs workspace), or more (compared in order).")
        var revisions: [String] = []

        @OptionGroup var format: TableFormatOptions
        @OptionGroup var digits: PrecisionOption

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let revs: [String?] = revisions.isEmpty ? ["HEAD", nil] : revisions.count == 1 ? [revisions[0], nil] : revisions.map { $0 }
            let table = try PipelineView(ws).metricsTable(revs, onlyChanged: true)
            try ValueTableOutput.print(table, keyTitle: "Metric", format: format, change: revs.count == 2, precision: digits.precision,
                                       empty: "No metrics changed.")
        }
    }
}
