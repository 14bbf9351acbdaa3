import MLVGit
import MLVSupport

extension Workspace {
    package static let configHeader = "# mlv workspace configuration (committed). Machine-specific settings and secrets go in config.local.yaml.\n"
    static let mlvGitignore = "/config.local.yaml\n/cache/\n/tmp/\n/lock\n"

    /// `mlv init`: creates `.mlv/` in `directory` and stages its committed files in git.
    package static func initialize(at directory: String, useGit: Bool, force: Bool) throws -> Workspace {
        let dir = FS.realPath(directory) ?? Path.absolute(directory)
        var repo: GitRepository?
        if useGit {
            guard let r = try GitRepository.discover(from: dir) else { throw WorkspaceError.notAGitRepository(cwd: dir) }
            repo = r
        }
        let mlv = Path.join(dir, ".mlv")
        if FS.exists(mlv) && !force { throw WorkspaceError.alreadyInitialized(root: dir) }
        try FS.makeDirectories(Path.join(mlv, "cache/sha256"))
        try FS.makeDirectories(Path.join(mlv, "tmp"))
        let config = Path.join(mlv, "config.yaml")
        if !FS.exists(config) { try AtomicFile.write(configHeader, to: config) }
        try AtomicFile.write(mlvGitignore, to: Path.join(mlv, ".gitignore"))
        if let repo {
            let paths = [".mlv/config.yaml", ".mlv/.gitignore"].compactMap { Path.relative(Path.join(dir, $0), to: repo.workdir) }
            try repo.stage(paths)
        }
        return try Workspace(root: dir)
    }
}
