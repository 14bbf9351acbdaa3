import MLVGit
import MLVSupport

/// Taking an experiment into the workspace or a branch, removing experiments, and sharing them
/// through a git remote (refs) and the mlv remote (their data).
extension Experiments {
    /// `mlv exp apply NAME`: the files the experiment changed (params, locks, metrics, …) written
    /// into the working tree, then its outputs checked out. Refused over uncommitted changes to
    /// tracked files unless `force`. Returns the files written.
    package func apply(_ name: String, force: Bool) throws -> [String] {
        let git = try repository()
        let e = try named(name)
        let changed = try git.changedTrackedFiles()
        if !changed.isEmpty && !force { throw ExperimentError.uncommittedChanges(changed) }
        // Its outputs must be here before anything is written.
        let missing = try OutputSelection(revisions: .revisions([e.commit]), cwd: ws.root).outputs(in: ws).filter { o in try o.cache && !ws.isCached(o.hash) }
        if !missing.isEmpty { throw ExperimentError.outputsNotCached(name: e.name, commit: e.commit, paths: missing.map(\.path)) }
        let folder = inRepo(git)
        let prefix = folder == "." ? "" : folder + "/"
        var written: [String] = []
        // An experiment may come from a teammate: only files inside the workspace, never into
        // .git or .mlv, never through a symbolic link.
        for repoPath in try git.changedFiles(from: e.baseline, to: e.commit) where repoPath.hasPrefix(prefix) {
            let rel = String(repoPath.dropFirst(prefix.count))
            guard let path = try? WorkspacePath(validating: rel) else { continue }
            guard let bytes = try git.readFile(repoPath, at: e.commit) else { continue }
            try ws.checkNoSymlinkEscape(path.string, shownAs: path.string)
            if let st = try FS.status(ws.absolute(path.string)), st.kind != .file { throw PipelineError.notARegularFile(path: path.string) }
            try FS.makeDirectories(Path.parent(ws.absolute(path.string)))
            try AtomicFile.write(bytes, to: ws.absolute(path.string))
            written.append(path.string)
        }
        ws.walked = nil
        _ = try ws.checkout(cwd: ws.root, force: true)
        return written
    }

    /// `mlv exp branch NAME BRANCH`: a new branch at the experiment's commit.
    package func branch(_ name: String, _ branch: String) throws -> String {
        let git = try repository()
        let e = try named(name)
        do {
            try git.setReference("refs/heads/" + branch, to: e.commit, force: false, log: "mlv exp branch \(name)")
        } catch let error as GitError where error.message.hasSuffix("already exists") {
            throw MessageError("branch '\(branch)' already exists", hint: "choose another name")
        }
        return e.commit
    }

    /// `mlv exp remove`: the named experiments (refs and logs), every one with `all`, and/or
    /// the queue with `queue`. Returns the names removed.
    package func remove(_ names: [String], all: Bool, queue: Bool) throws -> [String] {
        let git = try repository()
        var targets = all ? try list() : try names.map { try named($0) }
        var removed: [String] = []
        if queue || names.contains(where: { n in (try? queued())?.contains { $0.name == n } ?? false }) {
            for q in try queued() where queue || names.contains(q.name) {
                dequeue(q)
                removed.append(q.name)
                targets.removeAll { $0.name == q.name }
            }
        }
        for e in targets {
            try git.deleteReference(e.ref)
            try? FS.remove(logPath(e.name))
            removed.append(e.name)
        }
        return removed
    }

    /// `mlv exp push GIT_REMOTE [NAME…]`: the experiments' refs to a git remote (a name, URL or
    /// path) through libgit2, and their outputs to the mlv remote (`remote`; nil: the default;
    /// `noData`: refs only).
    package func push(to gitRemote: String, names: [String], remote: String?, noData: Bool, jobs: Int?) throws -> (refs: Int, data: TransferResult?) {
        let git = try repository()
        let chosen = names.isEmpty ? try list() : try names.map { try named($0) }
        guard !chosen.isEmpty else { return (0, nil) }
        try git.push(to: gitRemote, refspecs: chosen.map { "+\($0.ref):\($0.ref)" })
        if noData { return (chosen.count, nil) }
        let result = try ws.push(OutputSelection(revisions: .revisions(chosen.map(\.commit)), cwd: ws.root), remote: remote, jobs: jobs)
        return (chosen.count, result)
    }

    /// `mlv exp pull GIT_REMOTE [NAME…]`: experiment refs from a git remote, then their outputs
    /// from the mlv remote. Whoever pushed them is untrusted: their records are read like any
    /// committed lock (declared paths only, checked), and nothing is written into the workspace.
    package func pull(from gitRemote: String, names: [String], remote: String?, noData: Bool, jobs: Int?) throws -> (refs: [String], data: TransferResult?) {
        let git = try repository()
        let before = Set(try list().map(\.commit))
        try git.fetch(from: gitRemote, refspecs: ["+refs/exps/*:refs/exps/*"])
        var fetched = try list().filter { !before.contains($0.commit) }
        if !names.isEmpty {
            let wanted = Set(names)
            for e in fetched where !wanted.contains(e.name) { try git.deleteReference(e.ref) }
            fetched = fetched.filter { wanted.contains($0.name) }
        }
        if noData || fetched.isEmpty { return (fetched.map(\.name), nil) }
        let result = try ws.fetch(OutputSelection(revisions: .revisions(fetched.map(\.commit)), cwd: ws.root), remote: remote, jobs: jobs)
        return (fetched.map(\.name), result)
    }
}
