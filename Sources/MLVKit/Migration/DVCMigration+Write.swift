import MLVGit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// What `mlv migrate` writes: the planned mlv files (pointers, pipeline files, locks,
/// `.mlvignore`), the DVC files they replace, `.gitignore` entries and the merged config.
extension DVCMigration {
    /// A file to write (workspace-relative path and text) and the DVC files it replaces.
    struct Planned {
        var path: String
        var text: String
        var replaces: [String]
        var what: String
        /// An existing file may be replaced without --force (a lock an earlier, incomplete run
        /// of this migration wrote beside the pipeline file it also wrote).
        var replaceable = false
    }

    mutating func planFiles(ws: Workspace?) {
        for pointer in project.pointers { planPointer(pointer, ws: ws) }
        for pipeline in project.pipelines { planPipeline(pipeline) }
        let repoImports = project.pointers.filter { if case .repo? = $0.origin { return true } else { return false } }.map(\.file)
        if !repoImports.isEmpty {
            report.notes.append("\(repoImports.joined(separator: ", ")): imported from DVC repositories; the source is kept, and `mlv update` reads it once that repository is migrated too")
        }
        if let text = project.ignoreText {
            planned.append(Planned(path: ".mlvignore", text: text, replaces: [".dvcignore"], what: ".dvcignore"))
        }
    }

    mutating func planPointer(_ pointer: DVCPointer, ws: Workspace?) {
        var texts: [(String, String)] = []
        for out in pointer.outs {
            if let ws {
                do { try ws.checkPointerIsFound(out.path, shownAs: out.path) } catch {
                    report.notes.append("\(pointer.file): '\(out.path)' lies below a folder mlv does not search for pointers; left as it is")
                    return
                }
            }
            let origin = pointer.origin.flatMap { convertedOrigin($0, out: out, file: pointer.file) }
            let pointerPath = out.path + PointerFile.suffix
            if out.hash == nil, case .url(let source)? = origin {
                if let text = try? PointerFile.serializedPending(source) { texts.append((pointerPath, text)) }
                continue
            }
            guard let record = records[Self.key(out)] ?? nil else {
                report.missing.append(missingLine(out.path, recordedBy: pointer.file, target: pointer.file, hasHash: out.hash != nil))
                return
            }
            var local = record
            local.path = Path.base(out.path)
            guard let text = try? local.serialized(origin: origin) else { return }
            texts.append((pointerPath, text))
            ignored.append(out.path)
        }
        report.pointers += texts.count
        if pointer.origin != nil { report.imports += texts.count }
        for (i, (path, text)) in texts.enumerated() {
            planned.append(Planned(path: path, text: text, replaces: i == texts.count - 1 ? [pointer.file] : [], what: pointer.file))
        }
    }

    func convertedOrigin(_ origin: DVCOrigin, out: DVCEntry, file: String) -> DataOrigin? {
        switch origin {
        case .repo(let url, let path, let rev, let revLock):
            guard (try? WorkspacePath(validating: path)) != nil, revLock.utf8.count == 40,
                  revLock.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
            return .repo(ImportSource(repo: url, path: path, rev: rev, revLock: revLock))
        case .url(let url, let etag, let size):
            // A local source as `import-url` records one: an absolute path.
            let location = url.contains("://") || url.hasPrefix("/") ? url : Path.join(root, url)
            return .url(URLSource(url: location, etag: etag, lastModified: nil, size: size ?? out.size ?? 0))
        }
    }

    /// `target`: what `dvc pull` takes to fetch it (the `.dvc` file, or the stage).
    func missingLine(_ path: String, recordedBy file: String, target: String, hasHash: Bool) -> String {
        guard hasHash else { return "\(path) (\(file)): DVC recorded no hash for it; run `dvc commit \(target)` first" }
        let remoteHint = options.fromRemote == nil ? ", or run `mlv migrate --from-remote NAME` to fetch it from a DVC remote" : ""
        return "\(path) (\(file)): its data is in neither the workspace nor the DVC cache\(options.fromRemote.map { " nor remote '\($0)'" } ?? ""); run `dvc pull \(target)`\(remoteHint), then `mlv migrate` again"
    }

    func lockPathFor(_ pipeline: DVCProject.Pipeline) -> String {
        pipeline.folder == "." ? Lockfile.fileName : pipeline.folder + "/" + Lockfile.fileName
    }

