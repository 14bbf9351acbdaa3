import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

public struct TrackOptions {
    /// Also make a git commit with this message.
    public var message: String?
    /// Progress callback (only set on a terminal).
    public var progress: ((ProgressCounter.Snapshot) -> Void)?
    public init(message: String? = nil, progress: ((ProgressCounter.Snapshot) -> Void)? = nil) {
        self.message = message
        self.progress = progress
    }
}

public struct TrackResult: Sendable {
    /// Paths whose pointer was written (new or changed content).
    public var changed: [String] = []
    /// Paths whose content was already recorded.
    public var unchanged: [String] = []
    public var files = 0
    public var bytes: Int64 = 0
    public var seconds = 0.0
    public var commit: String?
}

/// What a tracked path holds right now, found before anything is written.
struct TrackPlan {
    var target: String
    var isDirectory: Bool
    var files: [WorkspaceFile]
}

extension Workspace {
    /// `mlv add PATH...`: records files and directories in the cache, writes their pointers,
    /// git-ignores them and stages pointer and `.gitignore`. Every target is checked before
    /// anything is written.
    public func add(_ arguments: [String], cwd: String = FS.currentDirectory(), options: TrackOptions = .init()) throws -> TrackResult {
        let targets = try expandGlobs(arguments, cwd: cwd)
        guard !targets.isEmpty else { throw WorkspaceError.noTargets(command: "add") }
        var rels: [(String, String)] = []
        for arg in targets {
            let rel = try relativeTarget(arg, cwd: cwd)
            try checkPointerIsFound(rel, shownAs: arg)
            if !rels.contains(where: { $0.0 == rel }) { rels.append((rel, arg)) }
        }
        for (a, argA) in rels {
            if let (_, argB) = rels.first(where: { a.hasPrefix($0.0 + "/") }) {
                throw WorkspaceError.containsTrackedData(path: argB, pointer: argA)
            }
        }
        try checkCanCommit(options.message)
        return try withLock {
            let plans = try rels.map { try plan($0.0, shownAs: $0.1) }
            return try track(plans, options: options)
        }
    }

    /// `mlv commit [PATH...]`: records the current content of tracked paths.
    public func commit(_ arguments: [String], cwd: String = FS.currentDirectory(), options: TrackOptions = .init()) throws -> TrackResult {
        try checkCanCommit(options.message)
        return try withLock {
            let tracked = try pointers(for: arguments, cwd: cwd)
            let plans = try tracked.map { try plan($0.target, shownAs: $0.target) }
            return try track(plans, options: options)
        }
    }

    func expandGlobs(_ arguments: [String], cwd: String) throws -> [String] {
        var out: [String] = []
        for arg in arguments {
            if arg.contains(where: { "*?[".contains($0) }) && !FS.exists(Path.absolute(arg, relativeTo: cwd)) {
                let matches = Glob.expand(Path.absolute(arg, relativeTo: cwd))
                guard !matches.isEmpty else { throw WorkspaceError.missingPath(path: arg) }
                out += matches
            } else {
                out.append(arg)
            }
        }
        return out
    }

    /// Looks at a target without changing anything, refusing what cannot be tracked.
    func plan(_ rel: String, shownAs: String) throws -> TrackPlan {
        let abs = absolute(rel)
        guard let st = try FS.status(abs) else { throw WorkspaceError.missingPath(path: shownAs) }
        if rel.hasSuffix(PointerFile.suffix), FS.exists(String(abs.dropLast(PointerFile.suffix.count))) || (try? loadPointer(rel)) != nil {
            throw WorkspaceError.isPointerFile(path: shownAs)
        }
        if let parent = trackingParent(of: rel) { throw WorkspaceError.trackedByParent(path: shownAs, pointer: parent) }
        switch st.kind {
        case .directory:
            let files = try walkDirectory(rel)
            for f in files where f.path.hasSuffix(PointerFile.suffix) {
                let inner = String(f.path.dropLast(PointerFile.suffix.count))
                if FS.exists(Path.join(abs, inner)) {
                    throw WorkspaceError.containsTrackedData(path: shownAs, pointer: rel + "/" + f.path)
                }
            }
            try checkNotInGit(abs, shownAs: shownAs)
            return TrackPlan(target: rel, isDirectory: true, files: files)
        case .file, .symlink:
            let file = try describe(abs, shownAs: shownAs, relativePath: Path.base(rel), status: st)
            try checkNotInGit(abs, shownAs: shownAs)
            return TrackPlan(target: rel, isDirectory: false, files: [file])
        case .other:
            throw WorkspaceError.unsupportedFileType(path: shownAs)
        }
    }

