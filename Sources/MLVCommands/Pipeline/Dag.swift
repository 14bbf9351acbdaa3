import ArgumentParser
import MLVKit
import MLVSupport

struct Dag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dag",
        abstract: "Show the pipeline's stages and the dependencies between them.")

    @Argument(help: "Show only these stages and what they depend on.")
    var targets: [String] = []

    @Flag(help: "Graphviz DOT.")
    var dot = false

    @Flag(help: "A Mermaid flowchart.")
    var mermaid = false

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let dag = try PipelineView(ws).pipelineDAG(try StageTargets.resolve(targets, in: ws), from: StageTargets.folder(of: FS.currentDirectory(), in: ws))
        if dot {
            print("strict digraph {")
            // DOT IDs are quoted; a quote or backslash in a name is escaped.
            func id(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            for s in dag.stages { print("\t\(id(s));") }
            for (a, b) in dag.edges { print("\t\(id(a)) -> \(id(b));") }
            print("}")
        } else if mermaid {
            print("flowchart TD")
            // Mermaid labels are quoted; a quote becomes its entity code.
            for (i, s) in dag.stages.enumerated() { print("\tnode\(i + 1)[\"\(s.replacingOccurrences(of: "\"", with: "#quot;"))\"]") }
            let index = Dictionary(uniqueKeysWithValues: dag.stages.enumerated().map { ($1, $0 + 1) })
            for (a, b) in dag.edges { print("\tnode\(index[a]!)-->node\(index[b]!)") }
        } else {
            for s in dag.stages {
                let ups = dag.edges.filter { $0.to == s }.map(\.from)
                print(ups.isEmpty ? s : "\(s) <- \(ups.joined(separator: ", "))")
            }
        }
    }
}
