import Dispatch
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

package struct ReproOptions: Sendable {
    /// Stage names (`NAME`, a `foreach` group, `FILE:NAME`) or pipeline files, the files
    /// workspace-relative (see `StageTargets`).
    package var targets: [String] = []
    /// The workspace-relative folder the command runs in: a bare name several pipeline files
    /// define means the stage of this folder's file, as in DVC.
    package var folder = "."
    package var dry = false
    package var force = false
    package var singleItem = false
    package var downstream = false
    package var keepGoing = false
    /// List stale stages and why; run nothing.
    package var check = false
    package var jobs = 1
    package var runCache = true
    /// Run no command: a stale stage is restored from the run-cache or the run fails, naming it
    /// (`repro --restore-only`: collecting what other machines ran, as `dag --airflow` does).
    package var restoreOnly = false
    /// `repro --pull`: a run-cache entry whose objects are not all cached has them fetched from
    /// `remote` (nil: the default) before it is used (see Workspace+RunCacheRemote.swift).
    package var pull = false
    /// `repro --pull`, before planning: fetch what the lock and pointers record from `remote`,
    /// restore the missing outs, fetch the remote's run-cache entries (with `runCache`); all under
    /// the one workspace lock the run then holds.
    package var pullFirst = false
    package var remote: String?
    /// Also make a git commit of the lock and .gitignore files.
    package var message: String?
    /// Refuse missing deps and params before anything runs (`mlv commit` without stage names
    /// skips incomplete stages instead).
    var checkInputs = true
    package init() {}
}

/// What `repro` reports as it goes (called from one thread at a time).
package enum ReproEvent: Sendable {
    case unchanged(stage: String)
    case frozen(stage: String)
    case running(stage: String)
    case command(stage: String, command: String)
    /// A line of a command's output, when several stages run at once (`-j`).
    case output(stage: String, line: String)
    case restored(stage: String)
    case stale(stage: String, reasons: [String])
    case failed(stage: String, error: String)
    case blocked(stage: String, by: String)
    /// `--pull`: what the fetch moved; objects the remote lacks (their stages will run); an
    /// out restored from the cache; run-cache entries fetched and refused.
    case pulled(TransferResult)
    case missingOnRemote(message: String)
    case restoredOutput(path: String)
    case fetchedRunEntries(kept: Int, refused: Int)
}

package struct ReproResult: Sendable {
    package var ran: [String] = []
    package var restored: [String] = []
    package var unchanged: [String] = []
    /// `--check` / `--dry`: stages that would run, with the reasons.
    package var stale: [(stage: String, reasons: [String])] = []
    /// For `--check`: a stage is stale for a reason other than being `always_changed` (which is
    /// reported, as DVC does, but alone fails no check).
    package var failsCheck: Bool { ReproResult.failsCheck(stale) }
    package static func failsCheck(_ stale: [(stage: String, reasons: [String])]) -> Bool {
        stale.contains { $0.reasons != ["always changed"] }
    }
    package var lockChanged = false
    package var commit: String?
}

extension Workspace {
    /// `mlv repro`: runs the stale stages of `pipeline.yaml` in dependency order, caching their
    /// outs and recording them in `pipeline.lock` after each stage.
    package func reproduce(_ options: ReproOptions, events: @escaping (ReproEvent) -> Void) throws -> ReproResult {
        if options.check || options.dry { return try Reproducer(workspace: self, options: options, events: events).checkStale() }
        try checkCanCommit(options.message)
        // The lock is read under the workspace lock: a second repro plans from what the first wrote.
        return try withLock {
            let session = options.pullFirst ? try Reproducer.pull(into: self, options, events: events) : nil
            let reproducer = try Reproducer(workspace: self, options: options, events: events)
            reproducer.remoteSession = session
            let result = try reproducer.run()
            CacheLimit(self).afterGrowth()
            return result
        }
    }

    /// Stale stages and why (for `mlv status`); empty without a pipeline. A DVC pipeline
    /// file with no pipeline.yaml beside it is listed too: mlv does not read it, so it is never
    /// "up to date".
    package func pipelineStatus() throws -> [(stage: String, reasons: [String])] {
        let unread = try PipelineFile.walk(self).dvcPipelineFiles
            .filter { !FS.exists(absolute(Path.join(Path.parent($0), PipelineFile.fileName))) }
            .map { (stage: $0, reasons: ["a DVC pipeline mlv does not read; `mlv migrate` converts it"]) }
        guard try !PipelineFile.files(in: self).isEmpty else { return unread }
        var options = ReproOptions()
        options.check = true
        return try Reproducer(workspace: self, options: options, events: { _ in }).checkStale().stale + unread
    }
}

