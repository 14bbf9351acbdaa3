import ArgumentParser
import MLVKit

/// `--rev REV…`, `--all-commits`, `--all-branches` and `--all-tags` for push and fetch: pointers read from git objects.
struct RevisionOptions: ParsableArguments {
    @Option(name: .customLong("rev"), help: "Transfer the data the pointers at this git revision name (repeatable).")
    var revisions: [String] = []

    @Flag(help: "Transfer the data of every commit reachable from a branch, a tag or HEAD, and of the workspace.")
    var allCommits = false

    @Flag(help: "Transfer the data of every branch's tip, and of the workspace.")
    var allBranches = false

    @Flag(help: "Transfer the data of every tagged commit, and of the workspace.")
    var allTags = false

    func validate() throws {
        let chosen = [!revisions.isEmpty, allCommits, allBranches || allTags].filter { $0 }.count
        if chosen > 1 { throw ValidationError("choose one of --rev, --all-commits, or --all-branches/--all-tags") }
    }

    var selection: RevisionSelection {
        if allCommits { return .allCommits }
        if allBranches || allTags { return .refTips(branches: allBranches, tags: allTags) }
        return revisions.isEmpty ? .workspace : .revisions(revisions)
    }
}
