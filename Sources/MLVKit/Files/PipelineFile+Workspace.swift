import MLVSupport

/// A workspace's pipeline: every `pipeline.yaml` in it (found where pointer files are, see
/// `WorkspaceWalk`) read as one, each file's stages named `FILE:NAME` below the root, one DAG
/// across all of them; each file's `pipeline.lock` lies beside it.
extension PipelineFile {
    /// The pipeline files of `ws` (workspace-relative, the root's first) and what else the walk
    /// found; the walk is done once per workspace object (pointer searches redo it).
    static func walk(_ ws: Workspace) throws -> WorkspaceWalk {
        if let w = ws.walked { return w }
        // Pointers are not read here: a pointer `X.mlv` tracks `X`, whose folder is not entered.
        let w = try WorkspaceWalk(ws) { String($0.dropLast(PointerFile.suffix.count)) }
        ws.walked = w
        return w
    }

    /// Every pipeline file's path, the root's first (it is checked on disk each time: commands
    /// that write it, such as `stage add`, read it back).
    static func files(in ws: Workspace) throws -> [String] {
        let others = try walk(ws).pipelineFiles.filter { $0 != fileName }
        return (try FS.statusFollowingLinks(ws.absolute(fileName)) != nil ? [fileName] : []) + others
    }

    /// True when some pipeline file has its lock beside it.
    static func hasLock(in ws: Workspace) throws -> Bool {
        try files(in: ws).contains { FS.exists(ws.absolute(Stage.lockFile(for: $0))) }
    }

    /// The workspace's pipeline, nil when it has no pipeline file. A pipeline file inside a
    /// tracked folder or a stage's out is refused.
    package static func load(in ws: Workspace) throws -> PipelineFile? {
        let walk = try walk(ws)
        if let f = walk.pipelineFilesInData.first { throw PipelineError.pipelineInData(file: f, owner: "'\(Path.parent(f))', tracked by '\(Path.parent(f)).mlv'") }
        let files = try files(in: ws)
        guard !files.isEmpty else { return nil }
        var merged = PipelineFile(stages: [])
        for file in files {
            let abs = ws.absolute(file)
            guard let st = try FS.statusFollowingLinks(abs) else { continue }
            guard st.kind == .file else { throw PipelineError.notARegularFile(path: file) }
            if file != fileName { try PipelineError.checkInside(abs, root: ws.root, shown: file) }
            let one = try parse(try PipelineError.readText(abs, shown: file, limit: 16 << 20), root: ws.root, file: file)
            merged.stages += one.stages
            merged.paramsFiles += one.paramsFiles.filter { !merged.paramsFiles.contains($0) }
            merged.metricsFiles += one.metricsFiles.filter { !merged.metricsFiles.contains($0) }
            merged.plots += one.plots
            merged.artifacts += one.artifacts
        }
        for file in files where file != fileName {
            for s in merged.stages {
                if let o = s.outs.first(where: { file.hasPrefix($0.path + "/") }) {
                    throw PipelineError.pipelineInData(file: file, owner: "'\(o.path)', an out of stage '\(s.name)'")
                }
            }
        }
        return merged
    }

    /// The error for a workspace without a pipeline file (see `PipelineError.missing`).
    static func missing(in ws: Workspace) throws -> PipelineError { PipelineError.missing(try walk(ws)) }
}
