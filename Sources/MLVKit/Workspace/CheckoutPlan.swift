import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// What making the workspace match some outputs takes, decided before the first file is
/// touched: every file to write or remove, where (its folder with the symlinks of its existing
/// part resolved, then opened one component at a time without following one), and what stops
/// it (objects the cache lacks, changes the cache does not hold). Checkout, `pull`'s early
/// writes and the restores of `repro` (run-cache, `--pull`) all place files through it.
struct CheckoutPlan {
    /// One file to write or remove.
    struct Action {
        var shown: String
        var digest: Digest?   // nil: remove
        var size: Int64
        /// The folder to write in, workspace-relative with symlinks resolved when planned
        /// (every component is then opened with O_NOFOLLOW), and the name inside it.
        var folder: String
        var name: String
        /// Nothing was at this path when planned (the write may then skip looking).
        var absent = false
    }

    /// Per-worker state of a checkout: the hasher and the folder last written into.
    final class Worker {
        let hasher = HashWorker()
        var folder = ""
        var handle: DirectoryHandle?
    }

    /// The actions, each with the index of its output.
    var actions: [(output: Int, action: Action)] = []
    /// Where each planned output itself goes (folder holding it, name).
    var places: [Int: (folder: String, name: String)] = [:]
    /// Paths whose content the cache does not hold and that would be overwritten or removed.
    var unsaved: [String] = []
    /// Outputs whose object (a file's, or a folder's manifest) the cache lacks.
    var missing: [(String, ContentHash)] = []
    /// The manifests read, by output index.
    var manifests: [Int: DirectoryManifest] = [:]
    /// Folder outputs with nothing at their path, when not `expandWhole`: every file of their
    /// manifest is to be written; no action per file is planned and the manifest is not read.
    var wholeFolders: [Int] = []
    /// Files that already match.
    var unchanged = 0

    /// Compares each output with the workspace. `force`: changes the cache lacks are not
    /// reported (they will be overwritten). `arriving`: the files' objects are on their way
    /// (`pull`'s early writes), so a file object the cache lacks is planned, not missing.
    /// `expandWhole`: an action per file of a folder that is not there, too (what pull's early
    /// writes look up); otherwise it is listed in `wholeFolders`.
    init(_ outputs: [Output], in ws: Workspace, force: Bool, arriving: Bool = false, expandWhole: Bool = true) throws {
        let scanner = ws.scanner
        let worker = HashWorker()
        var unsaved: [String] = []
        func wouldLose(_ digest: Digest, _ shown: String) {
            if !force && !ws.cache.contains(ContentHash(digest)) { unsaved.append(shown) }
        }
        for (i, o) in outputs.enumerated() {
            if !o.isPointer { try ws.checkNoSymlinkEscape(o.path, shownAs: o.path) }
            let abs = ws.absolute(o.path)
            let parent = try CheckoutPlan.resolvedParent(o.path, in: ws)
            let inside = Path.join(parent, Path.base(o.path))
            places[i] = (parent, Path.base(o.path))
            // Consecutive files of one folder share its path string (one allocation per folder).
            var lastSubfolder: Substring = "", lastFolder = inside
            func add(_ sub: String?, _ digest: Digest?, _ size: Int64, absent: Bool = false) {
                guard let sub else {
                    actions.append((i, Action(shown: o.path, digest: digest, size: size, folder: parent, name: Path.base(o.path), absent: absent)))
                    return
                }
                let (subfolder, name) = TreeScanner.split(sub)
                if subfolder != lastSubfolder {
                    lastSubfolder = subfolder
                    lastFolder = subfolder.isEmpty ? inside : Path.join(inside, String(subfolder))
                }
                actions.append((i, Action(shown: o.path + "/" + sub, digest: digest, size: size, folder: lastFolder, name: name, absent: absent)))
            }
            let st = try FS.status(abs)
            if !o.hash.isDirectory {
                guard arriving || ws.cache.contains(o.hash) else { missing.append((o.path, o.hash)); continue }
                if let st {
                    if st.kind == .directory {
                        if !force { unsaved.append(o.path) }
                    } else {
                        let file = try scanner.describe(abs, shownAs: o.path, relativePath: Path.base(o.path), status: st)
                        let d = try scanner.digest(abs, file, worker)
                        if d == o.hash.digest { unchanged += 1; continue }
                        wouldLose(d, o.path)
                    }
                }
                add(nil, o.hash.digest, o.size, absent: st == nil)
                continue
            }
            if st == nil && !expandWhole {
                // Read as a stream when written (never whole in memory).
                if ws.cache.contains(o.hash) { wholeFolders.append(i) } else { missing.append((o.path, o.hash)) }
                continue
            }
            guard let manifest = try ws.cache.manifest(o.hash) else { missing.append((o.path, o.hash)); continue }
            manifests[i] = manifest
            if let st, st.kind != .directory {
                let file = try scanner.describe(abs, shownAs: o.path, relativePath: Path.base(o.path), status: st)
                wouldLose(try scanner.digest(abs, file, worker), o.path)
                add(nil, nil, 0)
            }
            let cmp = try scanner.compare(o.path, files: st?.kind == .directory ? try scanner.walk(o.path) : [], with: manifest, worker)
            unchanged += cmp.unchanged
            let recorded = cmp.modified.isEmpty ? [:] : Dictionary(manifest.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            for (f, d) in cmp.modified {
                wouldLose(d, o.path + "/" + f.path)
                let e = recorded[f.path]!
                add(f.path, e.digest, e.size)
            }
            for (f, d) in cmp.added {
                wouldLose(d, o.path + "/" + f.path)
                add(f.path, nil, 0)
            }
            for e in cmp.deleted {
                add(e.path, e.digest, e.size, absent: true)
            }
        }
        self.unsaved = unsaved
    }

    /// Opens `folder` (workspace-relative, symlinks resolved by `resolvedParent`) from the root,
    /// one component at a time without following a symlink; nil when missing and not `create`.
    static func openFolder(_ folder: String, in ws: Workspace, create: Bool, from rootHandle: DirectoryHandle? = nil) throws -> DirectoryHandle? {
        do {
            return try (rootHandle ?? DirectoryHandle.open(ws.root)).descend(folder, create: create)
        } catch let e as DirectoryHandle.Swapped {
            throw WorkspaceError.folderSwapped(path: e.relativePath)
        }
    }

    /// The folder holding `rel`, workspace-relative, with the symlinks of its existing part
    /// resolved (they were checked to stay inside the workspace and outside .git and .mlv).
    static func resolvedParent(_ rel: String, in ws: Workspace) throws -> String {
        var existing = Path.parent(rel)
        var rest: [String] = []
        while existing != "." && !FS.exists(ws.absolute(existing)) {
            rest.insert(Path.base(existing), at: 0)
            existing = Path.parent(existing)
        }
        try ws.checkResolvesInside(ws.absolute(existing), shownAs: rel)
        let real = FS.realPath(ws.absolute(existing)).flatMap { Path.relative($0, to: ws.root) } ?? existing
        return ([real] + rest).reduce(".") { Path.join($0, $1) }
    }
}
