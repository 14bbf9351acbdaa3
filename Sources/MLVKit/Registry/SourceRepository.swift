import MLVGit
import MLVSupport

/// Why another repository could not be read or used.
package enum RegistryError: UserFacingError, Equatable {
    case notARepository(url: String)
    case noWorkspace(url: String, at: String)
    case notTrackedThere(path: String, url: String, at: String, suggestion: String?)
    case noRemote(url: String, at: String)
    case exists(path: String)
    case notAnImport(path: String)

    package var message: String {
        switch self {
        case .notARepository(let u): return "'\(u)' is not a git repository"
        case .noWorkspace(let u, let at): return "'\(u)' has no mlv workspace at \(at) (no .mlv/config.yaml)"
        case .notTrackedThere(let p, let u, let at, _): return "'\(p)' is not tracked by mlv in '\(u)' at \(at)"
        case .noRemote(let u, let at): return "'\(u)' has no default remote at \(at), and its data is not in a local cache"
        case .exists(let p): return "'\(p)' already exists"
        case .notAnImport(let p): return "'\(p)' is not an import"
        }
    }

    package var hint: String? {
        switch self {
        case .notARepository: return "give the path of a git repository's top folder, or a URL git can clone (file://, https://, ssh://)"
        case .noWorkspace: return "give the URL or path of a git repository that holds an mlv workspace at its root, and a revision where it does"
        case .notTrackedThere(_, let u, let at, let s):
            return s.map { "did you mean '\($0)'?" } ?? "list what it tracks with `mlv ls \(u) --rev \(at) -R`"
        case .noRemote: return "ask its owners to set one (`mlv remote add -d`) and push"
        case .exists: return "remove it first, or give another place with -o"
        case .notAnImport: return "only paths made with `mlv import` can be updated"
        }
    }
}

/// Another mlv repository, read at one commit through libgit2: a local repository in place, or
/// a clone without a working tree in a temporary folder (removed with this object). Its
/// pointers, lock and config are read from git objects, never from a checkout, and are as
/// untrusted as any (pointers and manifests validated; data hash-verified on arrival).
final class SourceRepository {
    /// As given (a local path made absolute).
    let url: String
    let git: GitRepository
    let commit: String
    /// The revision asked for (nil: HEAD).
    let rev: String?
    /// The source's workspace folder when it is a local repository (its cache may hold objects).
    let localRoot: String?
    private let scratch: String?

    init(url: String, rev: String?, cwd: String, tmp: String) throws {
        let local = Path.absolute(url, relativeTo: cwd)
        if FS.isDirectory(local), FS.exists(Path.join(local, ".git")) {
            self.url = local
            git = try GitRepository.open(local)
            localRoot = git.workdir
            scratch = nil
        } else {
            // Not a URL (scheme://, or scp-like user@host:path): a local path, and not a repository.
            let isURL = url.contains("://") || (url.contains(":") && !url.hasPrefix("/") && !url.hasPrefix("."))
            guard isURL else { throw RegistryError.notARepository(url: url) }
            let dir = try FS.makeTemporaryDirectory(in: tmp, prefix: "mlv-source")
            do {
                git = try GitRepository.clone(url, into: Path.join(dir, "repo"))
            } catch {
                try? FS.removeTree(dir)
                throw error
            }
            self.url = url
            localRoot = nil
            scratch = dir
        }
        self.rev = rev
        commit = try git.resolve(rev ?? "HEAD")
        guard try git.readFile(".mlv/config.yaml", at: commit) != nil else { throw RegistryError.noWorkspace(url: self.url, at: shownRev) }
    }

    deinit { if let scratch { try? FS.removeTree(scratch) } }

    /// The revision for messages: as asked, else the commit's short id.
    var shownRev: String { rev ?? String(commit.prefix(12)) }

    /// What the commit records: pointer data and pipeline outs (see CommittedRecords).
    func outputs() throws -> [Output] {
        try CommittedRecords.read(git, commit: commit, folder: ".", shownAs: shownRev)
    }

