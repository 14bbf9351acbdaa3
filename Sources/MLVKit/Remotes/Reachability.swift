import MLVGit
import MLVSupport

/// Which revisions an `OutputSelection` reads records from: the workspace's (pointer files and
/// the lock's cached outs), or those committed at some revisions (pointer files and
/// pipeline.lock, read from git objects through libgit2, never from a checkout).
package enum RevisionSelection: Sendable, Equatable {
    case workspace
    /// The pointers at these revisions (anything `git rev-parse` accepts).
    case revisions([String])
    /// Every commit reachable from a branch, a tag or HEAD, plus the workspace.
    case allCommits
    /// The tip of every branch and/or every tagged commit, plus the workspace (DVC's
    /// `--all-branches` / `--all-tags`).
    case refTips(branches: Bool, tags: Bool, experiments: Bool = false)
}

/// What a command is about, as the user chose it: paths (none: all), the revisions whose records
/// count, and whether the run-cache's entries come too. Push, fetch, pull, `status -c`, gc,
/// `gc --cloud` and `repro --pull` all take one and resolve it with `outputs(in:)`; the objects
/// the outputs reach are then `ReachableObjects`.
package struct OutputSelection: Sendable, Equatable {
    /// Paths given by the user (relative to `cwd`): outputs that are, hold or lie inside one.
    package var targets: [String]
    package var revisions: RevisionSelection
    /// Run-cache entries too (push: the local entries whose objects are all cached; fetch: the
    /// remote's entries, then the objects of every local entry that lacks some).
    package var runCache: Bool
    /// Every out the lock records, `cache: false` and `push: false` ones too (`diff`: what is
    /// recorded, not what may move).
    package var everyOut = false
    package var cwd: String

    package init(_ targets: [String] = [], revisions: RevisionSelection = .workspace, runCache: Bool = false,
                 cwd: String = FS.currentDirectory()) {
        self.targets = targets
        self.revisions = revisions
        self.runCache = runCache
        self.cwd = cwd
    }

    /// Everything the workspace records: what `gc` and `repro --pull` start from.
    package static func workspace(at root: String) -> OutputSelection { OutputSelection(cwd: root) }

    /// The outputs selected, for moving to or from a remote: pointer data and the cached outs
    /// `pipeline.lock` records (not those marked `cache: false` or `push: false`), from the
    /// workspace and/or the selected revisions. Pointers from git are validated as the ones on
    /// disk are: their paths must stay inside the workspace, away from `.git` and `.mlv`. The same
    /// record in many commits counts once.
    func outputs(in ws: Workspace) throws -> [Output] {
        switch revisions {
        case .workspace:
            return try workspaceOutputs(ws)
        case .revisions(let revs):
            return try committed(revs, ws)
        case .allCommits:
            guard let git = try ws.git() else { throw WorkspaceError.revisionsNeedGit }
            return try committed(try git.allCommits(), ws) + (try workspaceOutputs(ws))
        case .refTips(let branches, let tags, let experiments):
            guard let git = try ws.git() else { throw WorkspaceError.revisionsNeedGit }
            var tips: [String] = []
            if branches { tips += try git.tipCommits(matching: "refs/heads/*") }
            if tags { tips += try git.tipCommits(matching: "refs/tags/*").filter { !tips.contains($0) } }
            if experiments { tips += try git.tipCommits(matching: Experiments.refPrefix + "*").filter { !tips.contains($0) } }
            return try committed(tips, ws) + (try workspaceOutputs(ws))
        }
    }

    /// For local gc: every output the selection keeps. The workspace part is every out the lock
    /// records, declared or not, and every `cache: false` out whose object the cache holds (gc
    /// keeps more, never less).
    func keptOutputs(in ws: Workspace) throws -> [Output] {
        let local = try ws.outputs(lenientPipeline: true).filter { $0.cache || ws.cache.contains($0.hash) }
        switch revisions {
        case .workspace: return local
        default:
            var only = self
            only.targets = []
            return local + (try only.outputs(in: ws))
        }
    }

    /// The workspace's pointer data and the lock's outs that may leave the machine, narrowed to
    /// `targets` (pointer data, or pipeline outs that are, hold or lie inside one of them).
    private func workspaceOutputs(_ ws: Workspace) throws -> [Output] {
        let outs = try lockOutputs(ws)
        if targets.isEmpty { return try ws.pointers(for: [], cwd: cwd) + outs }
        var result: [Output] = []
        for arg in targets {
            let rel = try ws.relativeTarget(arg, cwd: cwd)
            let fromLock = outs.filter { $0.path == rel || $0.path.hasPrefix(rel + "/") || rel.hasPrefix($0.path + "/") }
            let fromPointers: [Output]
            do { fromPointers = try ws.pointers(for: [arg], cwd: cwd) } catch WorkspaceError.notTracked where !fromLock.isEmpty {
                fromPointers = []
            }
            for t in fromPointers + fromLock where !result.contains(t) { result.append(t) }
        }
        return result
    }

    /// The lock's cached outs that may leave the machine.
    private func lockOutputs(_ ws: Workspace) throws -> [Output] {
        guard try PipelineFile.hasLock(in: ws) else { return [] }
        let stages = try PipelineFile.load(in: ws)?.stages ?? []
        let lock = try ws.loadLock(stages: stages)
        let local = Set(stages.flatMap { $0.outs.filter { !$0.cache || !$0.push }.map(\.path) })
        var out: [Output] = []
        for stage in lock.stages {
            for o in stage.outs where !local.contains(o.path) && !out.contains(where: { $0.path == o.path }) {
                out.append(Output(o, stage: stage.name, cache: true))
            }
        }
        return out
    }

    /// The pointer data and cached lock outs committed at `revisions`.
    private func committed(_ revisions: [String], _ ws: Workspace) throws -> [Output] {
        guard let git = try ws.git() else { throw WorkspaceError.revisionsNeedGit }
        // The workspace may be a folder inside the repository.
        guard let inRepo = Path.relative(ws.root, to: git.workdir) else { return [] }
        let wanted = try targets.map { try ws.relativeTarget($0, cwd: cwd) }.map { $0.hasSuffix(PointerFile.suffix) ? String($0.dropLast(PointerFile.suffix.count)) : $0 }
        func isWanted(_ path: String) -> Bool { wanted.isEmpty || wanted.contains { path == $0 || path.hasPrefix($0 + "/") } }
        var seen = Set<String>()   // "record \0 path \0 hash": the same record in many commits counts once
        var out: [Output] = []
        // Outs the current pipeline marks `cache: false` or `push: false` stay local.
        let local = everyOut ? [] : Set((try PipelineFile.load(in: ws)?.stages ?? []).flatMap { $0.outs.filter { !$0.cache || !$0.push }.map(\.path) })
        for rev in revisions {
            let commit = try git.resolve(rev)
            let records = try CommittedRecords.read(git, commit: commit, folder: inRepo, shownAs: rev == commit ? String(commit.prefix(8)) : rev)
            for o in records where isWanted(o.path) && (o.isPointer || !local.contains(o.path)) {
                let key: String
                switch o.record {
                case .pointer(let file): key = file
                default: key = Lockfile.fileName + "\u{0}" + o.path
                }
                if seen.insert(key + "\u{0}" + o.hash.description).inserted { out.append(o) }
            }
        }
        return out
    }
}

