import MLVSupport

/// One stage of `pipeline.yaml`, after interpolation and `foreach`/`matrix` expansion.
/// Every path is workspace-relative and validated (inside the workspace, no `.git`/`.mlv` part).
package struct Stage: Equatable, Sendable {
    /// The stage's address: its name in the root `pipeline.yaml`, `FILE:NAME` in any other
    /// (`pipelines/train/pipeline.yaml:train`), as DVC addresses stages of `dvc.yaml` files.
    package var name: String
    /// The workspace-relative pipeline file that defines it.
    package var file = PipelineFile.fileName
    /// Commands run one after the other with `sh -c`; the stage fails at the first that fails.
    package var cmd: [String]
    /// The folder the commands run in ("." is the workspace root).
    package var wdir: String
    package var deps: [String]
    package var params: [ParamDependency]
    /// `outs`, `metrics` and `plots` together, in file order.
    package var outs: [StageOutput]
    package var frozen = false
    package var alwaysChanged = false
    package var desc: String?
    /// Where an orchestrator runs it (`orchestrate:`; `dag --airflow`).
    package var orchestrate: StageOrchestration?

    package init(name: String, cmd: [String], wdir: String = ".", deps: [String] = [], params: [ParamDependency] = [], outs: [StageOutput] = []) {
        self.name = name
        self.cmd = cmd
        self.wdir = wdir
        self.deps = deps
        self.params = params
        self.outs = outs
    }

    /// `train@small` belongs to the generated group `train`.
    package var group: String { name.split(separator: "@", maxSplits: 1).first.map(String.init) ?? name }

    /// The name as its file writes it (the address without `FILE:`).
    package var shortName: String { file == PipelineFile.fileName ? name : String(name.dropFirst(file.utf8.count + 1)) }
    package var shortGroup: String { shortName.split(separator: "@", maxSplits: 1).first.map(String.init) ?? shortName }

    /// The address of stage `name` of `file`.
    package static func address(_ name: String, file: String) -> String { file == PipelineFile.fileName ? name : file + ":" + name }

    /// The `pipeline.lock` beside a pipeline file.
    package static func lockFile(for file: String) -> String {
        let dir = Path.parent(file)
        return dir == "." ? Lockfile.fileName : dir + "/" + Lockfile.fileName
    }
}

/// Values of a params file that a stage depends on.
package struct ParamDependency: Equatable, Sendable {
    /// Workspace-relative params file.
    package var file: String
    /// Dotted keys; nil means every top-level key of the file.
    package var keys: [String]?

    package init(file: String, keys: [String]?) {
        self.file = file
        self.keys = keys
    }
}

package struct StageOutput: Equatable, Sendable {
    package enum Kind: String, Sendable { case out = "outs", metric = "metrics", plot = "plots" }
    package var path: String
    package var kind: Kind = .out
    /// false: the out is hashed and recorded but not stored in the cache (nor git-ignored).
    package var cache = true
    /// true: the out is not deleted before the stage runs.
    package var persist = false
    /// false: `mlv push` leaves it out.
    package var push = true
    package var desc: String?
    /// For `plots`: how to draw it.
    package var plot: PlotSpec?

    package init(path: String, kind: Kind = .out, cache: Bool = true) {
        self.path = path
        self.kind = kind
        self.cache = cache
    }
}