/// One `repro` run: the plan, what is known about paths so far, and the lock being written.
final class Reproducer {
    let ws: Workspace
    let options: ReproOptions
    let graph: StageGraph
    let selected: [Int]
    var lock: Lockfile
    /// The lock's stages by name.
    var locked: [String: Lockfile.StageLock] = [:]
    /// The bytes of each lock file on disk (by workspace-relative path), and each stage's
    /// serialized block.
    var lockTexts: [String: String] = [:]
    var blocks: [String: (Lockfile.StageLock, String)] = [:]
    let emitLock = Lock()
    let emitRaw: (ReproEvent) -> Void
    let worker = HashWorker()
    let runCache: RunCache
    /// `repro --pull`: the remote, opened once, for the run-cache entries' objects.
    var remoteSession: RemoteSession?
    /// Records of paths hashed in this run (nil: missing), forgotten when a stage rewrites them.
    var records: [String: Lockfile.Entry?] = [:]
    var paramFiles: [String: ParamsFile] = [:]
    var toStage: Set<String> = []
    /// Cached outs to add to .gitignore files, written once per folder at the end.
    var pendingIgnores: [String] = []

    func flushIgnores() throws {
        for changed in try ws.ensureGitignored(all: pendingIgnores) { toStage.insert(changed) }
        pendingIgnores = []
    }

