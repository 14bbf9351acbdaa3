import MLVSupport

/// Everything that can go wrong in a workspace command, written for the user.
package enum WorkspaceError: UserFacingError, Equatable {
    case notAWorkspace(cwd: String)
    case notAGitRepository(cwd: String)
    case alreadyInitialized(root: String)
    case outsideWorkspace(path: String)
    case insideMLVDirectory(path: String)
    case isWorkspaceRoot
    case missingPath(path: String)
    case trackedByParent(path: String, pointer: String)
    case containsTrackedData(path: String, pointer: String)
    case isPointerFile(path: String)
    case trackedByGit(path: String, gitPath: String)
    case wouldOverwriteGitTracked(path: String, gitPath: String)
    case symlinkEscapes(path: String)
    case unsupportedFileType(path: String)
    case notTracked(path: String)
    case missingFromCache(path: String, hash: ContentHash)
    case corruptedObject(path: String, hash: ContentHash)
    case corruptedObjects(paths: [String])
    case uncommittedChanges(paths: [String])
    case pointerPathEscapes(pointer: String, path: String)
    case unknownConfigKey(String, hint: String?)
    case invalidConfigValue(key: String, value: String, expected: String)
    case missingConfigKey(String)
    case commitNeedsGit
    case revisionsNeedGit
    case noTargets(command: String)
    case protectedPath(path: String, component: String)
    case hiddenPointerFolder(path: String, folder: String)
    case unreadableManifests(paths: [String], reason: String)
    case unsafeName(path: String, reason: String)
    case symlinkLoop(path: String)
    case folderSwapped(path: String)

    /// What every refusal of a `.git` / `.mlv` path says.
    /// Why a path given to mlv cannot be tracked.
    static let untrackableName = "has a name mlv cannot track (not valid UTF-8, or a line break)"
    package static let protectedHint = "a tracked path may not be or contain a .git or .mlv folder (in any letter case)"

    package var message: String {
        switch self {
        case .notAWorkspace(let cwd): return "'\(cwd)' is not inside an mlv workspace"
        case .notAGitRepository(let cwd): return "'\(cwd)' is not inside a git repository"
        case .alreadyInitialized(let root): return "'\(root)' is already an mlv workspace"
        case .outsideWorkspace(let p): return "'\(p)' is outside the workspace"
        case .insideMLVDirectory(let p): return "'\(p)' is inside .mlv/, which mlv manages itself"
        case .isWorkspaceRoot: return "cannot track the workspace root itself"
        case .missingPath(let p): return "'\(p)' does not exist"
        case .trackedByParent(let p, let ptr): return "'\(p)' is already tracked as part of '\(ptr)'"
        case .containsTrackedData(let p, let ptr): return "'\(p)' contains data tracked by '\(ptr)'"
        case .isPointerFile(let p): return "'\(p)' is an mlv pointer file"
        case .trackedByGit(let p, let g): return p == g ? "'\(p)' is already tracked by git" : "'\(p)' contains '\(g)', which is already tracked by git"
        case .wouldOverwriteGitTracked(let p, let g):
            return p == g ? "refusing to write tracked data over '\(p)', which git tracks"
                          : "refusing to write tracked data over '\(p)', which holds '\(g)', tracked by git"
        case .symlinkEscapes(let p): return "'\(p)' leads outside the workspace through a symbolic link"
        case .unsupportedFileType(let p): return "'\(p)' is not a regular file or directory"
        case .notTracked(let p): return "'\(p)' is not tracked by mlv"
        case .missingFromCache(let p, let h): return "'\(p)': object \(h.short)… is not in the cache"
        case .corruptedObject(let p, let h): return "cache object \(h.short)… for '\(p)' is corrupted (its content no longer matches its hash)"
        case .corruptedObjects(let ps): return ps.count == 1 ? "a corrupted cache object was not checked out: \(Self.list(ps))" : "\(ps.count) corrupted cache objects were not checked out: \(Self.list(ps))"
        case .uncommittedChanges(let ps): return "checkout would overwrite changes that are not in the cache: \(Self.list(ps))"
        case .pointerPathEscapes(let ptr, let p): return "\(ptr): path '\(p)' escapes the workspace"
        case .unknownConfigKey(let k, _): return "unknown config key '\(k)'"
        case .invalidConfigValue(let k, let v, let e): return "invalid value '\(v)' for '\(k)': expected \(e)"
        case .missingConfigKey(let k): return "config key '\(k)' is not set"
        case .commitNeedsGit: return "-m needs a git repository, and this workspace was initialised with --no-git"
        case .revisionsNeedGit: return "revisions are read from git, and this workspace is not in a git repository"
        case .noTargets(let c): return "nothing to \(c)"
        case .protectedPath(let p, let c): return "'\(p)' reaches '\(c)', which mlv never writes"
        case .hiddenPointerFolder(let p, let f): return "'\(p)' is inside '\(f)', a folder mlv does not search for pointer files"
        case .unreadableManifests(let ps, let r): return "gc deleted nothing: the manifest\(ps.count == 1 ? "" : "s") of \(Self.list(ps)) cannot be read (\(r))"
        case .unsafeName(let p, let r): return "'\(p)' \(r)"
        case .symlinkLoop(let p): return "'\(p)' is a loop of symbolic links"
        case .folderSwapped(let p): return "'\(p)' was replaced by a symbolic link or a file while mlv was writing into it; nothing was written through it"
        }
    }

    package var hint: String? {
        switch self {
        case .notAWorkspace: return "run `mlv init` at the root of your git repository first"
        case .notAGitRepository: return "run `git init` first, or `mlv init --no-git` to use mlv without git"
        case .alreadyInitialized: return "use `mlv init --force` to re-create the configuration (the cache is kept)"
        case .outsideWorkspace, .symlinkEscapes: return "mlv tracks only paths inside the workspace"
        case .trackedByParent(_, let ptr): return "run `mlv commit \(ptr)` to record changes inside it"
        case .containsTrackedData: return "track the parts separately, or stop tracking the inner path first"
        case .isPointerFile(let p): return "did you mean '\(String(p.dropLast(PointerFile.suffix.count)))'?"
        case .notTracked(let p): return "track it first with `mlv add \(p)`"
        case .trackedByGit(_, let g): return "stop tracking it in git first: `git rm -r --cached '\(g)'`"
        case .wouldOverwriteGitTracked(let p, _):
            return "a pointer file or pipeline.yaml names a path git tracks; check where that came from (`git log -p`). To track '\(p)' with mlv instead, `git rm -r --cached` it and commit first"
        case .missingFromCache: return "fetch it from a remote with `mlv pull`, or re-create it and run `mlv commit`"
        case .corruptedObject, .corruptedObjects: return "run `mlv cache verify` to quarantine corrupted objects, then restore them with `mlv pull`"
        case .uncommittedChanges: return "record them with `mlv commit`, or discard them with `mlv checkout --force`"
        case .pointerPathEscapes: return "a pointer's path must be relative to its folder, without '..' or symbolic links leading out"
        case .unknownConfigKey(_, let h): return h
        case .commitNeedsGit: return "run `git init` and `mlv init --force`, or drop -m"
        case .revisionsNeedGit: return "run `git init` and commit, then compare or transfer by revision"
        case .protectedPath: return Self.protectedHint
        case .hiddenPointerFolder: return "status, checkout and gc would not see its pointer: move it to a folder whose name does not start with '.' (nor node_modules, __pycache__)"
        case .unreadableManifests: return "restore the manifests with `mlv pull` (or re-add the folders), then run gc again"
        case .unsafeName: return "rename it, then run the command again"
        case .symlinkLoop: return "remove the loop, then run the command again"
        case .folderSwapped: return "check what replaced it, then run `mlv checkout` again"
        default: return nil
        }
    }

    static func list(_ paths: [String]) -> String {
        let shown = paths.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        return paths.count > 5 ? shown + " and \(paths.count - 5) more" : shown
    }
}
