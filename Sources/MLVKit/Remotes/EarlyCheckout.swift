import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mlv pull`'s overlap of download and checkout: the files of tracked paths that are absent from
/// the workspace (a fresh clone, deleted data) are written as soon as their objects arrive, on the
/// downloading threads, instead of after the last download. Only where nothing can be lost: the
/// path (file or folder) must not exist at all when the plan is made. Everything else, and
/// anything written here that failed, is left to the checkout that follows the fetch, which
/// then finds the early files unchanged (their hashes are in the state index) and writes the rest.
/// Objects already in the cache never arrive, so the checkout writes their files too. When the
/// fetch fails (an object missing or corrupted), `rollBack` removes what was written, so a failed
/// pull leaves the workspace as it found it.
final class EarlyCheckout: @unchecked Sendable {
    private let workspace: Workspace
    private let tracked: [Output]
    private let linker: Linker
    /// Object → where its files go (folder workspace-relative with symlinks resolved, name, shown).
    private var destinations: [ContentHash: [(folder: String, name: String, shown: String, size: Int64, target: Int)]] = [:]
    private let lock = Lock()
    private var idleWorkers: [CheckoutPlan.Worker] = []
    /// The absent paths planned for (folder holding it, name): all that early writes can create.
    private var planned: [(folder: String, name: String)] = []
    /// The planned paths something was written into (the only ones a roll-back removes).
    private var touched = Set<Int>()
    private(set) var written = 0
    private(set) var bytes: Int64 = 0

    init(_ workspace: Workspace, tracked: [Output]) {
        self.workspace = workspace
        self.tracked = tracked
        linker = workspace.linker()
    }

    /// Called once the directory manifests are in the cache, before any file is downloaded: the
    /// checkout plan of the absent outputs, their files' objects taken as arriving.
    func plan() {
        var seen = Set<String>()
        var absent: [Output] = []
        for t in tracked where seen.insert(t.path).inserted {
            // A path that exists, or whose parent does not stay inside the workspace, is the checkout's.
            // Its folder must exist too, so that removing the path undoes everything written.
            guard ((try? FS.status(workspace.absolute(t.path))) ?? nil) == nil,
                  let parent = try? CheckoutPlan.resolvedParent(t.path, in: workspace),
                  FS.isDirectory(workspace.absolute(parent)) else { continue }
            absent.append(t)
        }
        // Best effort: what cannot be planned here is the checkout's.
        guard let plan = try? CheckoutPlan(absent, in: workspace, force: false, arriving: true) else { return }
        planned = absent.indices.map { plan.places[$0] ?? (".", "") }
        for (target, a) in plan.actions {
            guard let digest = a.digest else { continue }
            destinations[ContentHash(digest), default: []].append((a.folder, a.name, a.shown, a.size, target))
        }
    }

    /// For a large object in copy mode: an unnamed file in the folder of its first planned place,
    /// for the download to write a copy into as it verifies the bytes (no copy from the cache
    /// afterwards). Nil when there is no such place or the file system has no unnamed files.
    func copyTarget(_ hash: ContentHash) -> Copy? {
        guard linker.mode == .copy else { return nil }
        lock.lock()
        guard let p = destinations[hash]?.first else { lock.unlock(); return nil }
        touched.insert(p.target)  // its folder may be created
        lock.unlock()
        guard let handle = try? CheckoutPlan.openFolder(p.folder, in: workspace, create: true), ((try? handle.status(p.name)) ?? nil) == nil,
              let fd = try? handle.openTemporary(mode: 0o644) else { return nil }
        return Copy(file: DownloadCopy(fd: fd), handle: handle, folder: p.folder, name: p.name)
    }

    /// A workspace file being written by a download (see `copyTarget`).
    final class Copy: @unchecked Sendable {
        let file: DownloadCopy
        let handle: DirectoryHandle
        let folder: String
        let name: String
        private var closed = false

        init(file: DownloadCopy, handle: DirectoryHandle, folder: String, name: String) {
            self.file = file
            self.handle = handle
            self.folder = folder
            self.name = name
        }

        func close() {
            if !closed { closed = true; file.stop(); _ = Glibc.close(file.fd) }
        }
    }

    /// Called on a downloading thread once `hash` is in the cache, verified as it was written (so
    /// it is copied or linked without being hashed again; `copy`, when the download filled it,
    /// is named instead). Best effort: a file
    /// that cannot be written here is written (or reported) by the checkout that follows.
    func arrived(_ hash: ContentHash, copy: Copy? = nil) {
        lock.lock()
        guard let places = destinations.removeValue(forKey: hash) else { lock.unlock(); return }
        let w = idleWorkers.popLast() ?? CheckoutPlan.Worker()
        lock.unlock()
        var done = 0
        var doneBytes: Int64 = 0
        var attempted = Set<Int>()
        var copy = copy?.file.filled == true ? copy : nil
        for p in places {
            attempted.insert(p.target)  // folders may be created even if the file then fails
            if let c = copy, c.folder == p.folder, c.name == p.name {
                copy = nil
                var st = stat()
                if (try? c.handle.linkTemporary(c.file.fd, as: p.name)) == true, fstat(c.file.fd, &st) == 0 {
                    workspace.state.record(FileStatus(st), hash.digest, written: true)
                    done += 1
                    doneBytes = [doneBytes, p.size].saturatingSum()
                }
                continue
            }
            do {
                if w.handle == nil || w.folder != p.folder {
                    w.handle = try CheckoutPlan.openFolder(p.folder, in: workspace, create: true)
                    w.folder = p.folder
                }
                guard let handle = w.handle, try handle.status(p.name) == nil else { continue }
                try linker.materialize(hash.digest, into: handle, name: p.name, shownAs: p.shown, prepared: true, verified: true, w.hasher)
                done += 1
                doneBytes = [doneBytes, p.size].saturatingSum()
            } catch {
                w.handle = nil
                w.folder = ""
            }
        }
        lock.lock()
        idleWorkers.append(w)
        written += done
        bytes = [bytes, doneBytes].saturatingSum()
        touched.formUnion(attempted)
        lock.unlock()
    }

    /// Removes every planned path something was written into (each was absent when planned, so
    /// nothing of the user's goes).
    func rollBack() {
        lock.lock(); defer { lock.unlock() }
        for i in touched.sorted() {
            try? CheckoutPlan.openFolder(planned[i].folder, in: workspace, create: false)?.removeTree(planned[i].name)
        }
        touched = []
        destinations = [:]
        written = 0
        bytes = 0
    }
}