/// The records one commit holds, read from git objects through libgit2 (never a checkout): the
/// data of every pointer file and every out its `pipeline.lock` records. Whoever committed them
/// is untrusted: pointers are parsed and their targets validated as on disk, the lock as any lock.
enum CommittedRecords {
    /// `folder`: the workspace's folder inside the repository ("." at its root); paths in the
    /// result are relative to it. `shownAs` names the commit in messages.
    static func read(_ git: GitRepository, commit: String, folder: String, shownAs at: String) throws -> [Output] {
        let prefix = folder == "." ? "" : folder + "/"
        var out: [Output] = []
        for repoPath in try git.listFiles(at: commit, suffix: PointerFile.suffix) where repoPath.hasPrefix(prefix) {
            let pointerPath = String(repoPath.dropFirst(prefix.count))
            guard Path.base(pointerPath).count > PointerFile.suffix.count, !pointerPath.hasPrefix(".mlv/"),
                  let bytes = try git.readFile(repoPath, at: commit) else { continue }
            let shown = "\(at):\(pointerPath)"
            let text = String(decoding: bytes, as: UTF8.self)
            let pointer: PointerFile, source: DataOrigin?
            do { (pointer, source) = try PointerFile.parseWithSource(text, file: shown) } catch is PointerFile.PendingImport { continue }   // no data yet
            let target = Path.join(Path.parent(pointerPath), pointer.path)
            guard Path.normalize(target) == target, (try? WorkspacePath(validating: target)) != nil
            else { throw WorkspaceError.pointerPathEscapes(pointer: shown, path: pointer.path) }
            var o = Output(path: target, hash: pointer.hash, size: pointer.size, fileCount: pointer.fileCount, record: .pointer(file: pointerPath))
            o.origin = source
            out.append(o)
        }
        // The outs that commit's lock files record (parsing validates their paths).
        for stage in try locks(git, commit: commit, folder: folder, shownAs: at).stages {
            for o in stage.outs { out.append(Output(o, stage: stage.name, cache: true)) }
        }
        return out
    }

