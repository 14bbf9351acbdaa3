import MLVGit
import MLVSupport

/// Which pointers a transfer is about: the workspace's (pointer files and the lock's cached
/// outs), or those committed at some revisions (pointer files and pipeline.lock, read from git
/// objects through libgit2, never from a checkout).
package enum RevisionSelection: Sendable, Equatable {
    case workspace
    /// The pointers at these revisions (anything `git rev-parse` accepts).
    case revisions([String])
    /// Every commit reachable from a branch, a tag or HEAD, plus the workspace.
    case allCommits
    /// The tip of every branch and/or every tagged commit, plus the workspace (DVC's
    /// `--all-branches` / `--all-tags`).
    case refTips(branches: Bool, tags: Bool)
}

extension Workspace {
    /// The tracked paths `selection` names, restricted to `targets` (workspace-relative
    /// prefixes given by the user; none: all). Pointers from git are validated as the ones on
    /// disk are: their paths must stay inside the workspace, away from `.git` and `.mlv`.
    func trackedPaths(_ targets: [String], selection: RevisionSelection, cwd: String) throws -> [Output] {
        switch selection {
        case .workspace:
            return try transferTargets(targets, cwd: cwd)
        case .revisions(let revs):
            return try committedPointers(revs, targets: targets, cwd: cwd)
        case .allCommits:
            guard let git = try git() else { throw WorkspaceError.commitNeedsGit }
            let fromGit = try committedPointers(try git.allCommits(), targets: targets, cwd: cwd)
            return fromGit + (try transferTargets(targets, cwd: cwd))
        case .refTips(let branches, let tags):
            guard let git = try git() else { throw WorkspaceError.commitNeedsGit }
            var tips: [String] = []
            if branches { tips += try git.tipCommits(matching: "refs/heads/*") }
            if tags { tips += try git.tipCommits(matching: "refs/tags/*").filter { !tips.contains($0) } }
            return try committedPointers(tips, targets: targets, cwd: cwd) + (try transferTargets(targets, cwd: cwd))
        }
    }

    func committedPointers(_ revisions: [String], targets: [String], cwd: String) throws -> [Output] {
        guard let git = try git() else { throw WorkspaceError.commitNeedsGit }
        // The workspace may be a folder inside the repository.
        guard let inRepo = Path.relative(root, to: git.workdir) else { return [] }
        let prefix = inRepo == "." ? "" : inRepo + "/"
        let wanted = try targets.map { try relativeTarget($0, cwd: cwd) }.map { $0.hasSuffix(PointerFile.suffix) ? String($0.dropLast(PointerFile.suffix.count)) : $0 }
        var seen = Set<String>()   // "pointer path \0 hash": the same pointer in many commits counts once
        var out: [Output] = []
        for rev in revisions {
            let commit = try git.resolve(rev)
            for repoPath in try git.listFiles(at: commit, suffix: PointerFile.suffix) where repoPath.hasPrefix(prefix) {
                let pointerPath = String(repoPath.dropFirst(prefix.count))
                guard Path.base(pointerPath).count > PointerFile.suffix.count, !pointerPath.hasPrefix(".mlv/"),
                      let bytes = try git.readFile(repoPath, at: commit) else { continue }
                let shown = "\(rev == commit ? String(commit.prefix(8)) : rev):\(pointerPath)"
                let pointer = try PointerFile.parse(String(decoding: bytes, as: UTF8.self), file: shown)
                let target = Path.join(Path.parent(pointerPath), pointer.path)
                guard Path.normalize(target) == target, WorkspacePath.isSafeRelative(target),
                      !target.split(separator: "/").contains(where: { $0 == ".git" || $0 == ".mlv" })
                else { throw WorkspaceError.pointerPathEscapes(pointer: shown, path: pointer.path) }
                if !wanted.isEmpty && !wanted.contains(where: { target == $0 || target.hasPrefix($0 + "/") }) { continue }
                if seen.insert(pointerPath + "\u{0}" + pointer.hash.description).inserted {
                    out.append(Output(path: target, hash: pointer.hash, size: pointer.size, fileCount: pointer.fileCount, record: .pointer(file: pointerPath)))
                }
            }
            // The cached outs that revision's pipeline.lock records (parsing validates their paths);
            // outs the current pipeline marks `cache: false` or `push: false` stay local.
            guard let lockBytes = try git.readFile(prefix + Lockfile.fileName, at: commit) else { continue }
            let shown = "\(rev == commit ? String(commit.prefix(8)) : rev):\(Lockfile.fileName)"
            let lock = try Lockfile.parse(String(decoding: lockBytes, as: UTF8.self), file: shown)
            let local = Set((try PipelineFile.load(root: root)?.stages ?? []).flatMap { $0.outs.filter { !$0.cache || !$0.push }.map(\.path) })
            for stage in lock.stages {
                for o in stage.outs where !local.contains(o.path) {
                    if !wanted.isEmpty && !wanted.contains(where: { o.path == $0 || o.path.hasPrefix($0 + "/") }) { continue }
                    if seen.insert(Lockfile.fileName + "\u{0}" + o.path + "\u{0}" + o.hash.description).inserted {
                        out.append(Output(o, stage: stage.name, cache: true))
                    }
                }
            }
        }
        return out
    }
}
