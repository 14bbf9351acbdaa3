import MLVSupport

/// A data registry's verbs: `get` (data of another repository, no workspace needed), `import`
/// (the same, tracked, with its source recorded), `update` (an import moved to the newest commit
/// of its revision), `ls` (what a repository holds).
package enum DataRegistry {
    package struct Fetched: Sendable, Equatable {
        package var path: String
        package var files: Int
        package var bytes: Int64
        /// The source's commit the data was read at.
        package var commit: String
    }

    /// `mlv get URL PATH [-o OUT] [--rev REV]`: writes the data `PATH` names in the repository at
    /// `url` (a tracked output, or a file or folder inside one) to `out` (default: its name in the
    /// current folder). The objects come from the source's cache (a local repository) or its
    /// default remote, each hash-verified, through a scratch cache beside `out` that is removed
    /// afterwards. Nothing is written at `out` unless every object arrived.
    package static func get(url: String, path: String, out: String?, rev: String?, cwd: String = FS.currentDirectory(),
                            jobs: Int? = nil, tmp: String = Environment.get("TMPDIR") ?? "/tmp") throws -> Fetched {
        let dest = Path.absolute(out ?? Path.base(Path.normalize(path)), relativeTo: cwd)
        if (try FS.status(dest)) != nil { throw RegistryError.exists(path: out ?? Path.base(path)) }
        let parent = Path.parent(dest)
        guard FS.isDirectory(parent) else { throw WorkspaceError.missingPath(path: Path.relative(parent, to: cwd) ?? parent) }
        let source = try SourceRepository(url: url, rev: rev, cwd: cwd, tmp: tmp)
        let scratchDir = try FS.makeTemporaryDirectory(in: parent, prefix: ".mlv-get")
        defer { try? FS.removeTree(scratchDir) }
        let scratch = try Workspace.initialize(at: scratchDir, useGit: false, force: false)
        var record = try source.record(of: path, for: scratch, jobs: jobs)
        _ = try source.fetch([record], into: scratch, jobs: jobs)
        record.path = "data"
        record.record = .runCache
        try scratch.withLock { _ = try scratch.restore([record], force: false, linker: scratch.linker()) }
        try FS.rename(Path.join(scratchDir, "data"), dest)
        return Fetched(path: dest, files: record.fileCount ?? 1, bytes: record.size, commit: source.commit)
    }

    /// One entry `ls` prints.
    package struct Entry: Sendable, Equatable {
        package var path: String
        package var isDirectory: Bool
        /// Data mlv tracks (a pointer's or a pipeline out), or a file inside it.
        package var isOutput: Bool
        package var isExecutable: Bool
        package var size: Int64?
    }

    /// `mlv ls URL [PATH] [--rev REV] [-R]`: the git files and the mlv-tracked data of the
    /// repository at `url`, in the folder `path` (the root by default): tracked folders are
    /// expanded from their manifests (fetched into a scratch cache when not local). `recursive`:
    /// every file below it.
    package static func list(url: String, path: String?, rev: String?, recursive: Bool, cwd: String = FS.currentDirectory(),
                             tmp: String = Environment.get("TMPDIR") ?? "/tmp") throws -> [Entry] {
        let source = try SourceRepository(url: url, rev: rev, cwd: cwd, tmp: tmp)
        let folder = Path.normalize(path ?? ".")
        let outputs = try source.outputs()
        var seen: [String: Entry] = [:]
        func put(_ e: Entry) { if seen[e.path] == nil || e.isOutput { seen[e.path] = e } }
        /// `p` relative to the folder listed, or nil when outside it.
        func relative(_ p: String) -> String? {
            if folder == "." { return p }
            return p.hasPrefix(folder + "/") ? String(p.dropFirst(folder.count + 1)) : nil
        }
        let gitEntries = try source.git.treeEntries(at: source.commit, under: folder == "." ? "" : folder, recursive: recursive)
        for e in gitEntries ?? [] { put(Entry(path: e.path, isDirectory: e.isDirectory, isOutput: false, isExecutable: e.isExecutable, size: nil)) }

        // Tracked folders whose files must be listed: those inside the folder (with -R) and the
        // one holding it (the folder is then listed from its manifest).
        let holder = outputs.first { folder != "." && $0.hash.isDirectory && (folder == $0.path || folder.hasPrefix($0.path + "/")) }
        var expand = recursive ? outputs.filter { $0.hash.isDirectory && relative($0.path) != nil } : []
        if let holder, !expand.contains(holder) { expand.append(holder) }
        var manifests: [ContentHash: DirectoryManifest] = [:]
        if !expand.isEmpty {
            let scratchDir = try FS.makeTemporaryDirectory(in: tmp, prefix: "mlv-ls")
            defer { try? FS.removeTree(scratchDir) }
            let scratch = try Workspace.initialize(at: scratchDir, useGit: false, force: false)
            _ = try scratch.withLock { try source.fetch(expand, into: scratch, jobs: nil, manifestsOnly: true) }
            for o in expand { manifests[o.hash] = try scratch.cache.manifest(o.hash) }
        }
        if gitEntries == nil && holder == nil && !outputs.contains(where: { relative($0.path) != nil }) {
            throw RegistryError.notTrackedThere(path: folder, url: source.url, at: source.shownRev,
                                                suggestion: Suggestion.closest(to: folder, in: outputs.map(\.path)))
        }
        for o in outputs {
            guard let rel = relative(o.path) else { continue }
            let parts = rel.split(separator: "/").map(String.init)
            if !recursive && parts.count > 1 {
                put(Entry(path: parts[0], isDirectory: true, isOutput: false, isExecutable: false, size: nil))
                continue
            }
            if recursive, o.hash.isDirectory, let m = manifests[o.hash] {
                for e in m.entries { put(Entry(path: rel + "/" + e.path, isDirectory: false, isOutput: true, isExecutable: false, size: e.size)) }
            } else {
                put(Entry(path: rel, isDirectory: o.hash.isDirectory, isOutput: true, isExecutable: false, size: o.size))
            }
        }
        if let holder, let m = manifests[holder.hash] {
            let inside = folder == holder.path ? "" : String(folder.dropFirst(holder.path.count + 1)) + "/"
            var found = false
            for e in m.entries where e.path.hasPrefix(inside) {
                found = true
                let rest = String(e.path.dropFirst(inside.count))
                let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
                if recursive || parts.count == 1 {
                    put(Entry(path: rest, isDirectory: false, isOutput: true, isExecutable: false, size: e.size))
                } else {
                    put(Entry(path: parts[0], isDirectory: true, isOutput: true, isExecutable: false, size: nil))
                }
            }
            if !found {
                throw RegistryError.notTrackedThere(path: folder, url: source.url, at: source.shownRev,
                                                    suggestion: Suggestion.closest(to: String(inside.dropLast()), in: m.entries.map(\.path)).map { holder.path + "/" + $0 })
            }
        }
        return seen.values.sorted { $0.path < $1.path }
    }
}

