import MLVSupport

/// `mlv diff`: the tracked files added, deleted, modified and renamed between two revisions, or
/// a revision and the workspace, inside tracked folders too (manifest against manifest). Folders
/// are entries of their own, their paths ending in "/", as DVC prints them.
package struct DataDiff: Sendable, Equatable {
    package struct Entry: Sendable, Equatable {
        package var path: String
        /// The content on the old side and on the new (nil: absent there).
        package var old: ContentHash?
        package var new: ContentHash?
        package var isFolder: Bool { path.hasSuffix("/") }
    }
    package struct Rename: Sendable, Equatable {
        package var old: String
        package var new: String
        package var hash: ContentHash
    }

    package var added: [Entry] = []
    package var deleted: [Entry] = []
    package var modified: [Entry] = []
    package var renamed: [Rename] = []
    /// Folders whose manifest the cache lacks on some side: compared as a whole only.
    package var notInCache: [Entry] = []

    package var isEmpty: Bool { added.isEmpty && deleted.isEmpty && modified.isEmpty && renamed.isEmpty && notInCache.isEmpty }

    /// One side's tracked content: each output's hash and, for a folder, its files when known.
    struct Side {
        struct Node {
            var hash: ContentHash?
            var isFolder: Bool
            /// A folder's files, read in path order; nil when its manifest is not in the cache.
            var files: (() throws -> ManifestReader)?
        }
        var nodes: [String: Node] = [:]
        init() {}
    }

    /// Compares two sides, paths limited to `within` (workspace-relative; none: all).
    static func compare(_ a: Side, _ b: Side, within: [String]) throws -> DataDiff {
        var d = DataDiff()
        func wanted(_ path: String) -> Bool {
            let bare = path.hasSuffix("/") ? String(path.dropLast()) : path
            return within.isEmpty || within.contains { bare == $0 || bare.hasPrefix($0 + "/") }
        }
        func add(_ list: inout [Entry], _ e: Entry) { if wanted(e.path) { list.append(e) } }
        /// Every file of a node, as entries of `path`.
        func files(_ path: String, _ n: Side.Node) throws -> [(String, ContentHash)] {
            guard n.isFolder else { return n.hash.map { [(path, $0)] } ?? [] }
            guard let reader = try n.files?() else { return [] }
            var out: [(String, ContentHash)] = []
            while try reader.next() { out.append((path + "/" + String(decoding: reader.path, as: UTF8.self), ContentHash(reader.digest))) }
            return out
        }
        for path in Set(a.nodes.keys).union(b.nodes.keys).sorted() {
            let old = a.nodes[path], new = b.nodes[path]
            switch (old, new) {
            case let (o?, n?) where o.isFolder && n.isFolder:
                if let oh = o.hash, oh == n.hash { continue }
                guard let of = o.files, let nf = n.files else {
                    add(&d.notInCache, Entry(path: path + "/", old: o.hash, new: n.hash))
                    add(&d.modified, Entry(path: path + "/", old: o.hash, new: n.hash))
                    continue
                }
                // Both read in path order: one merge, neither side held whole.
                var changed = false
                try DirectoryManifest.merge(try of(), try nf()) { was, now in
                    changed = true
                    switch (was, now) {
                    case let (w?, n?): add(&d.modified, Entry(path: path + "/" + n.path, old: ContentHash(w.digest), new: ContentHash(n.digest)))
                    case let (nil, n?): add(&d.added, Entry(path: path + "/" + n.path, old: nil, new: ContentHash(n.digest)))
                    case let (w?, nil): add(&d.deleted, Entry(path: path + "/" + w.path, old: ContentHash(w.digest), new: nil))
                    case (nil, nil): break
                    }
                }
                if changed || o.hash != n.hash { add(&d.modified, Entry(path: path + "/", old: o.hash, new: n.hash)) }
            case let (o?, n?) where !o.isFolder && !n.isFolder:
                if o.hash != n.hash { add(&d.modified, Entry(path: path, old: o.hash, new: n.hash)) }
            default:
                // Only on one side, or a file on one and a folder on the other.
                if let o = old {
                    if o.isFolder {
                        add(&d.deleted, Entry(path: path + "/", old: o.hash, new: nil))
                        if o.files == nil { add(&d.notInCache, Entry(path: path + "/", old: o.hash, new: nil)) }
                    }
                    for (p, h) in try files(path, o) { add(&d.deleted, Entry(path: p, old: h, new: nil)) }
                }
                if let n = new {
                    if n.isFolder {
                        add(&d.added, Entry(path: path + "/", old: nil, new: n.hash))
                        if n.files == nil { add(&d.notInCache, Entry(path: path + "/", old: nil, new: n.hash)) }
                    }
                    for (p, h) in try files(path, n) { add(&d.added, Entry(path: p, old: nil, new: h)) }
                }
            }
        }
        d.pairRenames()
        d.added.sort { $0.path < $1.path }
        d.deleted.sort { $0.path < $1.path }
        d.modified.sort { $0.path < $1.path }
        d.notInCache.sort { $0.path < $1.path }
        return d
    }

    /// A path deleted and another added with the same content (and the same kind) is a rename;
    /// pairs are taken in path order, so the result does not depend on hashing order.
    mutating func pairRenames() {
        var byHash: [ContentHash: [Int]] = [:]
        let addedSorted = added.sorted { $0.path < $1.path }
        for (i, e) in addedSorted.enumerated() { if let h = e.new { byHash[h, default: []].append(i) } }
        var takenAdded = Set<Int>()
        var keptDeleted: [Entry] = []
        for e in deleted.sorted(by: { $0.path < $1.path }) {
            guard let h = e.old, let i = byHash[h]?.first(where: { !takenAdded.contains($0) && addedSorted[$0].isFolder == e.isFolder }) else {
                keptDeleted.append(e)
                continue
            }
            takenAdded.insert(i)
            renamed.append(Rename(old: e.path, new: addedSorted[i].path, hash: h))
        }
        deleted = keptDeleted
        added = addedSorted.indices.filter { !takenAdded.contains($0) }.map { addedSorted[$0] }
    }
}

