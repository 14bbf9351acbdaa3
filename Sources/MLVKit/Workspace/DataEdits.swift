import MLVSupport

/// `mlv move` and `mlv remove`: edits of what is tracked, each planned and checked before the
/// first change, then staged in git (and committed with a message) like `add`.
package struct DataEdits {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    package struct Moved: Sendable, Equatable {
        package var from: String
        package var to: String
        package var commit: String?
    }

    /// `mlv move SRC DST`: moves pointer-tracked data, its pointer and its `.gitignore` line. DST
    /// an existing folder: SRC goes inside it. A pipeline out is refused (it is pipeline.yaml's
    /// to rename), and so is a move into or out of a tracked folder.
    package func move(_ source: String, to destination: String, cwd: String = FS.currentDirectory(), message: String? = nil) throws -> Moved {
        try ws.checkCanCommit(message)
        return try ws.withLock {
            var src = try ws.relativeTarget(source, cwd: cwd)
            if src.hasSuffix(PointerFile.suffix) { src = String(src.dropLast(PointerFile.suffix.count)) }
            let all = try ws.outputs()
            guard all.contains(where: { $0.path == src && $0.isPointer }) else {
                if let out = all.first(where: { !$0.isPointer && ($0.path == src || src.hasPrefix($0.path + "/")) }), case .lock(let stage) = out.record {
                    throw MessageError("'\(source)' is an output of stage '\(stage)'", hint: "rename it in pipeline.yaml (the stage's outs and the command), then run `mlv repro`")
                }
                if let parent = all.first(where: { $0.isPointer && src.hasPrefix($0.path + "/") }) {
                    throw WorkspaceError.trackedByParent(path: source, pointer: parent.path)
                }
                throw WorkspaceError.notTracked(path: source)
            }
            var dst = try ws.relativeTarget(destination, cwd: cwd)
            if dst.hasSuffix(PointerFile.suffix) { dst = String(dst.dropLast(PointerFile.suffix.count)) }
            if (try FS.statusFollowingLinks(ws.absolute(dst)))?.kind == .directory, !all.contains(where: { $0.path == dst }) {
                dst = Path.join(dst, Path.base(src))
            }
            guard dst != src else { throw MessageError("'\(source)' is already there", hint: nil) }
            if dst.hasPrefix(src + "/") { throw MessageError("cannot move '\(source)' into itself", hint: nil) }
            if let holder = all.first(where: { dst == $0.path || dst.hasPrefix($0.path + "/") || $0.path.hasPrefix(dst + "/") }) {
                throw MessageError("'\(destination)' would \(dst.hasPrefix(holder.path + "/") ? "lie inside" : "be") tracked data '\(holder.path)'",
                                   hint: "a move may not cross into or out of a tracked folder: choose a path outside it")
            }
            for p in [dst, dst + PointerFile.suffix] where (try FS.status(ws.absolute(p))) != nil {
                throw MessageError("'\(p)' already exists", hint: "remove it first, or choose another destination")
            }
            let target = try WorkspacePath(validatingUserPath: dst)
            try ws.checkPointerIsFound(dst, shownAs: destination)
            try ws.checkNotInGit(ws.absolute(dst), shownAs: destination)
            try ws.checkNoSymlinkEscape(dst, shownAs: destination)

            // The data (when present), then the new pointer, then the old one goes.
            try FS.makeDirectories(ws.absolute(target.parent))
            if (try FS.status(ws.absolute(src))) != nil { try FS.rename(ws.absolute(src), ws.absolute(dst)) }
            var (pointer, source) = try PointerFile.parseWithSource(
                try UntrustedFile.readText(ws.absolute(src + PointerFile.suffix), shownAs: src + PointerFile.suffix, what: "a pointer file"),
                file: src + PointerFile.suffix)
            pointer.path = target.name
            try AtomicFile.write(try pointer.serialized(origin: source), to: ws.absolute(dst + PointerFile.suffix))
            try FS.remove(ws.absolute(src + PointerFile.suffix))
            var changed = [src + PointerFile.suffix, dst + PointerFile.suffix]
            changed += try ws.removeFromGitignore([src])
            changed += try ws.ensureGitignored(all: [dst])
            let commit = try ws.stageAndCommit(Array(Set(changed)).sorted(), message: message)
            return Moved(from: src, to: dst, commit: commit)
        }
    }

    package struct Removed: Sendable, Equatable {
        /// Pointer files removed (the data they tracked).
        package var pointers: [String] = []
        /// Stages removed from pipeline.yaml and pipeline.lock.
        package var stages: [String] = []
        /// Data removed from the workspace (`outs`).
        package var data: [String] = []
        package var commit: String?
    }

    /// `mlv remove TARGET… [--outs]`: a tracked path (or its `.mlv`) loses its pointer and
    /// `.gitignore` line; a stage name loses its block in pipeline.yaml and its entry in
    /// pipeline.lock, and its outs their `.gitignore` lines. With `outs` the data goes too (it
    /// stays in the cache until gc). Every target is checked before anything changes.
    package func remove(_ targets: [String], outs: Bool, cwd: String = FS.currentDirectory(), message: String? = nil) throws -> Removed {
        guard !targets.isEmpty else { throw WorkspaceError.noTargets(command: "remove") }
        try ws.checkCanCommit(message)
        return try ws.withLock {
            let pipeline = try PipelineFile.load(in: ws)
            let all = pipeline?.stages ?? []
            var pointers: [Output] = []
            var stages: [String] = []   // group addresses
            for t in targets {
                let groups = try DataEdits.stageGroups(named: t, in: all)
                if !groups.isEmpty, (try? ws.relativeTarget(t, cwd: cwd)).map({ !FS.exists(ws.absolute($0)) && !FS.exists(ws.absolute($0 + PointerFile.suffix)) }) ?? true {
                    for g in groups where !stages.contains(g) { stages.append(g) }
                    continue
                }
                if let generated = all.first(where: { $0.name == t && $0.group != t }) {
                    throw MessageError("'\(t)' is one of the stages '\(generated.group)' generates", hint: "remove the whole group: `mlv remove \(generated.group)`")
                }
                for o in try ws.pointers(for: [t], cwd: cwd) where !pointers.contains(o) { pointers.append(o) }
            }
            var result = Removed()
            var changed: [String] = []
            if !stages.isEmpty {
                let removed = all.filter { stages.contains($0.group) }
                let removedOuts = removed.flatMap { $0.outs }
                // Each pipeline file that loses stages, and its lock, checked before any is written.
                var writes: [(rel: String, text: String)] = []
                for file in Set(removed.map(\.file)).sorted() {
                    let text = try PipelineError.readText(ws.absolute(file), shown: file, limit: 16 << 20)
                    var updated = text
                    for group in Set(removed.filter { $0.file == file }.map(\.shortGroup)).sorted() {
                        updated = try PipelineFile.removing(stage: group, from: updated)
                    }
                    _ = try PipelineFile.parse(updated, root: ws.root, file: file)   // still a valid pipeline
                    writes.append((file, updated))
                    let lockRel = Stage.lockFile(for: file)
                    if FS.exists(ws.absolute(lockRel)) {
                        var lock = try Lockfile.parse(try PipelineError.readText(ws.absolute(lockRel), shown: lockRel), file: lockRel)
                        let names = Set(removed.filter { $0.file == file }.map(\.shortName))
                        lock.stages.removeAll { names.contains($0.name) }
                        writes.append((lockRel, try lock.serialized()))
                    }
                }
                if outs { try ws.checkNotGitTracked(removedOuts.map(\.path)) }
                for w in writes {
                    try AtomicFile.write(w.text, to: ws.absolute(w.rel))
                    changed.append(w.rel)
                }
                changed += try ws.removeFromGitignore(removedOuts.filter(\.cache).map(\.path))
                if outs {
                    for o in removedOuts where (try FS.status(ws.absolute(o.path))) != nil {
                        try FS.removeTree(ws.absolute(o.path))
                        result.data.append(o.path)
                    }
                }
                result.stages = stages
            }
            for p in pointers {
                guard case .pointer(let file) = p.record else { continue }
                try FS.remove(ws.absolute(file))
                changed.append(file)
                changed += try ws.removeFromGitignore([p.path])
                result.pointers.append(p.path)
                if outs, (try FS.status(ws.absolute(p.path))) != nil {
                    try FS.removeTree(ws.absolute(p.path))
                    result.data.append(p.path)
                }
            }
            result.commit = try ws.stageAndCommit(Array(Set(changed)).sorted(), message: message)
            return result
        }
    }
}

extension WorkspacePath {
    /// A path the user gave, refused as `add` refuses it.
    init(validatingUserPath path: String) throws {
        do { try self.init(validating: path) } catch {
            throw WorkspaceError.unsafeName(path: WorkspacePath.escapingLineBreaks(path), reason: WorkspaceError.untrackableName)
        }
    }
}

extension DataEdits {
    /// The `foreach` groups (or plain stages) a `remove` target names, by address: a group as
    /// the pipeline names it, `FILE:GROUP`, or a bare group name one file defines.
    static func stageGroups(named t: String, in stages: [Stage]) throws -> [String] {
        let exact = stages.filter { $0.group == t || $0.file + ":" + $0.shortGroup == t }
        if !exact.isEmpty { return [exact[0].group] }
        let short = stages.filter { $0.shortGroup == t }
        let files = Set(short.map(\.file))
        if files.count > 1 { throw PipelineError.ambiguousStage(t, candidates: files.sorted().map { Stage.address(t, file: $0) }) }
        return short.first.map { [$0.group] } ?? []
    }
}
