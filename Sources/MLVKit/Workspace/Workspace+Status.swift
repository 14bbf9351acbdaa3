import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// How one tracked path differs from its pointer.
package struct PathStatus: Equatable, Sendable {
    package var target: String
    package var isDirectory: Bool
    /// The whole path is missing from the workspace.
    package var deleted = false
    /// A tracked file's content differs (for directories: see the lists).
    package var modified = false
    /// Objects the pointer needs are missing from the cache.
    package var notInCache = false
    /// Inside a directory: files whose content differs, that are new, that are gone.
    package var modifiedFiles: [String] = []
    package var addedFiles: [String] = []
    package var deletedFiles: [String] = []

    package var isClean: Bool {
        !deleted && !modified && !notInCache && modifiedFiles.isEmpty && addedFiles.isEmpty && deletedFiles.isEmpty
    }
}

extension Workspace {
    /// `MLV_TRACE_WATCH=1` says on stderr when status took what `mlv watch` said instead of a
    /// walk (a debugging aid, used by the tests that prove it does).
    static let traceWatch = Environment.get("MLV_TRACE_WATCH") != nil

    /// `mlv status`: compares every tracked path (or the given ones) with its pointer. Unchanged
    /// files are recognised by the state index and never rehashed. (Pipeline outs are reported
    /// as the stale stages they make, by `pipelineStatus`.)
    package func status(_ arguments: [String] = [], cwd: String = FS.currentDirectory()) throws -> [PathStatus] {
        let outputs = try self.outputs(for: arguments, cwd: cwd, .pointers)
        let worker = HashWorker()
        let scanner = self.scanner
        var out: [PathStatus] = []
        for o in outputs {
            out.append(try status(of: o, scanner, worker))
        }
        flushState()
        return out
    }

    /// How one output's workspace content differs from its record.
    func status(of o: Output, _ scanner: TreeScanner, _ worker: HashWorker) throws -> PathStatus {
        var s = PathStatus(target: o.path, isDirectory: o.hash.isDirectory)
        let abs = absolute(o.path)
        guard let st = try FS.status(abs) else {
            s.deleted = true
            s.notInCache = !cache.contains(o.hash)
            return s
        }
        if !o.hash.isDirectory {
            guard st.kind != .directory else { s.modified = true; return s }
            let file = try scanner.describe(abs, shownAs: o.path, relativePath: Path.base(o.path), status: st)
            s.modified = try scanner.digest(abs, file, worker) != o.hash.digest
            s.notInCache = !cache.contains(o.hash)
            return s
        }
        guard st.kind == .directory else { s.modified = true; return s }
        // With `mlv watch` running: what changed since this folder last matched (asked before
        // anything is read, so whatever changes during this status is named next time).
        let hash = o.hash.description
        let since = state.watchToken(o.path, hash: hash)
        let watched = WatchChanges.ask(root: root, since: since?.token)
        var scanner = scanner
        let links = WorkspaceLinks()
        scanner.links = links
        /// A folder compared with its record, found to hold the same files with these modified
        /// (folder-relative), is vouched for from the watcher's new token on; those files are
        /// looked at again next time, with whatever the watcher names. Not when a symlink in it
        /// leads to a file elsewhere, whose changes the watcher would not see.
        func matched(_ modified: [String]) {
            guard let watched, !links.seen else { return }
            state.setWatchToken(o.path, hash: hash, token: watched.token, dirty: modified.map { o.path + "/" + $0 })
        }
        if let known = state.directory(o.path), known.hash == hash {
            if let changed = watched?.paths.map({ $0 + (since?.dirty ?? []) }),
               let modified = try scanner.watchedStatus(o.path, changed: changed, worker) {
                // Only the inner folders the watcher named were read.
                if Self.traceWatch {
                    var line = "mlv: trace: watch: \(o.path): \(changed.count) changed paths in the workspace\n"
                    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
                }
                s.modifiedFiles = modified.sorted()
                s.notInCache = !(try objectsPresent(o.hash, manifest: nil))
                matched(modified)
                return s
            }
            if let modified = try scanner.quickStatus(o.path, fingerprint: known.fingerprint, worker) {
                // Every file as it was when this folder last matched its record, or the same files
                // with some new stats (only those were read), in memory that does not grow with it.
                s.modifiedFiles = modified.sorted()
                s.notInCache = !(try objectsPresent(o.hash, manifest: nil))
                matched(modified)
                return s
            }
        }
        let files = try scanner.walk(o.path)
        let fp = TreeScanner.fingerprint(files)
        guard let manifest = try cache.manifest(o.hash) else {
            // Without the manifest only the whole tree can be compared.
            s.notInCache = true
            let entries = try files.map { DirectoryManifest.Entry(path: $0.path, digest: try scanner.digest(abs + "/" + $0.path, $0, worker), size: $0.status.size) }
            s.modified = Digest(bytes: SHA256Hasher.hexBytes(DirectoryManifest(entries: entries).serialized())) != o.hash.digest
            return s
        }
        var digests: [Digest] = []
        let cmp = try scanner.compare(o.path, files: files, with: manifest, worker, digests: &digests)
        s.modifiedFiles = cmp.modified.map { $0.0.path }.sorted()
        s.addedFiles = cmp.added.map { $0.0.path }.sorted()
        s.deletedFiles = cmp.deleted.map { $0.path }
        s.notInCache = !(try objectsPresent(o.hash, manifest: manifest))
        if s.isClean {
            scanner.remember(o.path, o.hash, fp, files, digests)
            matched([])
        }
        return s
    }
}
