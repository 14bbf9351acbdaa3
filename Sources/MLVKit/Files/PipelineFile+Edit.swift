import MLVSupport
import Yams

/// A stage to add to pipeline.yaml with `mlv stage add`, as the user typed it.
package struct NewStage: Sendable {
    package var name: String
    package var cmd: String
    package var wdir: String?
    package var deps: [String] = []
    package var params: [String] = []
    package var outs: [String] = []
    package var outsNoCache: [String] = []
    package var metricsNoCache: [String] = []
    package var desc: String?

    package init(name: String, cmd: String) {
        self.name = name
        self.cmd = cmd
    }

    /// The stage as YAML, its name at column 0.
    func yaml() throws -> String {
        var fields: [(Node, Node)] = [("cmd", Node(cmd))]
        if let wdir { fields.append(("wdir", Node(wdir))) }
        func list(_ items: [Node]) -> Node { Node(items, Tag(.seq), .block) }
        if !deps.isEmpty { fields.append(("deps", list(deps.map { Node($0) }))) }
        if !params.isEmpty {
            // `file.yaml:a,b` names keys of another params file.
            fields.append(("params", list(params.map { p in
                let (file, keys) = PipelineFile.splitFileSpec(p)
                guard p.contains(":") else { return Node(p) }
                return Node([(Node(file), keys.map { list($0.map { Node($0) }) } ?? Node("null", Tag(.null), .plain))], Tag(.map), .block)
            })))
        }
        let noCache = Node([("cache", Node("false", Tag(.bool), .plain))], Tag(.map), .block)
        let outNodes = outs.map { Node($0) } + outsNoCache.map { Node([(Node($0), noCache)], Tag(.map), .block) }
        if !outNodes.isEmpty { fields.append(("outs", list(outNodes))) }
        if !metricsNoCache.isEmpty { fields.append(("metrics", list(metricsNoCache.map { Node([(Node($0), noCache)], Tag(.map), .block) }))) }
        if let desc { fields.append(("desc", Node(desc))) }
        return try YAMLText.serialize(Node([(Node(name), Node(fields, Tag(.map), .block))], Tag(.map), .block))
    }
}

extension PipelineFile {
    /// `text` with `stage` appended to its `stages:` mapping. Everything else — comments, order,
    /// spacing — is kept byte for byte: the new lines are inserted after the last stage.
    static func adding(_ stage: NewStage, to text: String) throws -> String {
        let block = try stage.yaml()
        guard let doc = try YAMLNode.parse(text, file: fileName), !doc.isNull else {
            return text + (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "stages:\n" + indent(block, by: 2)
        }
        guard let top = doc.node.mapping else { throw doc.error("pipeline.yaml must be a mapping") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let keys = top.keys.map { $0 }
        guard let stagesIndex = keys.firstIndex(where: { $0.scalar?.string == "stages" }) else {
            return text + (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "stages:\n" + indent(block, by: 2)
        }
        let stagesValue = top[keys[stagesIndex]]!
        var column = 2
        if let m = stagesValue.mapping {
            guard m.style != .flow else {
                throw YAMLNode(node: stagesValue, file: fileName).error("cannot add a stage to 'stages' written in flow style ({…})",
                                                                       hint: "write the stages as a block mapping, one per line")
            }
            if let first = m.keys.first, let mark = first.mark { column = mark.column - 1 }
        } else if !YAMLNode(node: stagesValue, file: fileName).isNull {
            throw YAMLNode(node: stagesValue, file: fileName).error("'stages' must be a mapping")
        }
        // Insert after the last line that belongs to `stages` (before the next top-level key
        // and the comments or blank lines just above it).
        var end = lines.count
        if stagesIndex + 1 < keys.count, let next = keys[stagesIndex + 1].mark { end = next.line - 1 }
        while end > 0 {
            let l = lines[end - 1]
            let t = l.drop { $0 == " " }
            if t.isEmpty || (t.hasPrefix("#") && l.first != " ") { end -= 1 } else { break }
        }
        lines.insert(contentsOf: indent(block, by: column).split(separator: "\n").map(String.init), at: end)
        if stagesValue.mapping == nil, let stagesLine = keys[stagesIndex].mark?.line {
            // `stages:` with nothing after it (or an explicit null): the value becomes the block.
            let i = stagesLine - 1
            if let colon = lines[i].firstIndex(of: ":") { lines[i] = String(lines[i][...colon]) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` without the stage (or `foreach`/`matrix` group) `name`: its key line and every line
    /// up to the next stage or top-level key, comments and spacing elsewhere kept byte for byte.
    static func removing(stage name: String, from text: String) throws -> String {
        guard let doc = try YAMLNode.parse(text, file: fileName), let top = doc.node.mapping else { throw PipelineError.noPipeline }
        let keys = top.keys.map { $0 }
        guard let stagesIndex = keys.firstIndex(where: { $0.scalar?.string == "stages" }), let stages = top[keys[stagesIndex]]?.mapping else {
            throw MessageError("pipeline.yaml has no stage '\(name)'", hint: nil)
        }
        guard stages.style != .flow else {
            throw MessageError("cannot remove a stage from 'stages' written in flow style ({…})", hint: "write the stages as a block mapping, one per line")
        }
        let stageKeys = stages.keys.map { $0 }
        guard let k = stageKeys.firstIndex(where: { $0.scalar?.string == name }), let startLine = stageKeys[k].mark?.line else {
            throw MessageError("pipeline.yaml has no stage '\(name)'", hint: nil)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var end = lines.count
        if k + 1 < stageKeys.count, let next = stageKeys[k + 1].mark { end = next.line - 1 }
        else if stagesIndex + 1 < keys.count, let next = keys[stagesIndex + 1].mark { end = next.line - 1 }
        // Comments and blank lines just above the next key belong to it.
        while end > startLine {
            let t = lines[end - 1].drop { $0 == " " }
            if t.isEmpty || t.hasPrefix("#") { end -= 1 } else { break }
        }
        lines.removeSubrange((startLine - 1)..<end)
        if stageKeys.count == 1, let stagesLine = keys[stagesIndex].mark?.line {
            lines[stagesLine - 1] = String(lines[stagesLine - 1].prefix { $0 != ":" }) + ": {}"
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func indent(_ text: String, by n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
    }
}

extension Workspace {
    /// `mlv stage add`: appends a stage to the pipeline file of `folder` (workspace-relative;
    /// created if missing; its paths relative to that folder, as DVC's `stage add` writes the
    /// `dvc.yaml` of the folder it runs in), after checking that the whole pipeline is still
    /// valid (name, paths, no duplicate outs, no cycle across files).
    package func addStage(_ stage: NewStage, folder: String = ".") throws {
        try withLock {
            let file = folder == "." ? PipelineFile.fileName : folder + "/" + PipelineFile.fileName
            let path = absolute(file)
            let text = FS.exists(path) ? try PipelineError.readText(path, shown: file, limit: 16 << 20) : ""
            let others = try PipelineFile.load(in: self)?.stages ?? []
            if others.contains(where: { $0.file == file && ($0.shortName == stage.name || $0.shortGroup == stage.name) }) {
                throw MessageError("stage '\(stage.name)' already exists in \(file)", hint: "choose another name, or edit \(file)")
            }
            let updated = try PipelineFile.adding(stage, to: text)
            let pipeline = try PipelineFile.parse(updated, root: root, file: file)
            _ = try StageGraph(others.filter { $0.file != file } + pipeline.stages, trackedPaths: try allPointers().map(\.path))
            try AtomicFile.write(updated, to: path)
        }
    }
}
