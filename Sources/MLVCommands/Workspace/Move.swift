import ArgumentParser
import MLVKit

struct Move: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move",
        abstract: "Move tracked data: the file or folder, its pointer and its .gitignore line.",
        discussion: "DST an existing folder: SRC moves inside it. The changes are staged in git. A pipeline output is renamed in pipeline.yaml instead.",
        aliases: ["mv"])

    @Argument(help: "The tracked path (or its .mlv pointer).", completion: .file())
    var source: String

    @Argument(help: "Where it goes.", completion: .file())
    var destination: String

    @Option(name: .shortAndLong, help: "Also commit the change with this message.")
    var message: String?

    func run() throws {
        let r = try DataEdits(try WorkspaceCommand.open()).move(source, to: destination, message: message)
        print("moved \(r.from) -> \(r.to)")
        if let c = r.commit { print("committed \(c.prefix(12))") }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop tracking: remove pointers (and .gitignore lines), or stages from pipeline.yaml and pipeline.lock.",
        discussion: "The data stays in the workspace (and its objects in the cache until gc) unless --outs is given.")

    @Argument(help: "Tracked paths, their .mlv pointers, or stage names.", completion: .file())
    var targets: [String]

    @Flag(help: "Also delete the data from the workspace.")
    var outs = false

    @Option(name: .shortAndLong, help: "Also commit the change with this message.")
    var message: String?

    func run() throws {
        let r = try DataEdits(try WorkspaceCommand.open()).remove(targets, outs: outs, message: message)
        for p in r.pointers { print("removed pointer \(p).mlv") }
        for s in r.stages { print("removed stage \(s)") }
        for d in r.data { print("deleted \(d)") }
        if let c = r.commit { print("committed \(c.prefix(12))") }
    }
}
