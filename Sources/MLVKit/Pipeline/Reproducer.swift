import Dispatch
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

public struct ReproOptions: Sendable {
    public var targets: [String] = []
    public var dry = false
    public var force = false
    public var singleItem = false
    public var downstream = false
    public var keepGoing = false
    /// List stale stages and why; run nothing.
    public var check = false
    public var jobs = 1
    public var runCache = true
    /// Also make a git commit of the lock and .gitignore files.
    public var message: String?
    public init() {}
}

/// What `repro` reports as it goes (called from one thread at a time).
public enum ReproEvent: Sendable {
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
}

public struct ReproResult: Sendable {
    public var ran: [String] = []
    public var restored: [String] = []
    public var unchanged: [String] = []
    /// `--check` / `--dry`: stages that would run, with the reasons.
    public var stale: [(stage: String, reasons: [String])] = []
    public var lockChanged = false
    public var commit: String?
}

extension Workspace {
    /// `mlv repro`: runs the stale stages of `pipeline.yaml` in dependency order, caching their
    /// outs and recording them in `pipeline.lock` after each stage.
    public func reproduce(_ options: ReproOptions, events: @escaping (ReproEvent) -> Void) throws -> ReproResult {
        let r = try Reproducer(workspace: self, options: options, events: events)
        if options.check || options.dry { return try r.checkStale() }
        try checkCanCommit(options.message)
        return try withLock { try r.run() }
    }

