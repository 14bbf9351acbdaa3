import ArgumentParser
import MLVKit
import MLVSupport

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make the current folder an mlv workspace.",
        discussion: "Creates .mlv/ (config, cache) and stages .mlv/config.yaml and .mlv/.gitignore in git; registers the pipeline.lock merge driver (.gitattributes, .git/config).")

    @Flag(name: .customLong("no-git"), help: "Use mlv outside a git repository.")
    var noGit = false

    @Flag(name: .shortAndLong, help: "Re-create the configuration of an existing workspace (the cache is kept).")
    var force = false

    func run() throws {
        let ws = try Workspace.initialize(at: FS.currentDirectory(), useGit: !noGit, force: force)
        try LockMerge.register(in: ws)  // pipeline.lock merges stage by stage (`mlv lock merge`)
        print("Initialized mlv workspace in \(ws.root)")
        if !noGit { print("Next: `mlv add DATA`, then `git commit` the pointer files.") }
    }
}
