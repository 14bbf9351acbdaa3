import MLVSupport

/// Why `mlv migrate` refuses to start (nothing is written when it throws one of these).
package enum MigrationError: UserFacingError, Equatable {
    case notADVCRepository(cwd: String)
    case uncommittedChanges(paths: [String])
    case unsafePath(file: String, path: String, line: Int?)
    case symlinkEscape(file: String, path: String)
    case invalidFile(String, String)
    case invalidConfig(String, line: Int)
    case invalidManifest(String, String)
    case wouldReplace(path: String, by: String)
    case unknownRemote(String, known: [String])
    case unusableRemote(String, url: String)

    package var message: String {
        switch self {
        case .notADVCRepository(let cwd): return "'\(cwd)' is not inside a DVC repository (no .dvc folder)"
        case .uncommittedChanges(let paths):
            let shown = paths.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            return "the git working tree has uncommitted changes: \(shown)\(paths.count > 5 ? ", …" : "")"
        case .unsafePath(let file, let path, let line):
            return "\(file)\(line.map { ":\($0)" } ?? ""): path '\(WorkspacePath.escapingLineBreaks(path))' leaves the workspace or reaches .git, .mlv or .dvc"
        case .symlinkEscape(let file, let path): return "\(file): path '\(path)' leads outside the workspace (or into .git, .mlv or .dvc) through a symbolic link"
        case .invalidFile(let file, let why): return "\(file) cannot be migrated: \(why)"
        case .invalidConfig(let file, let line): return "\(file):\(line): not an INI line DVC writes"
        case .invalidManifest(let source, let why): return "DVC folder manifest \(source) is invalid: \(why)"
        case .wouldReplace(let path, let by): return "'\(path)' exists and differs from what migrating \(by) would write"
        case .unknownRemote(let name, let known):
            return "no DVC remote '\(name)'" + (known.isEmpty ? " (.dvc/config names none)" : " (known: \(known.joined(separator: ", ")))")
        case .unusableRemote(let name, let url): return "DVC remote '\(name)' (\(url)) is not one mlv can read (S3 or a local folder)"
        }
    }

    package var hint: String? {
        switch self {
        case .notADVCRepository: return "run `mlv migrate` in a DVC project (where `dvc init` was run); `mlv init` starts a new workspace"
        case .uncommittedChanges: return "commit or stash them first, so the migration is one change you can review; --force migrates anyway"
        case .unsafePath, .symlinkEscape: return "a DVC file's paths must be relative and stay inside the repository; fix or remove the file"
        case .invalidFile, .invalidConfig: return "fix the file (or restore it with `git checkout -- FILE`), then run `mlv migrate` again"
        case .invalidManifest: return "remove the object from the DVC cache (`dvc fetch` gets it again), then run `mlv migrate` again"
        case .wouldReplace: return "move it away, or run `mlv migrate --force` to replace it"
        case .unknownRemote: return "`dvc remote list` shows the remotes"
        case .unusableRemote: return "fetch the data with `dvc fetch` first, then run `mlv migrate` without --from-remote"
        }
    }
}
