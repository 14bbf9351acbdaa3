import MLVSupport

/// Stage targets as a user types them, made workspace-relative: a pipeline file's path (all its
/// stages) and the `FILE` of `FILE:STAGE` are relative to the folder the command runs in, as in
/// DVC (`mlv repro pipelines/train/pipeline.yaml:train`, or `pipeline.yaml:train` from inside
/// `pipelines/train`). Names without a file stay as they are (see `StageGraph.named`).
package enum StageTargets {
    package static func resolve(_ targets: [String], in ws: Workspace, cwd: String = FS.currentDirectory()) throws -> [String] {
        try targets.map { t in
            if let colon = t.lastIndex(of: ":"), colon != t.startIndex {
                let file = String(t[..<colon])
                guard Path.base(file) == PipelineFile.fileName else { return t }
                return try ws.relativeTarget(file, cwd: cwd) + t[colon...]
            }
            guard Path.base(t) == PipelineFile.fileName, FS.exists(Path.absolute(t, relativeTo: cwd)) else { return t }
            return try ws.relativeTarget(t, cwd: cwd)
        }
    }

    /// The workspace-relative folder of `cwd` ("." at the root or outside the workspace).
    package static func folder(of cwd: String, in ws: Workspace) -> String {
        Path.relative(FS.realPath(cwd) ?? cwd, to: ws.root) ?? "."
    }
}
