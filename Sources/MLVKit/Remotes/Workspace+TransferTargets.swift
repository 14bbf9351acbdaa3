import MLVSupport

extension Workspace {
    /// What push, fetch, pull and `status -c` move: the data of pointer files and the cached
    /// outs `pipeline.lock` records (not those marked `cache: false` or `push: false`). `targets` narrows them to the given paths (pointer data, or
    /// pipeline outs that are, hold or lie inside one of them).
    func transferTargets(_ targets: [String], cwd: String) throws -> [Output] {
        let outs = try pipelineTransferOutputs()
        if targets.isEmpty { return try pointers(for: [], cwd: cwd) + outs }
        var result: [Output] = []
        for arg in targets {
            let rel = try relativeTarget(arg, cwd: cwd)
            let fromLock = outs.filter { $0.path == rel || $0.path.hasPrefix(rel + "/") || rel.hasPrefix($0.path + "/") }
            let fromPointers: [Output]
            do { fromPointers = try pointers(for: [arg], cwd: cwd) } catch WorkspaceError.notTracked where !fromLock.isEmpty {
                fromPointers = []
            }
            for t in fromPointers + fromLock where !result.contains(t) { result.append(t) }
        }
        return result
    }

    /// The lock's cached outs that may leave the machine.
    func pipelineTransferOutputs() throws -> [Output] {
        guard FS.exists(absolute(Lockfile.fileName)) else { return [] }
        let stages = try PipelineFile.load(root: root)?.stages ?? []
        let lock = try loadLock(stages: stages)
        let local = Set(stages.flatMap { $0.outs.filter { !$0.cache || !$0.push }.map(\.path) })
        var out: [Output] = []
        for stage in lock.stages {
            for o in stage.outs where !local.contains(o.path) && !out.contains(where: { $0.path == o.path }) {
                out.append(Output(o, stage: stage.name, cache: true))
            }
        }
        return out
    }
}
