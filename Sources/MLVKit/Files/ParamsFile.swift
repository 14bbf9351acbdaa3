import MLVSupport

/// A params file (`params.yaml`, or any YAML, JSON or TOML file a stage names), read once per command.
package struct ParamsFile: Sendable {
    /// Workspace-relative path.
    package var path: String
    /// The whole document (an empty file is an empty dict).
    package var root: ParamValue

    package static let defaultName = "params.yaml"

    /// Reads and parses `path` of the workspace at `root`. JSON parses as YAML (flow style);
    /// `.toml` as TOML. A symlink leading out of the workspace is refused.
    package static func load(_ path: String, root: String) throws -> ParamsFile {
        let abs = Path.join(root, path)
        guard let st = try FS.statusFollowingLinks(abs) else { throw PipelineError.missingParamsFile(path: path) }
        guard st.kind == .file else { throw PipelineError.notARegularFile(path: path) }
        try PipelineError.checkInside(abs, root: root, shown: path)
        let text = try PipelineError.readStrictText(abs, shown: path)
        if path.lowercased().hasSuffix(".toml") { return ParamsFile(path: path, root: try parseTOML(text, path: path)) }
        guard let doc = try YAMLNode.parse(text, file: path) else { return ParamsFile(path: path, root: .dict([])) }
        let value = try ParamValue.from(doc)
        guard case .dict = value else { throw doc.error("a params file must hold a mapping at the top") }
        return ParamsFile(path: path, root: value)
    }

    /// The value of a dotted key, or a `missingParam` error suggesting a close key.
    package func value(_ key: String, stage: String) throws -> ParamValue {
        if let v = root.lookup(key) { return v }
        var candidates: [String] = []
        func collect(_ v: ParamValue, _ prefix: String, depth: Int) {
            guard depth < 4, case .dict(let pairs) = v else { return }
            for (k, sub) in pairs {
                let full = prefix.isEmpty ? k : prefix + "." + k
                candidates.append(full)
                collect(sub, full, depth: depth + 1)
            }
        }
        collect(root, "", depth: 0)
        throw PipelineError.missingParam(stage: stage, key: key, file: path, suggestion: Suggestion.closest(to: key, in: candidates))
    }
}
