import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// The pipeline verbs besides repro and checkout: commit of stage outs, the DAG, stage and
/// artifact listings.
extension Workspace {
    /// `mlv commit STAGE…`: records the stages' current deps, params and outs in the lock
    /// without running them (outs go into the cache). No names: every stage whose deps, params
    /// and outs all exist.
    package func commitStages(_ names: [String], message: String? = nil) throws -> [String] {
        try checkCanCommit(message)
        var options = ReproOptions()
        options.targets = names
        options.singleItem = true
        options.message = message
        options.checkInputs = !names.isEmpty
        return try withLock { try Reproducer(workspace: self, options: options, events: { _ in }).commitSelected(skipIncomplete: names.isEmpty) }
    }

}

/// Read-only views of the pipeline, at the workspace or at git revisions: its stages, DAG and
/// artifacts, the params and metrics tables, the plots.
package struct PipelineView {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }
    var root: String { ws.root }

    /// The names of the stages in pipeline.yaml (empty without one).
    package func stageNames() throws -> [String] {
        try PipelineFile.load(in: ws)?.stages.map(\.name) ?? []
    }
}

package struct PipelineDAG: Sendable {
    /// Nodes: the pointer files of tracked data the stages read (as DVC shows `.dvc` files), sorted,
    /// then stage names in run order.
    package var stages: [String]
    /// Data flows from `from` into `to`.
    package var edges: [(from: String, to: String)]
}

extension PipelineView {
    /// The stages (those named and their upstream, or all) and the edges between them.
    package func pipelineDAG(_ targets: [String] = [], from folder: String = ".") throws -> PipelineDAG {
        guard let pipeline = try PipelineFile.load(in: ws) else { throw try PipelineFile.missing(in: ws) }
        let pointers = try ws.allPointers()
        let graph = try StageGraph(pipeline.stages, trackedPaths: pointers.map(\.path))
        let chosen = try graph.selection(targets, from: folder)
        let set = Set(chosen)
        var data = Set<String>()
        var dataEdges: [(from: String, to: String)] = []
        for i in chosen {
            let s = graph.stages[i]
            // A dep that is, holds or lies inside pointer-tracked data reads that data.
            for p in pointers {
                guard case .pointer(let file) = p.record,
                      s.deps.contains(where: { $0 == p.path || $0.hasPrefix(p.path + "/") || p.path.hasPrefix($0 + "/") }) else { continue }
                data.insert(file)
                dataEdges.append((file, s.name))
            }
        }
        var edges: [(from: String, to: String)] = []
        for i in chosen { for j in graph.upstream[i] where set.contains(j) { edges.append((graph.stages[j].name, graph.stages[i].name)) } }
        return PipelineDAG(stages: data.sorted() + chosen.map { graph.stages[$0].name }, edges: dataEdges + edges)
    }

    /// `mlv stage list`: each stage with its description, or its outputs.
    package func stageSummaries() throws -> [(name: String, summary: String)] {
        guard let pipeline = try PipelineFile.load(in: ws) else { throw try PipelineFile.missing(in: ws) }
        return pipeline.stages.map { s in
            (s.name, s.desc ?? (s.outs.isEmpty ? "" : "Outputs " + s.outs.map(\.path).joined(separator: ", ")))
        }
    }
}

extension PipelineView {
    /// `mlv artifacts list`: the artifacts pipeline.yaml declares.
    package func artifacts() throws -> [PipelineFile.Artifact] {
        try PipelineFile.load(in: ws)?.artifacts ?? []
    }
}