    /// The pointer of `rel` must be where `allPointers` looks, or status, checkout and gc would
    /// never see it (and gc would delete its objects): not below a hidden folder, a skipped
    /// folder or a nested workspace.
    func checkPointerIsFound(_ rel: String, shownAs: String) throws {
        var dir = ""
        for part in Path.parent(rel).split(separator: "/") where Path.parent(rel) != "." {
            dir = dir.isEmpty ? String(part) : dir + "/" + part
            if part.hasPrefix(".") || Workspace.skippedFolders.contains(String(part)) {
                throw WorkspaceError.hiddenPointerFolder(path: shownAs, folder: dir)
            }
            if FS.exists(Path.join(absolute(dir), ".mlv")) { throw WorkspaceError.hiddenPointerFolder(path: shownAs, folder: dir) }
        }
    }

    /// Data git already tracks cannot also be tracked by mlv (DVC refuses it too).
    func checkNotInGit(_ abs: String, shownAs: String) throws {
        guard let git = try git(), let tracked = try git.trackedPath(at: abs) else { return }
        let shown = Path.relative(Path.join(git.workdir, tracked), to: root) ?? tracked
        throw WorkspaceError.trackedByGit(path: shownAs, gitPath: shown)
    }

    /// Records planned targets: objects first, then manifests, then pointers, then git.
    func track(_ plans: [TrackPlan], options: TrackOptions) throws -> TrackResult {
        let start = Clock.monotonicSeconds()
        let mode = effectiveLinkType()
        // One flat job list across all targets, so many small targets still use every core.
        // A folder whose fingerprint matches what its pointer recorded needs no work at all.
        let fingerprints = plans.map { $0.isDirectory ? fingerprint($0.files) : [] }
        let known: [ContentHash?] = try plans.indices.map { p in
            let plan = plans[p]
            guard plan.isDirectory, mode == .copy || mode == .reflink,
                  let rec = state.directory(plan.target), rec.fingerprint == fingerprints[p],
                  let hash = ContentHash(string: rec.hash),
                  let pointer = try? loadPointer(Workspace.pointerPath(for: plan.target)), pointer.pointer.hash == hash,
                  try objectsPresent(hash, manifest: nil)
            else { return nil }
            return hash
        }
        var jobs: [(plan: Int, file: Int)] = []
        for (p, plan) in plans.enumerated() where known[p] == nil { for f in plan.files.indices { jobs.append((p, f)) } }
        let totalBytes = plans.reduce(Int64(0)) { $0 + $1.files.reduce(0) { $0 + $1.status.size } }
        let progress = ProgressCounter(label: "add", totalFiles: jobs.count, totalBytes: totalBytes, render: options.progress)
        var digests = [[Digest?]](plans.map { [Digest?](repeating: nil, count: $0.files.count) })
        let lock = Lock()
        try undoingCreatedObjects {
            try Parallel.forEach(count: jobs.count, makeContext: { HashWorker() }) { i, worker in
                let (p, f) = jobs[i]
                let plan = plans[p], file = plan.files[f]
                let abs = plan.isDirectory ? absolute(plan.target) + "/" + file.path : absolute(plan.target)
                let d = try ingest(abs, file, mode: mode, worker)
                lock.lock()
                digests[p][f] = d
                lock.unlock()
                progress.advance(bytes: file.status.size)
            }
        }
        flushState()

        var result = TrackResult()
        var toStage: [String] = []
        for (p, plan) in plans.enumerated() {
            let pointer: PointerFile
            if let hash = known[p] {
                pointer = try loadPointer(Workspace.pointerPath(for: plan.target)).pointer
                precondition(pointer.hash == hash)
            } else if plan.isDirectory {
                let entries = plan.files.indices.map { DirectoryManifest.Entry(path: plan.files[$0].path, digest: digests[p][$0]!, size: plan.files[$0].status.size) }
                let manifest = DirectoryManifest(entries: entries)
                let hash = try cache.store(bytes: manifest.serialized(), isDirectory: true)
                pointer = PointerFile(path: Path.base(plan.target), hash: hash, size: manifest.totalSize, fileCount: entries.count)
                if mode == .copy || mode == .reflink { rememberDirectory(plan.target, hash, fingerprints[p], plan.files, digests[p].map { $0! }) }
            } else {
                pointer = PointerFile(path: Path.base(plan.target), hash: ContentHash(digests[p][0]!), size: plan.files[0].status.size, fileCount: nil)
            }
            result.files += plan.files.count
            result.bytes += pointer.size
            let pointerRel = Workspace.pointerPath(for: plan.target)
            let existing = try? loadPointer(pointerRel)
            if existing?.pointer == pointer {
                result.unchanged.append(plan.target)
            } else {
                try AtomicFile.write(try pointer.serialized(), to: absolute(pointerRel))
                result.changed.append(plan.target)
                toStage.append(pointerRel)
            }
            if let ignore = try ensureGitignored(plan.target) { toStage.append(ignore) }
        }
        flushState()  // the folders' fingerprints and snapshots
        if !toStage.isEmpty || options.message != nil {
            result.commit = try stageAndCommit(toStage, message: toStage.isEmpty ? nil : options.message)
        }
        result.seconds = Clock.monotonicSeconds() - start
        return result
    }
}

/// Shell-style wildcard expansion (glob(3)), sorted.
enum Glob {
    static func expand(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