    mutating func planPipeline(_ pipeline: DVCProject.Pipeline) {
        let yamlPath = pipeline.folder == "." ? PipelineFile.fileName : pipeline.folder + "/" + PipelineFile.fileName
        if let problem = pipeline.problem { report.notes.append("\(yamlPath): \(problem) (fix it before `mlv repro`)") }
        guard let dvcLock = pipeline.lock else {
            planned.append(Planned(path: yamlPath, text: pipeline.text, replaces: [pipeline.file], what: pipeline.file))
            report.pipelines.append("\(pipeline.file) -> \(yamlPath)")
            return
        }
        var stages: [Lockfile.StageLock] = []
        var complete = true
        for s in dvcLock.stages {
            if let names = pipeline.stageNames, !names.contains(s.name) {
                report.notes.append("\(pipeline.lockFile): stage '\(s.name)' is not in \(pipeline.file); left out of \(lockPathFor(pipeline))")
                continue
            }
            var deps: [ContentRecord] = [], outs: [ContentRecord] = []
            let recordedBy = "\(pipeline.lockFile), stage '\(s.name)'"
            for e in s.deps {
                // A dep DVC does not cache (code, a params file) that changed since the stage ran
                // cannot be found, and need not be: the stage is stale, as `dvc status` says too.
                guard let r = records[Self.key(e)] ?? nil else {
                    report.notes.append("\(e.path) (\(recordedBy)): no longer what DVC recorded; the stage is stale until `mlv repro`, as `dvc status` would say")
                    continue
                }
                deps.append(r)
            }
            for e in s.outs {
                guard let r = records[Self.key(e)] ?? nil else {
                    let target = pipeline.folder == "." ? s.name : pipeline.file + ":" + s.name
                    report.missing.append(missingLine(e.path, recordedBy: recordedBy, target: target, hasHash: e.hash != nil))
                    complete = false
                    continue
                }
                outs.append(r)
                if !pipeline.uncached.contains(e.path) { ignored.append(e.path) }
            }
            stages.append(Lockfile.StageLock(name: s.name, cmd: s.cmd, deps: deps, params: s.params, outs: outs))
        }
        report.stagesLocked += stages.count
        let lockPath = lockPathFor(pipeline)
        guard let lockText = try? Lockfile(stages: stages).serialized() else { return }
        planned.append(Planned(path: yamlPath, text: pipeline.text, replaces: complete ? [pipeline.file] : [], what: pipeline.file))
        let ownPipeline = (try? UntrustedFile.readText(Path.join(root, yamlPath), shownAs: yamlPath, what: "a pipeline file")) == pipeline.text
        planned.append(Planned(path: lockPath, text: lockText, replaces: complete ? [pipeline.lockFile] : [], what: pipeline.lockFile, replaceable: ownPipeline))
        report.pipelines.append("\(pipeline.file) -> \(yamlPath), \(pipeline.lockFile) -> \(lockPath) (\(stages.count) stage\(stages.count == 1 ? "" : "s") locked)")
    }

    // MARK: - Writing

    func openWorkspace() throws -> Workspace {
        if FS.isDirectory(Path.join(root, ".mlv")) { return try Workspace(root: root) }
        let useGit = try GitRepository.discover(from: root) != nil
        let ws = try Workspace.initialize(at: root, useGit: useGit, force: false)
        try LockMerge.register(in: ws)
        return ws
    }

