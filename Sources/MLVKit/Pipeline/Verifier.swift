import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// How one stage's outputs came out when `mlv repro --verify` ran it again in a scratch copy.
package struct StageVerification: Sendable, Equatable {
    package struct Difference: Sendable, Equatable {
        package var path: String
        /// The hash the lock records, and the one the rerun produced (nil: not produced).
        package var locked: ContentHash
        package var rerun: ContentHash?
    }

    package var stage: String
    package var outputs: [String]
    package var differences: [Difference]
    package var identical: Bool { differences.isEmpty }
}

/// `mlv repro --verify`: reruns the pipeline from its inputs in a scratch workspace and compares.
package struct ReproVerifier {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    /// `mlv repro --verify`: copies the pipeline's inputs (every dep no stage produces, the
    /// files beside each pipeline file, params, not the locks) into a scratch workspace
    /// outside this one, runs `executable repro --force --no-run-cache` there, and compares
    /// every out the rerun recorded with what this workspace's `pipeline.lock` says. Nothing in
    /// this workspace is written; the scratch copy is removed afterwards.
    package func run(executable: String) throws -> [StageVerification] {
        guard let pipeline = try PipelineFile.load(in: ws) else { throw try PipelineFile.missing(in: ws) }
        let lock = try ws.loadLock(stages: pipeline.stages)
        let outs = pipeline.stages.flatMap { $0.outs.map(\.path) }
        func produced(_ p: String) -> Bool { outs.contains { p == $0 || p.hasPrefix($0 + "/") } }
        var inputs = Set(pipeline.stages.flatMap { $0.deps }.filter { !produced($0) })
        inputs.formUnion(pipeline.stages.flatMap { $0.params.map(\.file) })
        // The files beside each pipeline file (its scripts, params), never its lock.
        for file in try PipelineFile.files(in: ws) {
            let dir = Path.parent(file)
            for e in try FS.list(ws.absolute(dir)) where e.kind == .file && e.name != Lockfile.fileName {
                let rel = dir == "." ? e.name : dir + "/" + e.name
                if !produced(rel) { inputs.insert(rel) }
            }
        }

        let base = ws.environment("TMPDIR") ?? "/tmp"
        let scratch = try FS.makeTemporaryDirectory(in: base, prefix: "mlv-verify")
        defer { try? FS.removeTree(scratch) }
        for input in inputs.sorted() {
            try ws.checkNoSymlinkEscape(input, shownAs: input)
            try copyTree(ws.absolute(input), to: Path.join(scratch, input), shown: input)
        }
        try FS.makeDirectories(Path.join(scratch, ".mlv"))
        if FS.exists(Path.join(ws.mlvDir, "config.yaml")) {
            try FS.copyFile(from: Path.join(ws.mlvDir, "config.yaml"), to: Path.join(scratch, ".mlv/config.yaml"))
        }
        let env = ProcessEnvironment.current().merging(["MLV_VERIFY_OF": ws.root]) { _, b in b }
        let quoted = "'" + executable.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        let outcome = try StageProcess.run("\(quoted) repro --force --no-run-cache", cwd: scratch, environment: env, output: .inherit)
        guard outcome == .exited(0) else { throw PipelineError.verifyRunFailed(outcome: "\(outcome)") }
        let rerun = try Workspace(root: scratch).loadRecordedLock().lock
        var result: [StageVerification] = []
        for stage in lock.stages {
            let again = rerun.stages.first { $0.name == stage.name }
            var v = StageVerification(stage: stage.name, outputs: stage.outs.map(\.path), differences: [])
            for o in stage.outs {
                let h = again?.outs.first { $0.path == o.path }?.hash
                if h != o.hash { v.differences.append(.init(path: o.path, locked: o.hash, rerun: h)) }
            }
            result.append(v)
        }
        return result
    }

    /// Copies a file or a folder (recursively, regular files only) to `to`.
    private func copyTree(_ from: String, to: String, shown: String) throws {
        guard let st = try FS.statusFollowingLinks(from) else { return }
        try FS.makeDirectories(Path.parent(to))
        guard st.kind == .file || st.kind == .directory else { throw PipelineError.notARegularFile(path: shown) }   // a FIFO would block the copy
        if st.kind != .directory {
            try FS.copyFile(from: from, to: to)
            return
        }
        for e in try DirectoryWalker.walk(from) where e.status.kind == .file {
            try FS.makeDirectories(Path.parent(Path.join(to, e.path)))
            try FS.copyFile(from: Path.join(from, e.path), to: Path.join(to, e.path))
        }
    }
}
