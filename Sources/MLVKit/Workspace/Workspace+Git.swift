import MLVGit
import MLVSupport

extension WorkspacePath {
    /// The `.gitignore` line that ignores `name` in its folder, with git's pattern characters
    /// escaped. Only from a validated path: a name with a CR, LF or NUL byte would become two
    /// lines (ignoring some other name everywhere).
    var gitignoreLine: String {
        var out = "/"
        for (i, c) in name.enumerated() {
            if "*?[]\\".contains(c) || (i == 0 && (c == "#" || c == "!")) { out.append("\\") }
            out.append(c)
        }
        if out.hasSuffix(" ") { out.removeLast(); out += "\\ " }
        return out
    }
}

extension Workspace {
    /// The files `-m` commits besides those the command changed, when they are staged.
    static let ownFiles = [".mlv/config.yaml", ".mlv/.gitignore", ".gitattributes", "pipeline.yaml", "params.yaml"]

    /// Before any change: a commit was asked for, so there must be a repository and an identity.
    func checkCanCommit(_ message: String?) throws {
        guard message != nil else { return }
        guard let git = try git() else { throw WorkspaceError.commitNeedsGit }
        _ = try git.identity()
    }

    /// Stages workspace-relative paths in git (when the workspace is in a repository) and, with a
    /// message, commits them. Returns the new commit's id.
    func stageAndCommit(_ paths: [String], message: String?) throws -> String? {
        guard let git = try git() else {
            if message != nil { throw WorkspaceError.commitNeedsGit }
            return nil
        }
        let repoPaths = paths.compactMap { Path.relative(absolute($0), to: git.workdir) }
        if !repoPaths.isEmpty { try git.stage(repoPaths) }
        guard let message else { return nil }
        // Only mlv's own files: anything else the user staged stays staged, out of this commit.
        // mlv's own files when staged: its configuration and merge-driver attributes (staged
        // by `mlv init`), and the pipeline and its default params file.
        let own = Workspace.ownFiles.compactMap { Path.relative(absolute($0), to: git.workdir) }
        return try git.commit(message: message, only: repoPaths + own.filter { !repoPaths.contains($0) })
    }
}
