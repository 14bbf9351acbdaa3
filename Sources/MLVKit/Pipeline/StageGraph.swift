import MLVSupport

/// The pipeline as a graph: a stage depends on the stage whose out is one of its deps (or lies
/// inside, or contains, one of them). Building it refuses what cannot be run: two stages with
/// one out, outs inside other outs or inside data tracked with `mlv add`, and cycles.
/// Pure: no file system, no clock; planning `--dry` costs nothing.
package struct StageGraph: Sendable {
    package let stages: [Stage]
    /// upstream[i]: indices of the stages stage i depends on (sorted).
    package let upstream: [[Int]]
    /// downstream[i]: indices of the stages that depend on stage i (sorted).
    package let downstream: [[Int]]
    /// Every stage, each after those it depends on; ties in pipeline.yaml order.
    package let order: [Int]
    /// Out path → producing stage.
    package let producer: [String: Int]

    package init(_ stages: [Stage], trackedPaths: [String] = []) throws {
        self.stages = stages
        var producer: [String: Int] = [:]
        for (i, s) in stages.enumerated() {
            for o in s.outs {
                if let j = producer[o.path] {
                    throw PipelineError.duplicateOutput(path: o.path, stages: j == i ? [s.name] : [stages[j].name, s.name])
                }
                producer[o.path] = i
            }
        }
        // Outs inside outs, and outs overlapping `mlv add` data: compare every out with its ancestors.
        var tracked = Set(trackedPaths)
        for (path, i) in producer.sorted(by: { $0.key < $1.key }) {
            var dir = StageGraph.parent(path)
            while let d = dir {
                if let j = producer[d] {
                    throw PipelineError.overlappingOutputs(path: path, stage: stages[i].name, other: d, otherStage: stages[j].name)
                }
                if tracked.contains(d) { throw PipelineError.outputTrackedByAdd(path: path, stage: stages[i].name, pointer: d + ".mlv") }
                dir = StageGraph.parent(d)
            }
            if tracked.contains(path) { throw PipelineError.outputTrackedByAdd(path: path, stage: stages[i].name, pointer: path + ".mlv") }
        }
        var trackedAncestors = Set<String>()
        for t in tracked {
            var dir = StageGraph.parent(t)
            while let d = dir, trackedAncestors.insert(d).inserted { dir = StageGraph.parent(d) }
        }
        for (path, i) in producer.sorted(by: { $0.key < $1.key }) where trackedAncestors.contains(path) {
            let inner = tracked.filter { $0.hasPrefix(path + "/") }.min()!
            throw PipelineError.outputTrackedByAdd(path: path, stage: stages[i].name, pointer: inner + ".mlv")
        }
        tracked = []
        // Folders holding outs: a dep on a folder depends on every out inside it.
        var inside: [String: [Int]] = [:]
        for (path, i) in producer {
            var dir = StageGraph.parent(path)
            while let d = dir { inside[d, default: []].append(i); dir = StageGraph.parent(d) }
        }
        self.producer = producer
        var up = [Set<Int>](repeating: [], count: stages.count)
        for (i, s) in stages.enumerated() {
            for d in s.deps {
                if let j = producer[d] { up[i].insert(j) }
                var dir = StageGraph.parent(d)
                while let p = dir { if let j = producer[p] { up[i].insert(j) }; dir = StageGraph.parent(p) }
                for j in inside[d] ?? [] { up[i].insert(j) }
            }
            for p in s.params where producer[p.file] != nil { up[i].insert(producer[p.file]!) }
        }
        upstream = up.map { $0.sorted() }
        var down = [[Int]](repeating: [], count: stages.count)
        for (i, u) in upstream.enumerated() { for j in u { down[j].append(i) } }
        downstream = down
        order = try StageGraph.topologicalOrder(stages, upstream: upstream)
    }

    static func parent(_ path: String) -> String? {
        guard let i = path.lastIndex(of: "/") else { return nil }
        return String(path[..<i])
    }

    /// Depth-first, in pipeline order: each stage after everything it depends on. A cycle is
    /// reported with its stages, in dependency order, first stage repeated at the end.
    static func topologicalOrder(_ stages: [Stage], upstream: [[Int]]) throws -> [Int] {
        var state = [UInt8](repeating: 0, count: stages.count)   // 0 new, 1 on the path, 2 done
        var order: [Int] = []
        order.reserveCapacity(stages.count)
        for start in stages.indices where state[start] == 0 {
            // Iterative DFS: (node, next upstream index to visit).
            var path: [(Int, Int)] = [(start, 0)]
            state[start] = 1
            while let (node, k) = path.last {
                if k < upstream[node].count {
                    path[path.count - 1].1 += 1
                    let next = upstream[node][k]
                    if state[next] == 1 {
                        let onPath = path.map(\.0)
                        let from = onPath.firstIndex(of: next)!
                        // In data-flow order, starting at the stage defined first.
                        var cycle = Array(onPath[from...].reversed())
                        let first = cycle.firstIndex(of: cycle.min()!)!
                        cycle = Array(cycle[first...] + cycle[..<first])
                        throw PipelineError.cycle((cycle + [cycle[0]]).map { stages[$0].name })
                    }
                    if state[next] == 0 {
                        state[next] = 1
                        path.append((next, 0))
                    }
                } else {
                    state[node] = 2
                    order.append(node)
                    path.removeLast()
                }
            }
        }
        return order
    }

    /// `--downstream` follows dependents instead of dependencies (DVC's behaviour: the targets'
    /// own upstream stages are not rerun).
    /// The stage indices named by `targets`, with what `repro` runs for them, in run order.
    package func selection(_ targets: [String], singleItem: Bool = false, downstream includeDownstream: Bool = false, from folder: String = ".") throws -> [Int] {
        if targets.isEmpty && !singleItem { return order }
        var chosen = Set<Int>()
        var roots: [Int] = []
        for t in targets { roots += try named(t, from: folder) }
        if targets.isEmpty { roots = Array(stages.indices) }
        chosen.formUnion(roots)
        if !singleItem {
            var work = roots
            while let i = work.popLast() {
                let next = includeDownstream ? downstream[i] : upstream[i]
                for j in next where chosen.insert(j).inserted { work.append(j) }
            }
        }
        return order.filter { chosen.contains($0) }
    }

    /// The stages one target names, as DVC reads them: a pipeline file (all its stages),
    /// `FILE:NAME`, or a bare name (a stage, or a `foreach` group such as `train` for `train@a`,
    /// `train@b`) of the root's file or of exactly one other; when several files define it, the
    /// one in `folder` (the user's) is meant, else it is ambiguous. Files are workspace-relative.
    package func named(_ target: String, from folder: String = ".") throws -> [Int] {
        if stages.contains(where: { $0.file == target }) { return stages.indices.filter { stages[$0].file == target } }
        let exact = stages.indices.filter { stages[$0].name == target || stages[$0].group == target }
        if !exact.isEmpty { return exact }
        if let colon = target.lastIndex(of: ":") {
            let file = String(target[..<colon]), name = String(target[target.index(after: colon)...])
            let inFile = stages.indices.filter { stages[$0].file == file && (stages[$0].shortName == name || stages[$0].shortGroup == name) }
            if !inFile.isEmpty { return inFile }
        }
        let short = stages.indices.filter { stages[$0].shortName == target || stages[$0].shortGroup == target }
        let files = Set(short.map { stages[$0].file })
        if files.count > 1 {
            let here = folder == "." ? PipelineFile.fileName : folder + "/" + PipelineFile.fileName
            if files.contains(here) { return short.filter { stages[$0].file == here } }
            throw PipelineError.ambiguousStage(target, candidates: files.sorted().map { Stage.address(target, file: $0) })
        }
        if short.isEmpty {
            throw PipelineError.unknownStage(target, suggestion: Suggestion.closest(to: target, in: stages.map(\.name)))
        }
        return short
    }
}
