import MLVGit
import MLVSupport

/// Reads a workspace file now (revision nil) or as committed at a revision, through libgit2;
/// a cached out that git does not hold is read from the cache by the hash in that revision's
/// `pipeline.lock`. Never runs git, never touches the workspace.
struct RevisionReader {
    let ws: Workspace
    let git: GitRepository?
    static let limit = 64 << 20
    private var locks: [String: Lockfile] = [:]
    /// Revisions resolved so far (an experiment's name is looked up once, not per file read).
    private var commits: [String: String] = [:]

    init(_ ws: Workspace) throws {
        self.ws = ws
        git = try ws.git()
    }

    func repoPath(_ rel: String) -> String? {
        guard let git else { return nil }
        return Path.relative(ws.absolute(rel), to: git.workdir)
    }

    mutating func checkRevision(_ revision: String) throws {
        _ = try commit(revision)
    }

    /// The commit a revision names: anything git resolves, else an experiment's name (so
    /// `plots diff`, `params diff` and `metrics diff` take experiments as revisions).
    mutating func commit(_ revision: String) throws -> String {
        if let c = commits[revision] { return c }
        guard let git else { throw WorkspaceError.revisionsNeedGit }
        let resolved: String
        do {
            resolved = try git.resolve(revision)
        } catch {
            guard let e = try? Experiments(ws).named(revision) else { throw error }
            resolved = e.commit
        }
        commits[revision] = resolved
        return resolved
    }

    mutating func read(_ rel: String, at revision: String?) throws -> [UInt8]? {
        guard let revision else {
            guard let st = try FS.statusFollowingLinks(ws.absolute(rel)) else { return nil }
            guard st.kind == .file else { throw PipelineError.notARegularFile(path: rel) }
            try PipelineError.checkInside(ws.absolute(rel), root: ws.root, shown: rel)
            return try PipelineError.readFile(ws.absolute(rel), shown: rel, limit: RevisionReader.limit)
        }
        guard let git, let path = repoPath(rel) else { return nil }
        let resolved = try commit(revision)
        if let bytes = try git.readFile(path, at: resolved) { return bytes }
        // A cached out (or a file of a cached folder): its hash in that revision's lock, its
        // bytes in the cache.
        for out in try lock(at: revision).stages.flatMap(\.outs) {
            if out.path == rel, !out.hash.isDirectory, out.size <= RevisionReader.limit { return try ws.cache.read(out.hash) }
            if rel.hasPrefix(out.path + "/"), out.hash.isDirectory, let m = try ws.cache.manifest(out.hash) {
                let inner = String(rel.dropFirst(out.path.count + 1))
                if let e = m.entries.first(where: { $0.path == inner }), e.size <= RevisionReader.limit { return try ws.cache.read(ContentHash(e.digest)) }
            }
        }
        return nil
    }

    mutating func lock(at revision: String) throws -> Lockfile {
        if let l = locks[revision] { return l }
        guard let git, let folder = repoPath(".") else { return Lockfile() }
        let l = try CommittedRecords.locks(git, commit: try commit(revision), folder: folder, shownAs: revision)
        locks[revision] = l
        return l
    }

    /// The files below a folder (workspace-relative, sorted), or nil when `rel` is no folder:
    /// from the workspace, from the revision's tree, or from the manifest its lock recorded.
    mutating func folderFiles(_ rel: String, at revision: String?) throws -> [String]? {
        guard let revision else {
            guard FS.isDirectory(ws.absolute(rel)) else { return nil }
            return try DirectoryWalker.walk(ws.absolute(rel)).filter { $0.status.kind == .file }.map { rel + "/" + $0.path }.sorted()
        }
        guard let git, let path = repoPath(rel), let base = repoPath(".") else { return nil }
        let resolved = try commit(revision)
        let prefix = path + "/"
        let inGit = try git.listFiles(at: resolved, suffix: "").filter { $0.hasPrefix(prefix) }
        if !inGit.isEmpty {
            return inGit.map { base == "." ? $0 : String($0.dropFirst(base.count + 1)) }
        }
        for out in try lock(at: revision).stages.flatMap(\.outs) where out.path == rel && out.hash.isDirectory {
            guard let m = try ws.cache.manifest(out.hash) else { return nil }
            return m.entries.map { rel + "/" + $0.path }
        }
        return nil
    }
}
