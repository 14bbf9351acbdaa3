import MLVGit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// An mlv workspace: a folder with `.mlv/` (config, cache, temporary files, lock) whose data
/// is tracked by `*.mlv` pointer files, usually inside a git repository.
package final class Workspace {
    /// Absolute, symlink-free path of the folder holding `.mlv/`.
    package let root: String
    package let mlvDir: String
    package let cache: ObjectCache
    package private(set) var config: WorkspaceConfig
    /// Called once when another mlv process holds the lock and this one starts waiting.
    package var onLockWait: (() -> Void)?
    /// The process environment as this workspace reads it (`MLV_LOCK_TIMEOUT`, `TMPDIR`):
    /// injected, so a test sets a variable for one workspace without `setenv`.
    package var environment: (String) -> String? = Environment.get
    /// Where warnings go (a line each, without "warning:"); each is given once per workspace.
    package var onWarning: ((String) -> Void)?
    private var warned = Set<String>()
    /// `import-url --no-download` pointers the last pointer search met (data path → source):
    /// recorded, not fetched, so not outputs yet.
    package internal(set) var pendingImports: [String: URLSource] = [:]
    /// What the last walk of the workspace found (pipeline files; see `allPointers`).
    var walked: WorkspaceWalk?
    /// How many files of a folder checked out whole are written at a time (its memory).
    var checkoutBatch = 4096
    /// The `.mlvignore` files read so far.
    private(set) lazy var ignores = IgnoreFiles(root: root, tmp: environment("TMPDIR") ?? "/tmp")

    /// Passes `message` to `onWarning` the first time it comes up.
    func warnOnce(_ message: String) {
        if warned.insert(message).inserted { onWarning?(message) }
    }

    init(root: String) throws {
        self.root = root
        mlvDir = Path.join(root, ".mlv")
        cache = ObjectCache(root: Path.join(mlvDir, "cache"), tmp: Path.join(mlvDir, "tmp"))
        config = try Workspace.loadConfig(mlvDir: mlvDir)
    }

    static func loadConfig(mlvDir: String) throws -> WorkspaceConfig {
        var merged = try WorkspaceConfig.load(Path.join(mlvDir, "config.yaml"), displayName: ".mlv/config.yaml")
        let local = try WorkspaceConfig.load(Path.join(mlvDir, "config.local.yaml"), displayName: ".mlv/config.local.yaml")
        merged.values.merge(local.values) { _, l in l }
        return merged
    }

    /// The workspace containing `cwd`.
    package static func open(from cwd: String = FS.currentDirectory()) throws -> Workspace {
        guard let root = findRoot(from: cwd) else { throw WorkspaceError.notAWorkspace(cwd: cwd) }
        return try Workspace(root: root)
    }

    /// The nearest ancestor of `start` (inclusive) holding a `.mlv` directory, symlinks resolved.
    package static func findRoot(from start: String) -> String? { FS.nearestAncestor(of: start, holding: ".mlv") }

    // MARK: - Shared state

    private var _state: StateIndex?

    /// Writes what the state index learned, if it was used at all.
    func flushState() { _state?.flush() }
    /// The (inode, size, mtime) → hash index in `.mlv/tmp/state.db`.
    var state: StateIndex {
        if let s = _state { return s }
        let s = StateIndex(path: Path.join(cache.tmp, "state.db"))
        _state = s
        return s
    }

    /// Reads what workspace paths hold (through the state index).
    var scanner: TreeScanner { TreeScanner(root: root, objectsRoot: cache.objectsRoot, state: state, ignores: ignores) }

    /// Moves content between the workspace and the cache, per `cache.type` (or `mode`).
    func linker(mode: LinkType? = nil) -> Linker {
        Linker(cache: cache, state: state, mode: mode ?? Linker.linkType(preferring: config.linkTypes, in: cache))
    }

    private var gitLookedUp = false
    private var _git: GitRepository?
    /// The git repository holding the workspace, if any.
    package func git() throws -> GitRepository? {
        if !gitLookedUp {
            _git = try GitRepository.discover(from: root)
            gitLookedUp = true
        }
        return _git
    }

    /// Runs `body` holding the workspace lock (`.mlv/lock`); a second mlv process waits, then fails.
    func withLock<T>(_ body: () throws -> T) throws -> T {
        var timeout = 30.0
        if let env = environment("MLV_LOCK_TIMEOUT") {
            guard let t = WorkspaceConfig.lockTimeout(env) else {
                throw WorkspaceError.invalidConfigValue(key: "MLV_LOCK_TIMEOUT", value: env, expected: "a number of seconds from 0 to 86400")
            }
            timeout = t
        } else if let v = config.values["core.lock_timeout"], let t = WorkspaceConfig.lockTimeout(v) {
            timeout = t
        }
        let lock = try FileLock(path: Path.join(mlvDir, "lock"), timeout: timeout, onWait: { onLockWait?() })
        defer { lock.unlock() }
        try FS.makeDirectories(cache.tmp)
        cleanTemporaryFiles()
        defer { flushState() }   // whatever the command left pending (last uses, hashes)
        return try body()
    }

    /// Leftovers of an interrupted run (we hold the lock, so nobody else is writing them).
    private func cleanTemporaryFiles() {
        guard let entries = try? FS.list(cache.tmp) else { return }
        for e in entries where e.name.hasPrefix("obj.") || e.name.hasPrefix("link.") || e.name.hasPrefix("co.") {
            unlink(Path.join(cache.tmp, e.name))
        }
    }

    /// Saves one config file (`local` → `.mlv/config.local.yaml`).
    package func setConfig(_ key: String, _ value: String?, local: Bool) throws {
        try WorkspaceConfig.validate(key: key, value: value)
        // Secrets never go into the committed config (as `mlv remote modify` refuses too).
        let parts = key.split(separator: ".")
        if parts.count == 3, parts[0] == "remote", RemoteSettings.secretOptions.contains(String(parts[2])), !local, value != nil {
            throw RemoteError.secretNotLocal(option: String(parts[2]))
        }
        try withLock {
            let path = Path.join(mlvDir, local ? "config.local.yaml" : "config.yaml")
            var file = try WorkspaceConfig.load(path, displayName: local ? ".mlv/config.local.yaml" : ".mlv/config.yaml")
            if let value { file.values[key] = value } else {
                guard file.values.removeValue(forKey: key) != nil else { throw WorkspaceError.missingConfigKey(key) }
            }
            try AtomicFile.write(try file.serialized(), to: path, mode: local ? 0o600 : 0o644)
            config = try Workspace.loadConfig(mlvDir: mlvDir)
        }
    }

    // MARK: - Paths

    /// Absolute path of a workspace-relative path.
    package func absolute(_ relative: String) -> String { relative == "." ? root : Path.join(root, relative) }

    /// Turns a user-given path into a workspace-relative one, refusing paths outside the
    /// workspace, inside `.mlv/`, the root itself, or reached through a symlink that leads out.
    package func relativeTarget(_ argument: String, cwd: String = FS.currentDirectory()) throws -> String {
        let abs = Path.absolute(argument, relativeTo: FS.realPath(cwd) ?? cwd)
        guard let rel = Path.relative(abs, to: root) else { throw WorkspaceError.outsideWorkspace(path: argument) }
        if rel == "." { throw WorkspaceError.isWorkspaceRoot }
        let first = rel.split(separator: "/").first.map(String.init) ?? rel
        if first == ".mlv" { throw WorkspaceError.insideMLVDirectory(path: argument) }
        if first == ".git" { throw WorkspaceError.outsideWorkspace(path: argument) }
        do {
            _ = try WorkspacePath(validating: rel)
        } catch .protected(let part) {
            throw WorkspaceError.protectedPath(path: argument, component: part)
        } catch {
            throw WorkspaceError.unsafeName(path: WorkspacePath.escapingLineBreaks(argument), reason: WorkspaceError.untrackableName)
        }
        if argument.unicodeScalars.contains("\u{FFFD}") {
            throw WorkspaceError.unsafeName(path: argument, reason: WorkspaceError.untrackableName)
        }
        try checkNoSymlinkEscape(rel, shownAs: argument)
        return rel
    }

    /// The parent folder of `rel` must resolve (symlinks followed) inside the workspace, and not
    /// into `.git` or `.mlv`.
    func checkNoSymlinkEscape(_ rel: String, shownAs: String) throws {
        var dir = Path.parent(rel)
        // Walk up to the first existing ancestor: new folders will be created inside it.
        while dir != "." && !FS.exists(absolute(dir)) { dir = Path.parent(dir) }
        try checkResolvesInside(absolute(dir), shownAs: shownAs)
    }

    /// `abs`, symlinks followed, must lie inside the workspace and outside `.git` and `.mlv`.
    func checkResolvesInside(_ abs: String, shownAs: String) throws {
        guard let real = FS.realPath(abs) else {
            if errno == ELOOP { throw WorkspaceError.symlinkLoop(path: shownAs) }
            throw WorkspaceError.symlinkEscapes(path: shownAs)
        }
        guard let inside = Path.relative(real, to: root) else { throw WorkspaceError.symlinkEscapes(path: shownAs) }
        if let part = WorkspacePath.protectedComponent(in: inside) { throw WorkspaceError.protectedPath(path: shownAs, component: part) }
    }
}
