import MLVSupport

/// What `mlv migrate` did (or, with `--dry`, would do).
package struct MigrateOptions: Sendable {
    /// Only report; change nothing on disk.
    package var dry = false
    /// Migrate over uncommitted changes, and replace mlv files that differ from the conversion.
    package var force = false
    /// A DVC remote to fetch what is missing locally from (in DVC's layout).
    package var fromRemote: String?
    /// Progress of the files being verified (only set on a terminal).
    package var progress: (@Sendable (ProgressCounter.Snapshot) -> Void)?

    package init(dry: Bool = false, force: Bool = false, fromRemote: String? = nil, progress: (@Sendable (ProgressCounter.Snapshot) -> Void)? = nil) {
        self.dry = dry
        self.force = force
        self.fromRemote = fromRemote
        self.progress = progress
    }
}

package struct MigrationReport: Sendable {
    package var root = ""
    package var dry = false
    /// The DVC remote `--from-remote` named.
    package var fromRemote: String?
    package var createdWorkspace = false
    /// The workspace is in a git repository (else the DVC files replaced are moved to
    /// `.dvc/migrated/`, not removed).
    package var inGit = true
    /// One line per `dvc.yaml`: "dvc.yaml -> pipeline.yaml (2 stages locked)".
    package var pipelines: [String] = []
    package var stagesLocked = 0
    package var pointers = 0
    package var imports = 0
    /// Files MD5-verified and stored (a dry run: found), by where their bytes came from.
    package var objects: [String: Int] = [:]
    package var bytesVerified: Int64 = 0
    package var remotes: [String] = []
    package var unsupportedRemotes: [String] = []
    /// Settings or files left as they were, one line each.
    package var notes: [String] = []
    /// Data nowhere to be found, one line each: the path, who recorded it, what to do.
    package var missing: [String] = []
    /// DVC cache or remote objects whose MD5 did not match (never imported).
    package var corrupted: [String] = []
    /// Files written and DVC files removed (workspace-relative).
    package var written: [String] = []
    package var removed: [String] = []
    /// Outs whose workspace files were symbolic links into DVC's cache, checked out from mlv's.
    package var relinked: [String] = []

    /// Everything DVC recorded is now in mlv's files and cache.
    package var isComplete: Bool { missing.isEmpty && corrupted.isEmpty }
    package var didNothing: Bool { written.isEmpty && removed.isEmpty && !createdWorkspace }
    package var objectCount: Int { objects.values.reduce(0, +) }
}
