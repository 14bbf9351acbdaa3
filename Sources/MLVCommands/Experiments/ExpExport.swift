import ArgumentParser
import MLVKit
import MLVSupport

/// `mlv exp export --mlflow`: experiments logged as MLflow runs through its REST API.
struct ExpExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Log experiments as MLflow runs (params, metrics with their steps, tags naming the commit); git stays the record.",
        discussion: "Exporting again updates the runs already exported (found by their mlv.commit tag), never duplicates them. Credentials: MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.")

    @Flag(help: "Export to an MLflow tracking server.") var mlflow = false
    @Option(help: "The MLflow server (default: MLFLOW_TRACKING_URI).") var trackingUri: String?
    @Option(help: "The MLflow experiment the runs go into, created when missing (default: the workspace folder's name).") var experiment: String?
    @Argument(help: "Experiments (default: all).") var names: [String] = []

    func validate() throws {
        guard mlflow else { throw ValidationError("say where to export: --mlflow") }
        if let experiment, experiment.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--experiment needs a name") }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let client = try MLflowClient(uri: trackingUri, environment: ws.environment)
        let exps = Experiments(ws)
        let chosen = names.isEmpty ? try exps.list() : try names.map { try exps.named($0) }
        guard !chosen.isEmpty else { Console.now("no experiments to export (`mlv exp run` makes them)"); return }
        let name = experiment ?? Path.base(ws.root)
        let export = MLflowExport(ws, client: client)
        let runs = try export.runs(chosen, version: MLV.version)
        let r = try export.export(runs, experiment: name) { e in
            Console.now("\(e.name): run \(e.runID) \(e.created ? "created" : "updated")")
        }
        Console.now("\(r.runs.count) experiment\(r.runs.count == 1 ? "" : "s") exported to MLflow experiment '\(TerminalText.visible(name))' (id \(r.experimentID)) at \(client.shown)")
    }
}
