import MLVSupport
import Yams

/// `pipeline.lock`: what each stage ran with and produced, last time it ran.
///
///     schema: '1'
///     stages:
///       prepare:                      # stages in pipeline.yaml order
///         cmd: python prepare.py
///         deps:                       # sorted by path
///         - path: data/raw.csv
///           hash: sha256
///           sha256: 3f2a…
///           size: 5120
///         params:
///           params.yaml:              # files and keys sorted
///             prepare.seed: 20
///         outs:
///         - path: data/prepared
///           hash: sha256
///           sha256: 9c1e….dir
///           size: 10240
///           nfiles: 2
///
/// The same stages with the same data serialize to the same bytes.
package struct Lockfile: Equatable, Sendable {
    package static let fileName = "pipeline.lock"

    /// A recorded file or folder (a folder's hash is its manifest's, marked `.dir`).
    package typealias Entry = ContentRecord

    package struct StageLock: Equatable, Sendable {
        package var name: String
        package var cmd: [String]
        package var deps: [Entry]
        /// file → (dotted key → value), both sorted.
        package var params: [(file: String, values: [(key: String, value: ParamValue)])]
        package var outs: [Entry]

        package init(name: String, cmd: [String], deps: [Entry], params: [(file: String, values: [(key: String, value: ParamValue)])], outs: [Entry]) {
            self.name = name
            self.cmd = cmd
            self.deps = deps.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
            self.params = params.map { f in (f.file, f.values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) }
                .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            self.outs = outs.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        }

        package static func == (a: StageLock, b: StageLock) -> Bool {
            a.name == b.name && a.cmd == b.cmd && a.deps == b.deps && a.outs == b.outs && a.params.count == b.params.count
                && zip(a.params, b.params).allSatisfy { x, y in
                    x.file == y.file && x.values.count == y.values.count && zip(x.values, y.values).allSatisfy { $0.key == $1.key && $0.value == $1.value }
                }
        }

        /// The recorded value of a param.
        package func param(_ file: String, _ key: String) -> ParamValue? {
            params.first { $0.file == file }?.values.first { $0.key == key }?.value
        }
    }

    package var stages: [StageLock]

    package init(stages: [StageLock] = []) { self.stages = stages }

    package subscript(name: String) -> StageLock? { stages.first { $0.name == name } }

    // MARK: - Writing

    package func serialized() throws -> String {
        guard !stages.isEmpty else { return "schema: '1'\nstages: {}\n" }
        return try Lockfile.header + stages.map(Lockfile.block).joined()
    }

    static let header = "schema: '1'\nstages:\n"

    /// One stage's lines of the lock (`  name:` and what is below it). A lock is the header and
    /// its stages' blocks, so a run rewriting the lock after each stage serializes each stage once.
    static func block(_ s: StageLock) throws -> String {
        var fields: [(Node, Node)] = [("cmd", s.cmd.count == 1 ? Node(s.cmd[0]) : Node(s.cmd.map { Node($0) }, Tag(.seq), .block))]
        if !s.deps.isEmpty { fields.append(("deps", entries(s.deps))) }
        if !s.params.isEmpty {
            let files = s.params.map { f in (Node(f.file), Node(f.values.map { (Node($0.key), $0.value.node) }, Tag(.map), .block)) }
            fields.append(("params", Node(files, Tag(.map), .block)))
        }
        if !s.outs.isEmpty { fields.append(("outs", entries(s.outs))) }
        let stage = Node([(Node(s.name), Node(fields, Tag(.map), .block))], Tag(.map), .block)
        let text = try YAMLText.serialize(Node([("stages", stage)], Tag(.map), .block))
        return String(text.dropFirst("stages:\n".count))
    }

    static func entries(_ list: [Entry]) -> Node {
        Node(list.map { e in
            var pairs: [(Node, Node)] = [("path", Node(e.path)), ("hash", "sha256"), ("sha256", Node(e.hash.description)), ("size", Node(String(e.size), Tag(.int)))]
            if let n = e.fileCount { pairs.append(("nfiles", Node(String(n), Tag(.int)))) }
            return Node(pairs, Tag(.map), .block)
        }, Tag(.seq), .block)
    }

    // MARK: - Reading (untrusted input)

    package static func parse(_ text: String, file: String = fileName) throws -> Lockfile {
        guard let doc = try YAMLNode.parse(text, file: file), !doc.isNull else { return Lockfile() }
        try doc.checkExpandedSize()
        let top = try doc.mapping("pipeline.lock")
        try doc.checkKeys(top, allowed: ["schema", "stages"], in: "pipeline.lock")
        if let schema = top.first(where: { $0.key == "schema" })?.value {
            let v = try schema.string("'schema'")
            guard v == "1" else { throw schema.error("unsupported lock schema '\(v)' (this mlv reads '1')") }
        }
        var lock = Lockfile()
        guard let stagesNode = top.first(where: { $0.key == "stages" })?.value, !stagesNode.isNull else { return lock }
        for (name, keyNode, body) in try stagesNode.mapping("'stages'") {
            guard lock[name] == nil else { throw keyNode.error("stage '\(name)' appears twice") }
            let fields = try body.mapping("stage '\(name)'")
            try body.checkKeys(fields, allowed: ["cmd", "deps", "params", "outs"], in: "stage '\(name)'")
            func field(_ k: String) -> YAMLNode? { fields.first { $0.key == k }?.value }
            guard let cmdNode = field("cmd") else { throw body.error("stage '\(name)' has no 'cmd'") }
            let cmd = cmdNode.node.sequence != nil ? try cmdNode.sequence("'cmd'").map { try $0.string("a 'cmd' entry") } : [try cmdNode.string("'cmd'")]
            var params: [(file: String, values: [(key: String, value: ParamValue)])] = []
            if let p = field("params"), !p.isNull {
                for (f, fNode, values) in try p.mapping("'params'") {
                    try checkPath(f, at: fNode)
                    let pairs = try values.mapping("the params of '\(f)'").map { (key: $0.key, value: try ParamValue.from($0.value)) }
                    params.append((f, pairs))
                }
            }
            lock.stages.append(StageLock(name: name, cmd: cmd, deps: try entryList(field("deps")), params: params, outs: try entryList(field("outs"))))
        }
        return lock
    }

    static func entryList(_ node: YAMLNode?) throws -> [Entry] {
        guard let node, !node.isNull else { return [] }
        return try node.sequence("a list of paths").map { item in
            let fields = try item.mapping("an entry")
            try item.checkKeys(fields, allowed: ["path", "hash", "sha256", "size", "nfiles"], in: "an entry")
            func field(_ k: String) throws -> YAMLNode {
                guard let v = fields.first(where: { $0.key == k })?.value else { throw item.error("missing '\(k)'") }
                return v
            }
            let pathNode = try field("path")
            let path = try pathNode.string("'path'")
            try checkPath(path, at: pathNode)
            if let algo = fields.first(where: { $0.key == "hash" })?.value, try algo.string("'hash'") != "sha256" {
                throw algo.error("unsupported hash algorithm (only sha256)")
            }
            let hashNode = try field("sha256")
            guard let hash = ContentHash(string: try hashNode.string("'sha256'")) else {
                throw hashNode.error("not a SHA-256 hash (64 lowercase hex digits, '.dir' for a directory)")
            }
            let size = try PointerFile.size(try field("size"))
            let count = try fields.first(where: { $0.key == "nfiles" }).map { try PointerFile.fileCount($0.value) }
            return Entry(path: path, hash: hash, size: size, fileCount: count)
        }
    }

    static func checkPath(_ path: String, at node: YAMLNode) throws {
        guard (try? WorkspacePath(validating: path)) != nil else {
            throw node.error("path '\(path)' escapes the workspace", hint: "restore pipeline.lock with `git checkout -- pipeline.lock`, or delete it")
        }
    }
}

extension Lockfile {
    /// The lock as `pipeline.yaml` allows it: only stages the pipeline declares, and in each only
    /// the outs that stage declares (as DVC reads `dvc.lock`). A lock is written by whoever
    /// committed it, so an entry the pipeline does not declare must not decide what is written
    /// into the workspace. `dropped`: one line per undeclared stage or out, for a warning.
    package func declared(by stages: [Stage]) -> (lock: Lockfile, dropped: [String]) {
        let byName = Dictionary(stages.map { ($0.name, Set($0.outs.map(\.path))) }, uniquingKeysWith: { a, _ in a })
        var kept: [StageLock] = []
        var dropped: [String] = []
        for var stage in self.stages {
            guard let outs = byName[stage.name] else {
                dropped.append("stage '\(stage.name)' is not in \(PipelineFile.fileName)")
                continue
            }
            let extra = stage.outs.filter { !outs.contains($0.path) }
            for o in extra { dropped.append("out '\(o.path)' of stage '\(stage.name)' is not in \(PipelineFile.fileName)") }
            if !extra.isEmpty { stage.outs.removeAll { !outs.contains($0.path) } }
            kept.append(stage)
        }
        return (Lockfile(stages: kept), dropped)
    }
}