    init(workspace: Workspace, options: ReproOptions, events: @escaping (ReproEvent) -> Void) throws {
        ws = workspace
        self.options = options
        emitRaw = events
        let tracked = try ws.allPointers().map(\.path)
        guard let pipeline = try PipelineFile.load(in: ws) else { throw try PipelineFile.missing(in: ws) }
        graph = try StageGraph(pipeline.stages, trackedPaths: tracked)
        selected = try graph.selection(options.targets, singleItem: options.singleItem, downstream: options.downstream, from: options.folder)
        (lock, lockTexts) = try ws.loadLockWithText(stages: pipeline.stages)
        locked = Dictionary(lock.stages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        runCache = ws.runCache
        try checkInputs(requireInputs: options.checkInputs)
    }

    func emit(_ e: ReproEvent) {
        emitLock.lock()
        defer { emitLock.unlock() }
        emitRaw(e)
    }

    /// `repro --pull`'s first part (the caller holds the lock): the data from the remote, the
    /// missing outs restored, the remote's run-cache entries; the session stays open for the
    /// run-cache entries the run then uses. Objects the remote lacks are not an error: the
    /// stages that make them run.
    static func pull(into ws: Workspace, _ options: ReproOptions, events: (ReproEvent) -> Void) throws -> RemoteSession {
        let session = try RemoteSession(ws, remote: options.remote, jobs: nil)
        do {
            events(.pulled(try ws.fetch(.workspace(at: ws.root), session: session)))
        } catch let e as RemoteError {
            guard case .missingOnRemote = e else { throw e }
            events(.missingOnRemote(message: e.message))
        }
        let lockOuts = try ws.outputs(.lock).filter { o in try o.cache && FS.status(ws.absolute(o.path)) == nil && ws.isCached(o.hash) }
        for path in try ws.restore(lockOuts, force: false, linker: ws.linker()).restoredOutputs { events(.restoredOutput(path: path)) }
        if options.runCache {
            let (kept, refused) = try session.fetchRunEntries()
            events(.fetchedRunEntries(kept: kept, refused: refused))
        }
        return session
    }

    // MARK: - Before running anything

    /// No path leaves the workspace through a symlink; with `requireInputs`, every dep exists
    /// or is produced by a stage, and every param is in its file.
    func checkInputs(requireInputs: Bool) throws {
        var producedFolders = Set<String>()
        for path in graph.producer.keys {
            var dir = StageGraph.parent(path)
            while let d = dir, producedFolders.insert(d).inserted { dir = StageGraph.parent(d) }
        }
        for i in selected {
            let s = graph.stages[i]
            // No path may reach outside the workspace through a symbolic link (an out's folder
            // is emptied before its stage runs).
            for p in [s.wdir] + s.deps + s.outs.map(\.path) + s.params.map(\.file) where p != "." {
                do { try ws.checkNoSymlinkEscape(p, shownAs: p) } catch { throw PipelineError.symlinkEscape(path: p, stage: s.name) }
            }
            if s.wdir != ".", FS.exists(ws.absolute(s.wdir)) {
                // The folder itself, symlinks followed: inside, and not .git or .mlv.
                do { try ws.checkResolvesInside(ws.absolute(s.wdir), shownAs: s.wdir) } catch let e as WorkspaceError {
                    if case .protectedPath = e { throw e }
                    throw PipelineError.symlinkEscape(path: s.wdir, stage: s.name)
                }
            }
            guard requireInputs else { continue }
            for d in s.deps where !isProduced(d, producedFolders) {
                guard try FS.status(ws.absolute(d)) != nil else { throw PipelineError.missingDependency(path: d, stage: s.name) }
            }
            for p in s.params where !isProduced(p.file, producedFolders) {
                _ = try paramValues(s, p)
            }
        }
    }

    func isProduced(_ path: String, _ producedFolders: Set<String>) -> Bool {
        if graph.producer[path] != nil || producedFolders.contains(path) { return true }
        var dir = StageGraph.parent(path)
        while let d = dir { if graph.producer[d] != nil { return true }; dir = StageGraph.parent(d) }
        return false
    }

    // MARK: - What is there now

    func record(_ path: String) throws -> Lockfile.Entry? {
        if let known = records[path] { return known }
        let r = try ws.scanner.current(path, worker)
        records[path] = r
        return r
    }

    func forget(_ outs: [String]) {
        for key in Array(records.keys) where outs.contains(where: { key == $0 || key.hasPrefix($0 + "/") || $0.hasPrefix(key + "/") }) {
            records.removeValue(forKey: key)
        }
        for key in Array(paramFiles.keys) where outs.contains(where: { key == $0 || key.hasPrefix($0 + "/") }) {
            paramFiles.removeValue(forKey: key)
        }
    }

    func paramValues(_ stage: Stage, _ dep: ParamDependency) throws -> [(key: String, value: ParamValue)] {
        let file: ParamsFile
        if let f = paramFiles[dep.file] { file = f } else {
            file = try ParamsFile.load(dep.file, root: ws.root)
            paramFiles[dep.file] = file
        }
        guard let keys = dep.keys else {
            guard case .dict(let pairs) = file.root else { return [] }
            return pairs
        }
        return try keys.map { ($0, try file.value($0, stage: stage.name)) }
    }

    /// What the stage's deps, params and outs hold now. `outs: false` leaves the outs out: a
    /// stage the lock does not know runs whatever they hold, so reading them (all of a folder
    /// a `persist` stage keeps, say) would be wasted.
    func snapshot(_ stage: Stage, outs: Bool = true) throws -> StageSnapshot {
        var snap = StageSnapshot(deps: [], missingDeps: [], params: [], outs: [], missingOuts: [])
        for d in stage.deps {
            if let r = try record(d) { snap.deps.append(r) } else { snap.missingDeps.append(d) }
        }
        for p in stage.params {
            let values = try paramValues(stage, p)
            if let i = snap.params.firstIndex(where: { $0.file == p.file }) {
                for v in values where !snap.params[i].values.contains(where: { $0.key == v.key }) { snap.params[i].values.append(v) }
            } else {
                snap.params.append((p.file, values))
            }
        }
        for o in stage.outs where outs {
            if let r = try record(o.path) { snap.outs.append(r) } else { snap.missingOuts.append(o.path) }
        }
        return snap
    }

    // MARK: - --check and --dry

    func checkStale() throws -> ReproResult {
        var result = ReproResult()
        var staleSet = Set<Int>()
        for i in selected {
            let s = graph.stages[i]
            if s.frozen { continue }
            var reasons = options.force ? ["forced"] : try Staleness.reasons(s, locked[s.name], snapshot(s, outs: locked[s.name] != nil))
            if reasons.isEmpty, options.dry, let up = graph.upstream[i].first(where: staleSet.contains) {
                reasons = ["after upstream stage '\(graph.stages[up].name)'"]
            }
            guard !reasons.isEmpty else { result.unchanged.append(s.name); continue }
            staleSet.insert(i)
            result.stale.append((s.name, reasons))
            emit(.stale(stage: s.name, reasons: reasons))
        }
        ws.flushState()
        return result
    }
}

/// Stages whose command ended, handed from the threads that waited for them to the scheduler.
final class FinishedQueue: @unchecked Sendable {
    private let lock = Lock()
    private var items: [Reproducer.Finished] = []
    func push(_ f: Reproducer.Finished) { lock.lock(); items.append(f); lock.unlock() }
    func takeAll() -> [Reproducer.Finished] { lock.lock(); defer { lock.unlock() }; let out = items; items = []; return out }
}

/// The environment of this process, for the commands it starts.
enum ProcessEnvironment {
    /// What a stage's command runs with: this environment, `MLV_ROOT` (and DVC's `DVC_ROOT`) set
    /// to the workspace, and the folder of the mlv running `repro` first on `PATH`, so `mlv` in a
    /// stage is this same build (never another version that happens to be on `PATH`, nor
    /// missing when `repro` was started by its full path).
    static func forStages(root: String) -> [String: String] {
        var env = current().merging(["MLV_ROOT": root, "DVC_ROOT": root]) { _, b in b }
        if let exe = FS.realPath("/proc/self/exe") {
            env["PATH"] = Path.parent(exe) + (env["PATH"].map { ":" + $0 } ?? "")
        }
        return env
    }

    static func current() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}
