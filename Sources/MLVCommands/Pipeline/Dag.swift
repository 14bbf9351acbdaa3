import ArgumentParser
import MLVKit
import MLVSupport

struct Dag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dag",
        abstract: "Show the pipeline's stages and the dependencies between them.",
        discussion: """
            --airflow writes an Apache Airflow 3 DAG file that runs the pipeline on many workers, with no shared file system: \
            a first task fixes the commit (the run's conf {"commit": …}, else the branch head), each stage task clones the repository \
            (MLV_GIT_URL) at that commit, runs `mlv repro --pull` (the stages it reads restored from the remote's run-cache, the stage \
            itself restored or run) and `mlv push --run-cache`; collect_lock restores every stage into pipeline.lock, running nothing, \
            checks it, and with --commit-branch commits and pushes it if the branch has not moved. Workers need git, mlv (on PATH, \
            or MLV_BIN) and the remote's credentials. A stage's `orchestrate: {queue: gpu, pool: …, retries: 2}` in pipeline.yaml, \
            or --queue/--pool, places its task.
            Example: mlv dag --airflow -o dags/demo.py --queue train=gpu --commit-branch main
            """)

    @Argument(help: "Show only these stages and what they depend on.")
    var targets: [String] = []

    @Flag(help: "Graphviz DOT.")
    var dot = false

    @Flag(help: "A Mermaid flowchart.")
    var mermaid = false

    @OptionGroup var airflowOptions: AirflowOptions

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if airflowOptions.used {
            guard targets.isEmpty && !dot && !mermaid else { throw MessageError("--airflow and --check take every stage and no other format", hint: "leave out stage names, --dot and --mermaid") }
            if let file = airflowOptions.check { return try airflowOptions.runCheck(file, ws: ws) }
            return try airflowOptions.write(try airflowOptions.dag(in: ws), ws: ws)
        }
        if let stray = airflowOptions.strayOption { throw MessageError("\(stray) is an option of --airflow", hint: "mlv dag --airflow \(stray) …") }
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