    /// Every `pipeline.lock` the commit holds in the workspace's folder (`folder`, as in
    /// `read`), as one lock: its stages named by address (`FILE:NAME` below the root).
    static func locks(_ git: GitRepository, commit: String, folder: String, shownAs at: String) throws -> Lockfile {
        let prefix = folder == "." ? "" : folder + "/"
        var lock = Lockfile()
        for repoPath in try git.listFiles(at: commit, suffix: Lockfile.fileName) where repoPath.hasPrefix(prefix) {
            let rel = String(repoPath.dropFirst(prefix.count))
            guard Path.base(rel) == Lockfile.fileName, !rel.hasPrefix(".mlv/"), (try? WorkspacePath(validating: rel)) != nil,
                  let bytes = try git.readFile(repoPath, at: commit) else { continue }
            let file = Path.parent(rel) == "." ? PipelineFile.fileName : Path.parent(rel) + "/" + PipelineFile.fileName
            for var stage in try Lockfile.parse(String(decoding: bytes, as: UTF8.self), file: "\(at):\(rel)").stages {
                stage.name = Stage.address(stage.name, file: file)
                lock.stages.append(stage)
            }
        }
        return lock
    }
}

/// The objects a set of outputs reaches: files with their sizes, and directory manifests with
/// the files they list. Each manifest is read once, entry by entry from the cache (never held
/// whole); one the cache lacks is `unknown` (a fetch gets it first; gc refuses to guess), one the
/// cache holds but cannot read is an error. The one reachability every transfer, `status -c` and
/// gc use. What a folder lists is read again when a message asks (`shown`), not kept.
struct ReachableObjects {
    var files = ObjectSizes()
    var manifests: [ContentHash: Int64] = [:]
    /// Directory manifests not in the local cache (their files are unknown until fetched).
    var unknownManifests: [ContentHash] = []
    /// For messages: an output's or a folder's object → its tracked path (a file inside a
    /// folder is named by `shown`, from the manifests, only when a message needs it).
    var shownAs: [ContentHash: String] = [:]
    /// The manifests read, in the order first met.
    var readManifests: [ContentHash] = []
    private var cache: ObjectCache?
    private let names = NameIndex()

    init() {}

    /// The tracked path an object belongs to (the first output or folder entry naming it), for
    /// messages; the table of folder entries is built at the first such question.
    func shown(_ h: ContentHash) -> String {
        if let s = shownAs[h] { return s }
        names.lock.lock()
        defer { names.lock.unlock() }
        if names.table == nil {
            var t: [ContentHash: String] = [:]
            for m in readManifests {
                guard let folder = shownAs[m], let reader = try? cache?.manifestReader(m) else { continue }
                while (try? reader.next()) == true {
                    let f = ContentHash(reader.digest)
                    if t[f] == nil { t[f] = folder + "/" + String(decoding: reader.path, as: UTF8.self) }
                }
            }
            names.table = t
        }
        return names.table?[h] ?? h.short
    }

    /// `complete` (gc): a manifest absent or unreadable makes the set unknowable, so that is an
    /// error naming every such folder, never a smaller set.
    init(_ outputs: [Output], cache: ObjectCache, complete: Bool = false) throws {
        try self.init(outputs, cache: cache, complete: complete, spool: nil)
    }

