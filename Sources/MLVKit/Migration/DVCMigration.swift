import MLVGit
import MLVSupport

/// `mlv migrate`: turns a DVC repository into an mlv workspace in place, as one change to review
/// and commit. `dvc.yaml` becomes `pipeline.yaml` (the same text: mlv reads DVC's keys),
/// `dvc.lock` becomes `pipeline.lock` with SHA-256 hashes of the data, each `X.dvc` becomes
/// `X.mlv`, `.dvcignore` becomes `.mlvignore`, and DVC's remotes, default remote and `cache.type`
/// move into `.mlv/config.yaml` (secrets from `.dvc/config.local` into `.mlv/config.local.yaml`).
/// Every file's bytes are checked against DVC's MD5 before they enter mlv's cache.
///
/// Plan, then write: everything that can refuse the run (paths leaving the workspace, invalid
/// DVC files or manifests, an unknown remote) is found before anything is written.
package struct DVCMigration {
    let root: String
    let project: DVCProject
    let options: MigrateOptions
    let config: ConvertedConfig
    var report = MigrationReport()

    /// Recorded entry (path and MD5) → what it is in mlv's terms; nil: its data was not found.
    var records: [String: ContentRecord?] = [:]
    /// The files to write, and the DVC files they replace (see DVCMigration+Write.swift).
    var planned: [Planned] = []
    /// Workspace paths mlv's `.gitignore` entries must cover (tracked data, cached outs).
    var ignored: [String] = []

    package static func run(cwd: String, options: MigrateOptions, environment: @escaping (String) -> String? = Environment.get) throws -> MigrationReport {
        guard let root = DVCProject.findRoot(from: cwd) else { throw MigrationError.notADVCRepository(cwd: cwd) }
        let project = try DVCProject.load(root: root)
        let config = ConvertedConfig(committed: project.config, local: project.localConfig, dvcDir: project.dvcDir, root: root)
        var migration = DVCMigration(root: root, project: project, options: options, config: config)
        migration.report.root = root
        migration.report.dry = options.dry
        migration.report.fromRemote = options.fromRemote
        try migration.migrate(environment: environment)
        return migration.report
    }

    static func key(_ e: DVCEntry) -> String { e.path + "\u{0}" + (e.hash?.description ?? "") }

    /// Every entry whose data must be found: the pointers' outs and the locks' deps and outs.
    var recordedEntries: [DVCEntry] {
        project.pointers.flatMap(\.outs) + project.pipelines.flatMap { p in
            (p.lock?.stages ?? []).filter { p.stageNames?.contains($0.name) ?? true }.flatMap { $0.deps + $0.outs }
        }
    }

    mutating func migrate(environment: @escaping (String) -> String?) throws {
        report.remotes = RemoteSettings.names(in: WorkspaceConfig(values: config.committed.merging(config.local) { a, _ in a }))
        report.unsupportedRemotes = config.unsupported.map { "\($0.name) (\($0.url))" }
        report.notes += config.notes
        report.createdWorkspace = !FS.isDirectory(Path.join(root, ".mlv"))
        let configChanged = try configChanges().changed
        guard !project.pointers.isEmpty || !project.pipelines.isEmpty || project.ignoreText != nil || report.createdWorkspace || configChanged
        else { return }
        let git = try GitRepository.discover(from: root)
        report.inGit = git != nil
        if !options.force, !options.dry, let git {
            let changed = try git.uncommittedPaths()
            if !changed.isEmpty { throw MigrationError.uncommittedChanges(paths: changed) }
        }
        for p in project.pointers { for o in p.outs { try DVCPath.checkNoSymlinkEscape(o.path, root: root, file: p.file) } }
        for p in project.pipelines {
            for s in p.lock?.stages ?? [] { for o in s.outs { try DVCPath.checkNoSymlinkEscape(o.path, root: root, file: p.lockFile) } }
        }
        let remote = try options.fromRemote.map { try remoteReader($0, environment: environment) }
        // Folder manifests first: an invalid one refuses the run before anything is written.
        let probe = DVCObjects(root: root, cacheDir: project.cacheDir, remote: remote, cache: nil, state: nil, tmp: environment("TMPDIR") ?? "/tmp")
        let hashed = recordedEntries.compactMap { e in e.hash.map { (entry: e, hash: $0) } }
        var trees: [String: DVCTree] = [:]
        for (e, hash) in hashed where hash.isDirectory && trees[Self.key(e)] == nil {
            if let t = try probe.tree(hash, at: e.path) { trees[Self.key(e)] = t }
        }
        // Every file once, whoever records it (a dep of one stage is often another's out).
        var wanted: [DVCObjects.Wanted] = []
        var sizes: [Int64?] = []
        var seen = Set<DVCObjects.Wanted>()
        for (e, hash) in hashed {
            let files = hash.isDirectory ? (trees[Self.key(e)]?.entries ?? []).map { (e.path + "/" + $0.path, $0.md5, Int64?.none) } : [(e.path, hash.md5, e.size)]
            for (path, md5, size) in files {
                let w = DVCObjects.Wanted(path: path, md5: md5, legacy: e.legacy)
                if seen.insert(w).inserted { wanted.append(w); sizes.append(size) }
            }
        }
        if options.dry {
            try dryRun(probe, hashed.map(\.entry), trees: trees, wanted: wanted, sizes: sizes)
            return
        }
        let ws = try openWorkspace()
        try ws.withLock {
            try FS.makeDirectories(ws.cache.objectsRoot)
            let objects = DVCObjects(root: root, cacheDir: project.cacheDir, remote: remote, cache: ws.cache, state: ws.state, tmp: ws.cache.tmp)
            // Bytes to read, as DVC recorded them (a folder's total), each path once.
            let recordedBytes = Dictionary(hashed.map { ($0.entry.path, $0.entry.size ?? 0) }, uniquingKeysWith: { a, _ in a }).values.reduce(0, +)
            let progress = ProgressCounter(label: "migrate", totalFiles: wanted.count, totalBytes: recordedBytes, render: options.progress)
            let verified = try objects.files(wanted, progress: progress)
            for v in verified.compactMap({ $0 }) { report.objects[v.source.rawValue, default: 0] += 1 }
            report.bytesVerified = objects.bytesVerified
            report.corrupted = probe.corrupted + objects.corrupted
            var byFile: [String: DVCObjects.Verified] = [:]
            for (w, v) in zip(wanted, verified) { if let v { byFile[w.key] = v } }
            for (e, _) in hashed where records[Self.key(e)] == nil {
                records[Self.key(e)] = try record(e, tree: trees[Self.key(e)], byFile: byFile, cache: ws.cache)
            }
            ws.state.markUsed(records.values.compactMap { $0?.hash })
            planFiles(ws: ws)
            try write(ws)
        }
    }

    /// `--dry`: where each file would come from (nothing hashed), and what would be written.
    mutating func dryRun(_ probe: DVCObjects, _ entries: [DVCEntry], trees: [String: DVCTree], wanted: [DVCObjects.Wanted], sizes: [Int64?]) throws {
        let found = try probe.locate(wanted, sizes: sizes)
        for s in found.compactMap({ $0 }) { report.objects[s.rawValue, default: 0] += 1 }
        let foundKeys = Set(zip(wanted, found).filter { $0.1 != nil }.map { $0.0.key })
        for e in entries {
            let ok = e.hash!.isDirectory
                ? trees[Self.key(e)].map { t in t.entries.allSatisfy { foundKeys.contains(e.path + "/" + $0.path + "\u{0}" + $0.md5) } } ?? false
                : foundKeys.contains(e.path + "\u{0}" + e.hash!.md5)
            records[Self.key(e)] = ok ? Self.foundUnhashed(e.path) : nil
        }
        report.corrupted = probe.corrupted
        planFiles(ws: nil)
        try write(nil)
    }

    /// A dry run's record of data that was found but not hashed (only its presence counts).
    static func foundUnhashed(_ path: String) -> ContentRecord {
        ContentRecord(path: path, hash: ContentHash(Digest(bytes: [UInt8](repeating: 0, count: 32))), size: 0, fileCount: nil)
    }

    /// The mlv record of a recorded file or folder, when all its bytes were verified.
    func record(_ e: DVCEntry, tree: DVCTree?, byFile: [String: DVCObjects.Verified], cache: ObjectCache) throws -> ContentRecord? {
        guard e.hash!.isDirectory else {
            guard let v = byFile[DVCObjects.Wanted(path: e.path, md5: e.hash!.md5, legacy: e.legacy).key] else { return nil }
            return ContentRecord(path: e.path, hash: ContentHash(v.digest), size: v.size, fileCount: nil)
        }
        guard let tree else { return nil }
        var entries: [DirectoryManifest.Entry] = []
        entries.reserveCapacity(tree.entries.count)
        for t in tree.entries {
            guard let v = byFile[DVCObjects.Wanted(path: e.path + "/" + t.path, md5: t.md5, legacy: e.legacy).key] else { return nil }
            entries.append(DirectoryManifest.Entry(path: t.path, digest: v.digest, size: v.size))
        }
        let manifest = DirectoryManifest(entries: entries)
        let hash = try cache.store(bytes: manifest.serialized(), isDirectory: true)
        return ContentRecord(path: e.path, hash: hash, size: manifest.totalSize, fileCount: entries.count)
    }

    /// The DVC remote `name`, read through mlv's own clients with its converted settings.
    func remoteReader(_ name: String, environment: @escaping (String) -> String?) throws -> DVCRemote {
        let known = project.config.merged(with: project.localConfig).remotes
        guard let url = known[name]?["url"] else { throw MigrationError.unknownRemote(name, known: known.keys.sorted()) }
        guard config.committed["remote.\(name).url"] ?? config.local["remote.\(name).url"] != nil else { throw MigrationError.unusableRemote(name, url: url) }
        let merged = WorkspaceConfig(values: config.committed.merging(config.local) { _, l in l })
        let settings = try RemoteSettings.load(name, config: merged, workspaceRoot: root, environment: environment)
        return try DVCRemote(name: name, settings: settings, localConfig: WorkspaceConfig(values: config.local))
    }
}