    /// Writes the planned files, removes the DVC files they replace, adds `.gitignore` entries,
    /// merges the config and stages it all in git; `ws` nil (a dry run) only reports.
    mutating func write(_ ws: Workspace?) throws {
        var toStage: [String] = []
        for p in planned {
            let abs = Path.join(root, p.path)
            let existing = FS.exists(abs) ? (try? UntrustedFile.readText(abs, shownAs: p.path, what: "an mlv file")) ?? "" : nil
            if existing != p.text {
                if existing != nil && !options.force && !p.replaceable {
                    report.notes.append("\(p.path) exists and differs from what \(p.what) converts to; left as it is (--force replaces it)")
                    continue
                }
                if ws != nil {
                    try FS.makeDirectories(Path.parent(abs))
                    try AtomicFile.write(p.text, to: abs)
                }
                report.written.append(p.path)
            }
            toStage.append(p.path)
            for old in p.replaces where FS.exists(Path.join(root, old)) {
                if ws != nil {
                    if report.inGit {
                        try FS.remove(Path.join(root, old))
                    } else {
                        // No history keeps them: they go to .dvc/migrated/ instead.
                        let kept = Path.join(project.dvcDir, "migrated/" + old)
                        try FS.makeDirectories(Path.parent(kept))
                        try FS.rename(Path.join(root, old), kept)
                    }
                }
                report.removed.append(old)
                toStage.append(old)
            }
        }
        if let ws { toStage += try ws.ensureGitignored(all: ignored) }
        let (changed, committed, local, kept) = try configChanges()
        report.notes += kept
        if changed {
            report.written.append(".mlv/config.yaml")
            if let ws {
                try writeConfig(committed, to: ".mlv/config.yaml", ws: ws, mode: 0o644)
                try writeConfig(local, to: ".mlv/config.local.yaml", ws: ws, mode: 0o600)
            }
            toStage.append(".mlv/config.yaml")
        }
        if let ws {
            var merged = committed
            merged.values.merge(local.values) { _, l in l }
            try relinkSymlinks(ws, linkTypes: merged.linkTypes)
        }
        _ = try ws?.stageAndCommit(toStage, message: nil)
    }

    /// Data DVC linked into its cache with symbolic links (`cache.type: symlink`) would vanish
    /// with `.dvc/`: the outs holding such links are checked out again from mlv's cache, per
    /// the migrated `cache.type`.
    mutating func relinkSymlinks(_ ws: Workspace, linkTypes: [LinkType]) throws {
        let dvcCache = (FS.realPath(project.cacheDir) ?? project.cacheDir) + "/"
        func isLinkIntoDVC(_ abs: String) -> Bool { FS.realPath(abs)?.hasPrefix(dvcCache) ?? false }
        var links: [String] = [], outs: [String] = []
        for rel in Set(ignored).sorted() {
            let abs = Path.join(root, rel)
            guard let st = try FS.status(abs) else { continue }
            let found = st.kind == .symlink ? [abs].filter(isLinkIntoDVC)
                : st.kind == .directory ? try DirectoryWalker.walk(abs).filter { $0.status.kind == .symlink }.map { abs + "/" + $0.path }.filter(isLinkIntoDVC) : []
            if !found.isEmpty { links += found; outs.append(rel) }
        }
        guard !outs.isEmpty else { return }
        // Every byte is in mlv's cache (verified above): the links go, the checkout puts the files back.
        for link in links { try FS.remove(link) }
        let outputs = try ws.outputs(for: outs, cwd: root).filter(\.cache)
        _ = try ws.restore(outputs, force: true, linker: ws.linker(mode: Linker.linkType(preferring: linkTypes, in: ws.cache)))
        report.relinked = outs
    }

    /// mlv's config files with the converted values added: whether anything changes, and the
    /// committed and local files' new values. A key mlv's config already sets is kept (and noted).
    func configChanges() throws -> (changed: Bool, committed: WorkspaceConfig, local: WorkspaceConfig, kept: [String]) {
        let mlv = Path.join(root, ".mlv")
        var committed = try WorkspaceConfig.load(Path.join(mlv, "config.yaml"), displayName: ".mlv/config.yaml")
        var local = try WorkspaceConfig.load(Path.join(mlv, "config.local.yaml"), displayName: ".mlv/config.local.yaml")
        var changed = false
        var kept: [String] = []
        for (values, isLocal) in [(config.committed, false), (config.local, true)] {
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                let current = isLocal ? local.values[key] : committed.values[key]
                guard current != value else { continue }
                if let current, !options.force {
                    // Secrets are never shown, neither mlv's nor DVC's.
                    let secret = RemoteSettings.secretOptions.contains(String(key.split(separator: ".").last ?? ""))
                    kept.append(secret ? "\(key): mlv's config sets it already; kept (--force takes DVC's)"
                                       : "\(key): mlv's config has '\(current)', DVC's '\(value)'; mlv's kept (--force takes DVC's)")
                    continue
                }
                if isLocal { local.values[key] = value } else { committed.values[key] = value }
                changed = true
            }
        }
        return (changed, committed, local, kept)
    }

    func writeConfig(_ config: WorkspaceConfig, to rel: String, ws: Workspace, mode: mode_t) throws {
        let path = ws.absolute(rel)
        var text = try config.serialized()
        if rel == ".mlv/config.yaml" { text = Workspace.configHeader + text }
        try AtomicFile.write(text, to: path, mode: mode)
    }
}
