import ArgumentParser
import MLVKit

/// `--rev REV…` and `--all-commits` for push and fetch: pointers read from git objects.
struct RevisionOptions: ParsableArguments {
    @Option(name: .customLong("rev"), help: "Transfer the data the pointers at this git revision name (repeatable).")
    var revisions: [String] = []

    @Flag(help: "Transfer the data of every commit reachable from a branch, a tag or HEAD, and of the workspace.")
    var allCommits = false

    func validate() throws {
        if allCommits && !revisions.isEmpty { throw ValidationError("--rev and --all-commits cannot be combined") }
    }

    var selection: RevisionSelection {
        allCommits ? .allCommits : revisions.isEmpty ? .workspace : .revisions(revisions)
    }
}
