import Dispatch
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Running: stages start as soon as what they depend on is done (up to `jobs` at once), and
/// each is recorded — outs cached, lock written — on the scheduling thread as it finishes.
extension Reproducer {
    // MARK: - Running

    struct Finished {
        var index: Int
        var outcome: Result<StageProcess.Outcome, Error>
    }

    /// Runs the selected stages: `RunQueue` decides which stage goes next; each command runs on
    /// a thread of its own (not a Dispatch worker, whose pool is as wide as the machine has
    /// cores), so `-j N` runs N commands at once on any machine.
    func run() throws -> ReproResult {
        var result = ReproResult()
        var queue = RunQueue(upstream: graph.upstream, selected: selected, jobs: options.jobs)
        var failures: [(String, Error)] = []
        let finished = FinishedQueue()
        let wake = DispatchSemaphore(value: 0)
        let prefixed = queue.jobs > 1
        Interrupts.install()

        defer {
            ws.flushState()
        }
        func launch(_ i: Int) throws {
            let stage = graph.stages[i]
            guard FS.isDirectory(ws.absolute(stage.wdir)) else { throw PipelineError.missingWorkingDirectory(path: stage.wdir, stage: stage.name) }
            try ws.checkNotGitTracked(stage.outs.filter(\.cache).map(\.path))
            emit(.running(stage: stage.name))
            for o in stage.outs where !o.persist {
                if try FS.status(ws.absolute(o.path)) != nil { try FS.removeTree(ws.absolute(o.path)) }
            }
            forget(stage.outs.map(\.path))
            queue.started(i)
            let env = ProcessEnvironment.forStages(root: ws.root)
            let cwd = ws.absolute(stage.wdir)
            PosixThread.detach { [self] in
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

        /// Settles the offered stage `i` without a command when it can (frozen, unchanged,
        /// restored from the run-cache); false when its command must run.
        func settle(_ i: Int) throws -> Bool {
            let stage = graph.stages[i]
            if stage.frozen && !options.force {
                emit(.frozen(stage: stage.name))
                return true
            }
            let snap = try snapshot(stage, outs: locked[stage.name] != nil)
            let reasons = Staleness.reasons(stage, locked[stage.name], snap)
            if reasons.isEmpty && !options.force {
                emit(.unchanged(stage: stage.name))
                result.unchanged.append(stage.name)
                return true
            }
            if try restoreFromRunCache(stage, snap) {
                emit(.restored(stage: stage.name))
                result.restored.append(stage.name)
                return true
            }
            return false
        }

        /// Records a finished command's stage; throws what went wrong with it.
        func judge(_ f: Finished) throws {
            let stage = graph.stages[f.index]
            switch try f.outcome.get() {
            case .exited(0):
                if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: stage.name) }
                try record(stage, afterRun: true)
                result.ran.append(stage.name)
            case .exited(let code):
                if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: stage.name) }
                throw PipelineError.commandFailed(stage: stage.name, status: code)
            case .signaled(let sig):
                if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: stage.name) }
                throw PipelineError.commandKilled(stage: stage.name, signal: sig)
            }
        }

        // Stages are started and recorded until none is left; whatever ends the loop (a
        // failure to plan, hash or store), the lock and .gitignore written so far are staged.
        func schedule() throws {
            while true {
                while Interrupts.signal == 0, let step = queue.next() {
                    switch step {
                    case .blocked(let i, let by):
                        emit(.blocked(stage: graph.stages[i].name, by: graph.stages[by].name))
                    case .ready(let i):
                        if try settle(i) { queue.settled(i) } else if options.restoreOnly {
                            throw PipelineError.notRestorable(stage: graph.stages[i].name, cacheable: Reproducer.runCacheable(graph.stages[i]))
                        } else { try launch(i) }
                    }
                }
                if queue.running == 0 { break }
                wake.wait()
                for f in finished.takeAll() {
                    do {
                        try judge(f)
                        queue.finished(f.index, succeeded: true)
                    } catch {
                        queue.finished(f.index, succeeded: false)
                        failures.append((graph.stages[f.index].name, error))
                        if options.keepGoing, Interrupts.signal == 0 {
                            emit(.failed(stage: graph.stages[f.index].name, error: (error as? UserFacingError)?.message ?? "\(error)"))
                        } else {
                            queue.stopping = true
                        }
                    }
                }
            }
        }
        var scheduleError: Error?
        do { try schedule() } catch {
            scheduleError = error
            // Stages still running (-j) finish before mlv leaves; they are not recorded.
            while queue.running > 0 {
                wake.wait()
                for f in finished.takeAll() { queue.abandoned(f.index) }
            }
        }
        try flushIgnores()
        result.lockChanged = !toStage.isEmpty
        let commitMessage = failures.isEmpty && scheduleError == nil ? options.message : nil
        if commitMessage != nil { toStage.formUnion(try filesToCommit()) }
        if !toStage.isEmpty { _ = try ws.stageAndCommit(toStage.sorted(), message: nil) }
        if let commitMessage, let git = try ws.git(), try git.hasStagedChanges() {
            result.commit = try git.commit(message: commitMessage)
        }
        if let scheduleError { throw scheduleError }
        if Interrupts.signal != 0, let stage = failures.first?.0 ?? selected.first.map({ graph.stages[$0].name }) {
            throw PipelineError.interrupted(stage: stage)
        }
        if failures.count == 1 { throw failures[0].1 }
        if failures.count > 1 { throw PipelineError.stagesFailed(failures.map(\.0)) }
        return result
    }

    /// What `repro -m` commits besides the lock and .gitignore files: pipeline.yaml, the params
    /// files the stages read, and uncached outs (metrics and plots kept in git).
    func filesToCommit() throws -> [String] {
        var files: [String] = []
        for i in selected {
            let s = graph.stages[i]
            if !files.contains(s.file) { files.append(s.file) }
            files += s.params.map(\.file) + s.outs.filter { !$0.cache }.map(\.path)
        }
        return try files.filter { try FS.status(ws.absolute($0)) != nil }
    }

    /// After a successful run: every declared out exists; cached outs go into the cache; the
    /// lock gains the stage. Nothing is recorded when an out is missing.
    func record(_ stage: Stage, afterRun: Bool) throws {
        try ws.checkNotGitTracked(stage.outs.filter(\.cache).map(\.path))
        for o in stage.outs where try FS.status(ws.absolute(o.path)) == nil {
            throw PipelineError.missingOutput(stage: stage.name, path: o.path)
        }
        var outs: [Lockfile.Entry] = []
        var runCacheable = afterRun && Reproducer.runCacheable(stage)
        for o in stage.outs {
            if o.cache {
                outs.append(try ws.cacheOutput(o.path))
                pendingIgnores.append(o.path)
            } else if let r = try ws.scanner.current(o.path, worker) {
                outs.append(r)
                // An uncached file out (metrics) is copied into the cache too, so that the
                // run-cache can restore it; a folder makes the stage not run-cacheable.
                if runCacheable { runCacheable = try ws.storeCopy(r) }
            }
        }
        forget(stage.outs.map(\.path))
        for o in outs { records[o.path] = o }
        let snap = try snapshot(stage)
        let entry = Lockfile.StageLock(name: stage.name, cmd: stage.cmd, deps: snap.deps, params: snap.params, outs: outs)
        try writeLock(entry)
        if runCacheable {
            try runCache.save(RunCache.key(stage, deps: snap.deps, params: snap.params), outs: outs)
        }
    }

    /// Stages whose outs an earlier identical run can stand in for: not `always_changed`, with
    /// outs, none of them `persist` (its old content is part of the result).
    static func runCacheable(_ stage: Stage) -> Bool {
        !stage.alwaysChanged && !stage.outs.isEmpty && !stage.outs.contains(where: \.persist)
    }

    /// `mlv commit`: records the selected stages as they are now, without running them.
    func commitSelected(skipIncomplete: Bool) throws -> [String] {
        var committed: [String] = []
        for i in selected {
            let stage = graph.stages[i]
            if skipIncomplete {
                let paths = stage.deps + stage.outs.map(\.path) + stage.params.map(\.file)
                if try paths.contains(where: { try FS.status(ws.absolute($0)) == nil }) { continue }
                if (try? snapshot(stage)) == nil { continue }  // a param key that is not there
            }
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
        guard options.runCache, !options.force, Reproducer.runCacheable(stage), snap.missingDeps.isEmpty else { return false }
        let key = RunCache.key(stage, deps: snap.deps, params: snap.params)
        let cached = Set(stage.outs.filter(\.cache).map(\.path))
        let linker = ws.linker(), copier = ws.linker(mode: .copy)
        for recorded in runCache.entries(key, outs: stage.outs.map(\.path)) {
            // An entry only names objects: their sizes and file counts are read from the objects
            // themselves. One whose objects cannot be used (a manifest that is unsafe or
            // unreadable) is passed over, and the stage runs.
            let entry: [Lockfile.Entry]
            do {
                guard try recorded.allSatisfy({ try ws.isCached($0.hash) }) || fetchedFromRemote(recorded) else { continue }
                entry = try recorded.map { try ws.entryFromCache(path: $0.path, hash: $0.hash) }
            } catch {
                ws.warnOnce("a run-cache entry of stage '\(stage.name)' names objects mlv cannot use (\((error as? UserFacingError)?.message ?? "\(error)")); it is skipped")
                continue
            }
            for o in entry {
                // Uncached outs (tracked by git, edited by people) are plain copies.
                let output = Output(o, stage: stage.name, cache: cached.contains(o.path))
                _ = try ws.restore([output], force: true, linker: output.cache ? linker : copier)
                if output.cache { pendingIgnores.append(o.path) }
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
    /// dropped) and writes the lock file of its pipeline file atomically when its bytes change.
    func writeLock(_ entry: Lockfile.StageLock) throws {
        locked[entry.name] = entry
        lock = Lockfile(stages: graph.stages.compactMap { locked[$0.name] })
        guard let file = graph.stages.first(where: { $0.name == entry.name })?.file else { return }
        let rel = Stage.lockFile(for: file)
        var text = Lockfile.header
        for stage in graph.stages where stage.file == file {
            guard let s = locked[stage.name] else { continue }
            if let (recorded, block) = blocks[s.name], recorded == s { text += block; continue }
            var named = s
            named.name = stage.shortName
            let block = try Lockfile.block(named)
            blocks[s.name] = (s, block)
            text += block
        }
        if text == lockTexts[rel] { return }
        try AtomicFile.write(text, to: ws.absolute(rel))
        lockTexts[rel] = text
        toStage.insert(rel)
    }

    /// Runs a command with its output collected line by line and emitted with the stage's name.
    func runPrefixed(_ command: String, stage: String, cwd: String, env: [String: String]) throws -> StageProcess.Outcome {
        try StageProcess.runLines(command, cwd: cwd, environment: env, name: stage) { [self] line in emit(.output(stage: stage, line: line)) }
    }
}
