import Dispatch
import MLVGit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Running experiments: each in a scratch copy, `mlv repro` there, the result committed.
extension Experiments {
    /// What a queue run reports as it goes (from one thread at a time).
    package enum Event: Sendable {
        case started(String)
        case output(name: String, line: String)
        case finished(Experiment)
        case failed(name: String, error: String)
    }

    /// Runs one experiment (queued or not) and records it; its output goes to its log and,
    /// line by line, to `output`. A failing run is kept as a log and the entry is dropped from
    /// the queue; an interrupted one stays queued.
    package func run(_ q: Queued, output: @escaping (String) -> Void) throws -> Experiment {
        Interrupts.install()
        let git = try repository()
        let scratch = Path.join(folder, "run/" + q.name)
        defer { try? FS.removeTree(scratch) }
        do {
            let e = try execute(q, in: scratch, git: git, output: output)
            dequeue(q)
            return e
        } catch let error as ExperimentError {
            if Interrupts.signal == 0 { dequeue(q) }
            throw error
        } catch {
            // Anything before or after the command (the params, the checkout, the commit): logged too.
            let text = (error as? UserFacingError)?.message ?? "\(error)"
            appendLog(q.name, "mlv: error: \(text)\n")
            if Interrupts.signal == 0 { dequeue(q) }
            throw ExperimentError.failed(name: q.name, outcome: text)
        }
    }

    /// Runs the queue, `jobs` experiments at a time (one runner per workspace); a failed one is
    /// reported and the rest go on. Ctrl-C ends the running ones (they stay queued) and starts
    /// no more.
    package func runAll(jobs: Int, events: @escaping (Event) -> Void) throws -> (done: [Experiment], failed: [String]) {
        try FS.makeDirectories(folder)
        let runner: FileLock
        do { runner = try FileLock(path: Path.join(folder, "runner.lock"), timeout: 0, onWait: {}) } catch is FileLock.Timeout { throw ExperimentError.runnerBusy }
        defer { runner.unlock() }
        let pending = try queued()
        let lock = Lock()
        var next = 0
        var done: [Experiment] = []
        var failed: [String] = []
        func emit(_ e: Event) { lock.lock(); events(e); lock.unlock() }
        let group = DispatchGroup()
        for _ in 0..<max(1, min(jobs, pending.count)) {
            group.enter()
            let thread = PosixThread.start {
                defer { group.leave() }
                while true {
                    lock.lock()
                    guard next < pending.count, Interrupts.signal == 0 else { lock.unlock(); return }
                    let q = pending[next]
                    next += 1
                    lock.unlock()
                    emit(.started(q.name))
                    do {
                        let e = try run(q) { emit(.output(name: q.name, line: $0)) }
                        lock.lock(); done.append(e); lock.unlock()
                        emit(.finished(e))
                    } catch {
                        lock.lock(); failed.append(q.name); lock.unlock()
                        emit(.failed(name: q.name, error: (error as? UserFacingError)?.message ?? "\(error)"))
                    }
                }
            }
            if let thread { pthread_detach(thread) } else { group.leave() }
        }
        group.wait()
        if Interrupts.signal != 0 { throw PipelineError.interrupted(stage: "the experiment queue") }
        return (done, failed)
    }

    /// The saved output of an experiment's run.
    package func log(_ name: String) throws -> String {
        let path = logPath(name)
        guard FS.exists(path) else {
            let known = try list().map(\.name) + queued().map(\.name)
            throw ExperimentError.unknown(name, suggestion: Suggestion.closest(to: name, in: known))
        }
        return try UntrustedFile.readText(path, shownAs: name + ".log", what: "an experiment log", limit: 256 << 20)
    }

