import ArgumentParser
import MLVKit
import MLVSupport

struct Plots: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plots",
        abstract: "Draw the pipeline's plots into one self-contained HTML file.",
        subcommands: [Show.self, Diff.self])

    struct Options: ParsableArguments {
        @Option(name: .shortAndLong, help: "The HTML file to write; a folder (or a path ending in /) gets index.html in it, as DVC's -o.")
        var out = "plots.html"

        /// The file written: `out`, or `out/index.html` for a folder.
        var file: String {
            let abs = Path.absolute(out)
            return out.hasSuffix("/") || FS.isDirectory(abs) ? Path.join(abs, "index.html") : abs
        }

        @Option(name: .long, help: "Only these plots (ids or files).")
        var target: [String] = []
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Plot the workspace's data, or each given revision's.")

        @Argument(help: "Revisions (default: the workspace).")
        var revisions: [String] = []

        @OptionGroup var options: Options

        func run() throws {
            try Plots.write(revisions.isEmpty ? [nil] : revisions.map { $0 }, options)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "Plot revisions on top of each other (default: HEAD and the workspace).")

        @Argument(help: "Revisions: none (HEAD vs workspace), one (it vs workspace), or more.")
        var revisions: [String] = []

        @OptionGroup var options: Options

        func run() throws {
            try Plots.write(revisions.isEmpty ? ["HEAD", nil] : revisions.count == 1 ? [revisions[0], nil] : revisions.map { $0 }, options)
        }
    }

    static func write(_ revisions: [String?], _ options: Options) throws {
        let ws = try WorkspaceCommand.open()
        let plots = try PipelineView(ws).plotsData(revisions, targets: options.target)
        let path = options.file
        try FS.makeDirectories(Path.parent(path))
        try AtomicFile.write(PlotsHTML.render(plots), to: path)
        let shown = path == Path.absolute(options.out) ? options.out : Path.join(options.out, "index.html")
        print("\(plots.count) plot\(plots.count == 1 ? "" : "s") written to \(shown)")
        let skipped = plots.reduce(0) { $0 + $1.skippedPoints }
        if skipped > 0 {
            Terminal.writeError("mlv: warning: \(skipped) row\(skipped == 1 ? "" : "s") left out of the plots: not a finite number within ±1e15, or past \(PlotData.maxLabels) classes\n")
        }
    }
}
