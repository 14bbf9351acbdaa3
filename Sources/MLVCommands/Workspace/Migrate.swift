import ArgumentParser
import MLVKit
import MLVSupport

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Turn the DVC project in this git repository into an mlv workspace, in place.",
        discussion: """
        Converts dvc.yaml to pipeline.yaml (the same text) and dvc.lock to pipeline.lock (SHA-256 \
        hashes), each X.dvc to X.mlv (imports keep their source), .dvcignore to .mlvignore, and \
        DVC's S3 and local remotes, default remote and cache.type to .mlv/config.yaml (secrets from \
        .dvc/config.local to .mlv/config.local.yaml only). Every file's bytes are checked against \
        DVC's MD5 before they enter mlv's cache: from the workspace, DVC's cache (2.x and 3.x \
        layouts) or, with --from-remote, a DVC remote. The converted DVC files are removed (git \
        keeps them; outside git they move to .dvc/migrated/) and the change is staged for one \
        commit; .dvc/ is left for you to remove. \
        Data found nowhere is listed with what to do, and mlv exits 1. Running it again changes \
        nothing.
        """)

    @Flag(help: "Only report what would be done, and where each file's bytes would come from (not read: MD5s are checked by the real run); change nothing.")
    var dry = false

    @Flag(name: .shortAndLong, help: "Migrate over uncommitted changes, and replace mlv files that differ from the conversion.")
    var force = false

    @Option(name: .customLong("from-remote"), help: "Fetch what is missing locally from this DVC remote (S3 or a local folder, DVC's layout).")
    var fromRemote: String?

    func run() throws {
        let options = MigrateOptions(dry: dry, force: force, fromRemote: fromRemote, progress: ProgressBar.renderer())
        let report = try DVCMigration.run(cwd: FS.currentDirectory(), options: options)
        ProgressBar.finish()
        for line in Self.lines(report) { print(line) }
        if !report.isComplete { throw ExitCode(1) }
    }

    static func lines(_ r: MigrationReport) -> [String] {
        var out: [String] = []
        if r.didNothing && r.isComplete {
            out.append("Nothing to migrate: \(r.root) is already converted (no .dvc files, dvc.yaml or .dvcignore; mlv's config has DVC's remotes).")
            return out + notes(r)
        }
        out.append(r.dry ? "Would migrate the DVC project in \(r.root) (dry run: nothing changed):" : "Migrated the DVC project in \(r.root):")
        if r.createdWorkspace { out.append("  workspace: .mlv/ \(r.dry ? "would be " : "")created") }
        for p in r.pipelines { out.append("  pipeline:  \(p)") }
        if r.pointers > 0 { out.append("  pointers:  \(r.pointers) .dvc out\(r.pointers == 1 ? "" : "s") -> .mlv\(r.imports > 0 ? " (\(r.imports) import\(r.imports == 1 ? "" : "s"), source kept)" : "")") }
        let sources = r.objects.sorted { $0.key > $1.key }.map { "\($0.value) from \($0.key == "remote" ? "remote '\(r.fromRemote ?? "")'" : "the " + $0.key)" }.joined(separator: ", ")
        if r.dry {
            out.append("  objects:   \(r.objectCount) file\(r.objectCount == 1 ? "" : "s") to verify by MD5\(sources.isEmpty ? "" : ": " + sources)")
        } else {
            out.append("  objects:   \(r.objectCount) file\(r.objectCount == 1 ? "" : "s") verified by MD5 and stored by SHA-256 (\(ByteCount.text(r.bytesVerified)))\(sources.isEmpty ? "" : ": " + sources)")
        }
        if !r.remotes.isEmpty { out.append("  remotes:   \(r.remotes.joined(separator: ", "))") }
        if !r.written.isEmpty { out.append("  \(r.dry ? "would write" : "written"):   \(r.written.joined(separator: ", "))") }
        if !r.removed.isEmpty {
            let verb = r.inGit ? (r.dry ? "would remove" : "removed") : (r.dry ? "would move" : "moved")
            out.append("  \(verb):   \(r.removed.joined(separator: ", ")) " + (r.inGit ? "(git history keeps them)" : "(to .dvc/migrated/: no git history keeps them)"))
        }
        if !r.relinked.isEmpty { out.append("  relinked:  \(r.relinked.joined(separator: ", ")) (DVC's symbolic links into .dvc/cache replaced from mlv's cache)") }
        out += notes(r)
        if !r.dry {
            out.append(r.isComplete
                ? "Next: \(r.inGit ? "review with `git status`, commit, " : "")check with `mlv repro --check`, and `mlv push` to fill an mlv remote. .dvc/ (DVC's config and cache) is no longer used: remove it when you are done."
                : "Not complete: the DVC files of what is missing are kept; fetch the data and run `mlv migrate` again.")
        }
        return out
    }

    static func notes(_ r: MigrationReport) -> [String] {
        var out: [String] = []
        if !r.unsupportedRemotes.isEmpty { out.append("Remotes not migrated (mlv reads S3 and local folders): \(r.unsupportedRemotes.joined(separator: ", "))") }
        if !r.notes.isEmpty { out.append("Left as they were:"); out += r.notes.map { "  " + $0 } }
        if !r.missing.isEmpty { out.append("Missing data:"); out += r.missing.map { "  " + $0 } }
        if !r.corrupted.isEmpty { out.append("Corrupted DVC objects (never imported):"); out += r.corrupted.map { "  " + $0 } }
        return out
    }
}
