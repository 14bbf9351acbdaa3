import MLVSupport

/// One pass over the folders where a workspace's records live: pointer files (`*.mlv`) and
/// pipeline files (`pipeline.yaml`, and DVC's `dvc.yaml` to say it is not read). Hidden
/// folders, `node_modules`/`__pycache__`, folders `.mlvignore` excludes, folders tracked by a
/// pointer and nested workspaces are not entered. Folders are opened from the root's descriptor
/// (in pieces when deep), so an untracked folder nested past PATH_MAX is searched like any other.
struct WorkspaceWalk {
    /// Workspace-relative, sorted.
    var pipelineFiles: [String] = []
    var dvcPipelineFiles: [String] = []
    /// Pipeline files directly inside a folder a pointer tracks: data, not a pipeline (refused).
    var pipelineFilesInData: [String] = []

    /// Walks `ws`; `pointer` is called for each pointer file met (workspace-relative path) and
    /// returns the path of the data it tracks (nil: none yet), whose folder is then not entered.
    init(_ ws: Workspace, pointer: (String) throws -> String?) throws {
        let rootHandle = try DirectoryHandle.open(ws.root)
        func visit(_ dir: String) throws {
            // The folder's descriptor is let go before its subfolders are visited: a deep tree
            // holds no descriptor per level.
            var subfolders: [String] = []
            do {
                guard let handle = dir == "." ? rootHandle : try rootHandle.openDeep(dir) else { return }
                let entries = try handle.list()
                if entries.contains(where: { $0.name == IgnoreFiles.fileName }) { try ws.ignores.look(in: dir) }
                func ignored(_ name: String, _ isDirectory: Bool) throws -> Bool {
                    if ws.ignores.isEmpty { return false }
                    return try ws.ignores.isIgnored(dir == "." ? name : dir + "/" + name, isDirectory: isDirectory)
                }
                func rel(_ name: String) -> String { dir == "." ? name : dir + "/" + name }
                var tracked = Set<String>()
                for e in entries where e.kind != .directory {
                    if e.name == PipelineFile.fileName || e.name == PipelineFile.dvcFileName {
                        if try ignored(e.name, false) { continue }
                        if e.name == PipelineFile.fileName { pipelineFiles.append(rel(e.name)) } else { dvcPipelineFiles.append(rel(e.name)) }
                        continue
                    }
                    guard e.name.hasSuffix(PointerFile.suffix), e.name.count > PointerFile.suffix.count else { continue }
                    if try ignored(e.name, false) { continue }
                    guard let target = try pointer(rel(e.name)) else { continue }
                    if Path.parent(target) == dir || (dir == "." && !target.contains("/")) {
                        tracked.insert(Path.base(target))
                        if try handle.status(Path.base(target))?.kind == .directory,
                           try handle.status(Path.base(target) + "/" + PipelineFile.fileName)?.kind == .file {
                            pipelineFilesInData.append(target + "/" + PipelineFile.fileName)
                        }
                    }
                }
                for e in entries where !tracked.contains(e.name) && !e.name.hasPrefix(".") && !Workspace.skippedFolders.contains(e.name) {
                    let kind = try e.kind ?? handle.status(e.name)?.kind
                    if kind == .directory, !(try ignored(e.name, true)) { subfolders.append(rel(e.name)) }
                }
            }
            for rel in subfolders {
                if try rootHandle.openDeep(rel)?.status(".mlv") != nil { continue }
                try visit(rel)
            }
        }
        try visit(".")
        pipelineFiles.sort()
        dvcPipelineFiles.sort()
    }
}