/// `mlv import` and `mlv update`: another repository's data, tracked here.
package struct DataImports {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    package struct Imported: Sendable, Equatable {
        package var path: String
        package var origin: DataOrigin
        package var files: Int
        package var bytes: Int64
        /// `update`: the content changed (false: it was already that version).
        package var changed = true
    }

    /// `mlv import URL PATH [-o OUT] [--rev REV]`: fetches the data as `get` does, into this
    /// workspace's cache, writes OUT.mlv recording it and its source (the URL, PATH, the REV
    /// asked for and the commit it resolved to), checks it out and git-ignores it. The objects
    /// are this workspace's from then on: `push` sends them to its own remote, so a clone never
    /// needs the source's.
    package func importData(url: String, path: String, out: String?, rev: String?, cwd: String = FS.currentDirectory(), jobs: Int? = nil) throws -> Imported {
        let target = try ws.relativeTarget(out ?? Path.base(Path.normalize(path)), cwd: cwd)
        _ = try WorkspacePath(validatingUserPath: target)
        return try ws.withLock {
            try checkFree(target)
            let source = try SourceRepository(url: url, rev: rev, cwd: cwd, tmp: ws.cache.tmp)
            let record = try source.record(of: path, for: ws, jobs: jobs)
            _ = try source.fetch([record], into: ws, jobs: jobs)
            let origin = ImportSource(repo: source.url, path: record.path, rev: rev, revLock: source.commit)
            try write(record, to: target, origin: .repo(origin))
            return Imported(path: target, origin: .repo(origin), files: record.fileCount ?? 1, bytes: record.size)
        }
    }

    /// `mlv import-url URL [OUT]`: downloads one object (s3://, http(s)://, a local file) into
    /// the cache, hashed as it arrives, and tracks it as OUT with its source's version (ETag,
    /// Last-Modified, size), so `mlv update` downloads again only when the source changed.
    /// `noDownload`: only the source's version is recorded (the pointer has no data yet);
    /// `mlv update` downloads it.
    package func importURL(_ url: String, out: String?, noDownload: Bool = false, cwd: String = FS.currentDirectory()) throws -> Imported {
        let external = try ExternalObject(url, in: ws, cwd: cwd)
        let target = try ws.relativeTarget(out ?? external.defaultName, cwd: cwd)
        _ = try WorkspacePath(validatingUserPath: target)
        return try ws.withLock {
            try checkFree(target)
            if noDownload {
                let version = try external.probe()
                try AtomicFile.write(try PointerFile.serializedPending(version), to: ws.absolute(target + PointerFile.suffix))
                _ = try ws.stageAndCommit([target + PointerFile.suffix] + (try ws.ensureGitignored(all: [target])), message: nil)
                return Imported(path: target, origin: .url(version), files: 0, bytes: 0, changed: false)
            }
            let (hash, version) = try external.fetch()
            let record = Output(path: target, hash: hash, size: version.size, fileCount: nil, record: .pointer(file: target + PointerFile.suffix))
            try write(record, to: target, origin: .url(version))
            return Imported(path: target, origin: .url(version), files: 1, bytes: version.size)
        }
    }

    /// `mlv update [TARGET…] [--rev REV]`: moves each import (all when none are named) to the
    /// newest commit of its revision, or to `rev` (then recorded as its revision), fetching and
    /// checking out the new version when its content changed. Changes made here to imported data
    /// are not overwritten unless their content is in the cache.
    package func update(_ targets: [String], rev: String?, cwd: String = FS.currentDirectory(), jobs: Int? = nil) throws -> [Imported] {
        try ws.withLock {
            // Imports recorded with --no-download are fetched first (they are not outputs yet).
            _ = try ws.allPointers()
            let rels = try targets.map { try ws.relativeTarget($0, cwd: cwd) }.map {
                $0.hasSuffix(PointerFile.suffix) ? String($0.dropLast(PointerFile.suffix.count)) : $0
            }
            let pending = ws.pendingImports.filter { targets.isEmpty || rels.contains($0.key) }
            var done: [Imported] = []
            for (path, source) in pending.sorted(by: { $0.key < $1.key }) {
                let (hash, version) = try ExternalObject(source.url, in: ws, cwd: ws.root).fetch()
                let record = Output(path: path, hash: hash, size: version.size, fileCount: nil, record: .pointer(file: path + PointerFile.suffix))
                try write(record, to: path, origin: .url(version))
                done.append(Imported(path: path, origin: .url(version), files: 1, bytes: version.size))
            }
            let rest = zip(targets, rels).filter { pending[$0.1] == nil }.map(\.0)
            if !targets.isEmpty && rest.isEmpty { return done }
            let outputs = try ws.outputs(for: rest, cwd: cwd, .pointers)
            if !rest.isEmpty, let plain = outputs.first(where: { $0.origin == nil }) { throw RegistryError.notAnImport(path: plain.path) }
            for o in outputs where pending[o.path] == nil {
                if case .url(let old)? = o.origin {
                    let external = try ExternalObject(old.url, in: ws, cwd: ws.root)
                    if try external.probe().isSameVersion(as: old) {
                        done.append(Imported(path: o.path, origin: .url(old), files: 1, bytes: o.size, changed: false))
                        continue
                    }
                    let (hash, version) = try external.fetch()
                    var record = o
                    record.hash = hash
                    record.size = version.size
                    try write(record, to: o.path, origin: .url(version))
                    done.append(Imported(path: o.path, origin: .url(version), files: 1, bytes: version.size, changed: hash != o.hash))
                    continue
                }
                guard let old = o.source else { continue }
                let wanted = rev ?? old.rev
                let source = try SourceRepository(url: old.repo, rev: wanted, cwd: ws.root, tmp: ws.cache.tmp)
                let record = try source.record(of: old.path, for: ws, jobs: jobs)
                let origin = ImportSource(repo: old.repo, path: old.path, rev: wanted, revLock: source.commit)
                let changed = record.hash != o.hash
                if changed { _ = try source.fetch([record], into: ws, jobs: jobs) }
                if changed || origin != old { try write(record, to: o.path, origin: .repo(origin)) }
                done.append(Imported(path: o.path, origin: .repo(origin), files: record.fileCount ?? 1, bytes: record.size, changed: changed))
            }
            return done
        }
    }

    /// `mlv status --check-source`: the imports whose source moved on since they were recorded
    /// (a URL whose ETag, or size and Last-Modified, changed; a repository whose revision now
    /// resolves to another commit), with what it is now. Nothing is downloaded.
    package func changedSources(_ targets: [String] = [], cwd: String = FS.currentDirectory()) throws -> [(path: String, now: String)] {
        var out: [(String, String)] = []
        for o in try ws.outputs(for: targets, cwd: cwd, .pointers) {
            switch o.origin {
            case .url(let old)?:
                let now = try ExternalObject(old.url, in: ws, cwd: ws.root).probe()
                if !now.isSameVersion(as: old) { out.append((o.path, now.etag.map { "ETag \($0)" } ?? now.lastModified ?? "\(now.size) bytes")) }
            case .repo(let old)?:
                let source = try SourceRepository(url: old.repo, rev: old.rev, cwd: ws.root, tmp: ws.environment("TMPDIR") ?? "/tmp")
                if source.commit != old.revLock { out.append((o.path, "\(old.rev ?? "HEAD") is \(source.commit.prefix(12))")) }
            case nil:
                continue
            }
        }
        return out
    }

    /// An import may only go where nothing is: no file or pointer there, not inside tracked data,
    /// where pointers are searched for, and nothing git tracks.
    private func checkFree(_ target: String) throws {
        for p in [target, target + PointerFile.suffix] where (try FS.status(ws.absolute(p))) != nil { throw RegistryError.exists(path: p) }
        if let parent = ws.trackingParent(of: target) { throw WorkspaceError.trackedByParent(path: target, pointer: parent) }
        try ws.checkPointerIsFound(target, shownAs: target)
        try ws.checkNotGitTracked([target, target + PointerFile.suffix])
    }

    /// Writes the pointer, restores the data and git-ignores it; stages pointer and `.gitignore`.
    private func write(_ record: Output, to target: String, origin: DataOrigin) throws {
        var output = record
        output.path = target
        output.record = .pointer(file: target + PointerFile.suffix)
        _ = try ws.restore([output], force: false, linker: ws.linker())
        let pointer = PointerFile(path: Path.base(target), hash: record.hash, size: record.size, fileCount: record.fileCount)
        try AtomicFile.write(try pointer.serialized(origin: origin), to: ws.absolute(target + PointerFile.suffix))
        let ignores = try ws.ensureGitignored(all: [target])
        _ = try ws.stageAndCommit([target + PointerFile.suffix] + ignores, message: nil)
    }
}