    /// The record of `path` in the source, ready to fetch into `ws`: a tracked output, or a file
    /// or folder inside a tracked folder (its manifest fetched first; a folder's part becomes a
    /// manifest of its own, stored in `ws`'s cache).
    func record(of path: String, for ws: Workspace, jobs: Int?) throws -> Output {
        let (output, inside) = try find(path)
        guard let inside else { return output }
        _ = try fetch([output], into: ws, jobs: jobs, manifestsOnly: true)
        guard let manifest = try ws.cache.manifest(output.hash) else { throw RegistryError.noRemote(url: url, at: shownRev) }
        if let e = manifest.entries.first(where: { $0.path == inside }) {
            return Output(path: output.path + "/" + inside, hash: ContentHash(e.digest), size: e.size, fileCount: nil, record: output.record)
        }
        let part = manifest.entries.filter { $0.path.hasPrefix(inside + "/") }.map {
            DirectoryManifest.Entry(path: String($0.path.dropFirst(inside.count + 1)), digest: $0.digest, size: $0.size)
        }
        guard !part.isEmpty else {
            throw RegistryError.notTrackedThere(path: path, url: url, at: shownRev,
                                                suggestion: Suggestion.closest(to: inside, in: manifest.entries.map(\.path)).map { output.path + "/" + $0 })
        }
        let sub = DirectoryManifest(entries: part)
        let hash = try ws.cache.store(bytes: sub.serialized(), isDirectory: true)
        return Output(path: output.path + "/" + inside, hash: hash, size: sub.totalSize, fileCount: part.count, record: output.record)
    }

    /// The output `path` names (or the one holding it, and the path inside it).
    func find(_ path: String) throws -> (output: Output, inside: String?) {
        var p = Path.normalize(path)
        if p.hasSuffix(PointerFile.suffix) { p = String(p.dropLast(PointerFile.suffix.count)) }
        let all = try outputs()
        if let o = all.first(where: { $0.path == p }) { return (o, nil) }
        if let o = all.first(where: { p.hasPrefix($0.path + "/") && $0.hash.isDirectory }) { return (o, String(p.dropFirst(o.path.count + 1))) }
        throw RegistryError.notTrackedThere(path: path, url: url, at: shownRev, suggestion: Suggestion.closest(to: p, in: all.map(\.path)))
    }

    /// The source's default remote, as its config at the commit sets it (credentials come from
    /// this machine: the environment or a profile). Nil when it has none.
    func remote() throws -> (RemoteSettings, ObjectStore)? {
        guard let bytes = try git.readFile(".mlv/config.yaml", at: commit) else { return nil }
        let config = try WorkspaceConfig.parse(String(decoding: bytes, as: UTF8.self), displayName: "\(shownRev):.mlv/config.yaml")
        guard config.values["core.remote"] != nil else { return nil }
        // A local remote's relative path is relative to the source's workspace: the local
        // repository, or the folder a file:// URL names (another clone has none).
        let fileRoot = url.hasPrefix("file://") ? String(url.dropFirst("file://".count)) : nil
        let settings = try RemoteSettings.load(nil, config: config, workspaceRoot: localRoot ?? fileRoot ?? "/nonexistent")
        return (settings, try settings.openStore(localConfig: WorkspaceConfig()))
    }

    /// Brings the objects of `outputs` into `ws`'s cache: from the source's own cache when it is
    /// a local repository, then from its default remote; every object hash-verified. An object
    /// neither has is an error naming it.
    func fetch(_ outputs: [Output], into ws: Workspace, jobs: Int?, manifestsOnly: Bool = false) throws -> TransferResult {
        var result = TransferResult(remote: url)
        if let localRoot, FS.isDirectory(Path.join(localRoot, ".mlv/cache")) {
            let settings = try RemoteSettings.unconfigured("\(url) cache", url: Path.join(localRoot, ".mlv/cache"), workspaceRoot: localRoot)
            let session = RemoteSession(ws, settings: settings, store: try settings.openStore(localConfig: WorkspaceConfig()), jobs: jobs)
            let outcome = try session.fetchObjects(outputs, manifestsOnly: manifestsOnly)
            if !outcome.corrupted.isEmpty { _ = try outcome.get() }
            result.add(outcome.result)
        }
        let missing = try outputs.filter { try manifestsOnly ? !ws.cache.contains($0.hash) : !ws.isCached($0.hash) }
        guard !missing.isEmpty else { return result }
        guard let (settings, store) = try remote() else { throw RegistryError.noRemote(url: url, at: shownRev) }
        result.add(try RemoteSession(ws, settings: settings, store: store, jobs: jobs).fetchObjects(missing, manifestsOnly: manifestsOnly).get())
        return result
    }
}
