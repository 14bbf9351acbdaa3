internal import CGit2
import MLVSupport

/// gitignore rules matched by libgit2, away from any repository's own ignore files: a scratch
/// repository whose working tree is an empty folder, with no excludes file, holds the rules in
/// memory (`git_ignore_add_rule`). Paths are asked about by name (relative to the root the rules
/// are written for); nothing is read from the tree being matched.
package final class IgnoreMatcher {
    private let repo: GitRepository
    private let scratch: String
    /// What the owner last added, as it chooses to remember it (to tell when to add again).
    package var rules = ""

    /// `scratch`: an empty folder this object owns (and removes).
    package init(scratch: String) throws {
        self.scratch = scratch
        repo = try GitRepository.initialize(at: Path.join(scratch, "tree"))
        // Whatever ~/.gitconfig names as an excludes file stays out.
        try repo.setLocalConfig("core.excludesFile", Path.join(scratch, "no-excludes"))
    }

    deinit { try? FS.removeTree(scratch) }

    /// Adds rules (gitignore lines, already written relative to the root): later ones win.
    package func add(_ rules: String) throws {
        try check("git_ignore_add_rule", git_ignore_add_rule(repo.pointer, rules))
    }

    /// Drops every rule added.
    package func clear() throws {
        try check("git_ignore_clear_internal_rules", git_ignore_clear_internal_rules(repo.pointer))
    }

    /// True when the rules ignore `path` (or a folder above it); `isDirectory` for a folder.
    package func isIgnored(_ path: String, isDirectory: Bool) throws -> Bool {
        var ignored: Int32 = 0
        try check("git_ignore_path_is_ignored", git_ignore_path_is_ignored(&ignored, repo.pointer, isDirectory ? path + "/" : path))
        return ignored != 0
    }
}
