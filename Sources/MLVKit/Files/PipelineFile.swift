import MLVSupport
import Yams

/// `pipeline.yaml`: the keys of DVC's `dvc.yaml`.
///
///     vars:
///     - config.yaml:train          # a params file (or some of its keys), or an inline mapping
///     stages:
///       prepare:
///         cmd: python prepare.py --seed ${seed}
///         deps: [data/raw.csv, prepare.py]
///         params: [prepare.seed, config.yaml: [train.lr]]
///         outs: [data/prepared, {model.bin: {cache: false}}]
///       train:
///         foreach: [small, large]     # or a mapping, or ${…}; `matrix:` for products
///         do: {cmd: python train.py ${item}, outs: [model-${item}.bin]}
///
/// `params.yaml`, when present, is always available to `${…}`.
package struct PipelineFile: Sendable {
    package static let fileName = "pipeline.yaml"
    /// DVC's name for it: found (to say mlv does not read it, and `mlv migrate` converts it).
    package static let dvcFileName = "dvc.yaml"

    package var stages: [Stage]
    /// Top-level `params` and `metrics`: files shown by `params diff` and `metrics show` besides
    /// those the stages name.
    package var paramsFiles: [String] = []
    package var metricsFiles: [String] = []
    /// Top-level `plots`: paths, images, and named plots drawing fields of several files.
    package var plots: [PlotSpec] = []
    /// Top-level `artifacts` (`mlv artifacts list`).
    package var artifacts: [Artifact] = []

    package struct Artifact: Equatable, Sendable {
        package var name: String
        package var path: String
        package var type: String?
        package var desc: String?
        package var labels: [String] = []
    }

    package init(stages: [Stage]) { self.stages = stages }

    static let topKeys = ["stages", "vars", "params", "metrics", "plots", "artifacts"]
    static let stageKeys = ["cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "always_changed", "desc", "meta", "vars", "foreach", "do", "matrix", "orchestrate"]
    static let outKeys = ["cache", "persist", "push", "desc", "remote", "type", "labels", "meta"]
    static let plotKeys = outKeys + ["x", "y", "template", "title", "x_label", "y_label", "header"]

    /// Parses the text of a pipeline file: `file` is its workspace-relative path (relative paths
    /// in it, `wdir` included, resolve against its folder, as DVC's `dvc.yaml` files do; its
    /// stages are named `FILE:NAME` unless it is the root's), `root` the workspace.
    package static func parse(_ text: String, root: String, file: String = fileName) throws -> PipelineFile {
        let folder = Path.parent(file)
        guard let doc = try YAMLNode.parse(text, file: file) else { return PipelineFile(stages: []) }
        if doc.isNull { return PipelineFile(stages: []) }
        try doc.checkExpandedSize()
        let top = try doc.mapping("pipeline.yaml")
        try doc.checkKeys(top, allowed: topKeys, in: "pipeline.yaml")
        var context: [(key: String, value: ParamValue)] = []
        let varsNode = top.first { $0.key == "vars" }?.value
        let defaultParams = folder == "." ? ParamsFile.defaultName : folder + "/" + ParamsFile.defaultName
        if !(varsNode?.containsDefaultParams ?? false), FS.exists(Path.join(root, defaultParams)) {
            merge(&context, try ParamsFile.load(defaultParams, root: root).root)
        }
        if let varsNode, !varsNode.isNull { try loadVars(varsNode, into: &context, root: root, wdir: folder) }
        var stages: [Stage] = []
        var seen: [String: YAMLNode] = [:]
        let budget = ExpansionBudget()
        if let stagesNode = top.first(where: { $0.key == "stages" })?.value, !stagesNode.isNull {
            for (name, keyNode, body) in try stagesNode.mapping("'stages'") {
                try checkName(name, at: keyNode)
                budget.stage = name
                for var stage in try expand(name, body, context: context, budget: budget, at: keyNode, root: root, folder: folder) {
                    if seen[stage.name] != nil { throw keyNode.error("stage '\(stage.name)' is defined twice") }
                    seen[stage.name] = keyNode
                    stage.file = file
                    stage.name = Stage.address(stage.name, file: file)
                    stages.append(stage)
                }
            }
        }
        var pipeline = PipelineFile(stages: stages)
        let base = Interpolation(context: context)
        func field(_ key: String) throws -> YAMLNode? {
            guard let v = top.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
            return YAMLNode(node: try base.apply(v.node, file: file), file: file)
        }
        for (key, kind) in [("params", "params"), ("metrics", "metrics")] {
            guard let list = try field(key) else { continue }
            for entry in try list.sequence("top-level '\(kind)'") {
                let path = try stagePath(try entry.string("a '\(kind)' entry"), wdir: folder, at: entry)
                if key == "params" { pipeline.paramsFiles.append(path) } else { pipeline.metricsFiles.append(path) }
            }
        }
        if let plots = try field("plots") {
            for entry in try plots.sequence("top-level 'plots'") {
                if entry.node.scalar != nil {
                    let path = try stagePath(try entry.string("a 'plots' entry"), wdir: folder, at: entry)
                    pipeline.plots.append(try spec(id: path, file: path, nil))
                    continue
                }
                for (name, _, options) in try entry.mapping("a 'plots' entry") {
                    pipeline.plots.append(try spec(id: name, file: nil, options.isNull ? nil : options))
                }
            }
        }
        if let artifacts = try field("artifacts") {
            for (name, keyNode, body) in try artifacts.mapping("'artifacts'") {
                try checkName(name, at: keyNode)
                let fields = try body.mapping("artifact '\(name)'")
                try body.checkKeys(fields, allowed: ["path", "type", "desc", "labels", "meta"], in: "artifact '\(name)'")
                guard let pathNode = fields.first(where: { $0.key == "path" })?.value else { throw body.error("artifact '\(name)' has no 'path'") }
                var a = Artifact(name: name, path: try stagePath(try pathNode.string("'path'"), wdir: folder, at: pathNode))
                for (k, _, v) in fields {
                    switch k {
                    case "type": a.type = try v.string("'type'")
                    case "desc": a.desc = try v.string("'desc'")
                    case "labels": a.labels = try v.sequence("'labels'").map { try $0.string("a label") }
                    default: break
                    }
                }
                pipeline.artifacts.append(a)
            }
        }
        return pipeline
    }

    /// A `vars` list (top-level, or a stage's): params files (`file.yaml`, `file.yaml:a,b`,
    /// relative to `wdir`) and inline mappings, merged into `context` in order.
    static func loadVars(_ varsNode: YAMLNode, into context: inout [(key: String, value: ParamValue)], root: String, wdir: String) throws {
        for entry in try varsNode.sequence("'vars'") {
            if entry.node.mapping != nil {
                merge(&context, try ParamValue.from(entry))
                continue
            }
            let spec = try entry.string("a 'vars' entry")
            let (path, keys) = splitFileSpec(spec)
            let rel = try stagePath(path, wdir: wdir, at: entry)
            let params = try ParamsFile.load(rel, root: root)
            if let keys {
                for k in keys {
                    guard let v = params.root.lookup(k) else {
                        throw entry.error("'\(k)' is not in \(rel)", hint: Suggestion.closest(to: k, in: params.root.keys).map { "did you mean '\($0)'?" })
                    }
                    merge(&context, .dict([(k, v)]))
                }
            } else {
                merge(&context, params.root)
            }
        }
    }

    /// `context` with a stage's own `vars` (DVC's stage-level vars) merged in; its files are
    /// relative to the stage's `wdir` when that is written without `${…}`.
    static func stageContext(_ body: YAMLNode, _ context: [(key: String, value: ParamValue)], root: String, folder: String) throws -> [(key: String, value: ParamValue)] {
        guard let fields = body.node.mapping, let vars = fields.first(where: { $0.key.scalar?.string == "vars" })?.value else { return context }
        let node = YAMLNode(node: vars, file: body.file)
        if node.isNull { return context }
        let wdir = fields.first(where: { $0.key.scalar?.string == "wdir" })?.value.scalar?.string ?? "."
        var out = context
        try loadVars(node, into: &out, root: root, wdir: wdir.contains("${") ? folder : Path.normalize(Path.join(folder, wdir)))
        return out
    }

    static func merge(_ context: inout [(key: String, value: ParamValue)], _ value: ParamValue) {
        guard case .dict(let pairs) = value else { return }
        for (k, v) in pairs {
            if let i = context.firstIndex(where: { $0.key == k }) { context[i].value = v } else { context.append((k, v)) }
        }
    }

    /// `file.yaml:a,b` → ("file.yaml", ["a", "b"]); `file.yaml` → ("file.yaml", nil).
    static func splitFileSpec(_ spec: String) -> (String, [String]?) {
        guard let colon = spec.lastIndex(of: ":") else { return (spec, nil) }
        let keys = spec[spec.index(after: colon)...].split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
        return (String(spec[..<colon]), keys.isEmpty ? nil : keys)
    }

    /// A stage name: letters, digits, '_', '-' and '.', not starting with '-' (names reach the
    /// terminal, DOT and Mermaid output, lock keys and Airflow task ids).
    static func checkName(_ name: String, at node: YAMLNode) throws {
        guard isValidName(name) else {
            throw node.error("invalid stage name '\(TerminalText.visible(name))'", hint: "use letters, digits, '_', '-' and '.'")
        }
    }

    static func isValidName<S: StringProtocol>(_ name: S) -> Bool {
        guard let first = name.unicodeScalars.first, first != "-" else { return false }
        return name.unicodeScalars.allSatisfy { u in
            u == "_" || u == "-" || u == "." || (u.isASCII ? (u.properties.isAlphabetic || ("0"..."9").contains(u)) : u.properties.isAlphabetic || u.properties.numericType != nil)
        }
    }

    /// A `foreach`/`matrix` instance name: a valid name, '@', then a suffix of the same characters.
    static func isValidGeneratedName(_ name: String) -> Bool {
        let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 && isValidName(parts[0]) && !parts[1].isEmpty
            && parts[1].unicodeScalars.allSatisfy { u in u == "-" || isValidName(String(u)) || u == "." }
    }

    // MARK: - foreach and matrix

    static func expand(_ name: String, _ body: YAMLNode, context: [(key: String, value: ParamValue)],
                       budget: ExpansionBudget, at keyNode: YAMLNode, root: String, folder: String) throws -> [Stage] {
        let fields = try body.mapping("stage '\(name)'")
        try body.checkKeys(fields, allowed: stageKeys, in: "stage '\(name)'")
        let base = Interpolation(context: context, budget: budget)
        func instance(_ name: String, _ template: YAMLNode, _ context: [(key: String, value: ParamValue)], at: YAMLNode) throws -> Stage {
            try PipelineFile.instance(name, template, try stageContext(template, context, root: root, folder: folder), at: at, budget: budget, folder: folder)
        }
        if let foreach = fields.first(where: { $0.key == "foreach" }) {
            guard let doNode = fields.first(where: { $0.key == "do" })?.value else { throw body.error("stage '\(name)' has 'foreach' but no 'do'") }
            if let extra = fields.first(where: { $0.key != "foreach" && $0.key != "do" }) {
                throw extra.keyNode.error("'\(extra.key)' cannot stand beside 'foreach'", hint: "move it inside 'do'")
            }
            let items = try ParamValue.from(YAMLNode(node: try base.apply(foreach.value.node, file: body.file), file: body.file))
            var out: [Stage] = []
            let count: Int = { if case .list(let l) = items { return l.count }; if case .dict(let d) = items { return d.count }; return 0 }()
            try budget.take(stages: count, at: keyNode)
            switch items {
            case .list(let list):
                let scalar = list.allSatisfy { if case .list = $0 { return false }; if case .dict = $0 { return false }; return true }
                for (i, item) in list.enumerated() {
                    let suffix = scalar ? item.description : String(i)
                    out.append(try instance("\(name)@\(suffix)", doNode, context + [("item", item)], at: foreach.keyNode))
                }
            case .dict(let pairs):
                for (k, item) in pairs {
                    out.append(try instance("\(name)@\(k)", doNode, context + [("key", .string(k)), ("item", item)], at: foreach.keyNode))
                }
            default:
                throw foreach.value.error("'foreach' must be a list, a mapping, or a ${…} naming one")
            }
            return out
        }
        if fields.contains(where: { $0.key == "do" }) { throw body.error("stage '\(name)' has 'do' but no 'foreach'") }
        if let matrix = fields.first(where: { $0.key == "matrix" }) {
            var axes: [(String, [ParamValue])] = []
            for (axis, _, values) in try matrix.value.mapping("'matrix'") {
                let v = try ParamValue.from(YAMLNode(node: try base.apply(values.node, file: body.file), file: body.file))
                guard case .list(let list) = v, !list.isEmpty else { throw values.error("matrix axis '\(axis)' must be a non-empty list") }
                axes.append((axis, list))
            }
            guard !axes.isEmpty else { throw matrix.value.error("'matrix' must name at least one axis") }
            let total = axes.reduce(1) { $0.multipliedReportingOverflow(by: $1.1.count).overflow ? Int.max : $0 * $1.1.count }
            guard total <= 10_000 else { throw matrix.value.error("'matrix' expands to more than 10,000 stages") }
            try budget.take(stages: total, at: keyNode)
            let rest = Node.Mapping(body.node.mapping!.filter { $0.key.scalar?.string != "matrix" }, .implicit, .block, body.node.mapping!.mark)
            var combos: [[(String, ParamValue, String)]] = [[]]
            for (axis, values) in axes {
                combos = combos.flatMap { c in values.enumerated().map { i, v in
                    let scalar: Bool = { if case .list = v { return false }; if case .dict = v { return false }; return true }()
                    return c + [(axis, v, scalar ? v.description : "\(axis)\(i)")]
                } }
            }
            return try combos.map { combo in
                let item = ParamValue.dict(combo.map { ($0.0, $0.1) })
                return try instance("\(name)@" + combo.map(\.2).joined(separator: "-"), YAMLNode(node: .mapping(rest), file: body.file),
                                    context + [("item", item)], at: matrix.keyNode)
            }
        }
        try budget.take(stages: 1, at: keyNode)
        let own = Interpolation(context: try stageContext(body, context, root: root, folder: folder), budget: budget)
        return [try parseStage(name, YAMLNode(node: try own.apply(body.node, file: body.file), file: body.file), folder: folder)]
    }

    static func instance(_ name: String, _ template: YAMLNode, _ context: [(key: String, value: ParamValue)], at: YAMLNode,
                         budget: ExpansionBudget, folder: String) throws -> Stage {
        guard isValidGeneratedName(name) else {
            throw at.error("generated stage name '\(TerminalText.visible(name))' is invalid",
                           hint: "foreach items and matrix values name the stages: use letters, digits, '_', '-' and '.' in them, or a list of mappings (named by index)")
        }
        let resolved = YAMLNode(node: try Interpolation(context: context, budget: budget).apply(template.node, file: template.file), file: template.file)
        let fields = try resolved.mapping("stage '\(name)'")
        try resolved.checkKeys(fields, allowed: stageKeys.filter { !["foreach", "do", "matrix"].contains($0) }, in: "stage '\(name)'")
        return try parseStage(name, resolved, folder: folder)
    }

    // MARK: - One stage

    /// `folder`: the pipeline file's, which `wdir` and relative paths start from.
    static func parseStage(_ name: String, _ body: YAMLNode, folder: String = ".") throws -> Stage {
        let fields = try body.mapping("stage '\(name)'")
        func field(_ key: String) -> YAMLNode? { fields.first { $0.key == key }?.value }
        guard let cmdNode = field("cmd") else { throw body.error("stage '\(name)' has no 'cmd'") }
        var cmd: [String]
        if cmdNode.node.sequence != nil {
            cmd = try cmdNode.sequence("'cmd'").map { try $0.string("a 'cmd' entry") }
        } else {
            cmd = [try cmdNode.string("'cmd'")]
        }
        cmd = cmd.filter { !$0.allSatisfy(\.isWhitespace) }
        guard !cmd.isEmpty else { throw cmdNode.error("stage '\(name)' has an empty 'cmd'") }
        var wdir = folder
        if let w = field("wdir") { wdir = try stagePath(try w.string("'wdir'"), wdir: folder, at: w, allowRoot: true) }
        var stage = Stage(name: name, cmd: cmd, wdir: wdir)
        if let deps = field("deps"), !deps.isNull {
            for d in try deps.sequence("'deps'") {
                let p = try stagePath(try d.string("a 'deps' entry"), wdir: wdir, at: d)
                if !stage.deps.contains(p) { stage.deps.append(p) }
            }
        }
        if let params = field("params"), !params.isNull {
            for p in try params.sequence("'params'") {
                if p.node.mapping != nil {
                    for (file, fileNode, keys) in try p.mapping("a 'params' entry") {
                        let rel = try stagePath(file, wdir: wdir, at: fileNode)
                        let list = keys.isNull ? nil : try keys.sequence("the keys of '\(file)'").map { try $0.string("a param key") }
                        stage.params.append(ParamDependency(file: rel, keys: list))
                    }
                } else {
                    let key = try p.string("a 'params' entry")
                    let rel = try stagePath(ParamsFile.defaultName, wdir: wdir, at: p)
                    if let i = stage.params.firstIndex(where: { $0.file == rel && $0.keys != nil }) {
                        if !stage.params[i].keys!.contains(key) { stage.params[i].keys!.append(key) }
                    } else {
                        stage.params.append(ParamDependency(file: rel, keys: [key]))
                    }
                }
            }
        }
        for kind in [StageOutput.Kind.out, .metric, .plot] {
            guard let list = field(kind.rawValue), !list.isNull else { continue }
            for entry in try list.sequence("'\(kind.rawValue)'") {
                stage.outs.append(try parseOutput(entry, kind: kind, wdir: wdir))
            }
        }
        if let f = field("frozen") { stage.frozen = try f.bool("'frozen'") }
        if let a = field("always_changed") { stage.alwaysChanged = try a.bool("'always_changed'") }
        if let d = field("desc") { stage.desc = try d.string("'desc'") }
        if let o = field("orchestrate"), !o.isNull { stage.orchestrate = try StageOrchestration.parse(o, stage: name) }
        return stage
    }

    static func parseOutput(_ entry: YAMLNode, kind: StageOutput.Kind, wdir: String) throws -> StageOutput {
        guard entry.node.mapping != nil else {
            var out = StageOutput(path: try stagePath(try entry.string("an '\(kind.rawValue)' entry"), wdir: wdir, at: entry), kind: kind)
            if kind == .plot { out.plot = try spec(id: out.path, file: out.path, nil) }
            return out
        }
        let pairs = try entry.mapping("an '\(kind.rawValue)' entry")
        guard pairs.count == 1 else { throw entry.error("an '\(kind.rawValue)' entry must be a path, or one path with its options") }
        let (path, pathNode, options) = pairs[0]
        var out = StageOutput(path: try stagePath(path, wdir: wdir, at: pathNode), kind: kind)
        if kind == .plot { out.plot = try spec(id: out.path, file: out.path, options.isNull ? nil : options) }
        if options.isNull { return out }
        let opts = try options.mapping("the options of '\(path)'")
        try options.checkKeys(opts, allowed: kind == .plot ? plotKeys : outKeys, in: "the options of '\(path)'")
        for (k, _, v) in opts {
            switch k {
            case "cache": out.cache = try v.bool("'cache'")
            case "persist": out.persist = try v.bool("'persist'")
            case "push": out.push = try v.bool("'push'")
            case "desc": out.desc = try v.string("'desc'")
            default: break
            }
        }
        return out
    }

    /// A path from pipeline.yaml made workspace-relative: refused when absolute, leaving the
    /// workspace, or naming a `.git`/`.mlv` folder.
    static func stagePath(_ raw: String, wdir: String, at node: YAMLNode, allowRoot: Bool = false) throws -> String {
        let hint = "paths in pipeline.yaml are relative to the stage's wdir and stay inside the workspace"
        guard !WorkspacePath.hasLineBreakOrNUL(raw) else {
            throw node.error("path \(raw.debugDescription) has a line break or NUL byte", hint: "a path in pipeline.yaml becomes a line of pipeline.lock and .gitignore: rename the file")
        }
        guard !raw.isEmpty, !raw.hasPrefix("/"), !raw.hasPrefix("~") else {
            throw node.error("path '\(raw)' escapes the workspace", hint: hint)
        }
        let joined = Path.normalize(Path.join(wdir, raw))
        if joined == "." && allowRoot { return "." }
        do {
            return try WorkspacePath(validating: joined).string
        } catch .protected {
            throw node.error("path '\(raw)' is inside .git or .mlv, which are not data", hint: hint)
        } catch {
            throw node.error("path '\(raw)' escapes the workspace", hint: hint)
        }
    }
}

extension YAMLNode {
    /// Refuses documents whose aliases expand to more than `limit` nodes ("billion laughs"):
    /// everything after parsing walks the expanded tree.
    func checkExpandedSize(limit: Int = ParamValue.nodeBudget) throws {
        var budget = limit
        func visit(_ n: Node) throws {
            budget -= 1
            guard budget >= 0 else { throw error("the document expands to more than \(limit) values (through aliases?)") }
            switch n {
            case .scalar, .alias: return
            case .sequence(let s): for c in s { try visit(c) }
            case .mapping(let m): for (k, v) in m { try visit(k); try visit(v) }
            }
        }
        try visit(node)
    }

    /// A `vars` list naming params.yaml itself.
    var containsDefaultParams: Bool {
        (node.sequence ?? []).contains { $0.scalar.map { $0.string == ParamsFile.defaultName || $0.string.hasPrefix(ParamsFile.defaultName + ":") } ?? false }
    }
}
