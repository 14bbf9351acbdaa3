import ArgumentParser
import MLVKit

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install git hooks: checkout after a branch switch, a warning before a commit, push before a git push.",
        discussion: "A hook already there is kept: it is renamed NAME.pre-mlv and runs first. --uninstall removes only mlv's hooks and puts those back. The hooks run `mlv` from PATH.")

    @Flag(help: "Remove mlv's hooks (and restore the ones they chained).")
    var uninstall = false

    func run() throws {
        let hooks = GitHooks(try WorkspaceCommand.open())
        if uninstall {
            let done = try hooks.uninstall()
            if done.isEmpty { print("no mlv hooks installed") }
            for c in done { print("removed \(c.hook) hook" + (c.chained ? " (the earlier one is back)" : "")) }
            return
        }
        for c in try hooks.install() { print("installed \(c.hook) hook" + (c.chained ? " (runs the earlier one first)" : "")) }
    }
}
