import MLVSupport

/// One command's connection to a remote, opened once: the remote's settings and object store,
/// how many transfers run at once, the progress reporter, and the workspace whose cache the
/// objects come from and go to. The transfer helpers (push and fetch of objects, the remote
/// index, run-cache entries) are its methods, so none of them passes `(settings, store, jobs,
/// progress)` along, and a test can open one over an in-memory store.
final class RemoteSession {
    let ws: Workspace
    let settings: RemoteSettings
    let store: ObjectStore
    let jobs: Int
    let progress: ((ProgressCounter.Snapshot) -> Void)?

    init(_ ws: Workspace, settings: RemoteSettings, store: ObjectStore, jobs: Int? = nil,
         progress: ((ProgressCounter.Snapshot) -> Void)? = nil) {
        self.ws = ws
        self.settings = settings
        self.store = store
        self.jobs = max(1, jobs ?? settings.jobs)
        self.progress = progress
    }

    /// The workspace's remote `name` (nil: the default).
    convenience init(_ ws: Workspace, remote name: String?, jobs: Int?, progress: ((ProgressCounter.Snapshot) -> Void)? = nil) throws {
        let settings = try RemoteSettings.load(name, config: ws.config, workspaceRoot: ws.root)
        let local = try WorkspaceConfig.load(Path.join(ws.mlvDir, "config.local.yaml"), displayName: ".mlv/config.local.yaml")
        self.init(ws, settings: settings, store: try settings.openStore(localConfig: local), jobs: jobs, progress: progress)
    }

    var cache: ObjectCache { ws.cache }
}