    /// `spool`: every object reached goes there instead of into `files` (which stays empty),
    /// tagged with the index of the output that reaches it: files, manifests read, and manifests
    /// unknown. A folder whose manifest an earlier output reached adds nothing again.
    init(_ outputs: [Output], cache: ObjectCache, complete: Bool, spool: SortedSpool?) throws {
        self.cache = cache
        var unreadable: [String] = []
        var reason = ""
        for (i, t) in outputs.enumerated() {
            let h = t.hash
            let tag = UInt32(truncatingIfNeeded: i)
            if !h.isDirectory {
                if let spool { try spool.append(SpoolRecord(h, tag: tag)) } else { files.insert(h.digest, size: t.size) }
                if shownAs[h] == nil { shownAs[h] = t.path }
                continue
            }
            if manifests[h] != nil || unknownManifests.contains(h) { continue }
            shownAs[h] = t.path
            try spool?.append(SpoolRecord(h, tag: tag))
            do {
                guard let reader = try cache.manifestReader(h) else {
                    unknownManifests.append(h)
                    if complete {
                        unreadable.append(t.path)
                        if reason.isEmpty { reason = "'\(t.path)': manifest \(h.short)… is not in the cache" }
                    }
                    continue
                }
                // A manifest that proves corrupt at its end fails the whole set (rethrown, or
                // thrown below with the others when `complete`): what it added never counts.
                while try reader.next() {
                    if let spool {
                        try spool.append(SpoolRecord(ContentHash(reader.digest), tag: tag))
                    } else {
                        files.insert(reader.digest, size: reader.size)
                    }
                }
            } catch let e as UserFacingError where complete {
                unreadable.append(t.path)
                if reason.isEmpty { reason = e.message }
                continue
            }
            manifests[h] = (try FS.status(cache.path(h)))?.size ?? 0
            readManifests.append(h)
        }
        files.seal()
        if !unreadable.isEmpty { throw WorkspaceError.unreadableManifests(paths: unreadable, reason: reason) }
    }

    /// True when `h` is one of the objects named.
    func contains(_ h: ContentHash) -> Bool { files.contains(h) || manifests[h] != nil || unknownManifests.contains(h) }

    /// The tracked paths whose manifest the cache lacks, for messages.
    var unknownPaths: [String] { unknownManifests.map { shown($0) }.sorted() }
}

/// The objects a set of outputs reaches, as `ReachableObjects` finds them, but sorted on disk
/// (a `SortedSpool`) instead of held: gc, push and `status -c` go through them in digest order,
/// merged with other sorted lists (the cache's, the remote's index objects), in memory that does
/// not grow with their number. `folders` holds the manifests and the names for messages.
struct SpooledObjects {
    let folders: ReachableObjects
    let spool: SortedSpool
    /// For each output, the output whose records stand for it: itself, or the first output
    /// with the same folder (whose manifest was read once, under that output's tag).
    let tagOf: [Int]

    init(_ outputs: [Output], cache: ObjectCache, complete: Bool = false) throws {
        spool = SortedSpool(in: cache.tmp)
        folders = try ReachableObjects(outputs, cache: cache, complete: complete, spool: spool)
        var first: [ContentHash: Int] = [:]
        for (i, o) in outputs.enumerated() where o.hash.isDirectory && first[o.hash] == nil { first[o.hash] = i }
        tagOf = outputs.enumerated().map { i, o in o.hash.isDirectory ? first[o.hash]! : i }
    }

    /// Every object reached once, in order, with the tags of the outputs reaching it (in order).
    func forEachObject(_ body: (ContentHash, [UInt32]) throws -> Void) throws {
        let reader = spool.reader()
        var current: SpoolRecord?
        var tags: [UInt32] = []
        while let r = try reader.next() {
            if let c = current, c.digest == r.digest, c.kind == r.kind {
                tags.append(r.tag)
                continue
            }
            if let c = current { try body(c.hash, tags) }
            current = r
            tags = [r.tag]
        }
        if let c = current { try body(c.hash, tags) }
    }
}

/// The table `ReachableObjects.shown` builds once, shared by copies of one set.
final class NameIndex: @unchecked Sendable {
    let lock = Lock()
    var table: [ContentHash: String]?
}
