import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// The pipeline verbs besides repro: checkout and commit of stage outs, the DAG, stage and
/// artifact listings.
public struct PipelineCheckoutResult: Sendable {
    public var restored: [String] = []
    public var unchanged = 0
}

extension Workspace {
    /// `mlv checkout` for pipeline outs: makes every cached out match `pipeline.lock`. Changes
    /// that are not in the cache are never overwritten without `force`; uncached outs
    /// (`cache: false`) are left alone.
    /// `only`: workspace-relative paths; the outs that are, hold or lie inside one of them
    /// (all when nil). An out is always restored whole.
    /// `missingOnly` (`mlv repro --pull`): restore only the outs absent from the workspace whose
    /// objects are all in the cache, and skip the others without an error.
    public func checkoutPipeline(force: Bool = false, only: [String]? = nil, missingOnly: Bool = false) throws -> PipelineCheckoutResult {
        guard FS.exists(absolute(Lockfile.fileName)) else { return PipelineCheckoutResult() }
        return try withLock {
            let lock = try loadLock()
            let uncached = Set((try PipelineFile.load(root: root)?.stages ?? []).flatMap { $0.outs.filter { !$0.cache }.map(\.path) })
            let worker = HashWorker()
            var result = PipelineCheckoutResult()
            var actions: [Lockfile.Entry] = []
            var unsaved: [String] = []
            for stage in lock.stages {
                for o in stage.outs where !uncached.contains(o.path) {
                    if let only, !only.contains(where: { o.path == $0 || o.path.hasPrefix($0 + "/") || $0.hasPrefix(o.path + "/") }) { continue }
                    try checkNoSymlinkEscape(o.path, shownAs: o.path)
                    if missingOnly {
                        guard try FS.status(absolute(o.path)) == nil, try isCached(o) else { continue }
                    }
                    let now = try currentRecord(o.path, worker)
                    if now?.hash == o.hash { result.unchanged += 1; continue }
                    if let now, !force, !(try isCached(now)) { unsaved.append(o.path) }
                    guard try isCached(o) else { throw WorkspaceError.missingFromCache(path: o.path, hash: o.hash) }
                    actions.append(o)
                }
            }
            flushState()
            if !unsaved.isEmpty { throw WorkspaceError.uncommittedChanges(paths: unsaved) }
            for o in actions {
                try restoreOutput(o)
                result.restored.append(o.path)
            }
            return result
        }
    }

    /// `mlv commit STAGE…`: records the stages' current deps, params and outs in the lock
    /// without running them (outs go into the cache). No names: every stage whose deps, params
    /// and outs all exist.
    public func commitStages(_ names: [String], message: String? = nil) throws -> [String] {
        try checkCanCommit(message)
        var options = ReproOptions()
        options.targets = names
        options.singleItem = true
        options.message = message
        options.checkInputs = !names.isEmpty
        return try withLock { try Reproducer(workspace: self, options: options, events: { _ in }).commitSelected(skipIncomplete: names.isEmpty) }
    }

    /// Which of the user's paths name pipeline outs recorded in the lock (an out, a path inside
    /// one, or a folder holding some), as workspace-relative paths; the others are left to
    /// pointer checkout.
    public func pipelineOutputPaths(_ arguments: [String], cwd: String = FS.currentDirectory()) throws -> (outs: [String], others: [String]) {
        let recorded = try loadLock().stages.flatMap { $0.outs.map(\.path) }
        var outs: [String] = [], others: [String] = []
        for arg in arguments {
            let rel = try relativeTarget(arg, cwd: cwd)
            let isOut = recorded.contains { $0 == rel || $0.hasPrefix(rel + "/") || rel.hasPrefix($0 + "/") }
            if isOut { outs.append(rel) } else { others.append(arg) }
        }
        return (outs, others)
    }

    /// The names of the stages in pipeline.yaml (empty without one).
    public func stageNames() throws -> [String] {
        try PipelineFile.load(root: root)?.stages.map(\.name) ?? []
    }
}

public struct PipelineDAG: Sendable {
    /// Stage names in run order.
    public var stages: [String]
    /// Data flows from `from` into `to`.
    public var edges: [(from: String, to: String)]
}

extension Workspace {
    /// The stages (those named and their upstream, or all) and the edges between them.
    public func pipelineDAG(_ targets: [String] = []) throws -> PipelineDAG {
        guard let pipeline = try PipelineFile.load(root: root) else { throw PipelineError.noPipeline }
        let graph = try StageGraph(pipeline.stages, trackedPaths: try allPointers().map(\.target))
        let chosen = try graph.selection(targets)
        let set = Set(chosen)
        var edges: [(from: String, to: String)] = []
        for i in chosen { for j in graph.upstream[i] where set.contains(j) { edges.append((graph.stages[j].name, graph.stages[i].name)) } }
        return PipelineDAG(stages: chosen.map { graph.stages[$0].name }, edges: edges)
    }

    /// `mlv stage list`: each stage with its description, or its outputs.
    public func stageSummaries() throws -> [(name: String, summary: String)] {
        guard let pipeline = try PipelineFile.load(root: root) else { throw PipelineError.noPipeline }
        return pipeline.stages.map { s in
            (s.name, s.desc ?? (s.outs.isEmpty ? "" : "Outputs " + s.outs.map(\.path).joined(separator: ", ")))
        }
    }
}

extension Workspace {
    /// `mlv artifacts list`: the artifacts pipeline.yaml declares.
    public func artifacts() throws -> [PipelineFile.Artifact] {
        try PipelineFile.load(root: root)?.artifacts ?? []
    }
}
