import ArgumentParser
import MLVKit

/// `--rev REV…`, `--all-commits`, `--all-branches`, `--all-tags` and `--all-experiments` for push, fetch and gc: pointers read from git objects.
struct RevisionOptions: ParsableArguments {
    @Option(name: .customLong("rev"), help: "Transfer the data the pointers at this git revision name (repeatable).")
    var revisions: [String] = []

    @Flag(help: "Transfer the data of every commit reachable from a branch, a tag or HEAD, and of the workspace.")
    var allCommits = false

    @Flag(help: "Transfer the data of every branch's tip, and of the workspace.")
    var allBranches = false

    @Flag(help: "Transfer the data of every tagged commit, and of the workspace.")
    var allTags = false

    @Flag(help: "Transfer the data of every experiment (`mlv exp`), and of the workspace.")
    var allExperiments = false

    func validate() throws {
        let chosen = [!revisions.isEmpty, allCommits, allBranches || allTags || allExperiments].filter { $0 }.count
        if chosen > 1 { throw ValidationError("choose one of --rev, --all-commits, or --all-branches/--all-tags/--all-experiments") }
    }

    var selection: RevisionSelection {
        if allCommits { return .allCommits }
        if allBranches || allTags || allExperiments { return .refTips(branches: allBranches, tags: allTags, experiments: allExperiments) }
        return revisions.isEmpty ? .workspace : .revisions(revisions)
    }
}