    func appendLog(_ name: String, _ text: String) {
        try? FS.makeDirectories(Path.parent(logPath(name)))
        let fd = open(logPath(name), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        text.utf8CString.withUnsafeBufferPointer { _ = write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    // MARK: - One run

    private func execute(_ q: Queued, in scratch: String, git: GitRepository, output: @escaping (String) -> Void) throws -> Experiment {
        if FS.exists(scratch) { try FS.removeTree(scratch) }
        try FS.makeDirectories(scratch)
        // The starting state: the snapshot's files (paths checked like any tree's).
        for e in try git.treeEntries(at: q.snapshot, under: "", recursive: true) ?? [] where !e.isDirectory {
            guard (try? WorkspacePath(validating: e.path)) != nil || e.path.hasPrefix(".mlv/") || e.path.contains("/.mlv/") else { continue }
            guard let bytes = try git.readFile(e.path, at: q.snapshot) else { continue }
            let abs = Path.join(scratch, e.path)
            try FS.makeDirectories(Path.parent(abs))
            try FS.writeFile(abs, bytes, mode: e.isExecutable ? 0o755 : 0o644)   // a scratch copy: no fsync
        }
        // A git repository of its own, so nothing the run stages reaches the user's index.
        let scratchGit = try GitRepository.initialize(at: scratch)
        let folderInRepo = inRepo(git)
        let root = folderInRepo == "." ? scratch : Path.join(scratch, folderInRepo)
        let mlvDir = Path.join(root, ".mlv")
        try FS.makeDirectories(Path.join(mlvDir, "tmp"))
        if !FS.exists(Path.join(mlvDir, "cache")) { try FS.makeSymlink(ws.cache.root, Path.join(mlvDir, "cache")) }
        if FS.exists(Path.join(ws.mlvDir, "config.local.yaml")) {
            _ = try FS.copyFile(from: Path.join(ws.mlvDir, "config.local.yaml"), to: Path.join(mlvDir, "config.local.yaml"))
        }
        for s in q.params {
            let abs = Path.join(root, s.file)
            try PipelineError.checkInside(abs, root: root, shown: s.file)
            let text = try readParams(abs, shown: s.file)
            try FS.writeFile(abs, Array(try ParamOverride.apply(key: s.key, value: s.value, to: text, file: s.file).utf8))
        }
        let copy = try Workspace(root: root)
        // Linked, not copied, from the cache (its objects are read-only, so a stage cannot change them).
        try copy.setConfig("cache.type", "reflink,hardlink,copy", local: true)
        _ = try copy.checkout(cwd: root)

        try? FS.removeTree(logPath(q.name))
        appendLog(q.name, "mlv exp run \(q.name): \(q.params.map(\.description).joined(separator: " "))\n")
        let outcome = try runRepro(in: root, name: q.name, output: output)
        guard outcome == .exited(0) else {
            throw ExperimentError.failed(name: q.name, outcome: outcome == .signaled(SIGINT) || Interrupts.signal != 0 ? "interrupted" : "\(outcome)")
        }

        // What the experiment's commit holds: the starting files as they are now, what repro
        // staged (locks, .gitignore files), params files and outs kept in git (metrics, plots).
        var paths = Set(try git.treeEntries(at: q.snapshot, under: "", recursive: true)?.filter { !$0.isDirectory }.map(\.path) ?? [])
        paths.formUnion(try scratchGit.trackedFiles().map(\.path))
        let prefix = folderInRepo == "." ? "" : folderInRepo + "/"
        for stage in try PipelineFile.load(in: copy)?.stages ?? [] {
            for p in stage.params.map(\.file) + stage.outs.filter({ !$0.cache }).map(\.path) { paths.insert(prefix + p) }
        }
        var changes: [GitRepository.FileChange] = []
        for p in paths.sorted() where !p.hasPrefix(".git/") {
            let abs = Path.join(scratch, p)
            if let st = try FS.status(abs), st.kind == .file {
                changes.append(.init(path: p, bytes: try FS.readFile(abs), executable: st.mode & 0o111 != 0))
            } else {
                changes.append(.init(path: p, bytes: nil))
            }
        }
        let tree = try git.tree(from: q.snapshot, changing: changes)
        let message = "mlv exp run \(q.name)\n\n" + q.params.map { "-S \($0.description)\n" }.joined()
        let commit = try git.createCommit(tree: tree, parents: [q.baseline], message: message)
        let experiment = Experiment(name: q.name, commit: commit, baseline: q.baseline, time: try git.commitInfo(commit).time)
        do {
            try git.setReference(experiment.ref, to: commit, force: false, log: "mlv exp run")
        } catch {
            throw ExperimentError.nameTaken(q.name)
        }
        return experiment
    }

    /// `mlv repro` in the scratch copy, its output into the log and to `output` line by line.
    private func runRepro(in root: String, name: String, output: @escaping (String) -> Void) throws -> StageProcess.Outcome {
        let exe = FS.realPath("/proc/self/exe") ?? "mlv"
        let quoted = "'" + exe.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        let logFD = open(logPath(name), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { if logFD >= 0 { close(logFD) } }
        var env = ProcessEnvironment.current()
        env["MLV_EXP_NAME"] = name
        return try StageProcess.runLines("\(quoted) repro", cwd: root, environment: env, name: name,
                                         chunk: { if logFD >= 0 { _ = write(logFD, $0.baseAddress, $0.count) } }, line: output)
    }
}
