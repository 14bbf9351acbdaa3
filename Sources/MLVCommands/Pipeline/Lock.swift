import ArgumentParser
import MLVKit

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Work with pipeline.lock.",
        subcommands: [Merge.self, InstallMergeDriver.self])

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Git merge driver: merge two versions of pipeline.lock stage by stage.",
            discussion: "Git runs `mlv lock merge %O %A %B`. Stages changed on one side only merge cleanly (exit 0); a stage both sides changed differently is written with conflict markers (exit 1).")

        @Argument(help: "The common ancestor's version.") var base: String
        @Argument(help: "Our version; the result is written here.") var ours: String
        @Argument(help: "Their version.") var theirs: String

        func run() throws {
            let conflicts = try LockMerge.run(base: base, ours: ours, theirs: theirs)
            if !conflicts.isEmpty {
                Terminal.writeError("mlv: pipeline.lock: both sides changed \(conflicts.map { "'\($0)'" }.joined(separator: ", ")); resolve, or rerun `mlv repro` and add the lock\n")
                throw ExitCode(1)
            }
        }
    }

    struct InstallMergeDriver: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install-merge-driver",
            abstract: "Register `mlv lock merge` for pipeline.lock in .gitattributes and .git/config.")

        func run() throws {
            try LockMerge.register(in: WorkspaceCommand.open())
            print("pipeline.lock now merges with `mlv lock merge`")
        }
    }
}