    /// Stale stages and why (for `mlv status`); empty without a pipeline.
    public func pipelineStatus() throws -> [(stage: String, reasons: [String])] {
        guard FS.exists(absolute(PipelineFile.fileName)) else { return [] }
        var options = ReproOptions()
        options.check = true
        return try Reproducer(workspace: self, options: options, events: { _ in }).checkStale().stale
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
    /// The lock's bytes on disk, and each stage's serialized block.
    var lockText: String?
    var blocks: [String: (Lockfile.StageLock, String)] = [:]
    let emitLock = Lock()
    let emitRaw: (ReproEvent) -> Void
    let worker = HashWorker()
    let runCache: RunCache
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
        guard let pipeline = try PipelineFile.load(root: ws.root) else { throw PipelineError.noPipeline }
        graph = try StageGraph(pipeline.stages, trackedPaths: try ws.allPointers().map(\.target))
        selected = try graph.selection(options.targets, singleItem: options.singleItem, downstream: options.downstream)
        let lockPath = ws.absolute(Lockfile.fileName)
        if FS.exists(lockPath) {
            guard let st = try FS.status(lockPath), st.kind == .file else { throw PipelineError.notARegularFile(path: Lockfile.fileName) }
            guard st.size <= 64 << 20 else { throw PipelineError.fileTooLarge(path: Lockfile.fileName, limit: "64 MiB") }
            let text = try FS.readText(lockPath)
            lockText = text
            lock = try Lockfile.parse(text)
        } else {
            lockText = nil
            lock = Lockfile()
        }
        locked = Dictionary(lock.stages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        runCache = RunCache(root: Path.join(ws.cache.root, "runs"))
        try checkInputs()
    }

    func emit(_ e: ReproEvent) {
        emitLock.lock()
        defer { emitLock.unlock() }
        emitRaw(e)
    }

    // MARK: - Before running anything

    /// Every dep exists or is produced by a stage, and every param is in its file.
    func checkInputs() throws {
        var producedFolders = Set<String>()
        for path in graph.producer.keys {
            var dir = StageGraph.parent(path)
            while let d = dir, producedFolders.insert(d).inserted { dir = StageGraph.parent(d) }
        }
        for i in selected {
            let s = graph.stages[i]
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
        let r = try ws.currentRecord(path, worker)
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
            file = try ParamsFile.load(ws.absolute(dep.file), path: dep.file)
            paramFiles[dep.file] = file
        }
        guard let keys = dep.keys else {
            guard case .dict(let pairs) = file.root else { return [] }
            return pairs
        }
        return try keys.map { ($0, try file.value($0, stage: stage.name)) }
    }

    func snapshot(_ stage: Stage) throws -> StageSnapshot {
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
        for o in stage.outs {
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
            var reasons = options.force ? ["forced"] : try Staleness.reasons(s, locked[s.name], snapshot(s))
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

    // MARK: - Running

    enum State { case pending, running, done, failed, blocked }

    struct Finished {
        var index: Int
        var outcome: Result<StageProcess.Outcome, Error>
    }

    func run() throws -> ReproResult {
        var result = ReproResult()
        var state = [State](repeating: .done, count: graph.stages.count)
        for i in selected { state[i] = .pending }
        let inSelection = Set(selected)
        var running = 0
        var stopping = false
        var failures: [(String, Error)] = []
        let finished = FinishedQueue()
        let wake = DispatchSemaphore(value: 0)
        let jobs = max(1, options.jobs)
        Interrupts.install()

        defer {
            ws.flushState()
        }
        func launch(_ i: Int) throws {
            let stage = graph.stages[i]
            emit(.running(stage: stage.name))
            for o in stage.outs where !o.persist {
                if try FS.status(ws.absolute(o.path)) != nil { try FS.removeTree(ws.absolute(o.path)) }
            }
            forget(stage.outs.map(\.path))
            running += 1
            state[i] = .running
            let env = ProcessEnvironment.current().merging(["MLV_ROOT": ws.root, "DVC_ROOT": ws.root]) { _, b in b }
            let cwd = ws.absolute(stage.wdir)
            let prefixed = jobs > 1
            DispatchQueue.global().async { [self] in
                var outcome: Result<StageProcess.Outcome, Error> = .success(.exited(0))
                for c in stage.cmd {
                    emit(.command(stage: stage.name, command: c))
                    do {
                        let o = try prefixed ? runPrefixed(c, stage: stage.name, cwd: cwd, env: env)
                                             : StageProcess.run(c, cwd: cwd, environment: env, output: .inherit)
                        outcome = .success(o)
                        if o != .exited(0) { break }
                    } catch {
                        outcome = .failure(error)
                        break
                    }
                }
                finished.push(Finished(index: i, outcome: outcome))
                wake.signal()
            }
        }

        // Stages are started and recorded until none is left; whatever ends the loop (a
        // failure to plan, hash or store), the lock and .gitignore written so far are staged.
        func schedule() throws {
            while true {
                // Start (or settle) every stage whose upstream is done, up to `jobs` at once.
                var progressed = true
                while progressed && !stopping && Interrupts.signal == 0 {
                    progressed = false
                    for i in selected where state[i] == .pending && running < jobs {
                        let ups = graph.upstream[i].filter { inSelection.contains($0) }
                        if let bad = ups.first(where: { state[$0] == .failed || state[$0] == .blocked }) {
                            state[i] = .blocked
                            emit(.blocked(stage: graph.stages[i].name, by: graph.stages[bad].name))
                            progressed = true
                            continue
                        }
                        guard ups.allSatisfy({ state[$0] == .done }) else { continue }
                        let stage = graph.stages[i]
                        if stage.frozen && !options.force {
                            emit(.frozen(stage: stage.name))
                            state[i] = .done
                            progressed = true
                            continue
                        }
                        let snap = try snapshot(stage)
                        let reasons = Staleness.reasons(stage, locked[stage.name], snap)
                        if reasons.isEmpty && !options.force {
                            emit(.unchanged(stage: stage.name))
                            result.unchanged.append(stage.name)
                            state[i] = .done
                            progressed = true
                            continue
                        }
                        if try restoreFromRunCache(stage, snap) {
                            emit(.restored(stage: stage.name))
                            result.restored.append(stage.name)
                            state[i] = .done
                            progressed = true
                            continue
                        }
                        try launch(i)
                        progressed = true
                    }
                }
                if running == 0 { break }
                wake.wait()
                let done = finished.takeAll()
                for f in done {
                    running -= 1
                    let stage = graph.stages[f.index]
                    do {
                        switch try f.outcome.get() {
                        case .exited(0):
                            if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: stage.name) }
                            try record(stage, afterRun: true)
                            result.ran.append(stage.name)
                            state[f.index] = .done
                        case .exited(let code):
                            if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: stage.name) }
                            throw PipelineError.commandFailed(stage: stage.name, status: code)
                        case .signaled(let sig):
                            if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: stage.name) }
                            throw PipelineError.commandKilled(stage: stage.name, signal: sig)
                        }
                    } catch {
                        state[f.index] = .failed
                        failures.append((stage.name, error))
                        if options.keepGoing, Interrupts.signal == 0 {
                            emit(.failed(stage: stage.name, error: (error as? UserFacingError)?.message ?? "\(error)"))
                        } else {
                            stopping = true
                        }
                    }
                }
            }
        }
        var scheduleError: Error?
        do { try schedule() } catch { scheduleError = error }
        try flushIgnores()
        result.lockChanged = !toStage.isEmpty
        let commitMessage = failures.isEmpty && scheduleError == nil ? options.message : nil
        if !toStage.isEmpty || commitMessage != nil {
            result.commit = try ws.stageAndCommit(toStage.sorted(), message: toStage.isEmpty ? nil : commitMessage)
        }
        if let scheduleError { throw scheduleError }
        if Interrupts.signal != 0, let stage = failures.first?.0 ?? selected.first.map({ graph.stages[$0].name }) {
            throw PipelineError.interrupted(stage: stage)
        }
        if failures.count == 1 { throw failures[0].1 }
        if failures.count > 1 { throw PipelineError.stagesFailed(failures.map(\.0)) }
        return result
    }

    /// After a successful run: every declared out exists; cached outs go into the cache; the
    /// lock gains the stage. Nothing is recorded when an out is missing.
    func record(_ stage: Stage, afterRun: Bool) throws {
        for o in stage.outs where try FS.status(ws.absolute(o.path)) == nil {
            throw PipelineError.missingOutput(stage: stage.name, path: o.path)
        }
        var outs: [Lockfile.Entry] = []
        for o in stage.outs {
            if o.cache {
                outs.append(try ws.cacheOutput(o.path))
                pendingIgnores.append(o.path)
            } else if let r = try ws.currentRecord(o.path, worker) {
                outs.append(r)
            }
        }
        forget(stage.outs.map(\.path))
        for o in outs { records[o.path] = o }
        let snap = try snapshot(stage)
        let entry = Lockfile.StageLock(name: stage.name, cmd: stage.cmd, deps: snap.deps, params: snap.params, outs: outs)
        try writeLock(entry)
        if afterRun, !stage.alwaysChanged, !stage.outs.contains(where: { $0.persist || !$0.cache }) {
            try runCache.save(RunCache.key(stage, deps: snap.deps, params: snap.params), outs: outs)
        }
    }

    /// `mlv commit`: records the selected stages as they are now, without running them.
    func commitSelected(skipIncomplete: Bool) throws -> [String] {
        var committed: [String] = []
        for i in selected {
            let stage = graph.stages[i]
            if skipIncomplete, try stage.outs.contains(where: { try FS.status(ws.absolute($0.path)) == nil }) { continue }
            let before = locked[stage.name]
            try record(stage, afterRun: false)
            if locked[stage.name] != before { committed.append(stage.name) }
        }
        try flushIgnores()
        if !toStage.isEmpty || options.message != nil {
            _ = try ws.stageAndCommit(toStage.sorted(), message: toStage.isEmpty ? nil : options.message)
        }
        ws.flushState()
        return committed
    }

    /// The stage's outs restored from an earlier run with the same inputs, if there is one.
    func restoreFromRunCache(_ stage: Stage, _ snap: StageSnapshot) throws -> Bool {
        guard options.runCache, !options.force, !stage.alwaysChanged, !stage.outs.isEmpty,
              snap.missingDeps.isEmpty, !stage.outs.contains(where: { $0.persist || !$0.cache }) else { return false }
        let key = RunCache.key(stage, deps: snap.deps, params: snap.params)
        for entry in runCache.entries(key, outs: stage.outs.map(\.path)) where try entry.allSatisfy({ try ws.isCached($0) }) {
            for o in entry {
                try ws.restoreOutput(o)
                pendingIgnores.append(o.path)
            }
            forget(stage.outs.map(\.path))
            for o in entry { records[o.path] = o }
            let lockEntry = Lockfile.StageLock(name: stage.name, cmd: stage.cmd, deps: snap.deps, params: snap.params, outs: entry)
            try writeLock(lockEntry)
            return true
        }
        return false
    }

    /// Puts `entry` in the lock (stages in pipeline order; stages no longer in the pipeline
    /// dropped) and writes it atomically when its bytes change.
    func writeLock(_ entry: Lockfile.StageLock) throws {
        locked[entry.name] = entry
        lock = Lockfile(stages: graph.stages.compactMap { locked[$0.name] })
        var text = lock.stages.isEmpty ? try lock.serialized() : Lockfile.header
        for s in lock.stages {
            if let (recorded, block) = blocks[s.name], recorded == s { text += block; continue }
            let block = try Lockfile.block(s)
            blocks[s.name] = (s, block)
            text += block
        }
        if text == lockText { return }
        try AtomicFile.write(text, to: ws.absolute(Lockfile.fileName))
        lockText = text
        toStage.insert(Lockfile.fileName)
    }

    /// Runs a command with its output collected line by line and emitted with the stage's name.
    func runPrefixed(_ command: String, stage: String, cwd: String, env: [String: String]) throws -> StageProcess.Outcome {
        var fds: [Int32] = [0, 0]
        // Close-on-exec before any other stage starts, so no other child holds this pipe open.
        StageProcess.spawnLock.lock()
        guard pipe(&fds) == 0 else { StageProcess.spawnLock.unlock(); throw FileSystemError.posix("create a pipe for", stage, errno: errno) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        StageProcess.spawnLock.unlock()
        let readEnd = fds[0], writeEnd = fds[1]
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global().async { [self] in
            defer { reader.leave() }
            var pending: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, 65536) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending.append(contentsOf: buf[0..<n])
                while let nl = pending.firstIndex(of: 10) {
                    emit(.output(stage: stage, line: String(decoding: pending[..<nl], as: UTF8.self)))
                    pending.removeSubrange(...nl)
                }
            }
            if !pending.isEmpty { emit(.output(stage: stage, line: String(decoding: pending, as: UTF8.self))) }
            close(readEnd)
        }
        let outcome: StageProcess.Outcome
        do {
            outcome = try StageProcess.run(command, cwd: cwd, environment: env, output: .pipe(writeEnd))
        } catch {
            close(writeEnd)
            reader.wait()
            throw error
        }
        close(writeEnd)
        reader.wait()
        return outcome
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
