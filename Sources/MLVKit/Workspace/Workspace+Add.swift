import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

package struct TrackOptions {
    /// Also make a git commit with this message.
    package var message: String?
    /// Progress callback (only set on a terminal).
    package var progress: ((ProgressCounter.Snapshot) -> Void)?
    package init(message: String? = nil, progress: ((ProgressCounter.Snapshot) -> Void)? = nil) {
        self.message = message
        self.progress = progress
    }
}

package struct TrackResult: Sendable {
    /// Paths whose pointer was written (new or changed content).
    package var changed: [String] = []
    /// Paths whose content was already recorded.
    package var unchanged: [String] = []
    package var files = 0
    package var bytes: Int64 = 0
    package var seconds = 0.0
    package var commit: String?
}

extension Workspace {
    /// `mlv add PATH...`: records files and directories in the cache, writes their pointers,
    /// git-ignores them and stages pointer and `.gitignore`. Every target is checked before
    /// anything is written.
    package func add(_ arguments: [String], cwd: String = FS.currentDirectory(), options: TrackOptions = .init()) throws -> TrackResult {
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
            let recorded = plans.map { p in try? loadPointer(p.path + PointerFile.suffix) }
            let result = try track(plans, recorded: recorded, options: options)
            CacheLimit(self).afterGrowth()
            return result
        }
    }

    /// `mlv commit [PATH...]`: records the current content of tracked paths.
    package func commit(_ arguments: [String], cwd: String = FS.currentDirectory(), options: TrackOptions = .init()) throws -> TrackResult {
        try checkCanCommit(options.message)
        return try withLock {
            let outputs = try self.outputs(for: arguments, cwd: cwd, .pointers)
            let plans = try outputs.map { try plan($0.path, shownAs: $0.path) }
            let result = try track(plans, recorded: outputs, options: options)
            CacheLimit(self).afterGrowth()
            return result
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
    func plan(_ rel: String, shownAs: String) throws -> ScannedTree {
        let abs = absolute(rel)
        guard let st = try FS.status(abs) else { throw WorkspaceError.missingPath(path: shownAs) }
        if rel.hasSuffix(PointerFile.suffix), FS.exists(String(abs.dropLast(PointerFile.suffix.count))) || (try? loadPointer(rel)) != nil {
            throw WorkspaceError.isPointerFile(path: shownAs)
        }
        if let parent = trackingParent(of: rel) { throw WorkspaceError.trackedByParent(path: shownAs, pointer: parent) }
        try ignores.lookAbove(rel)
        if try ignores.isIgnored(rel, isDirectory: st.kind == .directory) {
            throw MessageError("'\(shownAs)' is ignored by .mlvignore", hint: "`mlv check-ignore -d \(shownAs)` shows the rule; change it to track this path")
        }
        let scanner = self.scanner
        let tree = try scanner.scan(rel, shownAs: shownAs, status: st) { try scanner.refuseTrackedInside(rel, shownAs: shownAs, $0) }
        try checkNotInGit(abs, shownAs: shownAs)
        return tree
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

    /// Refuses when git tracks any of `paths` (workspace-relative data mlv is about to write or
    /// replace), in the index or in HEAD: a pointer or lock comes from whoever committed it, and
    /// must never make mlv replace code, hooks or CI files.
    func checkNotGitTracked(_ paths: [String]) throws {
        guard !paths.isEmpty, let git = try git() else { return }
        guard let hit = try git.trackedPaths(paths.map(absolute)).first else { return }
        let rel = Path.relative(hit.path, to: root) ?? hit.path
        let shown = Path.relative(Path.join(git.workdir, hit.tracked), to: root) ?? hit.tracked
        throw WorkspaceError.wouldOverwriteGitTracked(path: rel, gitPath: shown)
    }

    /// Records planned targets: objects first, then manifests, then pointers, then git.
    /// `recorded`: what each target's pointer says now (nil: no pointer yet).
    func track(_ plans: [ScannedTree], recorded: [Output?], options: TrackOptions) throws -> TrackResult {
        let start = MonotonicClock.monotonicSeconds()
        let linker = self.linker()
        let scanner = self.scanner
        // A folder whose fingerprint matches what its pointer recorded needs no work at all.
        let known: [Lockfile.Entry?] = try plans.indices.map { p in
            let plan = plans[p]
            guard plan.isDirectory, linker.mode == .copy || linker.mode == .reflink, let record = recorded[p],
                  let rec = state.directory(plan.path), rec.hash == record.hash.description,
                  rec.fingerprint == plan.fingerprint, try objectsPresent(record.hash, manifest: nil)
            else { return nil }
            return record.lockEntry
        }
        let toStore = plans.indices.filter { known[$0] == nil }
        let totalBytes = plans.lazy.map(\.bytes).saturatingSum()
        let progress = ProgressCounter(label: "add", totalFiles: toStore.reduce(0) { $0 + plans[$1].fileCount }, totalBytes: totalBytes,
                                       render: options.progress)
        let stored = try linker.store(toStore.map { plans[$0] }, scanner: scanner, progress: progress)
        var records = known
        for (k, p) in toStore.enumerated() { records[p] = stored[k] }
        flushState()
        // Imported data is recorded by `mlv update`, never re-recorded from the workspace.
        for (p, plan) in plans.enumerated() {
            if let origin = recorded[p]?.origin, recorded[p]?.hash != records[p]!.hash {
                throw MessageError("'\(plan.path)' is imported from \(origin.shown), and its data was changed here",
                                   hint: "run `mlv update \(plan.path)` for the source's version (`mlv checkout \(plan.path)` restores the import), or `mlv remove \(plan.path)` to track it as your own")
            }
        }

        state.markUsed(records.compactMap { $0?.hash })
        var result = TrackResult()
        var toStage: [String] = []
        for (p, plan) in plans.enumerated() {
            let r = records[p]!
            let pointer = PointerFile(path: Path.base(plan.path), hash: r.hash, size: r.size, fileCount: r.fileCount)
            result.files += r.fileCount ?? 1
            result.bytes += pointer.size
            let pointerRel = plan.path + PointerFile.suffix
            let existing = try? loadPointer(pointerRel)
            if existing?.content == ContentRecord(path: plan.path, hash: r.hash, size: r.size, fileCount: r.fileCount) {
                result.unchanged.append(plan.path)
            } else {
                try AtomicFile.write(try pointer.serialized(), to: absolute(pointerRel))
                result.changed.append(plan.path)
                toStage.append(pointerRel)
            }
            if let ignore = try ensureGitignored(all: [plan.path]).first { toStage.append(ignore) }
        }
        if !toStage.isEmpty || options.message != nil {
            result.commit = try stageAndCommit(toStage, message: toStage.isEmpty ? nil : options.message)
        }
        result.seconds = MonotonicClock.monotonicSeconds() - start
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
