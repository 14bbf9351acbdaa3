import MLVSupport

extension Workspace {
    /// Folders never searched for pointer files.
    static let skippedFolders: Set<String> = ["node_modules", "__pycache__"]

    /// Reads and validates one pointer file (workspace-relative path): the output it records.
    package func loadPointer(_ pointerPath: String) throws -> Output {
        let text = try UntrustedFile.readText(absolute(pointerPath), shownAs: pointerPath, what: "a pointer file")
        let (pointer, source) = try PointerFile.parseWithSource(text, file: pointerPath)
        let target = Path.join(Path.parent(pointerPath), pointer.path)
        guard Path.normalize(target) == target else { throw WorkspaceError.pointerPathEscapes(pointer: pointerPath, path: pointer.path) }
        do {
            _ = try WorkspacePath(validating: target)
        } catch .protected(let part) {
            throw WorkspaceError.protectedPath(path: target, component: part)
        } catch {
            throw WorkspaceError.pointerPathEscapes(pointer: pointerPath, path: pointer.path)
        }
        do {
            try checkNoSymlinkEscape(target, shownAs: target)
            if let st = try FS.status(absolute(target)), st.kind == .symlink, !pointsIntoCache(absolute(target)) {
                try checkResolvesInside(absolute(target), shownAs: target)
            }
        } catch WorkspaceError.symlinkEscapes {
            throw WorkspaceError.pointerPathEscapes(pointer: pointerPath, path: pointer.path)
        }
        var output = Output(path: target, hash: pointer.hash, size: pointer.size, fileCount: pointer.fileCount, record: .pointer(file: pointerPath))
        output.origin = source
        return output
    }

    /// Every pointer file in the workspace, sorted by path (see `WorkspaceWalk` for where it
    /// looks). The walk's pipeline files are kept for `PipelineFile.load(in:)`.
    package func allPointers() throws -> [Output] {
        var out: [Output] = []
        pendingImports = [:]
        walked = try WorkspaceWalk(self) { rel in
            do {
                let t = try loadPointer(rel)
                out.append(t)
                return t.path
            } catch let p as PointerFile.PendingImport {
                pendingImports[String(rel.dropLast(PointerFile.suffix.count))] = p.source
                return nil
            }
        }
        return out.sorted { $0.path < $1.path }
    }

    /// The pointers for the given user paths: a tracked path, its pointer file, or a folder
    /// (every pointer below it). No targets → all pointers.
    package func pointers(for targets: [String], cwd: String = FS.currentDirectory()) throws -> [Output] {
        let all = try allPointers()
        if targets.isEmpty { return all }
        var out: [Output] = []
        for arg in targets {
            var rel = try relativeTarget(arg, cwd: cwd)
            if rel.hasSuffix(PointerFile.suffix), FS.exists(absolute(rel)) { rel = String(rel.dropLast(PointerFile.suffix.count)) }
            let matches = all.filter { $0.path == rel || $0.path.hasPrefix(rel + "/") }
            if matches.isEmpty {
                if let parent = all.first(where: { rel.hasPrefix($0.path + "/") }) {
                    throw WorkspaceError.trackedByParent(path: arg, pointer: parent.path)
                }
                throw WorkspaceError.notTracked(path: arg)
            }
            for m in matches where !out.contains(m) { out.append(m) }
        }
        return out
    }

    /// True when `path` is a symlink whose target is an object in this workspace's cache.
    func pointsIntoCache(_ path: String) -> Bool { TreeScanner.pointsIntoCache(path, objectsRoot: cache.objectsRoot) }

    /// The pointer of a parent folder that already tracks `rel`, if any.
    func trackingParent(of rel: String) -> String? {
        var dir = Path.parent(rel)
        while dir != "." {
            if FS.exists(absolute(dir + PointerFile.suffix)) { return dir }
            dir = Path.parent(dir)
        }
        return nil
    }
}
