import ArgumentParser
import MLVKit
import MLVSupport

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "List the stages of pipeline.yaml, or add one.",
        subcommands: [List.self, Add.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the stages with their description or outputs.")

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let rows = try PipelineView(ws).stageSummaries()
            let width = rows.map(\.name.count).max() ?? 0
            for r in rows {
                let name = r.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print(r.summary.isEmpty ? r.name : "\(name)  \(r.summary)")
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a stage to pipeline.yaml (comments and order are kept).",
            discussion: "Example: mlv stage add -n train -d train.py -d data/features -p train.lr -o model.bin python train.py")

        @Option(name: .shortAndLong, help: "The stage's name.")
        var name: String

        @Option(name: .shortAndLong, help: "A dependency (file or folder).")
        var deps: [String] = []

        @Option(name: .shortAndLong, help: "A param key of params.yaml, or file.yaml:key1,key2.")
        var params: [String] = []

        @Option(name: .shortAndLong, help: "An output, stored in the cache.")
        var outs: [String] = []

        @Option(name: [.customShort("O"), .customLong("outs-no-cache")], help: "An output not stored in the cache.")
        var outsNoCache: [String] = []

        @Option(name: [.customShort("M"), .customLong("metrics-no-cache")], help: "A metrics file not stored in the cache.")
        var metricsNoCache: [String] = []

        @Option(name: .shortAndLong, help: "The folder the command runs in.")
        var wdir: String?

        @Option(help: "A description.")
        var desc: String?

        @Argument(parsing: .captureForPassthrough, help: "The command.")
        var command: [String]

        func run() throws {
            let ws = try WorkspaceCommand.open()
            // `--` ends mlv's own options; it is not part of the command.
            var s = NewStage(name: name, cmd: (command.first == "--" ? command.dropFirst() : command[...]).joined(separator: " "))
            s.deps = deps
            s.params = params
            s.outs = outs
            s.outsNoCache = outsNoCache
            s.metricsNoCache = metricsNoCache
            s.wdir = wdir
            s.desc = desc
            // As DVC's `stage add`: the pipeline file of the folder it runs in.
            let folder = StageTargets.folder(of: FS.currentDirectory(), in: ws)
            try ws.addStage(s, folder: folder)
            print("Added stage '\(name)' to \(folder == "." ? "" : folder + "/")pipeline.yaml")
        }
    }
}