extension DataDiff {
    /// `mlv diff [A [B]]`: what changed in tracked data from revision `a` (nil: HEAD) to `b`
    /// (nil: the workspace as it is on disk, hashed through the state index), limited to
    /// `targets`. Records at revisions are read from git objects through libgit2; folders are
    /// expanded from their manifests in the cache.
    package static func between(_ a: String?, _ b: String?, in ws: Workspace, targets: [String] = [], cwd: String = FS.currentDirectory()) throws -> DataDiff {
        guard let git = try ws.git() else { throw WorkspaceError.revisionsNeedGit }
        let within = try targets.map { try ws.relativeTarget($0, cwd: cwd) }.map {
            $0.hasSuffix(PointerFile.suffix) ? String($0.dropLast(PointerFile.suffix.count)) : $0
        }
        // Before the first commit everything in the workspace is new.
        let old = a == nil && (try? git.resolve("HEAD")) == nil ? DataDiff.Side() : try DataDiff.Side(ws, at: a ?? "HEAD")
        let new = try b.map { try DataDiff.Side(ws, at: $0) } ?? (try DataDiff.Side(workspace: ws, comparedWith: old))
        return try DataDiff.compare(old, new, within: within)
    }
}

extension DataDiff.Side {
    /// The outputs recorded at `revision`, folders expanded from the cache's manifests.
    init(_ ws: Workspace, at revision: String) throws {
        var selection = OutputSelection(revisions: .revisions([revision]), cwd: ws.root)
        selection.everyOut = true
        for o in try selection.outputs(in: ws) where nodes[o.path] == nil {
            let cache = ws.cache, hash = o.hash
            let files: (() throws -> ManifestReader)? = hash.isDirectory && cache.contains(hash) ? { try cache.manifestReader(hash)! } : nil
            nodes[o.path] = .init(hash: o.hash, isFolder: o.hash.isDirectory, files: files)
        }
    }

    /// What the workspace's outputs hold on disk now. A folder whose content hash equals the old
    /// side's is not listed file by file (nothing in it changed).
    init(workspace ws: Workspace, comparedWith old: DataDiff.Side) throws {
        let scanner = ws.scanner
        let worker = HashWorker()
        defer { ws.flushState() }
        for o in try ws.outputs() where nodes[o.path] == nil {
            guard let now = try scanner.current(o.path, worker) else { continue }
            guard now.hash.isDirectory else {
                nodes[o.path] = .init(hash: now.hash, isFolder: false, files: nil)
                continue
            }
            if let was = old.nodes[o.path], was.hash == now.hash {
                nodes[o.path] = .init(hash: now.hash, isFolder: true, files: was.files ?? { try DirectoryManifest(entries: []).reader() })
                continue
            }
            let abs = ws.absolute(o.path)
            let files = try scanner.walk(o.path).map { f in
                DirectoryManifest.Entry(path: f.path, digest: try scanner.digest(abs + "/" + f.path, f, worker), size: f.status.size)
            }
            let manifest = DirectoryManifest(entries: files)
            nodes[o.path] = .init(hash: now.hash, isFolder: true, files: { try manifest.reader() })
        }
    }
}
