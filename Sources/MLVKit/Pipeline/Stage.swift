/// One stage of `pipeline.yaml`, after interpolation and `foreach`/`matrix` expansion.
/// Every path is workspace-relative and validated (inside the workspace, no `.git`/`.mlv` part).
public struct Stage: Equatable, Sendable {
    public var name: String
    /// Commands run one after the other with `sh -c`; the stage fails at the first that fails.
    public var cmd: [String]
    /// The folder the commands run in ("." is the workspace root).
    public var wdir: String
    public var deps: [String]
    public var params: [ParamDependency]
    /// `outs`, `metrics` and `plots` together, in file order.
    public var outs: [StageOutput]
    public var frozen = false
    public var alwaysChanged = false
    public var desc: String?

    public init(name: String, cmd: [String], wdir: String = ".", deps: [String] = [], params: [ParamDependency] = [], outs: [StageOutput] = []) {
        self.name = name
        self.cmd = cmd
        self.wdir = wdir
        self.deps = deps
        self.params = params
        self.outs = outs
    }

    /// `train@small` belongs to the generated group `train`.
    public var group: String { name.split(separator: "@", maxSplits: 1).first.map(String.init) ?? name }
}

/// Values of a params file that a stage depends on.
public struct ParamDependency: Equatable, Sendable {
    /// Workspace-relative params file.
    public var file: String
    /// Dotted keys; nil means every top-level key of the file.
    public var keys: [String]?

    public init(file: String, keys: [String]?) {
        self.file = file
        self.keys = keys
    }
}

public struct StageOutput: Equatable, Sendable {
    public enum Kind: String, Sendable { case out = "outs", metric = "metrics", plot = "plots" }
    public var path: String
    public var kind: Kind = .out
    /// false: the out is hashed and recorded but not stored in the cache (nor git-ignored).
    public var cache = true
    /// true: the out is not deleted before the stage runs.
    public var persist = false
    /// false: `mlv push` leaves it out.
    public var push = true
    public var desc: String?
    /// For `plots`: how to draw it.
    public var plot: PlotSpec?

    public init(path: String, kind: Kind = .out, cache: Bool = true) {
        self.path = path
        self.kind = kind
        self.cache = cache
    }
}
