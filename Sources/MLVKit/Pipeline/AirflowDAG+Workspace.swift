import MLVSupport

extension AirflowDAG {
    /// The DAG file of `ws`'s pipeline (every pipeline file's stages). `queues` and `pools` are
    /// `(target, name)` pairs: a target is a stage or a `foreach` group, as `repro` reads them,
    /// and gives its name to each stage it names.
    package static func make(in ws: Workspace, _ options: AirflowDAGOptions, queues: [(String, String)] = [], pools: [(String, String)] = [],
                             folder: String = ".") throws -> AirflowDAG {
        guard let pipeline = try PipelineFile.load(in: ws) else { throw try PipelineFile.missing(in: ws) }
        let graph = try StageGraph(pipeline.stages, trackedPaths: try ws.allPointers().map(\.path))
        var o = options
        for (flag, pairs) in [("--queue", queues), ("--pool", pools)] {
            for (target, name) in pairs {
                let stages: [Int]
                do { stages = try graph.named(target, from: folder) } catch let e as PipelineError {
                    // A `foreach` group is a target too: suggest groups as well as stages.
                    let known = Array(Set(graph.stages.flatMap { [$0.name, $0.group] })).sorted()
                    let hint = Suggestion.closest(to: target, in: known).map { "did you mean '\($0)'?" } ?? e.hint
                    throw MessageError("\(flag) \(target)=\(name): \(e.message)", hint: hint)
                }
                for i in stages {
                    if flag == "--queue" { o.queues[graph.stages[i].name] = name } else { o.pools[graph.stages[i].name] = name }
                }
            }
        }
        if o.commit == nil, let git = try ws.git() { o.commit = try? git.resolve("HEAD") }
        return AirflowDAG(graph, options: o)
    }

    /// The task ids of a generated file, in its order (its `STAGES` table), for saying what a
    /// stale file lacks.
    package static func taskIDs(in text: String) -> [String] {
        var ids: [String] = []
        var inTable = false
        for line in text.split(separator: "\n") {
            if line == "STAGES = {" { inTable = true; continue }
            if inTable && line == "}" { break }
            if inTable, line.hasPrefix("    \""), let node = try? YAMLNode.parse("[" + line.dropFirst(4).prefix { $0 != ":" } + "]", file: "STAGES"),
               let id = try? node.sequence("ids").first?.string("an id") {
                ids.append(id)
            }
        }
        return ids
    }
}
